/** The streaming step API gives exactly what forward() gives, one step at a time. */
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN } from '../src/index.js';
import { maxAbsDiff, randomData, selectedBackends, use } from './helpers.js';

const makers = {
  lstm: () => new LSTM({ inputSize: 5, hiddenSize: 17, numLayers: 2, seed: 3 }),
  gru: () => new GRU({ inputSize: 5, hiddenSize: 17, numLayers: 2, seed: 4 }),
  rnn_relu: () => new RNN({ inputSize: 5, hiddenSize: 17, numLayers: 3, nonlinearity: 'relu', seed: 5 }),
  rnn_tanh: () => new RNN({ inputSize: 5, hiddenSize: 17, seed: 6, bias: false }),
};

for (const backend of selectedBackends()) {
  describe(`step() on ${backend}`, () => {
    for (const [name, make] of Object.entries(makers)) {
      it(`${name}: stepping matches forward over the sequence`, async () => {
        await use(backend);
        const layer = make();
        const T = 7, B = 3, I = 5, H = 17;
        const x = randomData(T * B * I, 11);
        const ref = layer.forward({ data: x, shape: [T, B, I] });
        const state = layer.createState(B);
        const out = new Float32Array(B * H);
        for (let t = 0; t < T; t++) {
          const y = layer.step(x.subarray(t * B * I, (t + 1) * B * I), state, out);
          expect(y).toBe(out);
          expect(maxAbsDiff(y, ref.output.data.subarray(t * B * H, (t + 1) * B * H))).toBeLessThan(1e-6);
        }
        expect(maxAbsDiff(state.h.data, ref.h.data)).toBeLessThan(1e-6);
        if ('c' in ref) expect(maxAbsDiff((state.c as { data: Float32Array }).data, (ref as { c: { data: Float32Array } }).c.data)).toBeLessThan(1e-6);
        layer.dispose();
      });
    }

    it('refuses bidirectional layers and mismatched state', async () => {
      await use(backend);
      const bi = new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true });
      expect(() => bi.step(new Float32Array(2), bi.createState())).toThrow(/bidirectional/);
      const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
      const st = lstm.createState(2);
      expect(() => lstm.step(new Float32Array(3), st)).toThrow(/x must hold batch × inputSize = 2 × 2 = 4 values, got 3/);
      expect(() => lstm.step(new Float32Array(4), { h: st.h })).toThrow(/state.c must be a Tensor of shape \[1, 2, 3\]/);
      expect(() => lstm.step(new Float32Array(4), st, new Float32Array(5))).toThrow(/out must be a Float32Array of 6 values, got length 5/);
      expect(() => lstm.step(new Float32Array([1, NaN, 0, 0]), st)).toThrow(/finite numbers, got NaN at flat index 1/);
      expect(Array.from(st.h.data)).toEqual([0, 0, 0, 0, 0, 0]);
      bi.dispose();
      lstm.dispose();
    });
  });
}

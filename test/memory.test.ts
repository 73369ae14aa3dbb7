/**
 * The memory model: steady-state calls allocate nothing in linear memory, dispose() gives
 * memory back, views survive memory.grow, and models migrate between backends.
 */
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, Linear, getBackend } from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import { maxAbsDiff, randomData, selectedBackends, use } from './helpers.js';

for (const backend of selectedBackends()) {
  describe(`memory on ${backend}`, () => {
    it('10,000 steady-state forward calls leave the high-water mark and memory size unchanged', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 1 });
      const x = { data: randomData(4 * 2 * 3, 1), shape: [4, 2, 3] };
      const first = lstm.forward(x);
      const high = arena.highWater, bytes = arena.memory.buffer.byteLength, live = arena.liveBytes;
      let last = first;
      for (let i = 0; i < 10_000; i++) last = lstm.forward(x, undefined, { lengths: [4, 2] });
      expect(arena.highWater).toBe(high);
      expect(arena.memory.buffer.byteLength).toBe(bytes);
      expect(arena.liveBytes).toBe(live);
      // The last call still computes the right thing (row 1 stops at step 2).
      expect(maxAbsDiff(last.output.data.subarray(0, 10), first.output.data.subarray(0, 10))).toBe(0);

      const st = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 2 });
      const state = st.createState(2);
      const out = new Float32Array(10);
      st.step(x.data.subarray(0, 6), state, out);
      const high2 = arena.highWater, live2 = arena.liveBytes;
      for (let i = 0; i < 10_000; i++) st.step(x.data.subarray(0, 6), state, out);
      expect(arena.highWater).toBe(high2);
      expect(arena.liveBytes).toBe(live2);
      lstm.dispose();
      st.dispose();
    });

    it('dispose() returns every byte; many models share one memory', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const before = arena.liveBytes;
      const models = Array.from({ length: 20 }, (_, i) => new GRU({ inputSize: 7, hiddenSize: 13, seed: i }));
      const x = { data: randomData(3 * 7, 3), shape: [3, 7] };
      const outs = models.map((m) => m.forward(x).output.data);
      expect(arena.liveBytes).toBeGreaterThan(before);
      // Each model kept its own weights: outputs differ between seeds.
      expect(maxAbsDiff(outs[0], outs[1])).toBeGreaterThan(0);
      for (const m of models) m.dispose();
      expect(arena.liveBytes).toBe(before);
      expect(() => models[0].forward(x)).toThrow(/disposed/);
      // Freed memory is reused: a second round does not raise the high-water mark.
      const high = arena.highWater;
      const again = Array.from({ length: 20 }, (_, i) => new GRU({ inputSize: 7, hiddenSize: 13, seed: i }));
      for (const m of again) m.forward(x);
      expect(arena.highWater).toBe(high);
      for (const m of again) m.dispose();
    });

    it('results stay right across memory.grow (views are re-derived)', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const small = new Linear(4, 3, { seed: 1 });
      const x = { data: randomData(8, 5), shape: [2, 4] };
      const y0 = small.forward(x).data;
      const bytes = arena.memory.buffer.byteLength;
      const big = new Linear(1024, 1024, { seed: 2 }); // 4 MiB of weights: forces growth
      big.forward({ data: randomData(1024, 6), shape: [1, 1024] });
      expect(arena.memory.buffer.byteLength).toBeGreaterThan(bytes);
      expect(maxAbsDiff(small.forward(x).data, y0)).toBe(0);
      small.dispose();
      big.dispose();
    });
  });
}

describe('switching backends', () => {
  it('a model follows setBackend and gives the same numbers', async () => {
    const backs = selectedBackends();
    await use(backs[0]);
    const lstm = new LSTM({ inputSize: 6, hiddenSize: 9, numLayers: 2, seed: 7 });
    const x = { data: randomData(5 * 2 * 6, 9), shape: [5, 2, 6] };
    const ref = lstm.forward(x).output.data;
    const sd = lstm.stateDict();
    for (const b of backs.slice(1)) {
      const liveBefore = backendInstance(backs[0]).arena.liveBytes;
      await use(b);
      expect(getBackend()).toBe(b);
      expect(maxAbsDiff(lstm.forward(x).output.data, ref)).toBeLessThan(2e-6);
      expect(lstm.backendName).toBe(b);
      if (b !== backs[0]) expect(backendInstance(backs[0]).arena.liveBytes).toBeLessThanOrEqual(liveBefore);
      for (const [k, v] of Object.entries(lstm.stateDict())) expect(Array.from(v.data)).toEqual(Array.from(sd[k].data));
    }
    lstm.dispose();
  });
});

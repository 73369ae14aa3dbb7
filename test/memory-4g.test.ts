/**
 * Linear memory above 2 GiB (#8, defect 2): byte offsets past 2^31 index typed arrays with
 * `>>> 2`, never `>> 2` (negative there). Blocks are placed above (or across) 2 GiB by a large
 * filler block that is never touched, so the test costs little real memory.
 */
import { describe, expect, it } from 'vitest';
import { LSTM, GRU, Linear, Embedding, Tensor, crossEntropy, ready, setBackend } from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import { randomData, selectedBackends, use } from './helpers.js';

const GiB = 2 ** 30;

function gradsOf(m: { gradients(): Record<string, Tensor> }): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(m.gradients()).map(([k, v]) => [k, v.data]));
}

/** One training step of Embedding → LSTM → Linear; returns outputs and every gradient. */
function trainStep(seed: number): { out: Float32Array; grads: Record<string, Float32Array>[] } {
  const T = 5, B = 3, V = 7;
  const emb = new Embedding(V, 4, { seed });
  const rnn = new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: seed + 1 });
  const lin = new Linear(12, V, { seed: seed + 2 });
  const ids = Array.from({ length: T * B }, (_, i) => (i * 5 + 3) % V);
  const e = emb.forward({ data: ids, shape: [T, B] }, { training: true });
  const r = rnn.forward(e, undefined, { training: true, lengths: [5, 2, 4] });
  const logits = lin.forward(new Tensor(r.output.data, [T * B, 12]), { training: true });
  const ce = crossEntropy(logits, ids.map((v) => (v + 1) % V));
  const dOut = lin.backward(ce.grad);
  const g = rnn.backward(new Tensor(dOut.data, [T, B, 12]));
  emb.backward(g.x);
  const res = { out: r.output.data, grads: [gradsOf(emb), gradsOf(rnn), gradsOf(lin)] };
  emb.dispose();
  rnn.dispose();
  lin.dispose();
  return res;
}

for (const backend of selectedBackends()) {
  describe(`memory above 2 GiB on ${backend}`, () => {
    it('allocF32 above 2 GiB zero-fills its own block and nothing else', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const low = arena.alloc(64 * 4);
      arena.f32.fill(7, low >>> 2, (low >>> 2) + 64);
      const filler = arena.alloc(2 * GiB);
      const probe = arena.alloc(64 * 4);
      expect(probe).toBeGreaterThan(2 ** 31);
      arena.f32.fill(3, probe >>> 2, (probe >>> 2) + 64);
      arena.free(probe);
      const high = arena.allocF32(64);
      expect(high).toBe(probe);
      const direct = arena.f32.subarray(high >>> 2, (high >>> 2) + 64);
      expect(Array.from(direct).every((v) => v === 0)).toBe(true);
      arena.f32.fill(5, high >>> 2, (high >>> 2) + 64);
      expect(Array.from(arena.read(high, 64)).every((v) => v === 5)).toBe(true);
      arena.write(high, new Float32Array(64).fill(6));
      expect(Array.from(direct).every((v) => v === 6)).toBe(true);
      expect(Array.from(arena.read(low, 64)).every((v) => v === 7)).toBe(true);
      // The memory's last floats (where a negative index lands) are untouched.
      const f = arena.f32;
      expect(f[f.length - 1]).toBe(0);
      arena.free(high);
      arena.free(filler);
      arena.free(low);
    });

    it('forward and training across and above 2 GiB give the same bits as below', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const ref = trainStep(11);
      const x = { data: randomData(4 * 3 * 5, 2), shape: [4, 3, 5] };
      const g0 = new GRU({ inputSize: 5, hiddenSize: 9, seed: 3 });
      const y0 = g0.forward(x).output.data;
      g0.dispose();
      // Put the next blocks across the 2 GiB line, then wholly above it.
      for (const target of [2 ** 31 - 4096, 2 ** 31 + 4096]) {
        const next = arena.alloc(64);
        arena.free(next);
        const filler = arena.alloc(target - next);
        const g = new GRU({ inputSize: 5, hiddenSize: 9, seed: 3 });
        expect(Array.from(g.forward(x).output.data)).toEqual(Array.from(y0));
        g.dispose();
        const got = trainStep(11);
        expect(Array.from(got.out)).toEqual(Array.from(ref.out));
        for (let i = 0; i < ref.grads.length; i++) {
          for (const k of Object.keys(ref.grads[i])) expect(Array.from(got.grads[i][k]), k).toEqual(Array.from(ref.grads[i][k]));
        }
        arena.free(filler);
      }
    });
  });
}

describe('the threads backend caps its shared memory at 2 GiB', () => {
  it('a model asking for more gets a clear error naming it and the size, and changes nothing', async () => {
    await setBackend('wasm-simd');
    await ready({ threads: 2 });
    const arena = backendInstance().arena;
    const lstm = new LSTM({ inputSize: 64, hiddenSize: 64, seed: 1 });
    const x = { data: randomData(8 * 4 * 64, 1), shape: [8, 4, 64] };
    const y = lstm.forward(x).output.data;
    const next = arena.alloc(64);
    arena.free(next);
    const filler = arena.alloc(2 * GiB - next - 65536);
    const big = { data: randomData(64 * 32 * 64, 2), shape: [64, 32, 64] };
    expect(() => lstm.forward(big)).toThrow(/LSTM\.forward: .*MB.*2 GiB/);
    arena.free(filler);
    expect(Array.from(lstm.forward(x).output.data)).toEqual(Array.from(y));
    lstm.dispose();
    await ready({ threads: 1 });
  });
});

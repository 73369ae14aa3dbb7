/**
 * step() with a preallocated `out` allocates nothing in steady state — no JS objects (so an
 * AudioWorklet's render callback never feeds the garbage collector) and no Wasm memory.
 *
 * How the JS side is measured (no timing involved): V8's GCProfiler records every collection in
 * this process while the steps run. A young-generation collection (scavenge) happens only when
 * allocation fills the nursery, so a loop that allocates nothing sees none; and with no
 * collection, heapUsed grows by exactly what was allocated. One object per call (≥ 16 bytes)
 * over STEPS calls would show as either. Before step() cached its plan, each call allocated
 * about 1.5 KB (layout objects, kernel-argument records, subarray views, closures, strings):
 * ~170 scavenges per 10⁵ steps.
 */
import { GCProfiler } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, memoryInfo, type RNNBase } from '../src/index.js';
import { maxAbsDiff, randomData, use } from './helpers.js';

const STEPS = 20_000;
const WARMUP = 10_000;
/**
 * Measured windows of STEPS calls each, the best one counts: a call that allocates shows in
 * every window, while V8's one-off work (re-optimizing step() after new type feedback, which
 * also lands on the heap) shows in at most one.
 */
const WINDOWS = 5;

interface Case {
  make: () => RNNBase;
  I: number;
  H: number;
  B: number;
}

const CASES: Record<string, Case> = {
  'LSTM, 2 layers, batch 1': { make: () => new LSTM({ inputSize: 1, hiddenSize: 16, numLayers: 2, seed: 1 }), I: 1, H: 16, B: 1 },
  'GRU, batch 3': { make: () => new GRU({ inputSize: 4, hiddenSize: 13, seed: 2 }), I: 4, H: 13, B: 3 },
  'RNN relu, no bias': { make: () => new RNN({ inputSize: 2, hiddenSize: 8, nonlinearity: 'relu', bias: false, seed: 3 }), I: 2, H: 8, B: 1 },
  'GRU variant (reset before the product, clip)': {
    make: () => new GRU({ inputSize: 3, hiddenSize: 9, resetAfter: false, clip: 4, seed: 4 }), I: 3, H: 9, B: 2,
  },
  'LSTM with peepholes': { make: () => new LSTM({ inputSize: 2, hiddenSize: 7, peepholes: true, seed: 5 }), I: 2, H: 7, B: 1 },
};

/** Runs `fn` and reports the collections during it and heapUsed's growth (meaningful when none ran). */
function heapDuring(fn: () => void): { collections: number; grewBytes: number } {
  const profiler = new GCProfiler();
  const before = process.memoryUsage().heapUsed;
  profiler.start();
  fn();
  const stats = profiler.stop();
  const grewBytes = process.memoryUsage().heapUsed - before;
  return { collections: stats.statistics.length, grewBytes };
}

for (const backend of ['wasm-simd', 'wasm'] as const) {
  describe(`step() allocates nothing in steady state (${backend})`, () => {
    for (const [name, c] of Object.entries(CASES)) {
      it(name, async () => {
        await use(backend);
        const layer = c.make();
        const state = layer.createState(c.B);
        // One input throughout: arithmetic on doubles in this loop would allocate heap numbers
        // itself (in V8's unoptimized tiers), and the state still moves from step to step.
        const x = randomData(c.B * c.I, 9);
        const out = new Float32Array(c.B * c.H);
        const loop = (n: number): void => {
          for (let i = 0; i < n; i++) layer.step(x, state, out);
        };
        loop(WARMUP); // plans the workspace, packs the weights, lets V8 optimize the call
        const mem = memoryInfo();
        const windows = Array.from({ length: WINDOWS }, () => heapDuring(() => loop(STEPS)));
        const best = windows.reduce((a, b) => (b.collections < a.collections || (b.collections === a.collections && b.grewBytes < a.grewBytes) ? b : a));
        const seen = JSON.stringify(windows);
        expect(best.collections, `garbage collections during ${STEPS} steps (windows: ${seen})`).toBe(0);
        expect(best.grewBytes, `heap growth over ${STEPS} steps, bytes (windows: ${seen})`).toBeLessThan(STEPS / 4);
        const after = memoryInfo();
        expect(after.highWater).toBe(mem.highWater);
        expect(after.memoryBytes).toBe(mem.memoryBytes);
        expect(after.blocks).toBe(mem.blocks);
        layer.dispose();
      });
    }
  });
}

describe('step() caches stay correct', () => {
  it('across batch changes, memory growth, a weight load and a backend switch', async () => {
    await use('wasm-simd');
    const I = 3, H = 11, T = 6;
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 7 });
    const run = (B: number, seed: number, between?: (t: number) => void | Promise<void>) => async () => {
      const xs = randomData(T * B * I, seed);
      const ref = lstm.forward({ data: xs, shape: [T, B, I] });
      const state = lstm.createState(B);
      const out = new Float32Array(B * H);
      for (let t = 0; t < T; t++) {
        await between?.(t);
        lstm.step(xs.subarray(t * B * I, (t + 1) * B * I), state, out);
        expect(maxAbsDiff(out, ref.output.data.subarray(t * B * H, (t + 1) * B * H))).toBeLessThan(1e-6);
      }
      expect(maxAbsDiff(state.h.data, ref.h.data)).toBeLessThan(1e-6);
    };
    await run(2, 1)();
    await run(5, 2)(); // a larger batch: a new plan, a larger workspace
    await run(2, 3)(); // back to the smaller one
    // Memory grows between steps (detaching every view of the old buffer), twice.
    const hogs: RNNBase[] = [];
    await run(2, 4, (t) => {
      if (t === 2 || t === 4) {
        const before = memoryInfo().memoryBytes;
        const hog = new GRU({ inputSize: 512, hiddenSize: 512, seed: t });
        hog.forward({ data: new Float32Array(512), shape: [1, 512] });
        hogs.push(hog);
        expect(memoryInfo().memoryBytes).toBeGreaterThan(before);
      }
    })();
    // New weights between steps (the packed copy is redone).
    const other = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 8 });
    lstm.loadStateDict(other.stateDict());
    await run(2, 5)();
    // Another backend between runs, then back.
    await use('wasm');
    await run(2, 6)();
    await use('wasm-simd');
    await run(3, 7)();
    for (const m of [lstm, other, ...hogs]) m.dispose();
  });

  it('bad input still throws the same errors, and nothing is written', async () => {
    await use('wasm-simd');
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const st = lstm.createState(2);
    const out = new Float32Array(6);
    lstm.step(new Float32Array(4).fill(0.5), st, out); // a plan for batch 2 exists now
    const h = Array.from(st.h.data);
    expect(() => lstm.step(new Float32Array(3), st, out)).toThrow(/LSTM\.step: x must hold batch × inputSize = 2 × 2 = 4 values, got 3/);
    expect(() => lstm.step(new Float32Array(4), { h: st.h }, out)).toThrow(/LSTM\.step: state\.c must be a Tensor of shape \[1, 2, 3\], got undefined/);
    expect(() => lstm.step(new Float32Array(4), st, new Float32Array(5))).toThrow(/LSTM\.step: out must be a Float32Array of 6 values, got length 5/);
    expect(() => lstm.step(new Float32Array([1, NaN, 0, 0]), st, out)).toThrow(/LSTM\.step: x: expected finite numbers, got NaN at flat index 1/);
    const badC = { h: st.h, c: new Tensor(new Float32Array([0, 0, Infinity, 0, 0, 0]), [1, 2, 3]) };
    expect(() => lstm.step(new Float32Array(4), badC, out)).toThrow(/LSTM\.step: state\.c: expected finite numbers, got Infinity at flat index 2/);
    const badH = { h: new Tensor(new Float32Array([0, NaN, 0, 0, 0, 0]), [1, 2, 3]), c: st.c };
    expect(() => lstm.step(new Float32Array(4), badH, out)).toThrow(/LSTM\.step: state\.h: expected finite numbers, got NaN at flat index 1/);
    expect(() => lstm.step(new Float32Array(4), { h: new Tensor(new Float32Array(6), [2, 3]) } as never, out)).toThrow(/LSTM\.step: state\.h must have shape \[1, B, 3\], got \[2, 3\]/);
    expect(() => lstm.step(new Float32Array(4), null as never, out)).toThrow(/LSTM\.step: state must be \{h: Tensor, c: Tensor\} from createState\(\), got null/);
    expect(Array.from(st.h.data)).toEqual(h);
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    expect(() => gru.step(new Float32Array(2), { h: gru.createState().h, c: st.c }, new Float32Array(3))).toThrow(/GRU\.step: state has a 'c', but GRU keeps only h/);
    lstm.dispose();
    gru.dispose();
  });
});

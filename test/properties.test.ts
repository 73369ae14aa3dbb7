/**
 * Property tests (fast-check) over random valid configurations — cell, layers, directions,
 * batchFirst, sizes 1–40, T 1–30, B 1–9, lengths — and soak tests of the memory (#8).
 *
 * Tolerances. The js backend computes each step in float64 and stores float32; wasm-simd runs
 * float32 throughout with activation approximations of relative error ≤ 2e-7. Per step each
 * stored value carries a few float32 roundings (≈ 6e-8 relative each) of values whose
 * magnitude is bounded by the inputs: tanh/sigmoid keep |h| ≤ 1, and the uniform(±1/√H) weights
 * make the recurrent map a contraction on average, so errors do not compound over steps. A
 * bound of 5e-5 · (1 + max|output|) covers 30 steps of 3 stacked layers with a wide margin
 * (the largest seen over thousands of runs was below 1e-5); ReLU RNNs are unbounded, so their
 * bound is relative to their own output scale.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, memoryInfo, type RNNBase } from '../src/index.js';
import { maxAbs, maxAbsDiff, randomData, use } from './helpers.js';

type CellName = 'lstm' | 'gru' | 'rnn-tanh' | 'rnn-relu';
interface Config {
  cell: CellName;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  inputSize: number;
  hiddenSize: number;
  T: number;
  B: number;
  lengths: number[] | null;
  seed: number;
}

const configOf = (size: number, T: number, B: number): fc.Arbitrary<Config> => fc
  .record({
    cell: fc.constantFrom<CellName>('lstm', 'gru', 'rnn-tanh', 'rnn-relu'),
    numLayers: fc.integer({ min: 1, max: 3 }),
    bidirectional: fc.boolean(),
    batchFirst: fc.boolean(),
    inputSize: fc.integer({ min: 1, max: size }),
    hiddenSize: fc.integer({ min: 1, max: size }),
    T: fc.integer({ min: 1, max: T }),
    B: fc.integer({ min: 1, max: B }),
    withLengths: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .chain((c) =>
    fc.array(fc.integer({ min: 1, max: c.T }), { minLength: c.B, maxLength: c.B }).map((lens) => {
      const { withLengths, ...rest } = c;
      return { ...rest, lengths: withLengths ? lens : null };
    }),
  );
const configArb = configOf(40, 30, 9);

function make(c: Config): RNNBase & { forward: LSTM['forward'] } {
  const o = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, batchFirst: c.batchFirst, seed: c.seed };
  if (c.cell === 'lstm') return new LSTM(o);
  if (c.cell === 'gru') return new GRU(o) as never;
  return new RNN({ ...o, nonlinearity: c.cell === 'rnn-relu' ? 'relu' : 'tanh' }) as never;
}

function input(c: Config): Tensor {
  const shape = c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize];
  return new Tensor(randomData(c.T * c.B * c.inputSize, c.seed ^ 0x9e3779b9), shape);
}

const tol = (c: Config, scale: number): number => (c.cell === 'rnn-relu' ? 5e-5 * (1 + scale) * c.numLayers : 5e-5 * (1 + scale));

function run(c: Config, backend: 'js' | 'wasm-simd'): Promise<{ output: Float32Array; h: Float32Array; c?: Float32Array }> {
  return use(backend).then(() => {
    const m = make(c);
    const r = m.forward(input(c), undefined, c.lengths ? { lengths: c.lengths } : {});
    const out = { output: r.output.data, h: r.h.data, c: (r as { c?: Tensor }).c?.data };
    m.dispose();
    return out;
  });
}

describe('properties over random configurations', () => {
  it('wasm-simd equals js within float32 rounding', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, async (c) => {
        const a = await run(c, 'js');
        const b = await run(c, 'wasm-simd');
        const t = tol(c, maxAbs(a.output));
        expect(maxAbsDiff(a.output, b.output)).toBeLessThanOrEqual(t);
        expect(maxAbsDiff(a.h, b.h)).toBeLessThanOrEqual(t);
        if (a.c && b.c) expect(maxAbsDiff(a.c, b.c)).toBeLessThanOrEqual(tol(c, maxAbs(a.c)));
      }),
      { numRuns: 150, seed: 8 },
    );
  });

  it('forward with lengths equals running each row alone', async () => {
    await fc.assert(
      fc.asyncProperty(configArb.filter((c) => c.lengths !== null && !c.batchFirst), async (c) => {
        await use('wasm-simd');
        const m = make(c);
        const x = input(c);
        const all = m.forward(x, undefined, { lengths: c.lengths as number[] });
        const D = c.bidirectional ? 2 : 1, H = c.hiddenSize, I = c.inputSize, LD = c.numLayers * D;
        for (let b = 0; b < c.B; b++) {
          const len = (c.lengths as number[])[b];
          const row = new Float32Array(len * I);
          for (let t = 0; t < len; t++) row.set(x.data.subarray((t * c.B + b) * I, (t * c.B + b + 1) * I), t * I);
          const alone = m.forward(new Tensor(row, [len, 1, I]));
          const scale = 1 + maxAbs(alone.output.data);
          for (let t = 0; t < c.T; t++) {
            const got = all.output.data.subarray((t * c.B + b) * D * H, (t * c.B + b + 1) * D * H);
            const want = t < len ? alone.output.data.subarray(t * D * H, (t + 1) * D * H) : new Float32Array(D * H);
            expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(tol(c, scale));
          }
          for (let k = 0; k < LD; k++) {
            const got = all.h.data.subarray((k * c.B + b) * H, (k * c.B + b + 1) * H);
            expect(maxAbsDiff(got, alone.h.data.subarray(k * H, (k + 1) * H))).toBeLessThanOrEqual(tol(c, scale));
          }
        }
        m.dispose();
      }),
      { numRuns: 60, seed: 9 },
    );
  });

  it('T × step() equals forward()', async () => {
    await fc.assert(
      fc.asyncProperty(configArb.filter((c) => !c.bidirectional), async (c) => {
        await use('wasm-simd');
        const m = make({ ...c, batchFirst: false });
        const x = input({ ...c, batchFirst: false });
        const full = m.forward(x);
        const state = m.createState(c.B);
        const H = c.hiddenSize, y = new Float32Array(c.B * H);
        const t0 = tol(c, maxAbs(full.output.data));
        for (let t = 0; t < c.T; t++) {
          m.step(x.data.subarray(t * c.B * c.inputSize, (t + 1) * c.B * c.inputSize), state, y);
          expect(maxAbsDiff(y, full.output.data.subarray(t * c.B * H, (t + 1) * c.B * H))).toBeLessThanOrEqual(t0);
        }
        expect(maxAbsDiff(state.h.data, full.h.data)).toBeLessThanOrEqual(t0);
        m.dispose();
      }),
      { numRuns: 60, seed: 10 },
    );
  });

  it('gradients match finite differences on js', async () => {
    await use('js');
    // Smaller sizes: every probe costs two forwards.
    const small = configOf(5, 6, 3);
    await fc.assert(
      fc.property(small, (c) => {
        const m = make(c);
        const x = input(c);
        const D = c.bidirectional ? 2 : 1;
        const R = randomData(c.T * c.B * D * c.hiddenSize, c.seed + 1);
        const opts = { training: true, ...(c.lengths ? { lengths: c.lengths } : {}) };
        const loss = (): number => {
          const o = m.forward(x, undefined, opts).output.data;
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i] * R[i];
          return s;
        };
        loss();
        m.backward(new Tensor(R, c.batchFirst ? [c.B, c.T, D * c.hiddenSize] : [c.T, c.B, D * c.hiddenSize]));
        const ana = m.gradients();
        const sd = m.stateDict();
        const hFd = c.cell === 'rnn-relu' ? 1e-3 : 1e-2;
        for (const [name, t] of Object.entries(sd)) {
          for (const i of [0, Math.floor(t.size / 2), t.size - 1]) {
            const v = t.data[i];
            t.data[i] = v + hFd;
            m.loadStateDict({ [name]: t }, { strict: false });
            const lp = loss();
            t.data[i] = v - hFd;
            m.loadStateDict({ [name]: t }, { strict: false });
            const lm = loss();
            t.data[i] = v;
            m.loadStateDict({ [name]: t }, { strict: false });
            const num = (lp - lm) / (2 * hFd), a = ana[name].data[i];
            // As in gradcheck.test.ts: truncation and float32 storage noise are ≲ 1e-4 here.
            expect(Math.abs(num - a), `${name}[${i}] ${num} vs ${a}`).toBeLessThanOrEqual(2e-3 + 1e-2 * Math.abs(a));
          }
        }
        m.dispose();
      }),
      { numRuns: 40, seed: 11 },
    );
  });
});

describe('soak', () => {
  it('100,000 streaming steps keep the memory size and the high-water mark flat', async () => {
    await use('wasm-simd');
    const m = new GRU({ inputSize: 4, hiddenSize: 16, numLayers: 2, seed: 1 });
    const state = m.createState(1);
    const x = randomData(4, 1), y = new Float32Array(16);
    m.step(x, state, y);
    const before = memoryInfo();
    for (let i = 0; i < 100_000; i++) {
      x[i & 3] = Math.sin(i);
      m.step(x, state, y);
    }
    const after = memoryInfo();
    expect(after.highWater).toBe(before.highWater);
    expect(after.memoryBytes).toBe(before.memoryBytes);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(y.every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it('10,000 create/forward/dispose cycles keep the memory flat and free everything', async () => {
    await use('wasm-simd');
    const x = new Tensor(randomData(5 * 2 * 3, 2), [5, 2, 3]);
    const warm = new LSTM({ inputSize: 3, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: 1 });
    warm.forward(x, undefined, { training: true });
    warm.dispose();
    const before = memoryInfo();
    for (let i = 0; i < 10_000; i++) {
      const m = new LSTM({ inputSize: 3, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: i });
      m.forward(x, undefined, { training: i % 2 === 0 });
      m.dispose();
    }
    const after = memoryInfo();
    expect(after.highWater).toBe(before.highWater);
    expect(after.memoryBytes).toBe(before.memoryBytes);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.blocks).toBe(before.blocks);
  });
});

/**
 * ready({ threads }) — inference split over worker threads on a shared memory. The parallel
 * kernels compute every element with the one-thread code and summation order, so the results
 * must be bit-identical to the one-thread SIMD build: on every PyTorch fixture (with 2 and 3
 * threads, so uneven splits and tiny slices are covered), on odd sizes with lengths, and for
 * step(). The size threshold below which layers stay on one thread is set to 0 here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, backendInfo, ready, setBackend, threadStats, type RNNBase } from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import { setParallelMinMacs } from '../src/backend/sequence.js';
import { ContentionGuard } from '../src/backend/threads.js';
import { fixture, randomData, type Json } from './helpers.js';

interface Case {
  name: string;
  mode: 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
  config: { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean; bidirectional: boolean };
  input: Json;
  lengths: number[] | null;
  h0: Json | null;
  c0: Json | null;
  stateDict: Record<string, Json>;
}
const { cases } = fixture<{ cases: Case[] }>('rnn.json');

type Outputs = Float32Array[];

function makeLayer(c: Case): RNNBase & { forward: LSTM['forward'] } {
  const opts = { ...c.config, seed: 1 };
  if (c.mode === 'LSTM') return new LSTM(opts);
  if (c.mode === 'GRU') return new GRU(opts) as never;
  return new RNN({ ...opts, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' }) as never;
}

function runCase(c: Case): Outputs {
  const layer = makeLayer(c);
  layer.loadStateDict(c.stateDict);
  const state = c.h0 ? (c.mode === 'LSTM' ? { h: c.h0, c: c.c0 as Json } : { h: c.h0 }) : undefined;
  const res = layer.forward(c.input, state, c.lengths ? { lengths: c.lengths } : {}) as { output: Tensor; h: Tensor; c?: Tensor };
  layer.dispose();
  return [res.output.data, res.h.data, ...(res.c ? [res.c.data] : [])];
}

/** Bitwise equality (NaN-safe), with the first differing index in the message. */
function expectSameBits(got: Outputs, want: Outputs, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const a = new Uint32Array(got[k].buffer, got[k].byteOffset, got[k].length);
    const b = new Uint32Array(want[k].buffer, want[k].byteOffset, want[k].length);
    expect(a.length, `${what} [${k}] length`).toBe(b.length);
    let first = -1;
    for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
    expect(first, `${what} [${k}]: first differing element`).toBe(-1);
  }
}

async function threads(n: number): Promise<void> {
  await setBackend('wasm-simd');
  await ready({ threads: n, relaxedSimd: false, adaptiveThreads: false });
}

type Maker = () => RNNBase & { forward: LSTM['forward'] };
interface Odd { name: string; make: Maker; B: number; T: number; I: number; lengths?: number[] }
const odd: Odd[] = [
  { name: 'LSTM H1', make: () => new LSTM({ inputSize: 3, hiddenSize: 1, seed: 5 }) as never, B: 2, T: 4, I: 3 },
  { name: 'LSTM H5 B3', make: () => new LSTM({ inputSize: 7, hiddenSize: 5, seed: 5 }) as never, B: 3, T: 6, I: 7 },
  { name: 'LSTM H37 2 layers bidirectional, lengths', make: () => new LSTM({ inputSize: 13, hiddenSize: 37, numLayers: 2, bidirectional: true, seed: 5 }) as never, B: 4, T: 9, I: 13, lengths: [9, 3, 1, 7] },
  { name: 'GRU H129 B5, lengths', make: () => new GRU({ inputSize: 19, hiddenSize: 129, seed: 5 }) as never, B: 5, T: 7, I: 19, lengths: [7, 7, 2, 5, 1] },
  { name: 'RNN relu H66 batchFirst', make: () => new RNN({ inputSize: 9, hiddenSize: 66, nonlinearity: 'relu', batchFirst: true, seed: 5 }) as never, B: 3, T: 5, I: 9 },
  { name: 'RNN tanh H17 no bias', make: () => new RNN({ inputSize: 9, hiddenSize: 17, bias: false, seed: 5 }) as never, B: 1, T: 11, I: 9 },
  { name: 'LSTM H256 B1 (the benchmark shape)', make: () => new LSTM({ inputSize: 128, hiddenSize: 256, seed: 5 }) as never, B: 1, T: 16, I: 128 },
  // Cell variants run the one-thread kernels (the threads' seq kernel has PyTorch's cells only).
  { name: 'GRU resetAfter false H37, lengths', make: () => new GRU({ inputSize: 5, hiddenSize: 37, resetAfter: false, seed: 5 }) as never, B: 3, T: 6, I: 5, lengths: [6, 2, 4] },
  { name: 'LSTM peepholes, hardSigmoid gates, H33 bidirectional', make: () => new LSTM({ inputSize: 4, hiddenSize: 33, peepholes: true, bidirectional: true, activations: { gate: 'hardSigmoid' }, seed: 5 }) as never, B: 2, T: 5, I: 4 },
  { name: 'RNN sigmoid clip H20', make: () => new RNN({ inputSize: 4, hiddenSize: 20, clip: 0.5, activations: { hidden: 'sigmoid' }, seed: 5 }) as never, B: 2, T: 5, I: 4 },
  // Large enough that the shared memory grows while the workers run on it.
  { name: 'GRU H300 B48 (memory grows)', make: () => new GRU({ inputSize: 64, hiddenSize: 300, numLayers: 2, seed: 5 }) as never, B: 48, T: 40, I: 64 },
];

function runOdd(o: Odd): Outputs {
  const m = o.make();
  const shape = (m as unknown as { batchFirst: boolean }).batchFirst ? [o.B, o.T, o.I] : [o.T, o.B, o.I];
  const res = m.forward(new Tensor(randomData(o.B * o.T * o.I, 11), shape), undefined, o.lengths ? { lengths: o.lengths } : {}) as { output: Tensor; h: Tensor; c?: Tensor };
  m.dispose();
  return [res.output.data, res.h.data, ...(res.c ? [res.c.data] : [])];
}

/** 12 streamed steps of a 2-layer model; returns every output and the final state. */
function runSteps(make: Maker, B: number, I: number): Outputs {
  const m = make();
  const st = m.createState(B);
  const outs: Float32Array[] = [];
  for (let t = 0; t < 12; t++) outs.push(m.step(randomData(B * I, 100 + t), st));
  m.dispose();
  return [...outs, st.h.data.slice(), ...(st.c ? [st.c.data.slice()] : [])];
}
const stepModels: [string, Maker, number, number][] = [
  ['LSTM 2 layers H40 B3', () => new LSTM({ inputSize: 6, hiddenSize: 40, numLayers: 2, seed: 8 }) as never, 3, 6],
  ['GRU H256 B1', () => new GRU({ inputSize: 128, hiddenSize: 256, seed: 8 }) as never, 1, 128],
  ['RNN H23 B2', () => new RNN({ inputSize: 5, hiddenSize: 23, seed: 8 }) as never, 2, 5],
  ['GRU resetAfter false, hardSigmoid gates, 2 layers H40 B2', () => new GRU({ inputSize: 6, hiddenSize: 40, numLayers: 2, resetAfter: false, activations: { gate: 'hardSigmoid' }, seed: 8 }) as never, 2, 6],
];

let prevMin = 0;
const want = { fixtures: [] as Outputs[], odd: [] as Outputs[], steps: [] as Outputs[] };

beforeAll(async () => {
  prevMin = setParallelMinMacs(0);
  await threads(1);
  want.fixtures = cases.map(runCase);
  want.odd = odd.map(runOdd);
  want.steps = stepModels.map(([, make, B, I]) => runSteps(make, B, I));
});

afterAll(async () => {
  setParallelMinMacs(prevMin);
  await ready({ threads: 1 });
});

for (const n of [2, 3]) {
  describe(`${n} threads: bit-identical to one thread`, () => {
    it('runs the threads binary with a pool', async () => {
      await threads(n);
      expect(backendInfo()).toEqual({ name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: n });
      expect(backendInstance().pool?.threads).toBe(n);
      expect(backendInstance().arena.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    });
    it.each(cases.map((c, i) => [c.name, i] as const))('fixture %s', async (_name, i) => {
      await threads(n);
      expectSameBits(runCase(cases[i]), want.fixtures[i], cases[i].name);
    });
    it.each(odd.map((o, i) => [o.name, i] as const))('%s', async (_name, i) => {
      await threads(n);
      expectSameBits(runOdd(odd[i]), want.odd[i], odd[i].name);
    });
    it.each(stepModels.map(([name], i) => [name, i] as const))('step(): %s', async (_name, i) => {
      await threads(n);
      const [, make, B, I] = stepModels[i];
      expectSameBits(runSteps(make, B, I), want.steps[i], stepModels[i][0]);
    });
  });
}

describe('ContentionGuard: one thread while the cores are busy', () => {
  it('never pauses on calm calls', () => {
    const g = new ContentionGuard();
    for (let t = 0; t < 100; t++) {
      g.record(31, 256, t); // 31 sleeps in 256 barriers (12%): calm enough
      expect(g.allows(t)).toBe(true);
    }
  });
  it('pauses 25 ms after a window with an eighth of its barriers asleep, doubling up to 500 ms, reset by a calm window', () => {
    const g = new ContentionGuard();
    g.record(32, 256, 1000);
    expect(g.allows(1000)).toBe(false);
    expect(g.allows(1024.9)).toBe(false);
    expect(g.allows(1025)).toBe(true);
    let now = 1025;
    for (const pause of [50, 100, 200, 400, 500, 500]) {
      g.record(200, 256, now);
      expect(g.allows(now + pause - 0.1), `pause ${pause}`).toBe(false);
      expect(g.allows(now + pause)).toBe(true);
      now += pause;
    }
    g.record(0, 256, now); // calm: back to the shortest pause
    expect(g.allows(now)).toBe(true);
    g.record(256, 256, now);
    expect(g.allows(now + 24)).toBe(false);
    expect(g.allows(now + 25)).toBe(true);
  });
  it('judges small calls (step(): 2 barriers) together, once they add up to 256 barriers', () => {
    const g = new ContentionGuard();
    for (let i = 0; i < 127; i++) {
      g.record(1, 2, i);
      expect(g.allows(i)).toBe(true);
    }
    g.record(1, 2, 127); // 256 barriers, 128 sleeps
    expect(g.allows(127)).toBe(false);
  });
  it('a pool counts its barriers and sleeps for the guard, and adaptiveThreads: false keeps it running', async () => {
    await threads(2);
    const pool = backendInstance().pool!;
    expect(pool.adaptive).toBe(false);
    await ready({ adaptiveThreads: true });
    expect(pool.adaptive).toBe(true);
    const seen: [number, number][] = [];
    const record = pool.guard.record.bind(pool.guard);
    pool.guard.record = (s: number, b: number, now: number) => {
      seen.push([s, b]);
      record(s, b, now);
    };
    const m = new LSTM({ inputSize: 8, hiddenSize: 64, seed: 1 });
    m.forward(new Tensor(randomData(10 * 8, 1), [10, 1, 8]));
    m.dispose();
    // gemmPart (1 barrier), then seq (2 per step); the counters are reset after each call.
    expect(seen.map(([, b]) => b)).toEqual([1, 20]);
    for (const [s, b] of seen) expect(s).toBeLessThanOrEqual(b * 2);
    await expect(ready({ adaptiveThreads: 'yes' as never })).rejects.toThrow('ready: adaptiveThreads must be a boolean, got \'yes\'');
    await ready({ adaptiveThreads: false });
    expect(pool.adaptive).toBe(false);
  });
  it('threadStats() reports the pool\'s calls, barriers, sleeps and the calls its guard kept on one thread', async () => {
    await threads(1);
    expect(threadStats()).toBeNull();
    await threads(2);
    const pool = backendInstance().pool!;
    const m = new LSTM({ inputSize: 8, hiddenSize: 64, seed: 1 });
    const x = new Tensor(randomData(10 * 8, 1), [10, 1, 8]);
    const before = threadStats()!;
    const want = m.forward(x).output.data;
    const after = threadStats()!;
    expect(after.threads).toBe(2);
    expect(after.calls - before.calls).toBe(2);
    expect(after.barriers - before.barriers).toBe(21);
    expect(after.sleeps - before.sleeps).toBeLessThanOrEqual(21 * 2);
    expect(after.pausedCalls).toBe(before.pausedCalls);
    // The returned object is a snapshot, not the live counters.
    after.calls = -1;
    expect(threadStats()!.calls).toBeGreaterThan(0);
    // A window in which every barrier slept pauses the guard: the next forward stays on one thread.
    await ready({ adaptiveThreads: true });
    pool.guard.record(256, 256, performance.now());
    const paused = threadStats()!;
    expect(m.forward(x).output.data).toEqual(want);
    const now = threadStats()!;
    expect(now.calls).toBe(paused.calls);
    expect(now.pausedCalls - paused.pausedCalls).toBeGreaterThanOrEqual(1);
    m.dispose();
    await ready({ adaptiveThreads: false });
  });
});

describe('ready({ threads }) options', () => {
  it('rejects bad thread counts, naming the argument, and changes nothing', async () => {
    await threads(2);
    for (const bad of [0, -1, 1.5, 65, '2', NaN, null]) {
      await expect(ready({ threads: bad as never })).rejects.toThrow(/ready: threads must be an integer from 1 to 64, got/);
    }
    expect(backendInfo().threads).toBe(2);
  });
  it('needs the wasm-simd backend', async () => {
    await setBackend('js');
    await expect(ready({ threads: 2 })).rejects.toThrow("threads = 2 needs the 'wasm-simd' backend, but 'js' is selected");
    await setBackend('wasm-simd');
    expect(backendInfo().threads).toBe(2);
  });
  it('models move between thread counts and back to one thread', async () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 2 });
    const x = new Tensor(randomData(5 * 2 * 4, 3), [5, 2, 4]);
    await threads(2);
    const a = m.forward(x).output.data;
    await threads(3);
    const b = m.forward(x).output.data;
    await threads(1);
    expect(backendInfo()).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
    const c = m.forward(x).output.data;
    expectSameBits([a, b], [c, c], 'across thread counts');
    m.dispose();
  });
  it('training on a threaded backend runs on the caller thread and matches one thread', async () => {
    const run = (): Outputs => {
      const m = new GRU({ inputSize: 4, hiddenSize: 40, seed: 2 });
      const x = new Tensor(randomData(6 * 3 * 4, 3), [6, 3, 4]);
      const y = m.forward(x, undefined, { training: true });
      m.backward(new Tensor(randomData(y.output.data.length, 4), y.output.shape));
      const g = m.gradients();
      const out = [y.output.data, ...Object.values(g).map((t) => t.data.slice())];
      m.dispose();
      return out;
    };
    await threads(1);
    const one = run();
    await threads(2);
    expectSameBits(run(), one, 'training');
  });
  it('a thread that fails stops the others: a clear error, no hang, one thread until ready() again', async () => {
    await threads(2);
    const be = backendInstance();
    const pool = be.pool!;
    const beyond = be.arena.memory.buffer.byteLength + 65536 * 16;
    const a = be.arena.alloc(64 * 64 * 4), w = be.arena.alloc(64 * 64 * 4);
    // C beyond the memory: every thread traps on its first store.
    expect(() => pool.run('gemmPart', beyond, a, w, 0, 64, 64, 64)).toThrow(
      /failed in the parallel kernel 'gemmPart' .*the thread pool is closed — call ready\(\{ threads \}\)/,
    );
    expect(pool.closed).toBe(true);
    const m = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 2 });
    const x = new Tensor(randomData(5 * 2 * 4, 3), [5, 2, 4]);
    const onOne = m.forward(x).output.data;
    await ready({ threads: 2 });
    expect(backendInstance().pool?.closed).toBe(false);
    expectSameBits([m.forward(x).output.data], [onOne], 'after a new pool');
    m.dispose();
  });
});

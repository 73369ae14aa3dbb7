/**
 * wasm-rnn/worker in Node (after `npm run build`): the built dist/esm/worker.js spawns
 * dist/esm/worker-main.js on worker_threads, and everything a model does there — forward,
 * training with fit (events streamed back), generation (tokens streamed back), save/load — gives
 * bit for bit what the same model gives on this thread (the kernels are deterministic). Errors
 * come back with the core's class and message; transfer() really moves buffers.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Core from '../src/index.js';
import type * as WorkerEntry from '../src/worker/index.js';

const root = new URL('..', import.meta.url);
const built = existsSync(new URL('dist/esm/worker.js', root)) && existsSync(new URL('dist/esm/worker-main.js', root));

let core: typeof Core;
let lib: typeof WorkerEntry;
let w: WorkerEntry.ModelWorker;

/** The float32 bit patterns, so that equality is bit for bit (-0 ≠ 0, NaN = NaN). */
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const sin = (n: number, k = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3));
const text = 'call me ishmael. some years ago, never mind how long precisely, having little or no money in my purse.';

describe.skipIf(!built)('wasm-rnn/worker on worker_threads (the built dist/esm/worker.js)', () => {
  beforeAll(async () => {
    core = await import(new URL('dist/esm/index.js', root).href);
    lib = await import(new URL('dist/esm/worker.js', root).href);
    await core.ready();
    w = await lib.spawnWorker();
  });

  afterAll(async () => {
    await w?.terminate();
  });

  it("resolves after the worker's ready(): info() is its backendInfo()", async () => {
    expect(await w.info()).toEqual({ ...core.backendInfo(), ready: true });
    expect((await w.info()).name).toBe('wasm-simd');
  });

  it('an LSTM forward in the worker equals the same LSTM here, bit for bit, as real Tensors', async () => {
    const options = { inputSize: 5, hiddenSize: 12, numLayers: 2, seed: 7 };
    const m = await w.create('LSTM', options);
    expect(m.className).toBe('LSTM');
    const here = new core.LSTM(options);
    const x = new core.Tensor(sin(9 * 3 * 5), [9, 3, 5]);
    const got = await m.call('forward', x);
    const want = here.forward(x);
    for (const k of ['output', 'h', 'c'] as const) {
      expect(got[k]).toBeInstanceOf(core.Tensor);
      expect(got[k].shape).toEqual(want[k]!.shape);
      expect(bits(got[k].data), k).toEqual(bits(want[k]!.data));
    }
    // The argument was copied, not moved, without transfer().
    expect(x.data.length).toBe(9 * 3 * 5);
    // A method returning the model itself gives back the handle.
    expect(await m.call('eval')).toBe(m);
    await m.dispose();
    here.dispose();
  });

  it('a LanguageModel forward over ids equals the same model here', async () => {
    const options = { vocabSize: 13, embeddingDim: 6, hiddenSize: 10, cell: 'gru' as const, seed: 4 };
    const m = await w.create('LanguageModel', options);
    const here = new core.LanguageModel(options);
    const ids = { data: Int32Array.from({ length: 8 * 2 }, (_, i) => (i * 5) % 13), shape: [8, 2] };
    const got = await m.call('forward', ids);
    const want = here.forward(ids);
    expect(got.logits.shape).toEqual([8, 2, 13]);
    expect(bits(got.logits.data)).toEqual(bits(want.logits.data));
    expect(bits(got.state.h.data)).toEqual(bits((want.state.h as Core.Tensor).data));
    await m.dispose();
    here.dispose();
  });

  it('fit trains as it does here (same losses, same weights bit for bit), streams onStep/onEpoch, and the optimizer persists across slices', async () => {
    const tokenizer = new core.CharTokenizer().fit(text);
    const options = { tokenizer, embeddingDim: 8, hiddenSize: 16, seed: 3 };
    const ids = tokenizer.encode(text);
    const batches = core.lmBatches(ids, { batchSize: 2, seqLen: 8 });
    expect(batches.length).toBeGreaterThan(4);
    const m = await w.create('LanguageModel', options);
    await m.setOptimizer('adam', { lr: 0.03 });
    const here = new core.LanguageModel(options);
    const opt = new core.Adam(here, { lr: 0.03 });

    const steps: Core.StepInfo[] = [], epochs: Core.EpochInfo[] = [];
    const r = await m.fit({ train: batches, epochs: 3, clipNorm: 1, metrics: ['accuracy'] }, { onStep: (s) => steps.push(s), onEpoch: (e) => epochs.push(e) });
    const hereSteps: Core.StepInfo[] = [];
    const want = core.fit(here, { optimizer: opt, train: batches, epochs: 3, clipNorm: 1, metrics: ['accuracy'], onStep: (s) => void hereSteps.push(s) });
    // Every event arrived before fit resolved.
    expect(steps).toHaveLength(r.steps);
    expect(epochs).toHaveLength(3);
    expect(r.steps).toBe(want.steps);
    expect(steps.map((s) => s.loss)).toEqual(hereSteps.map((s) => s.loss));
    expect(steps.map((s) => s.gradNorm)).toEqual(hereSteps.map((s) => s.gradNorm));
    expect(r.epochs.map((e) => e.loss)).toEqual(want.epochs.map((e) => e.loss));
    expect(r.epochs[2].loss).toBeLessThan(r.epochs[0].loss);
    expect(epochs.map((e) => e.loss)).toEqual(r.epochs.map((e) => e.loss));

    // A second slice continues with the same Adam state (its step count and moments).
    const r2 = await m.fit({ train: batches.slice(0, 3), epochs: 1 });
    core.fit(here, { optimizer: opt, train: batches.slice(0, 3), epochs: 1 });
    expect(r2.steps).toBe(3);
    const sd = await m.call('stateDict');
    const wantSd = here.stateDict();
    expect(Object.keys(sd)).toEqual(Object.keys(wantSd));
    for (const k of Object.keys(wantSd)) expect(bits(sd[k].data), k).toEqual(bits(wantSd[k].data));
    await m.dispose();
    here.dispose();
    opt.dispose();
  });

  it('generate streams each piece (or id) as it is made; they join to the result, which equals generateText/generate here', async () => {
    const tokenizer = new core.WordTokenizer().fit(text);
    const options = { tokenizer, embeddingDim: 8, hiddenSize: 16, seed: 5 };
    const m = await w.create('LanguageModel', options);
    const here = new core.LanguageModel(options);
    const opts = { maxTokens: 30, temperature: 1.2, seed: 11, stop: 'money in' };
    const pieces: string[] = [];
    const got = await m.generate('call me', opts, (p) => pieces.push(p));
    expect(typeof got).toBe('string');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(got);
    expect(got).toBe(here.generateText('call me', opts));

    const idsSeen: number[] = [];
    const prefix = tokenizer.encode('some years');
    const gen = await m.generate(prefix, { maxTokens: 20, seed: 2 }, (id) => idsSeen.push(id));
    expect(gen).toBeInstanceOf(Int32Array);
    expect([...gen]).toEqual([...here.generate(prefix, { maxTokens: 20, seed: 2 })]);
    expect(idsSeen).toEqual([...gen]);
    await m.dispose();
    here.dispose();
  });

  it('save() in the worker loads here to the same model; load(bytes) and loadWeights(bytes) in the worker', async () => {
    const options = { inputSize: 3, hiddenSize: 6, seed: 9 };
    const m = await w.create('GRU', options);
    await m.setOptimizer('sgd', { lr: 0.1 });
    const x = new core.Tensor(sin(4 * 1 * 3, 0.7), [4, 1, 3]);
    const bytes = await m.save();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const here = core.load(bytes) as Core.GRU;
    expect(here).toBeInstanceOf(core.GRU);
    const want = here.forward(x).output.data;
    expect(bits((await m.call('forward', x)).output.data)).toEqual(bits(want));

    const m2 = await w.load(core.save(here));
    expect(m2.className).toBe('GRU');
    expect(bits((await m2.call('forward', x)).output.data)).toEqual(bits(want));

    // loadWeights puts another model's weights into m.
    const other = new core.GRU({ ...options, seed: 10 });
    await m.loadWeights(core.save(other));
    expect(bits((await m.call('forward', x)).output.data)).toEqual(bits(other.forward(x).output.data));
    expect(bits((await m.call('forward', x)).output.data)).not.toEqual(bits(want));
    // With the optimizer's state, too.
    const withOpt = await m.save({ optimizer: true });
    expect(core.readSafetensors(withOpt).metadata.optimizer).toMatch(/"class":"SGD"/);
    for (const d of [m, m2]) await d.dispose();
    here.dispose();
    other.dispose();
  });

  it('errors come back with the core class and message, naming the function', async () => {
    await expect(w.create('Nope')).rejects.toThrow(/^create: 'Nope' is not a registered class \(known: LSTM, GRU, RNN, Linear/);
    await expect(w.create('Nope')).rejects.toBeInstanceOf(TypeError);
    await expect(w.create('LSTM', { inputSize: 0, hiddenSize: 2 })).rejects.toBeInstanceOf(RangeError);
    const m = await w.create('LSTM', { inputSize: 2, hiddenSize: 3 });
    await expect(m.call('nope')).rejects.toThrow(new TypeError("call: LSTM has no public method 'nope'"));
    await expect(m.call('_locate')).rejects.toThrow(/no public method '_locate'/);
    // A bad argument: exactly the error the same call raises here.
    const here = new core.LSTM({ inputSize: 2, hiddenSize: 3 });
    let local: Error | undefined;
    try {
      here.forward(new core.Tensor(sin(3 * 1 * 5), [3, 1, 5]));
    } catch (err) {
      local = err as Error;
    }
    expect(local?.message).toMatch(/LSTM\.forward/);
    const remote = await m.call('forward', new core.Tensor(sin(3 * 1 * 5), [3, 1, 5])).catch((e: Error) => e);
    expect(remote).toBeInstanceOf(local!.constructor);
    expect((remote as Error).message).toBe(local!.message);
    await expect(m.setOptimizer('adagrad' as never)).rejects.toThrow(/setOptimizer: name must be one of 'adam', 'adamw', 'sgd', 'rmsprop', got 'adagrad'/);
    await expect(m.fit({ train: [], epochs: 1 })).rejects.toThrow(/fit: the model has no optimizer yet: call setOptimizer/);
    await expect(m.generate('x')).rejects.toThrow(/generate: the model is a LSTM, which has no generate\(\)/);
    // What cannot cross is refused on this side, naming where it was.
    await expect(m.call('forward', { data: () => 1 })).rejects.toThrow(/call: forward's arguments\[0\]\.data is a function, which cannot cross to the worker/);
    await expect(m.call('forward', here)).rejects.toThrow(/is a LSTM model, which cannot cross to the worker \(send save\(\) bytes/);
    await expect(m.call('parameters')).rejects.toThrow(/call: LSTM\.parameters\(\)'s result\[0\] is a Parameter, which cannot cross to the page/);
    await expect(lib.spawnWorker({ thread: 2 } as never)).rejects.toThrow(/spawnWorker: unknown option 'thread'/);
    // A callback that throws: the call rejects with its error once the worker is done; the model stays usable.
    const lm = await w.create('LanguageModel', { vocabSize: 5, embeddingDim: 3, hiddenSize: 4, seed: 1 });
    await lm.setOptimizer('sgd', { lr: 0.1 });
    const batches = core.lmBatches(Int32Array.from({ length: 40 }, (_, i) => i % 5), { batchSize: 2, seqLen: 4 });
    let calls = 0;
    const boom = new Error('boom');
    await expect(lm.fit({ train: batches, epochs: 1 }, { onStep: () => { calls++; throw boom; } })).rejects.toBe(boom);
    expect(calls).toBe(1);
    await expect(lm.generate([1], { maxTokens: 5 }, () => { throw boom; })).rejects.toBe(boom);
    expect((await lm.generate([1], { maxTokens: 5, seed: 1 })).length).toBe(5);
    await lm.dispose();
    await m.dispose();
    await expect(m.call('forward', [[1, 2]])).rejects.toThrow(/call: the model was disposed/);
    here.dispose();
  });

  it('training that diverges rejects with a NonFiniteError, as here', async () => {
    const m = await w.create('LanguageModel', { vocabSize: 5, embeddingDim: 3, hiddenSize: 4, seed: 1 });
    await m.setOptimizer('sgd', { lr: 1e30 });
    const batches = core.lmBatches(Int32Array.from({ length: 80 }, (_, i) => i % 5), { batchSize: 2, seqLen: 4 });
    const err = await m.fit({ train: batches, epochs: 3 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(core.NonFiniteError);
    expect((err as Core.NonFiniteError).message).toMatch(/^training stopped at step \d+/);
    await m.dispose();
  });

  it('transfer() moves a buffer to the worker (the sender\'s is detached); load() moves its bytes; results arrive moved', async () => {
    const m = await w.create('LSTM', { inputSize: 2, hiddenSize: 3, seed: 1 });
    const x = new core.Tensor(sin(4 * 2), [4, 2]);
    const kept = new core.Tensor(sin(4 * 2), [4, 2]);
    const got = await m.call('forward', lib.transfer(x, [x.data.buffer as ArrayBuffer]));
    expect(x.data.buffer.byteLength).toBe(0);
    expect(bits(got.output.data)).toEqual(bits((await m.call('forward', kept)).output.data));
    expect(kept.data.buffer.byteLength).toBe(4 * 2 * 4);
    // The result owns its whole buffer (moved from the worker, not a view into something bigger).
    expect(got.output.data.buffer.byteLength).toBe(got.output.data.byteLength);
    const bytes = core.save(new core.LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }));
    const n = bytes.byteLength;
    const m2 = await w.load(bytes);
    expect(bytes.byteLength).toBe(0);
    expect(n).toBeGreaterThan(0);
    // A view of part of a buffer is copied, so the rest of it survives.
    const big = new Uint8Array(n + 16);
    big.set(core.save(new core.LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 })), 8);
    const m3 = await w.load(big.subarray(8, 8 + n));
    expect(big.byteLength).toBe(n + 16);
    expect(() => lib.transfer(5 as never, [])).toThrow(/transfer: value must be an object/);
    for (const d of [m, m2, m3]) await d.dispose();
  });

  it('spawns with threads: ready({ threads: 2 }) in the worker, inference bit-identical to one thread here', async () => {
    const t = await lib.spawnWorker({ threads: 2 });
    expect(await t.info()).toEqual({ name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: 2 });
    const options = { inputSize: 16, hiddenSize: 128, seed: 2 }; // 4·128² multiply-adds per step: split over the threads
    const m = await t.create('LSTM', options);
    const here = new core.LSTM(options);
    const x = new core.Tensor(sin(20 * 16, 0.3), [20, 16]);
    expect(bits((await m.call('forward', x)).output.data)).toEqual(bits(here.forward(x).output.data));
    await t.terminate();
    here.dispose();
    await expect(lib.spawnWorker({ threads: 0 })).rejects.toThrow(new RangeError('ready: threads must be an integer from 1 to 64, got 0'));
  });

  it('spawns with a backend, and a worker script of your own that registers its own class', async () => {
    const js = await lib.spawnWorker({ backend: 'js' });
    expect((await js.info()).name).toBe('js');
    await js.terminate();
    await expect(js.info()).rejects.toThrow(/spawnWorker: the worker was terminated/);

    const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-worker-'));
    try {
      const script = join(dir, 'my-worker.mjs');
      writeFileSync(script, `
        import { Module, Tensor, registerModel } from ${JSON.stringify(new URL('dist/esm/index.js', root).href)};
        import { serveWorker } from ${JSON.stringify(new URL('dist/esm/worker.js', root).href)};
        class Doubler extends Module {
          constructor(c) { super(); this.k = c.k ?? 2; }
          getConfig() { return { k: this.k }; }
          forward(x) { return new Tensor(x.data.map((v) => v * this.k), x.shape); }
        }
        registerModel('Doubler', (c) => new Doubler(c));
        await serveWorker();
      `);
      const mine = await lib.spawnWorker({ url: new URL(`file://${script}`) });
      const d = await mine.create('Doubler', { k: 3 });
      const out = await d.call('forward', new core.Tensor(Float32Array.of(1, 2), [2]));
      expect(Array.from(out.data)).toEqual([3, 6]);
      await mine.terminate();
      await expect(lib.spawnWorker({ url: join(dir, 'missing.mjs') })).rejects.toThrow(/missing\.mjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(lib.serveWorker()).rejects.toThrow(/serveWorker: not in a worker thread/);
  });
});

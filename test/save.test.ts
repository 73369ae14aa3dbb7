/**
 * Saving, loading and resuming (#9): every built-in class round-trips bit-exactly and
 * save(load(save(m))) is byte-identical; a user's Module subclass loads `into` an instance;
 * optimizer state resumes training exactly (in this process on every backend, and across
 * processes); saveFile is atomic; hostile files are refused quickly without large allocations.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Adam, Dropout, Embedding, FinalHidden, Forecaster, GRU, LSTM, LanguageModel, LastStep, Linear, MaxPool, MeanPool, Module, RMSprop, RNN,
  ReLU, SGD, Seq2Seq, Sequential, SequenceClassifier, Sigmoid, Tanh, Tensor, load, loadFile, readSafetensors, registerModel, createModel, save, saveFile,
  writeSafetensors, lmBatches, type Optimizer,
} from '../src/index.js';
import { randomData, selectedBackends, use } from './helpers.js';

const bits = (sd: Record<string, Tensor>): Record<string, number[]> => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Array.from(v.data)]));

const builtins: Array<[string, () => Module, (m: Module) => Float32Array]> = [
  ['LSTM', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.2, seed: 1 }),
    (m) => (m as LSTM).forward(new Tensor(randomData(2 * 5 * 3, 1), [2, 5, 3])).output.data],
  ['GRU', () => new GRU({ inputSize: 3, hiddenSize: 5, bias: false, seed: 2 }), (m) => (m as GRU).forward(new Tensor(randomData(4 * 3, 2), [4, 3])).output.data],
  ['RNN relu', () => new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu', numLayers: 3, seed: 3 }),
    (m) => (m as RNN).forward(new Tensor(randomData(4 * 2 * 2, 3), [4, 2, 2])).output.data],
  ['Linear', () => new Linear(4, 3, { seed: 4 }), (m) => (m as Linear).forward(new Tensor(randomData(8, 4), [2, 4])).data],
  ['Linear without bias', () => new Linear(4, 3, { bias: false, seed: 4 }), (m) => (m as Linear).forward(new Tensor(randomData(8, 4), [2, 4])).data],
  ['Embedding', () => new Embedding(7, 3, { seed: 5 }), (m) => (m as Embedding).forward([1, 6, 0]).data],
  ['Sequential', () => new Sequential(new Embedding(9, 4, { seed: 1 }), new GRU({ inputSize: 4, hiddenSize: 6, bidirectional: true, seed: 2 }), new FinalHidden(), new Dropout(0.3), new ReLU(), new Linear(12, 3, { seed: 3 }), new Tanh(), new Sigmoid()),
    (m) => ((m as Sequential).forward({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }) as Tensor).data],
  ['Sequential with pools', () => new Sequential(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 2 }), new MaxPool()),
    (m) => ((m as Sequential).forward(new Tensor(randomData(12, 1), [3, 2, 2]), { lengths: [3, 1] }) as Tensor).data],
  ['Sequential mean, last', () => new Sequential(new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true, seed: 2 }), new LastStep({ batchFirst: true })),
    (m) => ((m as Sequential).forward(new Tensor(randomData(12, 1), [2, 3, 2])) as Tensor).data],
  ['MeanPool', () => new MeanPool(), (m) => (m as MeanPool).forward(new Tensor(randomData(12, 1), [3, 2, 2])).data],
  ['LanguageModel', () => new LanguageModel({ vocabSize: 11, embeddingDim: 4, hiddenSize: 6, numLayers: 2, cell: 'gru', dropout: 0.1, seed: 1 }),
    (m) => (m as LanguageModel).forward({ data: [1, 2, 3, 4], shape: [2, 2] }).logits.data],
  ['Forecaster', () => new Forecaster({ inputSize: 2, hiddenSize: 5, outputSize: 3, cell: 'rnn', seed: 1 }),
    (m) => (m as Forecaster).predict(randomData(4 * 2 * 2, 9), 4, 2).data],
  ['SequenceClassifier', () => new SequenceClassifier({ vocabSize: 9, embeddingDim: 4, hiddenSize: 5, numClasses: 3, bidirectional: true, pooling: 'mean', seed: 1 }),
    (m) => (m as SequenceClassifier).predictProba({ x: { data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }, lengths: [3, 2] }).data],
  ['Seq2Seq', () => new Seq2Seq({ srcVocabSize: 8, tgtVocabSize: 7, bosId: 1, eosId: 2, embeddingDim: 4, hiddenSize: 6, attentionSize: 5, seed: 1 }),
    (m) => Float32Array.from((m as Seq2Seq).translate(Int32Array.from([3, 4, 5]), { maxLen: 5 }) as Int32Array)],
];

describe('save / load', () => {
  it.each(builtins)('%s round-trips bit-exactly, and save(load(save(m))) equals save(m) byte for byte', async (_n, make, run) => {
    await use('wasm-simd');
    const m = make();
    const bytes = save(m);
    const back = load(bytes);
    expect(back.constructor).toBe(m.constructor);
    expect(back.getConfig()).toEqual(m.getConfig());
    expect(bits(back.stateDict())).toEqual(bits(m.stateDict()));
    expect(Array.from(run(back))).toEqual(Array.from(run(m)));
    expect(save(back)).toEqual(bytes);
    m.dispose();
    back.dispose();
  });

  it("a user's own Module subclass round-trips with { into }, or by name once registered", async () => {
    await use('js');
    class Tagger extends Module {
      embedding = new Embedding(6, 3, { seed: 1 });
      rnn = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 2 });
      head = new Linear(4, 2, { seed: 3 });
      constructor(readonly width = 4) {
        super();
      }
      override getConfig(): Record<string, unknown> {
        return { width: this.width };
      }
    }
    const a = new Tagger();
    const bytes = save(a);
    const b = new Tagger();
    b.embedding.loadStateDict({ weight: Tensor.zeros([6, 3]) });
    load(bytes, { into: b });
    expect(bits(b.stateDict())).toEqual(bits(a.stateDict()));
    expect(() => load(bytes)).toThrow(/load: the file holds a 'Tagger', which is not a class load\(\) knows; pass \{ into/);
    registerModel('Tagger', (c) => new Tagger(c.width as number));
    const c = load(bytes);
    expect(c).toBeInstanceOf(Tagger);
    expect(bits(c.stateDict())).toEqual(bits(a.stateDict()));
    expect(() => load(bytes, { into: new Linear(2, 2) })).toThrow(/the file holds a 'Tagger', but into is a 'Linear'/);
    for (const m of [a, b, c]) m.dispose();
  });

  it('createModel builds a registered class by name from its configuration, as load() does', async () => {
    await use('js');
    const lstm = createModel('LSTM', { inputSize: 2, hiddenSize: 3, seed: 1 });
    expect(lstm).toBeInstanceOf(LSTM);
    expect(bits(lstm.stateDict())).toEqual(bits(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }).stateDict()));
    const seq = createModel('Sequential', { layers: [{ class: 'Linear', config: { inFeatures: 2, outFeatures: 4, bias: true } }, { class: 'ReLU', config: {} }] });
    expect(seq.getConfig()).toEqual({ layers: [{ class: 'Linear', config: { inFeatures: 2, outFeatures: 4, bias: true } }, { class: 'ReLU', config: {} }] });
    // (Tagger, registered by the test above, may follow.)
    expect(() => createModel('Nope')).toThrow(new RegExp("^createModel: 'Nope' is not a registered class \\(known: LSTM, GRU, RNN, Linear, Embedding, Sequential, " +
      'LastStep, MeanPool, MaxPool, FinalHidden, ReLU, Tanh, Sigmoid, Softmax, Dropout, LanguageModel, Forecaster, SequenceClassifier, Seq2Seq, ' +
      'AdditiveAttention(, Tagger)?\\); registerModel\\(name, factory\\) registers your own$'));
    expect(() => createModel('Nope')).toThrow(TypeError);
    expect(() => createModel(3 as never)).toThrow(/createModel: name must be a class name \(a string\), got number/);
    expect(() => createModel('LSTM', [] as never)).toThrow(/createModel: the configuration of 'LSTM' must be an object, got array/);
    expect(() => createModel('LSTM', { inputSize: 0, hiddenSize: 3 })).toThrow(RangeError);
    lstm.dispose();
    seq.dispose();
  });

  it('reads a PyTorch safetensors state dict into a model, and JSON state dicts both ways', async () => {
    await use('js');
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const plain = writeSafetensors(lstm.stateDict());
    const other = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 2 });
    load(plain, { into: other });
    expect(bits(other.stateDict())).toEqual(bits(lstm.stateDict()));
    expect(() => load(plain)).toThrow(/not written by save\(\) \(no wasm-rnn metadata\).*pass \{ into: model \}/);
    // JSON.stringify(stateDict()) writes nested lists (what json.dump({k: v.tolist()}) writes) and loads back.
    const json = JSON.stringify(lstm.stateDict());
    expect(json.startsWith('{"weight_ih_l0":[[')).toBe(true);
    const third = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 3 });
    third.loadStateDict(JSON.parse(json));
    expect(bits(third.stateDict())).toEqual(bits(lstm.stateDict()));
    lstm.dispose();
    other.dispose();
    third.dispose();
  });

  it('refuses files it cannot use, naming what is wrong, and changes nothing', async () => {
    await use('js');
    const m = new Linear(3, 2, { seed: 1 });
    const before = bits(m.stateDict());
    const { tensors, metadata } = readSafetensors(save(m));
    const withMeta = (md: Record<string, string>) => writeSafetensors(tensors, { ...metadata, ...md });
    expect(() => load(withMeta({ format_version: '2' }))).toThrow(/written by a newer wasm-rnn \(format version 2\); this one reads version 1/);
    expect(() => load(withMeta({ config: '{"inFeatures": 3, "outFeatures": 2' }))).toThrow(/metadata 'config' is not valid JSON/);
    expect(() => load(withMeta({ config: '{"inFeatures": 3000, "outFeatures": 2000}' }))).toThrow(/cannot build the saved 'Linear': Linear: the configuration asks for 6002000 parameters, more than the file holds \(8 values left\)/);
    expect(() => load(withMeta({ config: '{"inFeatures": 30000, "outFeatures": 20000}' }))).toThrow(/cannot build the saved 'Linear': Linear: inFeatures = 30000, outFeatures = 20000 give/);
    expect(() => load(withMeta({ config: '{"inFeatures": "x", "outFeatures": 2}' }))).toThrow(/cannot build the saved 'Linear': Linear: inFeatures must be a positive integer, got 'x'/);
    expect(() => load(withMeta({ class: 'Nope' }))).toThrow(/'Nope', which is not a class load\(\) knows/);
    expect(() => load(save(m), { into: m, optimizer: new SGD(m, { lr: 1 }) })).toThrow(/the file holds no optimizer state/);
    const wrong = new Linear(3, 2, { seed: 2 });
    expect(() => load(writeSafetensors({ ...tensors, extra: Tensor.zeros([1]) }, metadata), { into: m })).toThrow(/unexpected key\(s\) 'extra'/);
    expect(bits(m.stateDict())).toEqual(before);
    expect(() => load(new Uint8Array([1, 2, 3]))).toThrow(/readSafetensors/);
    expect(() => load(save(m), { optimizer: new SGD(m, { lr: 1 }) })).toThrow(/pass \{ into: model, optimizer \}/);
    m.dispose();
    wrong.dispose();
  });

  it('a fuzzed file never hangs, never throws anything but a clear error, never allocates much more than the file', () => {
    const lm = new LanguageModel({ vocabSize: 5, embeddingDim: 3, hiddenSize: 4, seed: 1 });
    const good = save(lm);
    const n = good.length;
    const headerLen = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const header = new TextDecoder().decode(good.subarray(8, 8 + headerLen));
    const numbers = [0, 1, 3, 1e4, 1e6, 2 ** 31, 2 ** 53, -1, 0.5, 1e300];
    const configMutation = fc.record({ key: fc.constantFrom('vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers'), value: fc.constantFrom(...numbers) });
    fc.assert(
      fc.property(fc.oneof(
        fc.record({ kind: fc.constant('bytes' as const), edits: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }) }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(n - 1) }),
        fc.record({ kind: fc.constant('config' as const), edits: fc.array(configMutation, { minLength: 1, maxLength: 3 }) }),
      ), (mut) => {
        let bytes: Uint8Array;
        if (mut.kind === 'bytes') {
          bytes = Uint8Array.from(good);
          for (const [at, v] of mut.edits) bytes[at] = v;
        } else if (mut.kind === 'truncate') bytes = good.slice(0, mut.at);
        else {
          const h = JSON.parse(header);
          const cfg = JSON.parse(h.__metadata__.config);
          for (const e of mut.edits) cfg[e.key] = e.value;
          h.__metadata__.config = JSON.stringify(cfg);
          const text = new TextEncoder().encode(JSON.stringify(h));
          bytes = new Uint8Array(8 + text.length + (n - 8 - headerLen));
          new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
          bytes.set(text, 8);
          bytes.set(good.subarray(8 + headerLen), 8 + text.length);
        }
        const before = process.memoryUsage().arrayBuffers;
        try {
          load(bytes).dispose();
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toMatch(/^(load|readSafetensors|[A-Za-z]+(\.loadStateDict)?): /);
        }
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32e6);
      }),
      { numRuns: 150, seed: 42 },
    );
    lm.dispose();
  });
});

describe('optimizer state', () => {
  it.each([
    ['Adam', (m: Module) => new Adam(m, { lr: 0.01, weightDecay: 0.01 })],
    ['SGD momentum', (m: Module) => new SGD(m, { lr: 0.1, momentum: 0.9, nesterov: true })],
    ['RMSprop centered', (m: Module) => new RMSprop(m, { lr: 0.01, centered: true, momentum: 0.5 })],
  ])('%s: stateDict round-trips through JSON and refuses a different optimizer', async (_n, make) => {
    await use('js');
    const m = new Linear(3, 2, { seed: 1 });
    const opt = make(m);
    const y = m.forward([[1, 2, 3]], { training: true });
    m.backward(new Tensor(new Float32Array(2).fill(1), y.shape));
    opt.step();
    const sd = opt.stateDict();
    expect(sd.stepCount).toBe(1);
    const twin = make(m);
    twin.loadStateDict(JSON.parse(JSON.stringify(sd)));
    expect(JSON.stringify(twin.stateDict())).toBe(JSON.stringify(sd));
    expect(() => new SGD(m, { lr: 0.1 }).loadStateDict(sd)).toThrow(sd.class === 'SGD' ? /made with momentum = 0.9/ : /the state is a .*'s, not a SGD's/);
    opt.dispose();
    twin.dispose();
    m.dispose();
  });

  for (const backend of selectedBackends()) {
    it(`resumed training equals uninterrupted training bit for bit on ${backend}`, async () => {
      await use(backend);
      const text = 'the cat sat on the mat and the dog sat on the log. '.repeat(6);
      const ids = [...text].map((ch) => ch.charCodeAt(0) % 17);
      const batches = lmBatches(ids, { batchSize: 4, seqLen: 8, mode: 'random', seed: 3 });
      const make = (): { lm: LanguageModel; opt: Optimizer } => {
        const lm = new LanguageModel({ vocabSize: 17, embeddingDim: 5, hiddenSize: 8, numLayers: 2, dropout: 0.25, seed: 7 });
        return { lm, opt: new Adam(lm, { lr: 0.02 }) };
      };
      const step = ({ lm, opt }: { lm: LanguageModel; opt: Optimizer }, i: number): void => {
        opt.zeroGrad();
        lm.trainBatch(batches[i % batches.length]);
        opt.step();
      };
      const a = make();
      for (let i = 0; i < 10; i++) step(a, i);
      const b = make();
      for (let i = 0; i < 4; i++) step(b, i);
      const bytes = save(b.lm, { optimizer: b.opt });
      b.lm.dispose();
      b.opt.dispose();
      const c = make();
      load(bytes, { into: c.lm, optimizer: c.opt });
      expect(c.opt.stepCount).toBe(4);
      for (let i = 4; i < 10; i++) step(c, i);
      expect(bits(c.lm.stateDict())).toEqual(bits(a.lm.stateDict()));
      for (const x of [a, c]) {
        x.lm.dispose();
        x.opt.dispose();
      }
    });
  }
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-save-'));

  it('saveFile/loadFile round-trip and leave no temporary file', async () => {
    await use('wasm-simd');
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const path = join(dir, 'gru.safetensors');
    await saveFile(m, path);
    await saveFile(m, path); // over an existing file
    const back = await loadFile(path);
    expect(bits(back.stateDict())).toEqual(bits(m.stateDict()));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(saveFile(m, join(dir, 'missing-dir', 'x.safetensors'))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(loadFile(join(dir, 'nope'))).rejects.toThrow(/ENOENT/);
    await expect(saveFile(m, '' as never)).rejects.toThrow(/saveFile: path must be a non-empty string/);
    m.dispose();
    back.dispose();
  });

  it('a process killed while saving leaves the previous model or the new one, never a truncated file', async () => {
    const path = join(dir, 'big.safetensors');
    const script = join(dir, 'writer.mjs');
    writeFileSync(script, `
      import { LSTM, saveFile, ready } from ${JSON.stringify(new URL('../dist/esm/index.js', import.meta.url).href)};
      await ready();
      const m = new LSTM({ inputSize: 256, hiddenSize: 512, seed: Number(process.argv[2]) });
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) await saveFile(m, process.argv[3]);
    `);
    execFileSync(process.execPath, ['-e', `
      import(${JSON.stringify(new URL('../dist/esm/index.js', import.meta.url).href)}).then(async ({ LSTM, saveFile, ready }) => {
        await ready(); await saveFile(new LSTM({ inputSize: 256, hiddenSize: 512, seed: 1 }), ${JSON.stringify(path)});
      });`]);
    const first = readFileSync(path);
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [script, String(round + 2), path], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + 70 * round));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const now = readFileSync(path);
      expect(now.length).toBe(first.length);
      const m = load(new Uint8Array(now.buffer, now.byteOffset, now.byteLength));
      expect(m).toBeInstanceOf(LSTM);
      m.dispose();
    }
    expect(existsSync(path)).toBe(true);
  });

  it('a char-LM saved in one process continues in another to the same weights as uninterrupted training', () => {
    const dist = JSON.stringify(new URL('../dist/esm/index.js', import.meta.url).href);
    const common = `
      import { Adam, LanguageModel, lmBatches, ready, saveFile, loadFile } from ${dist};
      import { writeFileSync } from 'node:fs';
      await ready();
      const text = 'a model saved here continues there exactly. '.repeat(8);
      const ids = [...text].map((ch) => ch.charCodeAt(0) % 23);
      const batches = lmBatches(ids, { batchSize: 4, seqLen: 10, mode: 'random', seed: 5 });
      const lm = new LanguageModel({ vocabSize: 23, embeddingDim: 6, hiddenSize: 12, dropout: 0.2, numLayers: 2, seed: 11 });
      const opt = new Adam(lm, { lr: 0.01 });
      const step = (i) => { opt.zeroGrad(); lm.trainBatch(batches[i % batches.length]); opt.step(); };
      const weights = () => JSON.stringify(Object.fromEntries(Object.entries(lm.stateDict()).map(([k, v]) => [k, Array.from(v.data)])));
    `;
    const ckpt = join(dir, 'lm.safetensors');
    const run = (body: string): string => {
      const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(file, common + body);
      return execFileSync(process.execPath, [file], { encoding: 'utf8' });
    };
    const uninterrupted = run(`for (let i = 0; i < 12; i++) step(i); process.stdout.write(weights());`);
    run(`for (let i = 0; i < 5; i++) step(i); await saveFile(lm, ${JSON.stringify(ckpt)}, { optimizer: opt });`);
    const resumed = run(`await loadFile(${JSON.stringify(ckpt)}, { into: lm, optimizer: opt }); for (let i = 5; i < 12; i++) step(i); process.stdout.write(weights());`);
    expect(resumed).toBe(uninterrupted);
  });
});

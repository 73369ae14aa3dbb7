/**
 * exportOnnx: ONNX Runtime (onnxruntime-node) runs what we write with our numbers, and
 * importOnnx(exportOnnx(m)) runs it with our numbers too.
 *
 * Tolerance against ONNX Runtime: both sides are float32 implementations of the same network
 * with their own approximations of sigmoid/tanh (ours: ≤ 1.5e-7 relative, assembly/activations.ts;
 * MLAS's are of the same order) and their own summation orders, so each is a few float32 ulps
 * from the exact result. We allow 8 ulps of the output's magnitude (≥ 1), about 1e-6 (the
 * largest difference measured on these models is 1.4 ulps); a gate-order or layout mistake
 * shows up as an error of order 0.1.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding, GRU, LSTM, LanguageModel, Linear, Module, RNN, Tensor, ready, setBackend, type RNNBase } from '../src/index.js';
import { EXPORT_OPSET, exportOnnx, importOnnx, OnnxError, type Exportable, type OnnxFeed } from '../src/onnx/index.js';
import { onnx } from '../src/onnx/proto.js';

const AT = onnx.AttributeProto.AttributeType;
import { maxAbs, maxAbsDiff, randomData } from './helpers.js';

const EPS32 = 2 ** -23;
const tol = (ref: ArrayLike<number>): number => 8 * EPS32 * Math.max(1, maxAbs(ref));

interface Ref {
  feeds: Record<string, OnnxFeed>;
  ort: Record<string, ort.Tensor>;
  /** Our forward's outputs under the exported names. */
  want: Record<string, Tensor>;
}

/** Seeded inputs for a model, our forward on them, and the same inputs as ONNX Runtime tensors. */
function reference(m: Exportable, T: number, B: number, seed: number): Ref {
  const modules = Array.isArray(m) ? m : m instanceof LanguageModel ? [m.embedding, m.rnn, m.linear] : m instanceof Seq ? m.items() : [m];
  const first = modules[0];
  let x: Tensor | { data: Int32Array; shape: number[] };
  let name: string;
  let ortIn: ort.Tensor;
  if (first instanceof Embedding) {
    const ids = Int32Array.from(randomData(T * B, seed), (v) => Math.floor(((v + 1) / 2) * first.numEmbeddings) % first.numEmbeddings);
    x = { data: ids, shape: [T, B] };
    name = 'tokens';
    ortIn = new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [T, B]);
  } else {
    const rnn = modules.find((k) => !(k instanceof Linear)) as RNNBase | undefined;
    const width = first instanceof Linear ? first.inFeatures : (first as RNNBase).inputSize;
    const shape = rnn ? (rnn.batchFirst ? [B, T, width] : [T, B, width]) : [T * B, width];
    x = new Tensor(randomData(shape.reduce((a, b) => a * b, 1), seed), shape);
    name = 'input';
    ortIn = new ort.Tensor('float32', x.data, shape);
  }
  let want: Record<string, Tensor> = {};
  if (m instanceof LanguageModel) {
    const r = m.forward(x as { data: Int32Array; shape: number[] });
    want.logits = r.logits;
    want.h_n = r.state.h as Tensor;
    if (r.state.c) want.c_n = r.state.c as Tensor;
  } else {
    let cur: Tensor | { data: Int32Array; shape: number[] } = x;
    const recurrent = modules.filter((k) => k instanceof LSTM || k instanceof GRU || k instanceof RNN).length;
    modules.forEach((k, i) => {
      if (k instanceof Embedding) cur = k.forward(cur as { data: Int32Array; shape: number[] });
      else if (k instanceof Linear) cur = k.forward(cur as Tensor);
      else {
        const r = (k as LSTM).forward(cur as Tensor);
        const sfx = recurrent > 1 ? `_${i}` : '';
        want[`h_n${sfx}`] = r.h;
        if (r.c) want[`c_n${sfx}`] = r.c;
        cur = r.output;
      }
    });
    want = { output: cur as Tensor, ...want };
  }
  return { feeds: { [name]: x }, ort: { [name]: ortIn }, want };
}

/** A PyTorch-style Sequential: children named 0, 1, …. */
class Seq extends Module {
  constructor(...mods: Module[]) {
    super();
    mods.forEach((m, i) => Object.defineProperty(this, String(i), { value: m, enumerable: true }));
  }
  items(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }
}

const lm = (cell: 'lstm' | 'gru' | 'rnn', numLayers = 1): LanguageModel =>
  new LanguageModel({ vocabSize: 13, embeddingDim: 6, hiddenSize: 9, numLayers, cell, seed: 5 });

const MODELS: readonly [string, () => Exportable, number, number][] = [
  ['LSTM', () => new LSTM({ inputSize: 5, hiddenSize: 7, seed: 1 }), 6, 3],
  ['LSTM 3 layers, no bias', () => new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 3, bias: false, seed: 2 }), 5, 2],
  ['LSTM bidirectional 2 layers', () => new LSTM({ inputSize: 5, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 3 }), 7, 3],
  ['LSTM bidirectional batchFirst', () => new LSTM({ inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, seed: 4 }), 6, 4],
  ['GRU 2 layers bidirectional', () => new GRU({ inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 5 }), 5, 3],
  ['GRU batchFirst', () => new GRU({ inputSize: 4, hiddenSize: 8, batchFirst: true, seed: 6 }), 4, 2],
  ['RNN tanh 2 layers', () => new RNN({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 7 }), 6, 3],
  ['RNN relu bidirectional', () => new RNN({ inputSize: 4, hiddenSize: 5, nonlinearity: 'relu', bidirectional: true, seed: 8 }), 5, 2],
  ['Linear', () => new Linear(6, 4, { seed: 9 }), 3, 2],
  ['Linear without bias', () => new Linear(5, 3, { bias: false, seed: 10 }), 2, 2],
  ['Embedding', () => new Embedding(10, 4, { seed: 11 }), 5, 2],
  ['Sequential [Embedding, LSTM, Linear] (array)', () => [new Embedding(12, 5, { seed: 12 }), new LSTM({ inputSize: 5, hiddenSize: 6, seed: 13 }), new Linear(6, 12, { seed: 14 })], 6, 3],
  ['Sequential [Linear, GRU bidirectional batchFirst, Linear] (Module 0, 1, 2)', () => new Seq(new Linear(3, 5, { seed: 15 }), new GRU({ inputSize: 5, hiddenSize: 4, bidirectional: true, batchFirst: true, seed: 16 }), new Linear(8, 2, { seed: 17 })), 5, 2],
  ['Sequential [LSTM, RNN] (two recurrent layers)', () => [new LSTM({ inputSize: 3, hiddenSize: 4, seed: 18 }), new RNN({ inputSize: 4, hiddenSize: 5, seed: 19 })], 4, 2],
  ['LanguageModel LSTM', () => lm('lstm'), 7, 3],
  ['LanguageModel GRU 2 layers', () => lm('gru', 2), 5, 2],
  ['LanguageModel RNN', () => lm('rnn'), 6, 2],
  // Cell variants: linear_before_reset, P, input_forget, clip, activations.
  ['GRU resetAfter false, bidirectional, 2 layers', () => new GRU({ inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false, seed: 20 }), 5, 3],
  ['GRU resetAfter false, hardSigmoid gates (Keras), batchFirst', () => new GRU({ inputSize: 3, hiddenSize: 6, resetAfter: false, batchFirst: true, activations: { gate: 'hardSigmoid' }, seed: 21 }), 4, 2],
  ['LSTM peepholes, bidirectional', () => new LSTM({ inputSize: 4, hiddenSize: 5, bidirectional: true, peepholes: true, seed: 22 }), 6, 2],
  ['LSTM peepholes + inputForget + clip, no bias', () => new LSTM({ inputSize: 3, hiddenSize: 4, peepholes: true, inputForget: true, clip: 0.5, bias: false, seed: 23 }), 5, 3],
  ['LSTM activations hardSigmoid / relu / sigmoid, 2 layers', () => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, activations: { gate: 'hardSigmoid', cell: 'relu', hidden: 'sigmoid' }, seed: 24 }), 5, 2],
  ['GRU clip, activations sigmoid / relu', () => new GRU({ inputSize: 3, hiddenSize: 5, clip: 0.75, activations: { cell: 'relu' }, seed: 25 }), 5, 2],
  ['RNN sigmoid, clip, bidirectional', () => new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, clip: 0.5, activations: { hidden: 'sigmoid' }, seed: 26 }), 5, 2],
  ['RNN hardSigmoid', () => new RNN({ inputSize: 3, hiddenSize: 4, activations: { hidden: 'hardSigmoid' }, seed: 27 }), 5, 2],
];

describe('exportOnnx', () => {
  beforeAll(async () => {
    await setBackend('wasm-simd');
    await ready();
  });

  it.each(MODELS)('%s: ONNX Runtime computes our outputs', async (_name, make, T, B) => {
    const m = make();
    const bytes = exportOnnx(m);
    const ref = reference(m, T, B, 42);
    const session = await ort.InferenceSession.create(bytes);
    expect([...session.inputNames]).toEqual(Object.keys(ref.ort));
    expect([...session.outputNames]).toEqual(Object.keys(ref.want));
    const got = await session.run(ref.ort);
    for (const [k, want] of Object.entries(ref.want)) {
      expect([...got[k].dims], k).toEqual(want.shape);
      const err = maxAbsDiff(got[k].data as Float32Array, want.data);
      expect(err, `${k}: |ORT − ours| = ${err}`).toBeLessThanOrEqual(tol(want.data));
    }
  });

  it.each(MODELS)('%s: importOnnx(exportOnnx(m)) computes our outputs', async (_name, make, T, B) => {
    const m = make();
    const model = await importOnnx(exportOnnx(m));
    const ref = reference(m, T, B, 43);
    expect([...model.outputNames]).toEqual(Object.keys(ref.want));
    const got = model.run(ref.feeds);
    for (const [k, want] of Object.entries(ref.want)) {
      expect(got[k].shape, k).toEqual(want.shape);
      // Same kernels, same weights: equal but for MatMul and Add rounding separately (≤ 1 ulp).
      expect(maxAbsDiff(got[k].data, want.data), k).toBeLessThanOrEqual(2 * EPS32 * Math.max(1, maxAbs(want.data)));
    }
    model.dispose();
  });

  it('writes opset 17 by default, and 14–18 when asked', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const opsetOf = (b: Uint8Array): number => Number(onnx.ModelProto.decode(b).opsetImport[0].version);
    expect(EXPORT_OPSET).toBe(17);
    const bytes = exportOnnx(m);
    expect(bytes.constructor).toBe(Uint8Array);
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength);
    expect(opsetOf(exportOnnx(m))).toBe(17);
    for (const opset of [14, 15, 16, 18]) expect(opsetOf(exportOnnx(m, { opset }))).toBe(opset);
    expect(() => exportOnnx(m, { opset: 13 })).toThrow(/opset must be an integer from 14 to 18, got 13/);
    expect(() => exportOnnx(m, { opset: 19 })).toThrow(RangeError);
    expect(() => exportOnnx(m, { opsett: 17 } as never)).toThrow(/unknown option 'opsett'/);
  });

  it('names the graph inputs and outputs as PyTorch users expect', async () => {
    const names = async (m: Exportable): Promise<[string[], string[]]> => {
      const s = await ort.InferenceSession.create(exportOnnx(m));
      return [[...s.inputNames], [...s.outputNames]];
    };
    expect(await names(new LSTM({ inputSize: 2, hiddenSize: 3 }))).toEqual([['input'], ['output', 'h_n', 'c_n']]);
    expect(await names(new GRU({ inputSize: 2, hiddenSize: 3 }))).toEqual([['input'], ['output', 'h_n']]);
    expect(await names(lm('lstm'))).toEqual([['tokens'], ['logits', 'h_n', 'c_n']]);
    expect(await names(new Embedding(4, 2))).toEqual([['tokens'], ['output']]);
  });

  it('writes the variants as the ONNX attributes and inputs that mean them', () => {
    const nodeOf = (m: Exportable) => {
      const n = onnx.ModelProto.decode(exportOnnx(m)).graph?.node?.find((k) => ['LSTM', 'GRU', 'RNN'].includes(k.opType ?? ''));
      const attrs: Record<string, unknown> = {};
      for (const a of n?.attribute ?? []) {
        attrs[a.name as string] = a.type === AT.INT ? Number(a.i) : a.type === AT.FLOAT ? a.f : a.type === AT.STRINGS ? (a.strings ?? []).map((b) => new TextDecoder().decode(b)) : new TextDecoder().decode(a.s as Uint8Array);
      }
      return { inputs: n?.input ?? [], attrs };
    };
    expect(nodeOf(new GRU({ inputSize: 2, hiddenSize: 3 })).attrs.linear_before_reset).toBe(1);
    expect(nodeOf(new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false })).attrs.linear_before_reset).toBe(0);
    const lstm = nodeOf(new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, peepholes: true, inputForget: true, clip: 0.25, activations: { gate: 'hardSigmoid' } }));
    expect(lstm.inputs).toEqual(['input', 'LSTM_l0/W', 'LSTM_l0/R', 'LSTM_l0/B', '', '', '', 'LSTM_l0/P']);
    expect(lstm.attrs).toMatchObject({ input_forget: 1, clip: 0.25, activations: ['HardSigmoid', 'Tanh', 'Tanh', 'HardSigmoid', 'Tanh', 'Tanh'] });
    expect(nodeOf(new LSTM({ inputSize: 2, hiddenSize: 3 })).attrs).toEqual({ hidden_size: 3, direction: 'forward' });
    expect(nodeOf(new RNN({ inputSize: 2, hiddenSize: 3, activations: { hidden: 'sigmoid' } })).attrs.activations).toEqual(['Sigmoid']);
  });

  it('refuses what it cannot write, naming it', () => {
    class Net extends Module {
      rnn = new LSTM({ inputSize: 2, hiddenSize: 3 });
      head = new Linear(3, 1);
    }
    expect(() => exportOnnx(new Net())).toThrow(/cannot export a Net; supported: LSTM, GRU, RNN, Linear, Embedding, LanguageModel/);
    expect(() => exportOnnx([])).toThrow(/the sequence is empty/);
    expect(() => exportOnnx([new Linear(2, 3), new Embedding(3, 2)])).toThrow(/item 1 \(Embedding\): an Embedding takes token ids, so it must come first/);
    expect(() => exportOnnx([new Linear(2, 3), new Linear(4, 1)])).toThrow(/item 1 \(Linear\) takes 4 features, but the previous item gives 3/);
    expect(() => exportOnnx([new LSTM({ inputSize: 2, hiddenSize: 3 }), 'x' as never])).toThrow(/item 1 is string/);
    expect(() => exportOnnx(null as never)).toThrow(TypeError);
    expect(OnnxError).toBeDefined();
  });
});

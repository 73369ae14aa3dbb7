/**
 * wasm-rnn/tfjs against TensorFlow.js itself: models built and saved with @tensorflow/tfjs 4.22
 * (model.save through a save handler), imported, and our predict compared with tfjs's predict
 * and with a float64 reference of Keras's semantics (test/tfjs-build.ts) — for every layer
 * type and option importTfjs supports, quantized weights included, on every backend.
 *
 * Tolerance: twice tfjs's own float32 error against the float64 reference, and at least 8
 * float32 ulps of the output's scale (the criterion of the ONNX tests).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Sequential, Tensor, mse, ready } from '../src/index.js';
import { importTfjs, MergeDirections, ReverseTime, TfjsError } from '../src/tfjs/index.js';
import { maxAbs, maxAbsDiff, selectedBackends, use } from './helpers.js';
import {
  ids, kerasReference, mapWeights, quantize, saveArtifacts, sequential, tf, tfLoad, tfPredict, topologyLayers, uniform, type Artifacts,
} from './tfjs-build.js';

const EPS32 = 2 ** -23;
const B = 2, T = 6, I = 3;

interface Prepared {
  artifacts: Artifacts;
  x: Float32Array;
  shape: number[];
  /** tfjs's predict, when tfjs can build the model. */
  tfjs?: { data: Float32Array; shape: number[] };
  ref: { data: Float64Array; shape: number[] };
}

interface Case {
  name: string;
  prepare: () => Promise<Prepared>;
}

const seqInput = (seed: number, t = T, f = I): { x: Float32Array; shape: number[] } => ({ x: uniform(B * t * f, seed, 1), shape: [B, t, f] });

/** A tfjs Sequential with deterministic weights, saved, with tfjs's and the reference's outputs. */
function fromTfjs(make: () => tf.layers.Layer[], input: { x: Float32Array; shape: number[] }, opts: { seed?: number; quantize?: 'uint8' | 'uint16' | 'float16' } = {}): () => Promise<Prepared> {
  return async () => {
    const m = sequential(make(), opts.seed ?? 1);
    let artifacts = await saveArtifacts(m);
    let tfjs = tfPredict(m, input.x, input.shape);
    if (opts.quantize) {
      artifacts = quantize(artifacts, opts.quantize);
      // tfjs dequantizes on load: its predict on the quantized model is the reference.
      const qm = await tfLoad(artifacts);
      tfjs = tfPredict(qm, input.x, input.shape);
      qm.dispose();
    }
    m.dispose();
    return { artifacts, ...input, tfjs, ref: kerasReference(artifacts, input.x, input.shape) };
  };
}

/** Artifacts tfjs cannot build (it refuses GRU reset_after=true): the reference alone judges. */
function handMade(make: () => Promise<Artifacts>, input: { x: Float32Array; shape: number[] }): () => Promise<Prepared> {
  return async () => {
    const artifacts = await make();
    return { artifacts, ...input, ref: kerasReference(artifacts, input.x, input.shape) };
  };
}

/** A tfjs GRU model turned into Keras's reset_after=true: bias [2, 3H] (input, recurrent). */
async function resetAfterTrue(layers: () => tf.layers.Layer[], seed: number): Promise<Artifacts> {
  const m = sequential(layers(), seed);
  const a = await saveArtifacts(m);
  m.dispose();
  for (const l of topologyLayers(a)) {
    const c = (l.class_name === 'Bidirectional' ? (l.config.layer as { config: Record<string, unknown> }).config : l.config);
    if (l.class_name === 'GRU' || l.class_name === 'Bidirectional') c.reset_after = true;
  }
  return mapWeights(a, (spec, values) => {
    if (!/gru/i.test(spec.name) || !spec.name.endsWith('/bias')) return [{ spec, values }];
    const both = new Float32Array(2 * values.length);
    both.set(values, 0);
    both.set(uniform(values.length, seed + 99, 0.6), values.length);
    return [{ spec: { ...spec, shape: [2, values.length] }, values: both }];
  });
}

/** The layout the Python converter writes for a Keras 2 model: model_config, an InputLayer, Keras's weight names. */
async function keras2Layout(): Promise<Artifacts> {
  const a = await resetAfterTrue(() => [
    tf.layers.embedding({ inputDim: 9, outputDim: 4, inputShape: [T] }),
    tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat' }),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ], 5);
  const rename: Record<string, string> = {};
  const layers = topologyLayers(a);
  const pyNames = ['embedding', 'bidirectional', 'dense'];
  layers.forEach((l, i) => {
    rename[l.config.name as string] = pyNames[i];
    l.config.name = pyNames[i];
    delete l.config.batch_input_shape;
  });
  (layers[1].config.layer as { config: Record<string, unknown> }).config.name = 'gru';
  const renamed = mapWeights(a, (spec, values) => {
    const [layer, ...rest] = spec.name.split('/');
    let tail = rest.join('/');
    if (layer.startsWith('bidirectional')) tail = tail.replace(/^(forward|backward)_gru_[^/]+/, (_m, d: string) => `${d}_gru/gru_cell`);
    return [{ spec: { ...spec, name: `${rename[layer]}/${tail}` }, values }];
  });
  const input = { class_name: 'InputLayer', config: { batch_input_shape: [null, T], dtype: 'int32', sparse: false, ragged: false, name: 'input_1' } };
  renamed.modelTopology = {
    keras_version: '2.15.0',
    backend: 'tensorflow',
    model_config: { class_name: 'Sequential', config: { name: 'sequential', layers: [input, ...layers] } },
  };
  return renamed;
}

const lstm = (o: object): tf.layers.Layer => tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', ...o } as never);
const tokens = { x: ids(B * T, 9, 3), shape: [B, T] };

const CASES: readonly Case[] = [
  { name: 'SimpleRNN tanh, return_sequences', prepare: fromTfjs(() => [tf.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [T, I] })], seqInput(1)) },
  { name: 'SimpleRNN relu without bias, last step', prepare: fromTfjs(() => [tf.layers.simpleRNN({ units: 5, activation: 'relu', useBias: false, inputShape: [T, I] })], seqInput(2)) },
  { name: 'SimpleRNN go_backwards, return_sequences', prepare: fromTfjs(() => [tf.layers.simpleRNN({ units: 3, goBackwards: true, returnSequences: true, inputShape: [T, I] })], seqInput(3)) },
  { name: 'LSTM sigmoid, return_sequences', prepare: fromTfjs(() => [lstm({ returnSequences: true, inputShape: [T, I] })], seqInput(4)) },
  { name: 'LSTM sigmoid, last step', prepare: fromTfjs(() => [lstm({ inputShape: [T, I] })], seqInput(5)) },
  { name: 'LSTM go_backwards, return_sequences', prepare: fromTfjs(() => [lstm({ goBackwards: true, returnSequences: true, inputShape: [T, I] })], seqInput(6)) },
  { name: 'LSTM go_backwards, last step', prepare: fromTfjs(() => [lstm({ goBackwards: true, inputShape: [T, I] })], seqInput(7)) },
  { name: 'LSTM without bias', prepare: fromTfjs(() => [lstm({ useBias: false, returnSequences: true, inputShape: [T, I] })], seqInput(8)) },
  {
    name: 'stacked LSTM → LSTM → Dense',
    prepare: fromTfjs(() => [lstm({ returnSequences: true, inputShape: [T, I] }), lstm({ units: 5 }), tf.layers.dense({ units: 2 })], seqInput(9)),
  },
  {
    name: 'Embedding → LSTM → Dense softmax',
    prepare: fromTfjs(() => [tf.layers.embedding({ inputDim: 9, outputDim: 4, inputLength: T }), lstm({ units: 5 }), tf.layers.dense({ units: 3, activation: 'softmax' })], tokens),
  },
  { name: 'Bidirectional LSTM concat, return_sequences', prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({ returnSequences: true }) as tf.RNN, inputShape: [T, I] })], seqInput(10)) },
  { name: 'Bidirectional LSTM concat, last step', prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({}) as tf.RNN, inputShape: [T, I] })], seqInput(11)) },
  { name: 'Bidirectional LSTM sum, return_sequences', prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({ returnSequences: true }) as tf.RNN, mergeMode: 'sum', inputShape: [T, I] })], seqInput(12)) },
  { name: 'Bidirectional LSTM ave, last step', prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({}) as tf.RNN, mergeMode: 'ave', inputShape: [T, I] })], seqInput(13)) },
  { name: 'Bidirectional LSTM mul, return_sequences', prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({ returnSequences: true }) as tf.RNN, mergeMode: 'mul', inputShape: [T, I] })], seqInput(14)) },
  {
    name: 'Bidirectional LSTM around go_backwards, return_sequences',
    prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({ goBackwards: true, returnSequences: true }) as tf.RNN, inputShape: [T, I] })], seqInput(15)),
  },
  {
    name: 'Bidirectional LSTM around go_backwards, sum, last step',
    prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: lstm({ goBackwards: true }) as tf.RNN, mergeMode: 'sum', inputShape: [T, I] })], seqInput(16)),
  },
  {
    name: 'Bidirectional SimpleRNN relu → Bidirectional LSTM ave',
    prepare: fromTfjs(() => [
      tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3, activation: 'relu', returnSequences: true }) as tf.RNN, inputShape: [T, I] }),
      tf.layers.bidirectional({ layer: lstm({ units: 2, returnSequences: true }) as tf.RNN, mergeMode: 'ave' }),
    ], seqInput(17)),
  },
  {
    name: 'LSTM → TimeDistributed(Dense tanh)',
    prepare: fromTfjs(() => [lstm({ returnSequences: true, inputShape: [T, I] }), tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'tanh' }) })], seqInput(18)),
  },
  {
    name: 'LSTM → Dropout → Dense sigmoid → Activation relu',
    prepare: fromTfjs(() => [lstm({ inputShape: [T, I] }), tf.layers.dropout({ rate: 0.4 }), tf.layers.dense({ units: 3, activation: 'sigmoid' }), tf.layers.activation({ activation: 'relu' })], seqInput(19)),
  },
  {
    name: 'Dense relu → Dropout → LSTM (a Dense before the recurrent layer)',
    prepare: fromTfjs(() => [tf.layers.dense({ units: 5, activation: 'relu', inputShape: [T, I] }), tf.layers.dropout({ rate: 0.2 }), lstm({ units: 3 })], seqInput(20)),
  },
  {
    name: 'Dense only, on [batch, features]',
    prepare: fromTfjs(() => [tf.layers.dense({ units: 4, activation: 'tanh', inputShape: [I] }), tf.layers.dense({ units: 2, useBias: false, activation: 'softmax' })], { x: uniform(B * I, 21, 1), shape: [B, I] }),
  },
  {
    name: 'functional model: Input → LSTM → Dense',
    prepare: async () => {
      const inp = tf.input({ shape: [T, I] });
      const out = tf.layers.dense({ units: 2 }).apply(lstm({ units: 3 }).apply(inp)) as tf.SymbolicTensor;
      const m = tf.model({ inputs: inp, outputs: out });
      const { setWeights } = await import('./tfjs-build.js');
      setWeights(m, 22);
      const input = seqInput(22);
      const artifacts = await saveArtifacts(m);
      const tfjs = tfPredict(m, input.x, input.shape);
      m.dispose();
      return { artifacts, ...input, tfjs, ref: kerasReference(artifacts, input.x, input.shape) };
    },
  },
  ...(['uint8', 'uint16', 'float16'] as const).map((qd) => ({
    name: `${qd}-quantized Embedding → Bidirectional LSTM → Dense`,
    prepare: fromTfjs(() => [
      tf.layers.embedding({ inputDim: 9, outputDim: 4 }),
      tf.layers.bidirectional({ layer: lstm({ units: 3 }) as tf.RNN }),
      tf.layers.dense({ units: 2 }),
    ], tokens, { seed: 23, quantize: qd }),
  })),
  {
    name: 'GRU reset_after=true (Keras 2\'s default), return_sequences',
    prepare: handMade(() => resetAfterTrue(() => [tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] })], 24), seqInput(24)),
  },
  {
    name: 'GRU reset_after=true, go_backwards, last step',
    prepare: handMade(() => resetAfterTrue(() => [tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid', goBackwards: true, inputShape: [T, I] })], 25), seqInput(25)),
  },
  {
    name: 'Bidirectional GRU reset_after=true, sum',
    prepare: handMade(() => resetAfterTrue(() => [tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true }) as tf.RNN, mergeMode: 'sum', inputShape: [T, I] })], 26), seqInput(26)),
  },
  { name: 'the converter\'s Keras 2 layout: model_config, InputLayer int32, Keras weight names', prepare: handMade(keras2Layout, tokens) },

  // Waiting on the layer variants.
  { name: 'LSTM with TF.js\'s default recurrent_activation (hard_sigmoid)', prepare: fromTfjs(() => [tf.layers.lstm({ units: 4, returnSequences: true, inputShape: [T, I] })], seqInput(30)) },
  {
    name: 'Embedding → LSTM (defaults) → Dense softmax: a typical TF.js text classifier',
   
    prepare: fromTfjs(() => [tf.layers.embedding({ inputDim: 9, outputDim: 4 }), tf.layers.lstm({ units: 5 }), tf.layers.dense({ units: 3, activation: 'softmax' })], tokens, { seed: 31 }),
  },
  { name: 'GRU with TF.js\'s defaults (reset_after=false, hard_sigmoid)', prepare: fromTfjs(() => [tf.layers.gru({ units: 4, returnSequences: true, inputShape: [T, I] })], seqInput(32)) },
  { name: 'GRU sigmoid, reset_after=false, last step', prepare: fromTfjs(() => [tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid', inputShape: [T, I] })], seqInput(33)) },
  {
    name: 'GRU reset_after=false without bias, go_backwards',
   
    prepare: fromTfjs(() => [tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', useBias: false, goBackwards: true, returnSequences: true, inputShape: [T, I] })], seqInput(34)),
  },
  {
    name: 'GRU reset_after=true with hard_sigmoid',
   
    prepare: handMade(() => resetAfterTrue(() => [tf.layers.gru({ units: 4, returnSequences: true, inputShape: [T, I] })], 35), seqInput(35)),
  },
  {
    name: 'Bidirectional GRU (defaults), ave',
   
    prepare: fromTfjs(() => [tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: 'ave', inputShape: [T, I] })], seqInput(36)),
  },
  { name: 'SimpleRNN sigmoid', prepare: fromTfjs(() => [tf.layers.simpleRNN({ units: 4, activation: 'sigmoid', returnSequences: true, inputShape: [T, I] })], seqInput(37)) },
  {
    name: 'uint8-quantized LSTM with TF.js\'s defaults',
   
    prepare: fromTfjs(() => [tf.layers.lstm({ units: 4, inputShape: [T, I] }), tf.layers.dense({ units: 2 })], seqInput(38), { seed: 38, quantize: 'uint8' }),
  },
];

const prepared = new Map<string, Prepared>();

beforeAll(async () => {
  await ready();
  for (const c of CASES) prepared.set(c.name, await c.prepare());
}, 120_000);

function tolerance(p: Prepared): number {
  const tfErr = p.tfjs ? maxAbsDiff(p.tfjs.data, p.ref.data) : 0;
  return Math.max(2 * tfErr, 8 * EPS32 * Math.max(1, maxAbs(p.ref.data)));
}

function expectMatches(p: Prepared, got: Tensor): void {
  expect([...got.shape]).toEqual(p.ref.shape);
  const err = maxAbsDiff(got.data, p.ref.data);
  expect(err, `error ${err} vs tolerance ${tolerance(p)}`).toBeLessThanOrEqual(tolerance(p));
  if (p.tfjs) expect(maxAbsDiff(got.data, p.tfjs.data)).toBeLessThanOrEqual(2 * tolerance(p));
}

describe('the reference', () => {
  it('transcribes Keras: it meets tfjs wherever tfjs builds the model (float32 rounding apart)', () => {
    for (const c of CASES) {
      const p = prepared.get(c.name) as Prepared;
      if (!p.tfjs) continue;
      expect(p.tfjs.shape, c.name).toEqual(p.ref.shape);
      expect(maxAbsDiff(p.tfjs.data, p.ref.data), c.name).toBeLessThan(2e-6 * Math.max(1, maxAbs(p.ref.data)));
    }
  });

  it('sees the variants matter: hard_sigmoid, reset_after and the merge modes change the numbers', async () => {
    const x = seqInput(40);
    const outs = await Promise.all(['sigmoid', 'hardSigmoid'].map(async (ra) => {
      const p = await fromTfjs(() => [tf.layers.gru({ units: 3, recurrentActivation: ra, inputShape: [T, I] } as never)], x)();
      return p.ref.data;
    }));
    expect(maxAbsDiff(outs[0], outs[1])).toBeGreaterThan(1e-3);
  });
});

for (const backend of selectedBackends()) {
  describe(`importTfjs matches TensorFlow.js on ${backend}`, () => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await use(backend);
      const p = prepared.get(c.name) as Prepared;
      const model = importTfjs(p.artifacts);
      try {
        expectMatches(p, model.predict({ data: p.x, shape: p.shape }));
        // Built once: a second predict gives the same numbers.
        expectMatches(p, model.predict({ data: p.x, shape: p.shape }));
      } finally {
        model.dispose();
      }
    });
  });
}

describe('the imported model', () => {
  const get = (name: string): Prepared => prepared.get(name) as Prepared;

  it('takes a Tensor, {data, shape}, nested arrays or a tfjs tensor, batch-first', async () => {
    await use('js');
    const p = get('Bidirectional LSTM sum, return_sequences');
    const model = importTfjs(p.artifacts);
    const want = model.predict({ data: p.x, shape: p.shape });
    const nested = new Tensor(p.x, p.shape).toArray();
    expect(Array.from(model.predict(new Tensor(p.x, p.shape)).data)).toEqual(Array.from(want.data));
    expect(Array.from(model.predict(nested as number[][][]).data)).toEqual(Array.from(want.data));
    const tx = tf.tensor(p.x, p.shape);
    expect(Array.from(model.predict(tx).data)).toEqual(Array.from(want.data));
    tx.dispose();
    const q = get('Embedding → LSTM → Dense softmax');
    const lm = importTfjs(q.artifacts);
    expect(lm.predict(Array.from({ length: B }, (_, b) => Array.from(q.x.subarray(b * T, (b + 1) * T)))).shape).toEqual([B, 3]);
    model.dispose();
    lm.dispose();
  });

  it('is a Sequential of wasm-rnn layers, named as Keras layers map onto it', () => {
    const p = get('Bidirectional LSTM around go_backwards, sum, last step');
    const model = importTfjs(p.artifacts);
    expect(model.module).toBeInstanceOf(Sequential);
    expect((model.module.getConfig().layers as { class: string }[]).map((l) => l.class)).toEqual(['ReverseTime', 'LSTM', 'FinalHidden', 'MergeDirections']);
    expect(model.module.at(0)).toBeInstanceOf(ReverseTime);
    expect(model.module.at(3)).toBeInstanceOf(MergeDirections);
    expect(model.layers).toEqual([{ name: topologyLayers(p.artifacts)[0].config.name, className: 'Bidirectional', modules: [0, 1, 2, 3] }]);
    expect(model.inputShape).toEqual([null, T, I]);
    expect(Object.keys(model.module.stateDict())).toEqual([
      '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0',
      '1.weight_ih_l0_reverse', '1.weight_hh_l0_reverse', '1.bias_ih_l0_reverse', '1.bias_hh_l0_reverse',
    ]);
    model.dispose();
    expect(() => model.predict({ data: p.x, shape: p.shape })).toThrow(/disposed/);
  });

  it('trains further: gradients flow through ReverseTime, the recurrent layer and MergeDirections', async () => {
    await use('js');
    const p = get('Bidirectional LSTM around go_backwards, sum, last step');
    const model = importTfjs(p.artifacts);
    const net = model.module;
    const target = new Tensor(new Float32Array(B * 4).fill(0.25), [B, 4]);
    const lossAt = (): number => mse(model.predict({ data: p.x, shape: p.shape }), target).loss as number;
    net.train();
    const out = net.forward(new Tensor(p.x, p.shape)) as Tensor;
    const { grad } = mse(out, target);
    out.backward(grad);
    net.eval();
    const g = net.gradients()['1.weight_ih_l0_reverse'];
    // Central difference on one weight of the backward direction.
    const dict = net.stateDict();
    const w = dict['1.weight_ih_l0_reverse'];
    const k = 5, h = 1e-2, orig = w.data[k];
    w.data[k] = orig + h;
    net.loadStateDict(dict);
    const up = lossAt();
    w.data[k] = orig - h;
    net.loadStateDict(dict);
    const down = lossAt();
    const fd = (up - down) / (2 * h);
    expect(Math.abs(g.data[k])).toBeGreaterThan(1e-4);
    expect(Math.abs(g.data[k] - fd)).toBeLessThan(2e-2 * Math.abs(fd) + 1e-5);
    model.dispose();
  });

  it('accepts weightData as several buffers (tfjs 4\'s ArrayBuffer[]) or as a byte view at an offset', async () => {
    await use('js');
    const p = get('Embedding → LSTM → Dense softmax');
    const want = Array.from(importTfjs(p.artifacts).predict({ data: p.x, shape: p.shape }).data);
    const bytes = new Uint8Array(p.artifacts.weightData);
    const cuts = [0, 3, 17, 18, 101, bytes.length];
    const parts = cuts.slice(1).map((end, i) => bytes.slice(cuts[i], end).buffer);
    const split = importTfjs({ ...p.artifacts, weightData: parts });
    expect(Array.from(split.predict({ data: p.x, shape: p.shape }).data)).toEqual(want);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const view = importTfjs({ ...p.artifacts, weightData: padded.subarray(3) });
    expect(Array.from(view.predict({ data: p.x, shape: p.shape }).data)).toEqual(want);
    // model.json's weightsManifest may stand for weightSpecs.
    const manifest = importTfjs({ modelTopology: p.artifacts.modelTopology, weightsManifest: [{ paths: ['a.bin'], weights: p.artifacts.weightSpecs }], weightData: p.artifacts.weightData });
    expect(Array.from(manifest.predict({ data: p.x, shape: p.shape }).data)).toEqual(want);
    split.dispose();
    view.dispose();
    manifest.dispose();
  });

  it("takes tfjs's own ModelArtifacts, as the save handler hands them over", async () => {
    await use('js');
    const m = sequential([lstm({ returnSequences: true, inputShape: [T, I] })], 50);
    let raw: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a) => {
      raw = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const x = seqInput(50);
    const ours = importTfjs(raw as tf.io.ModelArtifacts); // tfjs's type is accepted as it is
    expect(maxAbsDiff(ours.predict({ data: x.x, shape: x.shape }).data, tfPredict(m, x.x, x.shape).data)).toBeLessThan(1e-6);
    ours.dispose();
    m.dispose();
  });

  it('reads a Bidirectional with an explicit backward_layer, and one named forward_… (directions come from the segments below it)', () => {
    const p = get('Bidirectional LSTM sum, return_sequences');
    const want = Array.from(importTfjs(p.artifacts).predict({ data: p.x, shape: p.shape }).data);
    const withBackward = JSON.parse(JSON.stringify(p.artifacts.modelTopology));
    const bi = withBackward.config.layers[0].config;
    bi.backward_layer = { class_name: 'LSTM', config: { ...bi.layer.config, go_backwards: true, name: 'backward_lstm' } };
    const a = importTfjs({ ...p.artifacts, modelTopology: withBackward });
    expect(Array.from(a.predict({ data: p.x, shape: p.shape }).data)).toEqual(want);
    a.dispose();
    const old = topologyLayers(p.artifacts)[0].config.name as string;
    const renamed = mapWeights(p.artifacts, (spec, v) => [{ spec: { ...spec, name: spec.name.replace(old, 'forward_thing') }, values: v }]);
    const topo = JSON.parse(JSON.stringify(p.artifacts.modelTopology));
    topo.config.layers[0].config.name = 'forward_thing';
    const b = importTfjs({ ...renamed, modelTopology: topo });
    expect(Array.from(b.predict({ data: p.x, shape: p.shape }).data)).toEqual(want);
    b.dispose();
  });

  it('converts gate orders and kernels at import: LSTM i,f,c,o stays i,f,g,o; GRU z,r,h becomes r,z,n; kernels are transposed', () => {
    const p = get('GRU reset_after=true (Keras 2\'s default), return_sequences');
    const model = importTfjs(p.artifacts);
    const sd = model.module.stateDict();
    const { decodeWeights } = tf.io;
    const w = decodeWeights(p.artifacts.weightData, p.artifacts.weightSpecs as tf.io.WeightsManifestEntry[]);
    const name = (role: string): string => Object.keys(w).find((k) => k.endsWith(`/${role}`)) as string;
    const kernel = w[name('kernel')].arraySync() as number[][];
    const bias = w[name('bias')].arraySync() as number[][];
    const H = 4;
    // PyTorch row r (gate r = Keras block 1) of weight_ih is Keras kernel column H + r.
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < I; i++) {
        expect(sd['0.weight_ih_l0'].data[j * I + i]).toBe(Math.fround(kernel[i][H + j])); // r ← Keras r (block 1)
        expect(sd['0.weight_ih_l0'].data[(H + j) * I + i]).toBe(Math.fround(kernel[i][j])); // z ← Keras z (block 0)
        expect(sd['0.weight_ih_l0'].data[(2 * H + j) * I + i]).toBe(Math.fround(kernel[i][2 * H + j])); // n ← Keras h
      }
      expect(sd['0.bias_hh_l0'].data[j]).toBe(Math.fround(bias[1][H + j]));
    }
    for (const t of Object.values(w)) t.dispose();
    model.dispose();
  });
});

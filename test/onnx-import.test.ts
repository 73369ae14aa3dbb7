/**
 * importOnnx beyond the fixtures: what it refuses (and how it says so), feed checks, layers built
 * once at import, outputs the caller owns, and the fixtures' reference checked against ONNX Runtime.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { LSTM, Tensor, ready } from '../src/index.js';
import { importOnnx, OnnxError, type OnnxModel } from '../src/onnx/index.js';
import { FLOAT, FLOAT16, INT64, floats, int64s, io, lstmModel, model, node } from './onnx-build.js';
import { maxAbsDiff, randomData } from './helpers.js';
import { feedsOf, modelBytes, onnxCases, tolerance } from './onnx-fixtures.js';

beforeAll(async () => {
  await ready();
});

async function importError(bytes: Uint8Array, options?: object): Promise<Error> {
  try {
    const m = await importOnnx(bytes, options);
    m.dispose();
  } catch (err) {
    return err as Error;
  }
  throw new Error('importOnnx accepted the model');
}

const x = (T: number, B: number, I: number, seed = 1): { data: Float32Array; shape: number[] } => ({ data: randomData(T * B * I, seed), shape: [T, B, I] });

describe('importOnnx refuses what it does not support, naming it', () => {
  it('an operator, with the node', async () => {
    const bytes = model({ nodes: [node('Loop', ['M', 'c'], ['y'], {}, 'loop0')], inputs: [io('M', INT64, []), io('c', 9, [])], outputs: [io('y', FLOAT, null)] });
    const err = await importError(bytes);
    expect(err).toBeInstanceOf(OnnxError);
    expect(err.message).toMatch(/^importOnnx: node 'loop0' \(Loop\): operator 'Loop' is not supported \(supported: Add, Cast, Concat, /);
    expect((err as OnnxError).node).toBe("node 'loop0' (Loop)");
  });

  it('an operator of another domain', async () => {
    const n = { ...node('FusedMatMul', ['a', 'b'], ['y'], {}, 'f'), domain: 'com.microsoft' };
    const err = await importError(model({ nodes: [n], inputs: [io('a', FLOAT, [2, 2]), io('b', FLOAT, [2, 2])], outputs: [io('y', FLOAT, null)] }));
    expect(err.message).toMatch(/node 'f' \(FusedMatMul\): operator 'com\.microsoft::FusedMatMul' is not supported \(only the default ONNX domain\)/);
  });

  it('an unsupported node even where no output needs it', async () => {
    const bytes = model({
      nodes: [node('Identity', ['a'], ['y']), node('NonZero', ['a'], ['unused'], {}, 'nz')],
      inputs: [io('a', FLOAT, [2])],
      outputs: [io('y', FLOAT, null)],
    });
    expect((await importError(bytes)).message).toMatch(/node 'nz' \(NonZero\): operator 'NonZero' is not supported/);
  });

  it('an attribute, with the node', async () => {
    const err = await importError(lstmModel({ attrs: { foo: 1 } }));
    expect(err.message).toBe(
      "importOnnx: node 'lstm0' (LSTM): attribute 'foo' is not supported (supported: activation_alpha, activation_beta, activations, clip, direction, hidden_size, layout, input_forget)",
    );
  });

  it('an activation by name', async () => {
    const err = await importError(lstmModel({ attrs: { activations: ['LeakyRelu', 'Tanh', 'Tanh'] } }));
    expect(err.message).toBe("importOnnx: node 'lstm0' (LSTM): activation 'LeakyRelu' is not supported (supported: Sigmoid, Tanh, Relu, HardSigmoid)");
    expect((await importError(lstmModel({ attrs: { activations: ['HardSigmoid', 'Tanh', 'Tanh'], activation_alpha: { floats: [0.3] } } }))).message)
      .toMatch(/HardSigmoid with alpha 0\.3\d*, beta 0\.5 is not supported/);
    expect((await importError(lstmModel({ attrs: { activations: ['Sigmoid', 'Tanh'] } }))).message).toMatch(/must list 3 functions \(3 per direction\), got 2/);
  });

  it('nothing for the variants the layers now have (input_forget, clip, activations): ONNX Runtime agrees', async () => {
    for (const attrs of [{ input_forget: 1 }, { clip: { float: 0.5 } }, { activations: ['HardSigmoid', 'Relu', 'Sigmoid'] }] as const) {
      const bytes = lstmModel({ attrs: attrs as never });
      const m = await importOnnx(bytes);
      const xs = x(5, 2, 3, 11);
      const ours = m.run({ X: xs });
      const s = await ort.InferenceSession.create(bytes);
      const theirs = await s.run({ X: new ort.Tensor('float32', xs.data, xs.shape) });
      for (const k of ['Y', 'Y_h', 'Y_c']) expect(maxAbsDiff(ours[k].data, theirs[k].data as Float32Array), `${JSON.stringify(attrs)} ${k}`).toBeLessThan(1e-6);
      m.dispose();
    }
  });

  it('a wrong attribute value or type', async () => {
    expect((await importError(lstmModel({ attrs: { direction: 'sideways' } }))).message).toMatch(/attribute 'direction' must be 'forward', 'reverse' or 'bidirectional', got 'sideways'/);
    expect((await importError(lstmModel({ attrs: { layout: 2 } }))).message).toMatch(/attribute 'layout' must be 0 or 1, got 2/);
    expect((await importError(lstmModel({ attrs: { hidden_size: 'four' } }))).message).toMatch(/attribute 'hidden_size' must be INT, got STRING/);
    expect((await importError(lstmModel({ attrs: { hidden_size: 5 } }))).message).toMatch(/R \[1, 16, 4\] does not match hidden_size 5/);
    expect((await importError(lstmModel({ attrs: { direction: 'bidirectional' } }))).message).toMatch(/R must be \[2, 16, 4\] \(num_directions 2, 4 gates\), got \[1, 16, 4\]/);
  });

  it('opsets outside 14–18', async () => {
    const one = (opset: number): Uint8Array => model({ opset, nodes: [node('Identity', ['a'], ['y'])], inputs: [io('a', FLOAT, [1])], outputs: [io('y', FLOAT, null)] });
    expect((await importError(one(13))).message).toMatch(/^importOnnx: opset 13 is not supported \(importOnnx reads opsets 14–18/);
    expect((await importError(one(19))).message).toMatch(/opset 19 is not supported/);
    for (const v of [14, 18]) (await importOnnx(one(v))).dispose();
  });

  it('types and tensors it cannot read', async () => {
    const half = model({ nodes: [node('Identity', ['a'], ['y'])], inputs: [io('a', FLOAT16, [2])], outputs: [io('y', FLOAT16, null)] });
    expect((await importError(half)).message).toMatch(/graph input 'a' has element type FLOAT16, which is not supported/);
    const external = model({
      nodes: [node('Identity', ['w'], ['y'])],
      outputs: [io('y', FLOAT, null)],
      initializers: [{ name: 'w', dataType: FLOAT, dims: [2], dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }],
    });
    expect((await importError(external)).message).toMatch(/initializer 'w': its data is in an external file/);
    const seq = model({ nodes: [node('Identity', ['a'], ['y'])], inputs: [{ name: 'a', type: { sequenceType: { elemType: { tensorType: { elemType: FLOAT } } } } }], outputs: [io('y', FLOAT, null)] });
    expect((await importError(seq)).message).toMatch(/graph input 'a' is a sequence; only tensors are supported/);
  });

  it('graphs that do not hold together', async () => {
    const dangling = model({ nodes: [node('Identity', ['nope'], ['y'], {}, 'id')], outputs: [io('y', FLOAT, null)] });
    expect((await importError(dangling)).message).toMatch(/node 'id' \(Identity\): input 'nope' is not a graph input, an initializer or any node's output/);
    const cycle = model({
      nodes: [node('Add', ['a', 'q'], ['p'], {}, 'n1'), node('Identity', ['p'], ['q'], {}, 'n2')],
      inputs: [io('a', FLOAT, [1])],
      outputs: [io('q', FLOAT, null)],
    });
    expect((await importError(cycle)).message).toMatch(/the graph has a cycle through node 'n1' \(Add\)/);
    const twice = model({ nodes: [node('Identity', ['a'], ['y']), node('Identity', ['a'], ['y'], {}, 'again')], inputs: [io('a', FLOAT, [1])], outputs: [io('y', FLOAT, null)] });
    expect((await importError(twice)).message).toMatch(/node 'again' \(Identity\): output 'y' is already a graph input, an initializer or another node's output/);
    const noOut = model({ nodes: [node('Identity', ['a'], ['y'])], inputs: [io('a', FLOAT, [1])], outputs: [io('z', FLOAT, null)] });
    expect((await importError(noOut)).message).toMatch(/graph output 'z' is not computed by any node/);
  });

  it('bytes that are not a model', async () => {
    expect((await importError(new Uint8Array(0))).message).toMatch(/ir_version is 0; .*is this an ONNX file\?/);
    expect((await importError(new TextEncoder().encode('not an onnx file at all'))).message).toMatch(/^importOnnx: /);
    const bytes = lstmModel();
    expect((await importError(bytes.subarray(0, bytes.length - 7))).message).toMatch(/^importOnnx: the bytes are not a readable ONNX model \(protobuf: /);
    await expect(importOnnx('model.onnx' as never)).rejects.toThrow(/bytes must be a Uint8Array \(a \.onnx file's contents\), got 'model\.onnx'/);
    await expect(importOnnx(bytes, { maxElement: 5 } as never)).rejects.toThrow(/unknown option 'maxElement'/);
  });
});

describe('importOnnx checks sizes before it allocates', () => {
  const withInit = (t: ReturnType<typeof floats>): Uint8Array =>
    model({ nodes: [node('Identity', ['w'], ['y'])], outputs: [io('y', FLOAT, null)], initializers: [t] });

  it('a tensor claiming 2^40 elements', async () => {
    const t = { name: 'w', dataType: FLOAT, dims: [2 ** 20, 2 ** 20], rawData: new Uint8Array(4) };
    const err = await importError(withInit(t));
    expect(err.message).toBe("importOnnx: initializer 'w': shape [1048576, 1048576] holds 1099511627776 elements, more than the limit of 67108864 (importOnnx option maxElements)");
  });

  it('dims × dtype against raw_data and typed fields', async () => {
    expect((await importError(withInit({ name: 'w', dataType: FLOAT, dims: [3], rawData: new Uint8Array(4) }))).message)
      .toMatch(/initializer 'w': raw_data holds 4 bytes, but dims \[3\] of FLOAT need 12/);
    expect((await importError(withInit({ name: 'w', dataType: FLOAT, dims: [3], floatData: [1, 2] }))).message)
      .toMatch(/initializer 'w': float_data holds 2 values, but dims \[3\] need 3/);
    expect((await importError(withInit({ name: 'w', dataType: FLOAT, dims: [-1], floatData: [1] }))).message)
      .toMatch(/dims \[-1\] must be non-negative integers/);
    expect((await importError(withInit({ name: 'w', dataType: 8, dims: [1], stringData: [new Uint8Array(1)] }))).message)
      .toMatch(/initializer 'w': data type STRING is not supported/);
  });

  it('values computed at import (constant folding) and at run time', async () => {
    const cos = model({
      nodes: [node('ConstantOfShape', ['s'], ['z'], {}, 'cos'), node('Add', ['z', 'a'], ['y'])],
      inputs: [io('a', FLOAT, [1])],
      outputs: [io('y', FLOAT, null)],
      initializers: [int64s('s', [2 ** 30, 2 ** 30])],
    });
    expect((await importError(cos)).message).toMatch(/^importOnnx: node 'cos' \(ConstantOfShape\): shape \[1073741824, 1073741824\] holds .* more than the limit/);
    const expand = model({ nodes: [node('Expand', ['a', 's'], ['y'], {}, 'ex')], inputs: [io('a', FLOAT, [1]), io('s', INT64, [2])], outputs: [io('y', FLOAT, null)] });
    const m = await importOnnx(expand, { maxElements: 1000 });
    expect(m.run({ a: { data: new Float32Array(1), shape: [1] }, s: { data: BigInt64Array.of(10n, 10n), shape: [2] } }).y.shape).toEqual([10, 10]);
    expect(() => m.run({ a: { data: new Float32Array(1), shape: [1] }, s: { data: BigInt64Array.of(100n, 100n), shape: [2] } }))
      .toThrow(/^OnnxModel\.run: node 'ex' \(Expand\): shape \[100, 100\] holds 10000 elements, more than the limit of 1000/);
    m.dispose();
  });
});

describe('OnnxModel.run', () => {
  it('checks its feeds, naming the input', async () => {
    const m = await importOnnx(lstmModel());
    expect([...m.inputNames]).toEqual(['X']);
    expect(m.inputs[0]).toEqual({ name: 'X', dtype: 'float32', shape: ['T', 'B', 3] });
    expect(() => m.run({})).toThrow(/^OnnxModel\.run: missing input 'X'$/);
    expect(() => m.run({ X: x(2, 1, 3), Y: x(2, 1, 3) })).toThrow(/unknown input 'Y'; the model's inputs are 'X'/);
    expect(() => m.run({ X: x(2, 1, 4) })).toThrow(/input 'X' must have shape \[T, B, 3\], got \[2, 1, 4\]/);
    expect(() => m.run({ X: { data: new Float64Array(6), shape: [2, 1, 3] } })).toThrow(/input 'X' is float32: pass a Float32Array \(or a Tensor\), got Float64Array/);
    expect(() => m.run({ X: { data: new Float32Array(5), shape: [2, 1, 3] } })).toThrow(/shape \[2, 1, 3\] holds 6 values, but data has 5/);
    const bad = x(2, 1, 3);
    bad.data[4] = NaN;
    expect(() => m.run({ X: bad })).toThrow(/^OnnxModel\.run: node 'lstm0' \(LSTM\): LSTM\.forward: x: expected finite numbers, got NaN at flat index 4/);
    // A Tensor, nested data or a plain array work alike.
    const t = new Tensor(randomData(6, 3), [2, 1, 3]);
    expect(maxAbsDiff(m.run({ X: t }).Y.data, m.run({ X: { data: Array.from(t.data), shape: [2, 1, 3] } }).Y.data)).toBe(0);
    m.dispose();
    expect(() => m.run({ X: t })).toThrow(/the model was disposed/);
  });

  it('takes integer inputs as Int32Array or BigInt64Array, and sequence_lens in range only', async () => {
    const c = onnxCases.find((k) => k.name === 'torch_char_model_opset17');
    if (!c) throw new Error('fixture missing');
    const m = await importOnnx(modelBytes(c));
    const ids = c.inputs[0];
    const a = m.run({ tokens: { data: BigInt64Array.from(ids.data, (v) => BigInt(v)), shape: ids.shape } });
    const b = m.run({ tokens: { data: Int32Array.from(ids.data), shape: ids.shape } });
    expect(maxAbsDiff(a.logits.data, b.logits.data)).toBe(0);
    expect(() => m.run({ tokens: { data: new Float32Array(ids.data), shape: ids.shape } })).toThrow(/input 'tokens' is int64: pass an Int32Array or a BigInt64Array, got Float32Array/);
    expect(() => m.run({ tokens: { data: Int32Array.of(11, 0), shape: [1, 2] } })).toThrow(/node .*\(Gather\): index 11 at position 0 is out of range for axis 0 of size 11/);
    m.dispose();

    const s = onnxCases.find((k) => k.name === 'lstm_forward_seqlens_h0c0');
    if (!s) throw new Error('fixture missing');
    const sm = await importOnnx(modelBytes(s));
    const feeds = feedsOf(s);
    feeds.sequence_lens = { data: Int32Array.of(5, 6, 1, 0), shape: [4] };
    expect(() => sm.run(feeds)).toThrow(/\(LSTM\): sequence_lens\[1\] = 6 is outside \[0, 5\] \(seq_length 5\)/);
    sm.dispose();
  });

  it('builds the layers once at import when the weights are initializers, and reloads them per run when they are inputs', async () => {
    const loads = { n: 0 };
    const original = LSTM.prototype.loadStateDict;
    LSTM.prototype.loadStateDict = function (this: LSTM, ...args: Parameters<typeof original>) {
      loads.n++;
      return original.apply(this, args);
    };
    try {
      const fixed = onnxCases.find((k) => k.name === 'lstm_bidirectional_seqlens_zero');
      const dynamic = onnxCases.find((k) => k.name === 'lstm_weights_as_inputs_bidirectional');
      if (!fixed || !dynamic) throw new Error('fixture missing');
      const a = await importOnnx(modelBytes(fixed));
      expect(loads.n).toBe(2); // one layer per direction
      for (let i = 0; i < 3; i++) a.run(feedsOf(fixed));
      expect(loads.n).toBe(2);
      a.dispose();
      loads.n = 0;
      const b = await importOnnx(modelBytes(dynamic));
      expect(loads.n).toBe(0);
      for (let i = 0; i < 3; i++) b.run(feedsOf(dynamic));
      expect(loads.n).toBe(6);
      b.dispose();
    } finally {
      LSTM.prototype.loadStateDict = original;
    }
  });

  it('mixes constant and run-time weights (B fed, P a constant zero)', async () => {
    const I = 3, H = 4;
    const W = floats('W', [1, 4 * H, I]), R = floats('R', [1, 4 * H, H]), P = floats('P', [1, 3 * H], new Float32Array(3 * H));
    const bias = randomData(8 * H, 5);
    const graph = (bFed: boolean): Uint8Array => model({
      nodes: [node('LSTM', ['X', 'W', 'R', 'B', '', '', '', 'P'], ['Y'], { hidden_size: H }, 'lstm0')],
      inputs: [io('X', FLOAT, ['T', 'B', I]), ...(bFed ? [io('B', FLOAT, [1, 8 * H])] : [])],
      outputs: [io('Y', FLOAT, null)],
      initializers: [W, R, P, ...(bFed ? [] : [floats('B', [1, 8 * H], bias)])],
    });
    const fed = await importOnnx(graph(true));
    const fixed = await importOnnx(graph(false));
    const xs = x(4, 2, I, 7);
    const a = fed.run({ X: xs, B: { data: bias, shape: [1, 8 * H] } }).Y;
    const b = fixed.run({ X: xs }).Y;
    expect(a.shape).toEqual([4, 1, 2, H]);
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
    fed.dispose();
    fixed.dispose();
  });

  it('returns outputs the caller owns', async () => {
    const bytes = model({
      nodes: [node('Identity', ['w'], ['y']), node('Identity', ['a'], ['b']), node('Shape', ['a'], ['s'])],
      inputs: [io('a', FLOAT, [2])],
      outputs: [io('y', FLOAT, null), io('b', FLOAT, null), io('a', FLOAT, null), io('s', INT64, null)],
      initializers: [floats('w', [2], [1, 2])],
    });
    const m: OnnxModel = await importOnnx(bytes);
    const feed = { data: Float32Array.of(3, 4), shape: [2] };
    const r = m.run({ a: feed });
    r.y.data[0] = 99;
    r.b.data[0] = 99;
    expect(Array.from(feed.data)).toEqual([3, 4]);
    expect(Array.from(r.a.data)).toEqual([3, 4]);
    expect(Array.from(m.run({ a: feed }).y.data)).toEqual([1, 2]);
    expect(r.s).toBeInstanceOf(Tensor);
    expect(Array.from(r.s.data)).toEqual([2]); // int64 outputs as exact float32 values
    m.dispose();
  });

  it('runs what torch emits around a layer: Gemm, Softmax, Slice, Cast, ...', async () => {
    // y = Softmax(Gemm(Cast(Slice(x)), W, b)) and a second output through Mul/Sub/Div/Sigmoid/Tanh/Relu.
    const bytes = model({
      nodes: [
        node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['xs']),
        node('Cast', ['xs'], ['xf'], { to: FLOAT }),
        node('Gemm', ['xf', 'W', 'b'], ['g'], { transB: 1 }),
        node('Softmax', ['g'], ['y'], { axis: 1 }),
        node('Mul', ['g', 'g'], ['m']),
        node('Sub', ['m', 'g'], ['d']),
        node('Div', ['d', 'two'], ['e']),
        node('Sigmoid', ['e'], ['f']),
        node('Tanh', ['f'], ['h']),
        node('Relu', ['h'], ['z']),
      ],
      inputs: [io('x', FLOAT, [4, 5])],
      outputs: [io('y', FLOAT, null), io('z', FLOAT, null)],
      initializers: [
        int64s('st', [-1, 1]), int64s('en', [-1e18, 5]), int64s('ax', [0, 1]), int64s('sp', [-1, 2]),
        floats('W', [3, 2]), floats('b', [3], [0.1, -0.2, 0.3]), floats('two', [], [2]),
      ],
    });
    const m = await importOnnx(bytes);
    const xs = randomData(20, 9);
    const r = m.run({ x: { data: xs, shape: [4, 5] } });
    const s = await ort.InferenceSession.create(bytes);
    const o = await s.run({ x: new ort.Tensor('float32', xs, [4, 5]) });
    for (const k of ['y', 'z'] as const) {
      expect(r[k].shape).toEqual([...o[k].dims]);
      expect(maxAbsDiff(r[k].data, o[k].data as Float32Array), k).toBeLessThan(1e-6);
    }
    m.dispose();
  });
});

describe("the fixtures' float64 reference agrees with ONNX Runtime", () => {
  // ONNX Runtime refuses layout 1 and a recurrent node without hidden_size (ONNX infers it from
  // R): those cases are checked by our importer only.
  const cases = onnxCases.filter((c) => c.kind === 'spec' && !c.name.includes('layout1') && c.name !== 'lstm_nobias_h0_only_yc_output');
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const s = await ort.InferenceSession.create(modelBytes(c));
    const feeds: Record<string, ort.Tensor> = {};
    for (const i of c.inputs) {
      feeds[i.name] = i.dtype === 'float32' ? new ort.Tensor('float32', new Float32Array(i.data), i.shape) : new ort.Tensor('int32', Int32Array.from(i.data), i.shape);
    }
    const out = await s.run(feeds);
    for (const [k, want] of Object.entries(c.expected)) {
      expect(maxAbsDiff(out[k].data as Float32Array, want.data), k).toBeLessThanOrEqual(tolerance(c, k));
    }
  });
});


/**
 * Builds an ONNX model (ModelProto bytes) for a stack of RNN / LSTM / GRU layers from wasm-rnn's
 * stateDict() (PyTorch's names, shapes and gate order), so that ONNX Runtime runs exactly the
 * network our layers run.
 *
 *   const bytes = buildOnnxModel({ layer: 'LSTM', I: 32, H: 128, numLayers: 1, bidirectional: false }, model.stateDict());
 *   const session = await ort.InferenceSession.create(bytes);
 *   const { Y } = await session.run({ X: new ort.Tensor('float32', x, [T, B, I]) });  // Y: [T, B, D·H]
 *
 * Graph: input X [T, B, I] (time-major, T and B symbolic) → per layer one ONNX LSTM / GRU / RNN
 * operator (opset 14) whose Y [T, D, B, H] is reshaped (D = 1) or transposed + reshaped (D = 2) to
 * [T, B, D·H] for the next layer → output Y [T, B, D·H].
 *
 * Conversions from PyTorch to ONNX, per layer and direction (the `_reverse` tensors are the
 * second direction, stacked on ONNX's num_directions axis):
 *   LSTM  PyTorch gate blocks i, f, g, o  →  ONNX i, o, f, c
 *   GRU   PyTorch r, z, n                 →  ONNX z, r, h, with linear_before_reset = 1 (PyTorch's
 *         n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)))
 *   RNN   one block; activation Tanh (or Relu for nonlinearity 'relu')
 *   W [D, G·H, in] = weight_ih, R [D, G·H, H] = weight_hh, B [D, 2·G·H] = concat(bias_ih, bias_hh)
 *
 * With `state: true` the model also takes and returns the recurrent state, so a caller can carry it
 * from one call to the next (the streaming step workload: T = 1). Per layer l:
 *   inputs  h0_l{l} [D, B, H] (and c0_l{l} for LSTM), outputs hn_l{l} [D, B, H] (and cn_l{l}).
 *
 * Uses onnx-proto's generated protobufjs classes to encode; weights are stored as raw
 * little-endian float32 initializers.
 *
 * Self-test (random configurations against wasm-rnn's 'js' backend, in onnxruntime-node; build first):
 *   node bench/peers/onnx-model.js
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 14;
const IR_VERSION = 8; // ONNX 1.10+ (onnx-proto's newest); opset 14 needs IR ≥ 7
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const ATTR = onnx.AttributeProto.AttributeType;

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };
/** For each ONNX gate block, the PyTorch block it comes from. */
const ONNX_FROM_TORCH = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] };

/**
 * @param {{layer: 'LSTM'|'GRU'|'RNN', I: number, H: number, numLayers?: number, bidirectional?: boolean,
 *          nonlinearity?: 'tanh'|'relu'}} spec
 * @param {Record<string, {data: Float32Array, shape: number[]}>} stateDict  our model's stateDict()
 * @param {{state?: boolean}} [options]  state: add initial-state inputs and final-state outputs
 * @returns {Uint8Array} the serialized ModelProto
 */
export function buildOnnxModel(spec, stateDict, options = {}) {
  const { layer, I, H } = spec;
  const L = spec.numLayers ?? 1;
  const D = spec.bidirectional ? 2 : 1;
  const G = GATES[layer];
  if (!G) throw new TypeError(`buildOnnxModel: layer must be 'LSTM', 'GRU' or 'RNN', got ${layer}`);
  const withState = options.state ?? false;
  const isLSTM = layer === 'LSTM';

  const initializers = [];
  const nodes = [];
  const inputs = [valueInfo('X', ['T', 'B', I])];
  const outputs = [];

  let x = 'X';
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? I : D * H;
    const dirs = [...Array(D).keys()].map((d) => `l${l}${d === 1 ? '_reverse' : ''}`);
    const W = new Float32Array(D * G * H * inSize);
    const R = new Float32Array(D * G * H * H);
    const hasBias = `bias_ih_${dirs[0]}` in stateDict;
    const Bv = hasBias ? new Float32Array(D * 2 * G * H) : null;
    dirs.forEach((sfx, d) => {
      const wih = tensor(stateDict, `weight_ih_${sfx}`, [G * H, inSize]);
      const whh = tensor(stateDict, `weight_hh_${sfx}`, [G * H, H]);
      reorderRows(wih, W.subarray(d * G * H * inSize, (d + 1) * G * H * inSize), layer, H, inSize);
      reorderRows(whh, R.subarray(d * G * H * H, (d + 1) * G * H * H), layer, H, H);
      if (Bv) {
        const bih = tensor(stateDict, `bias_ih_${sfx}`, [G * H]);
        const bhh = tensor(stateDict, `bias_hh_${sfx}`, [G * H]);
        const at = d * 2 * G * H;
        reorderRows(bih, Bv.subarray(at, at + G * H), layer, H, 1);
        reorderRows(bhh, Bv.subarray(at + G * H, at + 2 * G * H), layer, H, 1);
      }
    });
    initializers.push(floatInit(`W_l${l}`, W, [D, G * H, inSize]), floatInit(`R_l${l}`, R, [D, G * H, H]));
    if (Bv) initializers.push(floatInit(`B_l${l}`, Bv, [D, 2 * G * H]));

    // ONNX inputs: X, W, R, B, sequence_lens, initial_h[, initial_c] ('' = absent).
    const opInputs = [x, `W_l${l}`, `R_l${l}`, Bv ? `B_l${l}` : '', '', withState ? `h0_l${l}` : ''];
    if (isLSTM) opInputs.push(withState ? `c0_l${l}` : '');
    while (opInputs[opInputs.length - 1] === '') opInputs.pop();
    const y = `Y4_l${l}`;
    const opOutputs = [y, withState ? `hn_l${l}` : ''];
    if (isLSTM && withState) opOutputs.push(`cn_l${l}`);
    while (opOutputs[opOutputs.length - 1] === '') opOutputs.pop();
    if (withState) {
      inputs.push(valueInfo(`h0_l${l}`, [D, 'B', H]));
      outputs.push(valueInfo(`hn_l${l}`, [D, 'B', H]));
      if (isLSTM) {
        inputs.push(valueInfo(`c0_l${l}`, [D, 'B', H]));
        outputs.push(valueInfo(`cn_l${l}`, [D, 'B', H]));
      }
    }

    const attrs = [attrInt('hidden_size', H), attrString('direction', D === 2 ? 'bidirectional' : 'forward')];
    if (layer === 'GRU') attrs.push(attrInt('linear_before_reset', 1));
    if (layer === 'RNN') {
      const act = spec.nonlinearity === 'relu' ? 'Relu' : 'Tanh';
      attrs.push(attrStrings('activations', Array(D).fill(act)));
    }
    nodes.push(onnx.NodeProto.create({ name: `${layer}_l${l}`, opType: layer, input: opInputs, output: opOutputs, attribute: attrs }));

    // Y [T, D, B, H] → [T, B, D·H].
    const out = l === L - 1 ? 'Y' : `Y_l${l}`;
    let src = y;
    if (D === 2) {
      src = `Yt_l${l}`;
      nodes.push(onnx.NodeProto.create({ name: `transpose_l${l}`, opType: 'Transpose', input: [y], output: [src], attribute: [attrInts('perm', [0, 2, 1, 3])] }));
    }
    // D = 1: [T, 1, B, H] → [0 (=T), -1 (=B), H]; D = 2: [T, B, 2, H] → [0, 0, -1].
    const shapeName = D === 2 ? 'shape_T_B_DH' : `shape_T_B_${H}`;
    if (!initializers.some((t) => t.name === shapeName)) {
      initializers.push(int64Init(shapeName, D === 2 ? [0, 0, -1] : [0, -1, H]));
    }
    nodes.push(onnx.NodeProto.create({ name: `reshape_l${l}`, opType: 'Reshape', input: [src, shapeName], output: [out] }));
    x = out;
  }
  outputs.unshift(valueInfo('Y', ['T', 'B', D * H]));

  const graph = onnx.GraphProto.create({
    name: `wasm_rnn_${layer.toLowerCase()}`,
    node: nodes,
    initializer: initializers,
    input: inputs,
    output: outputs,
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'wasm-rnn bench',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A stateDict entry with its shape checked. */
function tensor(dict, name, shape) {
  const t = dict[name];
  if (!t) throw new RangeError(`buildOnnxModel: stateDict has no '${name}' (keys: ${Object.keys(dict).join(', ')})`);
  const s = t.shape ?? [t.data.length];
  const want = shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== want || s.reduce((a, b) => a * b, 1) !== want) {
    throw new RangeError(`buildOnnxModel: '${name}' expected shape [${shape}], got [${s}]`);
  }
  return t.data;
}

/** Copies a [G·H, cols] PyTorch matrix (or a [G·H] bias with cols = 1) into ONNX gate order. */
function reorderRows(src, dst, layer, H, cols) {
  const from = ONNX_FROM_TORCH[layer];
  const block = H * cols;
  for (let g = 0; g < from.length; g++) {
    dst.set(src.subarray(from[g] * block, (from[g] + 1) * block), g * block);
  }
}

function floatInit(name, data, dims) {
  return onnx.TensorProto.create({
    name,
    dataType: FLOAT,
    dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function int64Init(name, values) {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return onnx.TensorProto.create({ name, dataType: INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) });
}

/** A float tensor value_info; string dims are symbolic. */
function valueInfo(name, dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string' ? onnx.TensorShapeProto.Dimension.create({ dimParam: d }) : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

const attrInt = (name, i) => onnx.AttributeProto.create({ name, type: ATTR.INT, i });
const attrInts = (name, ints) => onnx.AttributeProto.create({ name, type: ATTR.INTS, ints });
const utf8 = (s) => new TextEncoder().encode(s);
const attrString = (name, s) => onnx.AttributeProto.create({ name, type: ATTR.STRING, s: utf8(s) });
const attrStrings = (name, list) => onnx.AttributeProto.create({ name, type: ATTR.STRINGS, strings: list.map(utf8) });

// ---------------------------------------------------------------------------------------------
// Self-test: node bench/peers/onnx-model.js
// ---------------------------------------------------------------------------------------------

async function selfTest() {
  const ort = await import('onnxruntime-node');
  const lib = await import('../../dist/index.js');
  await lib.setBackend('js');
  let seed = 1;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const configs = [];
  for (const layer of ['LSTM', 'GRU', 'RNN']) {
    configs.push({ layer, I: 5, H: 7, B: 3, T: 6, numLayers: 1, bidirectional: false });
    configs.push({ layer, I: 16, H: 12, B: 2, T: 9, numLayers: 2, bidirectional: false });
    configs.push({ layer, I: 9, H: 8, B: 4, T: 5, numLayers: 1, bidirectional: true });
    configs.push({ layer, I: 6, H: 10, B: 1, T: 7, numLayers: 3, bidirectional: true, bias: false });
  }
  configs.push({ layer: 'RNN', nonlinearity: 'relu', I: 6, H: 10, B: 2, T: 7, numLayers: 2, bidirectional: true });
  let worst = 0, failed = 0;
  for (const c of configs) {
    const opts = { inputSize: c.I, hiddenSize: c.H, numLayers: c.numLayers, bidirectional: c.bidirectional, bias: c.bias ?? true, seed: 7 };
    const model = c.layer === 'RNN' ? new lib.RNN({ ...opts, nonlinearity: c.nonlinearity ?? 'tanh' }) : new lib[c.layer](opts);
    const sd = model.stateDict();
    const x = Float32Array.from({ length: c.T * c.B * c.I }, rand);
    const D = c.bidirectional ? 2 : 1, L = c.numLayers, LDBH = L * D * c.B * c.H;
    const h0 = Float32Array.from({ length: LDBH }, () => 0.5 * rand());
    const c0 = Float32Array.from({ length: LDBH }, () => 0.5 * rand());
    const isLSTM = c.layer === 'LSTM';
    const ref = model.forward(
      { data: x, shape: [c.T, c.B, c.I] },
      isLSTM ? { h: { data: h0, shape: [L * D, c.B, c.H] }, c: { data: c0, shape: [L * D, c.B, c.H] } } : { data: h0, shape: [L * D, c.B, c.H] },
    );
    const feeds = { X: new ort.Tensor('float32', x, [c.T, c.B, c.I]) };
    const per = D * c.B * c.H;
    for (let l = 0; l < L; l++) {
      feeds[`h0_l${l}`] = new ort.Tensor('float32', h0.slice(l * per, (l + 1) * per), [D, c.B, c.H]);
      if (isLSTM) feeds[`c0_l${l}`] = new ort.Tensor('float32', c0.slice(l * per, (l + 1) * per), [D, c.B, c.H]);
    }
    const session = await ort.InferenceSession.create(buildOnnxModel(c, sd, { state: true }));
    const out = await session.run(feeds);
    const hn = new Float32Array(LDBH), cn = new Float32Array(LDBH);
    for (let l = 0; l < L; l++) {
      hn.set(out[`hn_l${l}`].data, l * per);
      if (isLSTM) cn.set(out[`cn_l${l}`].data, l * per);
    }
    // And the stateless model (no state inputs, zero state) against forward without a state.
    const plain = await (await ort.InferenceSession.create(buildOnnxModel(c, sd))).run({ X: feeds.X });
    const ref0 = model.forward({ data: x, shape: [c.T, c.B, c.I] });
    const d = Math.max(
      maxAbsDiff(out.Y.data, ref.output.data),
      maxAbsDiff(hn, ref.h.data),
      isLSTM ? maxAbsDiff(cn, ref.c.data) : 0,
      maxAbsDiff(plain.Y.data, ref0.output.data),
    );
    worst = Math.max(worst, d);
    const ok = d <= 1e-5;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${JSON.stringify(c)}  max |Δ| = ${d.toExponential(2)}`);
    model.dispose?.();
  }
  console.log(`${configs.length - failed} passed, ${failed} failed (worst max |Δ| ${worst.toExponential(2)}, tolerance 1e-5)`);
  process.exitCode = failed ? 1 : 0;
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  await selfTest();
}

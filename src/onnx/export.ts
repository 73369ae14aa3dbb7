/**
 * exportOnnx: our models as an ONNX graph (default opset 17) that ONNX Runtime runs with our
 * numbers. Recurrent layers become one ONNX LSTM / GRU / RNN node per layer (gate rows in ONNX's
 * order, zero initial state), wired the way torch.onnx.export wires them: time-major, Y squeezed
 * (one direction) or transposed and reshaped (two) into the next layer's input, and the layers'
 * final states concatenated into h_n (and c_n). The cell variants map to the node's attributes:
 * clip → clip, activations → activations (ONNX names, per direction), LSTM inputForget →
 * input_forget=1 and peepholes → input P (rows i, o, f), GRU resetAfter → linear_before_reset
 * (PyTorch's GRU is 1).
 */
import { Embedding, GRU, LSTM, LanguageModel, Linear, Module, RNN, type CellActivation, type RNNBase, type Tensor } from '../index.js';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnx } from './proto.js';

export interface ExportOptions {
  /** Default-domain opset of the model, 14–18 (default 17). The graph is the same for all. */
  opset?: number;
}

/** What exportOnnx writes: one of our layers or models, or a sequence of them (an array or a Module whose children are named '0', '1', …). */
export type Exportable = RNNBase | Linear | Embedding | LanguageModel | Module | readonly Module[];

export const EXPORT_OPSET = 17;
const IR_VERSION = 8; // ONNX 1.10–1.13: opsets up to 18 (onnx-proto's schema is 1.10's)

const AT = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** For each ONNX gate block (LSTM i,o,f,c; GRU z,r,h), the PyTorch block (i,f,g,o; r,z,n) it comes from. */
const ONNX_FROM_TORCH: Readonly<Record<'LSTM' | 'GRU' | 'RNN', readonly number[]>> = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] };
/** For each ONNX peephole row (i, o, f), our weight_peephole row (i, f, o) it comes from. */
const ONNX_PEEP_FROM_TORCH = [0, 2, 1];
const ONNX_ACT: Readonly<Record<CellActivation, string>> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', hardSigmoid: 'HardSigmoid' };

type Dim = number | string;

/** A value flowing through the chain: its name, element type and (symbolic) shape. */
interface Flow {
  name: string;
  dtype: number;
  shape: Dim[];
}

class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly ints = new Map<string, string>();

  name(base: string): string {
    let n = base, k = 1;
    while (this.used.has(n)) n = `${base}_${k++}`;
    this.used.add(n);
    return n;
  }

  input(name: string, dtype: number, shape: Dim[]): Flow {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return { name, dtype, shape };
  }

  output(f: Flow): void {
    this.outputs.push(valueInfo(f.name, f.dtype, f.shape));
  }

  floats(base: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.name(base);
    this.initializers.push({ name, dataType: FLOAT, dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** An int64 initializer, shared between nodes that need the same values. */
  int64(base: string, values: number[]): string {
    const key = values.join(',');
    const have = this.ints.get(key);
    if (have) return have;
    const name = this.name(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dataType: INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) });
    this.ints.set(key, name);
    return name;
  }

  node(opType: string, name: string, input: string[], output: string[], attribute: OnnxTypes.IAttributeProto[] = []): void {
    while (input.length > 0 && input[input.length - 1] === '') input.pop();
    this.nodes.push({ opType, name: this.name(name), input, output, attribute });
  }
}

function valueInfo(name: string, elemType: number, dims: Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

const attrInt = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: AT.INT, i });
const attrFloat = (name: string, f: number): OnnxTypes.IAttributeProto => ({ name, type: AT.FLOAT, f });
const attrInts = (name: string, ints: number[]): OnnxTypes.IAttributeProto => ({ name, type: AT.INTS, ints });
const attrString = (name: string, s: string): OnnxTypes.IAttributeProto => ({ name, type: AT.STRING, s: new TextEncoder().encode(s) });
const attrStrings = (name: string, list: string[]): OnnxTypes.IAttributeProto => ({
  name,
  type: AT.STRINGS,
  strings: list.map((s) => new TextEncoder().encode(s)),
});

/**
 * Writes a model as ONNX ModelProto bytes. Inputs: `tokens` (int64 [T, B]) when the model starts
 * with an Embedding, else `input` (float32: [T, B, inputSize], [B, T, inputSize] with
 * batchFirst, [N, inFeatures] for a Linear). Outputs: `output` (`logits` for a LanguageModel),
 * and for a recurrent layer `h_n` (and `c_n`) [numLayers·D, B, H].
 */
export function exportOnnx(model: Exportable, options: ExportOptions = {}): Uint8Array {
  const opset = parseOptions(options);
  const { modules, lm } = chainOf(model);
  const g = new GraphBuilder();
  const recurrentCount = modules.filter(isRecurrent).length;
  let x = firstInput(g, modules);
  modules.forEach((m, i) => {
    const last = i === modules.length - 1;
    const out = last ? (lm ? 'logits' : 'output') : '';
    const prefix = lm ? `/${['embedding', 'rnn', 'linear'][i]}` : modules.length > 1 ? `/${i}` : '';
    const where = modules.length > 1 ? `${lm ? 'LanguageModel' : 'sequence'} item ${i} (${m.constructor.name})` : m.constructor.name;
    if (m instanceof Embedding) {
      if (i !== 0) throw new TypeError(`exportOnnx: ${where}: an Embedding takes token ids, so it must come first`);
      x = embedding(g, m, x, prefix, out);
    } else if (m instanceof Linear) {
      x = linear(g, m, x, prefix, out, where);
    } else {
      const sfx = recurrentCount > 1 ? `_${i}` : '';
      x = recurrent(g, m as RNNBase, x, prefix, out, `h_n${sfx}`, `c_n${sfx}`, where);
    }
    if (last) g.output(x);
  });
  // h_n / c_n after the main output, as PyTorch returns them.
  const states = g.outputs.splice(0, g.outputs.length - 1);
  g.outputs.push(...states);

  const graph: OnnxTypes.IGraphProto = {
    name: lm ? 'LanguageModel' : modules.length === 1 ? modules[0].constructor.name : 'Sequential',
    node: g.nodes,
    initializer: g.initializers,
    input: g.inputs,
    output: g.outputs,
  };
  const proto: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'wasm-rnn',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  };
  const bytes = onnx.ModelProto.encode(proto).finish();
  // Where protobufjs finds Node's Buffer it returns one, possibly a view into a shared pool: hand
  // back a plain Uint8Array that owns its bytes.
  return bytes.constructor === Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

function parseOptions(options: unknown): number {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`exportOnnx: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'opset') throw new TypeError(`exportOnnx: unknown option '${k}'; expected 'opset'`);
  }
  const opset = (options as ExportOptions).opset ?? EXPORT_OPSET;
  if (!Number.isInteger(opset) || opset < 14 || opset > 18) {
    throw new RangeError(`exportOnnx: opset must be an integer from 14 to 18, got ${String(opset)}`);
  }
  return opset;
}

function isRecurrent(m: Module): m is RNNBase {
  return m instanceof LSTM || m instanceof GRU || m instanceof RNN;
}

/** The modules in order; a Sequential is an array or a Module whose children are '0', '1', …. */
function chainOf(model: unknown): { modules: Module[]; lm: boolean } {
  const supported = 'LSTM, GRU, RNN, Linear, Embedding, LanguageModel, or a sequence of those (an array, or a Module with children 0, 1, …)';
  if (model instanceof LanguageModel) return { modules: [model.embedding, model.rnn, model.linear], lm: true };
  let modules: unknown[];
  if (Array.isArray(model)) modules = model;
  else if (model instanceof Module && !(isRecurrent(model) || model instanceof Linear || model instanceof Embedding)) {
    const children = model.namedChildren();
    const numbered = children.length > 0 && children.every(([k], i) => k === String(i)) && model.namedParameterShapes().length ===
      children.reduce((n, [, c]) => n + c.namedParameterShapes().length, 0);
    if (!numbered) throw new TypeError(`exportOnnx: cannot export a ${model.constructor.name}; supported: ${supported}`);
    modules = children.map(([, c]) => c);
  } else modules = [model];
  if (modules.length === 0) throw new TypeError('exportOnnx: the sequence is empty');
  modules.forEach((m, i) => {
    if (!(isRecurrent(m as Module) || m instanceof Linear || m instanceof Embedding)) {
      const what = m instanceof Module ? `a ${m.constructor.name}` : m === null ? 'null' : typeof m;
      throw new TypeError(`exportOnnx: ${modules.length > 1 ? `item ${i} is ` : 'cannot export '}${what}; supported: ${supported}`);
    }
  });
  return { modules: modules as Module[], lm: false };
}

/** The graph input, shaped for the first module (a Linear ahead of a recurrent layer takes its 3-D input). */
function firstInput(g: GraphBuilder, modules: Module[]): Flow {
  const first = modules[0];
  if (first instanceof Embedding) return g.input('tokens', INT64, ['T', 'B']);
  const rnn = modules.find((m) => !(m instanceof Linear));
  const width = first instanceof Linear ? first.inFeatures : (first as RNNBase).inputSize;
  if (rnn && isRecurrent(rnn)) return g.input('input', FLOAT, rnn.batchFirst ? ['B', 'T', width] : ['T', 'B', width]);
  return g.input('input', FLOAT, ['N', width]);
}

function param(m: Module, name: string): Tensor {
  const t = m.stateDict()[name];
  if (!t) throw new Error(`exportOnnx: ${m.constructor.name} has no parameter '${name}'`);
  return t;
}

function embedding(g: GraphBuilder, m: Embedding, x: Flow, prefix: string, out: string): Flow {
  const w = param(m, 'weight');
  const name = g.name(out || `${prefix}/Gather_output_0`);
  g.node('Gather', `${prefix}/Gather`, [g.floats(prefix ? `${prefix.slice(1)}.weight` : 'weight', w.data, w.shape), x.name], [name]);
  return { name, dtype: FLOAT, shape: [...x.shape, m.embeddingDim] };
}

function linear(g: GraphBuilder, m: Linear, x: Flow, prefix: string, out: string, where: string): Flow {
  const last = x.shape[x.shape.length - 1];
  if (typeof last === 'number' && last !== m.inFeatures) {
    throw new RangeError(`exportOnnx: ${where} takes ${m.inFeatures} features, but the previous item gives ${last}`);
  }
  const w = param(m, 'weight');
  const wt = new Float32Array(m.inFeatures * m.outFeatures);
  for (let o = 0; o < m.outFeatures; o++) for (let i = 0; i < m.inFeatures; i++) wt[i * m.outFeatures + o] = w.data[o * m.inFeatures + i];
  const shape = [...x.shape.slice(0, -1), m.outFeatures];
  const mm = g.name(m.bias ? `${prefix}/MatMul_output_0` : out || `${prefix}/MatMul_output_0`);
  g.node('MatMul', `${prefix}/MatMul`, [x.name, g.floats(`${prefix}/weight_t`.replace(/^\//, ''), wt, [m.inFeatures, m.outFeatures])], [mm]);
  if (!m.bias) return { name: mm, dtype: FLOAT, shape };
  const b = param(m, 'bias');
  const name = g.name(out || `${prefix}/Add_output_0`);
  g.node('Add', `${prefix}/Add`, [mm, g.floats(prefix ? `${prefix.slice(1)}.bias` : 'bias', b.data, b.shape)], [name]);
  return { name, dtype: FLOAT, shape };
}

/**
 * The node's variant attributes and extra parameters for a layer: the ONNX activation list of one
 * direction (null: ONNX's defaults), clip, input_forget, linear_before_reset, peepholes.
 */
function variantOf(m: RNNBase, op: 'LSTM' | 'GRU' | 'RNN'): { acts: string[] | null; clip: number | null; inputForget: boolean; lbr: number; peepholes: boolean } {
  const clip = m.clip;
  if (m instanceof LSTM) {
    const { gate, cell, hidden } = m.activations;
    const custom = gate !== 'sigmoid' || cell !== 'tanh' || hidden !== 'tanh';
    return { acts: custom ? [gate, cell, hidden].map((a) => ONNX_ACT[a]) : null, clip, inputForget: m.inputForget, lbr: 0, peepholes: m.peepholes };
  }
  if (m instanceof GRU) {
    const { gate, cell } = m.activations;
    const custom = gate !== 'sigmoid' || cell !== 'tanh';
    return { acts: custom ? [gate, cell].map((a) => ONNX_ACT[a]) : null, clip, inputForget: false, lbr: m.resetAfter ? 1 : 0, peepholes: false };
  }
  if (op !== 'RNN' || !(m instanceof RNN)) throw new TypeError(`exportOnnx: cannot export a ${m.constructor.name}`);
  return { acts: [ONNX_ACT[m.nonlinearity]], clip, inputForget: false, lbr: 0, peepholes: false };
}

function recurrent(g: GraphBuilder, m: RNNBase, x: Flow, prefix: string, out: string, hName: string, cName: string, where: string): Flow {
  const op = m.mode === 'LSTM' ? 'LSTM' : m.mode === 'GRU' ? 'GRU' : 'RNN';
  const H = m.hiddenSize, L = m.numLayers, D = m.bidirectional ? 2 : 1, G = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
  const last = x.shape[x.shape.length - 1];
  if (x.shape.length !== 3 || (typeof last === 'number' && last !== m.inputSize)) {
    throw new RangeError(`exportOnnx: ${where} takes [T, B, ${m.inputSize}], but the previous item gives [${x.shape.join(', ')}]`);
  }
  const v = variantOf(m, op);
  const sd = m.stateDict();
  const expected = new Set<string>();
  const sfx = (l: number, d: number): string => `l${l}${d === 1 ? '_reverse' : ''}`;
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) {
      for (const p of m.bias ? ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'] : ['weight_ih', 'weight_hh']) expected.add(`${p}_${sfx(l, d)}`);
      if (v.peepholes) expected.add(`weight_peephole_${sfx(l, d)}`);
    }
  }
  for (const k of Object.keys(sd)) {
    if (!expected.has(k)) throw new TypeError(`exportOnnx: not supported yet: ${where} parameter '${k}' (no ONNX mapping in this version)`);
  }

  const B = m.batchFirst ? x.shape[0] : x.shape[1];
  let cur = x.name;
  if (m.batchFirst) {
    cur = g.name(`${prefix}/Transpose_output_0`);
    g.node('Transpose', `${prefix}/Transpose`, [x.name], [cur], [attrInts('perm', [1, 0, 2])]);
  }
  const hs: string[] = [], cs: string[] = [];
  const from = ONNX_FROM_TORCH[op];
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? m.inputSize : D * H;
    const W = new Float32Array(D * G * H * inSize), R = new Float32Array(D * G * H * H);
    const Bv = m.bias ? new Float32Array(D * 2 * G * H) : null;
    const Pv = v.peepholes ? new Float32Array(D * 3 * H) : null;
    for (let d = 0; d < D; d++) {
      const s = sfx(l, d);
      reorder(sd[`weight_ih_${s}`].data, W.subarray(d * G * H * inSize), from, H * inSize);
      reorder(sd[`weight_hh_${s}`].data, R.subarray(d * G * H * H), from, H * H);
      if (Bv) {
        reorder(sd[`bias_ih_${s}`].data, Bv.subarray(d * 2 * G * H), from, H);
        reorder(sd[`bias_hh_${s}`].data, Bv.subarray(d * 2 * G * H + G * H), from, H);
      }
      if (Pv) reorder(sd[`weight_peephole_${s}`].data, Pv.subarray(d * 3 * H), ONNX_PEEP_FROM_TORCH, H);
    }
    const base = `${prefix}/${op}_l${l}`;
    const wName = g.floats(`${base}/W`.replace(/^\//, ''), W, [D, G * H, inSize]);
    const rName = g.floats(`${base}/R`.replace(/^\//, ''), R, [D, G * H, H]);
    const bName = Bv ? g.floats(`${base}/B`.replace(/^\//, ''), Bv, [D, 2 * G * H]) : '';
    const pName = Pv ? g.floats(`${base}/P`.replace(/^\//, ''), Pv, [D, 3 * H]) : '';
    const y = g.name(`${base}_Y`);
    const yh = g.name(L === 1 ? hName : `${base}_Y_h`);
    const outs = [y, yh];
    if (op === 'LSTM') outs.push(g.name(L === 1 ? cName : `${base}_Y_c`));
    hs.push(yh);
    if (op === 'LSTM') cs.push(outs[2]);
    const attrs = [attrInt('hidden_size', H), attrString('direction', D === 2 ? 'bidirectional' : 'forward')];
    if (op === 'GRU') attrs.push(attrInt('linear_before_reset', v.lbr));
    if (v.inputForget) attrs.push(attrInt('input_forget', 1));
    if (v.clip !== null) attrs.push(attrFloat('clip', v.clip));
    if (v.acts) attrs.push(attrStrings('activations', Array.from({ length: D }, () => v.acts as string[]).flat()));
    g.node(op, base, [cur, wName, rName, bName, '', '', '', pName], outs, attrs);
    // Y [T, D, B, H] → [T, B, D·H]: squeeze D = 1, or transpose and merge the last two axes.
    const lastLayer = l === L - 1;
    const next = g.name(lastLayer && !m.batchFirst && out ? out : `${base}_out`);
    if (D === 1) {
      g.node('Squeeze', `${base}/Squeeze`, [y, g.int64('axes_1', [1])], [next]);
    } else {
      const t = g.name(`${base}_Y_t`);
      g.node('Transpose', `${base}/Transpose`, [y], [t], [attrInts('perm', [0, 2, 1, 3])]);
      g.node('Reshape', `${base}/Reshape`, [t, g.int64('shape_0_0_m1', [0, 0, -1])], [next]);
    }
    cur = next;
  }
  let result = cur;
  if (m.batchFirst) {
    result = g.name(out || `${prefix}/Transpose_1_output_0`);
    g.node('Transpose', `${prefix}/Transpose_1`, [cur], [result], [attrInts('perm', [1, 0, 2])]);
  }
  const stateShape: Dim[] = [L * D, B, H];
  let hOut = hs[0], cOut = cs[0];
  if (L > 1) {
    hOut = g.name(hName);
    g.node('Concat', `${prefix}/Concat_h`, hs, [hOut], [attrInt('axis', 0)]);
    if (op === 'LSTM') {
      cOut = g.name(cName);
      g.node('Concat', `${prefix}/Concat_c`, cs, [cOut], [attrInt('axis', 0)]);
    }
  }
  g.output({ name: hOut, dtype: FLOAT, shape: stateShape });
  if (op === 'LSTM') g.output({ name: cOut, dtype: FLOAT, shape: stateShape });
  return { name: result, dtype: FLOAT, shape: [x.shape[0], x.shape[1], D * H] };
}

/** Copies gate blocks of `block` floats from PyTorch order into ONNX order. */
function reorder(src: Float32Array, dst: Float32Array, from: readonly number[], block: number): void {
  for (let g = 0; g < from.length; g++) dst.set(src.subarray(from[g] * block, (from[g] + 1) * block), g * block);
}

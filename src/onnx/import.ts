/**
 * importOnnx: reads an ONNX model, checks every node against what we support, builds our layers
 * for its LSTM / GRU / RNN nodes, folds what depends only on initializers, and returns a model
 * whose run() executes the remaining nodes in order.
 */
import { Tensor, ready } from '../index.js';
import { OnnxError, q } from './errors.js';
import type { CompileContext, Kernel, NodeInfo, OpDef } from './kernel.js';
import { STANDARD_OPS } from './ops.js';
import { Attributes, decodeModel, int, tensorFromProto, type GraphProto, type ValueInfoProto } from './proto.js';
import { recurrentOp } from './recurrent.js';
import {
  DEFAULT_MAX_ELEMENTS,
  checkSize,
  dtypeOf,
  shapeStr,
  typeCodeName,
  type DType,
  type Limits,
  type Value,
} from './value.js';

/** The default-domain opsets importOnnx reads (what torch.onnx.export writes today). */
export const MIN_OPSET = 14;
export const MAX_OPSET = 18;

const OPS: Readonly<Record<string, OpDef>> = {
  ...STANDARD_OPS,
  LSTM: recurrentOp('LSTM'),
  GRU: recurrentOp('GRU'),
  RNN: recurrentOp('RNN'),
};

export interface ImportOptions {
  /** Largest tensor (in elements) an initializer, attribute or computed value may have (default 2^26). */
  maxElements?: number;
}

/** A graph input or output: its name, element type and shape as the model declares them. */
export interface OnnxValueInfo {
  readonly name: string;
  /** The element type, or null when the model does not say. */
  readonly dtype: DType | null;
  /** Per dimension a size, a symbolic name (dim_param) or null; null when the rank is not declared. */
  readonly shape: readonly (number | string | null)[] | null;
}

/** What run() takes per input: a Tensor (float32), or typed data with a shape. */
export type OnnxFeed =
  | Tensor
  | {
      readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Uint16Array | Int8Array | Uint8Array | readonly number[];
      readonly shape: readonly number[];
    };

export interface OnnxModel {
  /** The graph inputs run() needs (initializers listed as inputs are not among them). */
  readonly inputNames: readonly string[];
  /** The graph outputs run() returns. */
  readonly outputNames: readonly string[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** The model's default-domain opset version. */
  readonly opset: number;
  /**
   * Runs the graph. `feeds` has one entry per input name: a Tensor or `{ data, shape }` (integer
   * inputs as Int32Array or BigInt64Array). Returns a float32 Tensor per graph output (integer
   * outputs converted exactly, or a RangeError when a value needs more than float32's 24 bits).
   */
  run(feeds: Readonly<Record<string, OnnxFeed>>): Record<string, Tensor>;
  /** Frees the layers (and their memory) the model holds; run() throws afterwards. */
  dispose(): void;
}

/**
 * Reads an ONNX model (the bytes of a .onnx file). Resolves once the selected backend is ready,
 * so run() works at once. Rejects with an OnnxError naming the operator, attribute or tensor and
 * the node when the model is malformed or uses something we do not support.
 */
export async function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Promise<OnnxModel> {
  const model = compileModel(bytes, options);
  try {
    await ready();
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

function compileModel(bytes: unknown, options: unknown): Model {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`importOnnx: bytes must be a Uint8Array (a .onnx file's contents), got ${describe(bytes)}`);
  }
  const limits = parseOptions(options);
  try {
    return new Model(bytes, limits);
  } catch (err) {
    throw prefixed(err, 'importOnnx: ');
  }
}

function parseOptions(options: unknown): Limits {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`importOnnx: options must be an object, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'maxElements') throw new TypeError(`importOnnx: unknown option ${q(k)}; expected 'maxElements'`);
  }
  const m = (options as ImportOptions).maxElements ?? DEFAULT_MAX_ELEMENTS;
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 1) {
    throw new RangeError(`importOnnx: maxElements must be a positive integer, got ${describe(m)}`);
  }
  return { maxElements: m };
}

interface Step {
  readonly label: string;
  readonly kernel: Kernel;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Values no later step (nor the graph outputs) reads: dropped after this step. */
  free: string[];
}

class Model implements OnnxModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly opset: number;
  private readonly limits: Limits;
  private readonly constants = new Map<string, Value>();
  private readonly steps: Step[] = [];
  private readonly owned: { dispose(): void }[] = [];
  private constantBuffers = new Set<ArrayBufferLike>();
  private disposed = false;

  constructor(bytes: Uint8Array, limits: Limits) {
    this.limits = limits;
    const model = decodeModel(bytes);
    const ir = int(model.irVersion);
    if (!(ir >= 3)) throw new OnnxError(`the model's ir_version is ${ir}; ONNX files with opsets have ir_version ≥ 3 (is this an ONNX file?)`);
    const graph = model.graph;
    if (!graph) throw new OnnxError('the model has no graph (is this an ONNX file?)');
    this.opset = defaultOpset(model.opsetImport ?? []);
    try {
      const io = this.compile(graph);
      this.inputs = io.inputs;
      this.outputs = io.outputs;
    } catch (err) {
      this.dispose();
      throw err;
    }
    this.inputNames = Object.freeze(this.inputs.map((v) => v.name));
    this.outputNames = Object.freeze(this.outputs.map((v) => v.name));
  }

  private compile(g: GraphProto): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
    const { limits, constants } = this;
    if ((g.sparseInitializer?.length ?? 0) > 0) throw new OnnxError('sparse initializers are not supported');
    for (const t of g.initializer ?? []) {
      const name = t.name ?? '';
      if (!name) throw new OnnxError('an initializer has no name');
      if (constants.has(name)) throw new OnnxError(`initializer ${q(name)} is given twice`);
      constants.set(name, tensorFromProto(t, limits, `initializer ${q(name)}`));
    }
    // Inputs: graph inputs that are not initializers (older exporters list initializers as inputs too).
    const inputs: OnnxValueInfo[] = [];
    const known = new Set<string>(constants.keys());
    for (const vi of g.input ?? []) {
      const info = valueInfo(vi, 'graph input');
      if (constants.has(info.name)) continue;
      if (!info.name) throw new OnnxError('a graph input has no name');
      if (known.has(info.name)) throw new OnnxError(`graph input ${q(info.name)} is declared twice`);
      if (!info.dtype) throw new OnnxError(`graph input ${q(info.name)} does not declare its element type`);
      inputs.push(info);
      known.add(info.name);
    }

    // Nodes: each checked against its operator (type, domain, arity, attributes), outputs unique.
    const nodes: { info: NodeInfo; def: OpDef }[] = [];
    const producer = new Map<string, number>();
    (g.node ?? []).forEach((n, i) => {
      const opType = n.opType ?? '';
      const label = n.name ? `node ${q(n.name)} (${opType})` : `node #${i} (${opType})`;
      const domain = n.domain ?? '';
      if (domain !== '' && domain !== 'ai.onnx') {
        throw new OnnxError(`${label}: operator ${q(`${domain}::${opType}`)} is not supported (only the default ONNX domain)`, label);
      }
      const def = Object.prototype.hasOwnProperty.call(OPS, opType) ? OPS[opType] : undefined;
      if (!def) {
        throw new OnnxError(`${label}: operator ${q(opType)} is not supported (supported: ${Object.keys(OPS).sort().join(', ')})`, label);
      }
      const ins = n.input ?? [], outs = n.output ?? [];
      if (ins.length < def.inputs[0] || ins.length > def.inputs[1]) {
        throw new OnnxError(`${label}: has ${ins.length} inputs; ${opType} takes ${arity(def.inputs)}`, label);
      }
      if (outs.length < def.outputs[0] || outs.length > def.outputs[1]) {
        throw new OnnxError(`${label}: has ${outs.length} outputs; ${opType} gives ${arity(def.outputs)}`, label);
      }
      for (const o of outs) {
        if (!o) continue;
        if (known.has(o) || producer.has(o)) throw new OnnxError(`${label}: output ${q(o)} is already a graph input, an initializer or another node's output`, label);
        producer.set(o, i);
      }
      const attrs = new Attributes({ label }, n.attribute ?? [], def.attrs);
      nodes.push({ info: { label, opType, inputs: ins, outputs: outs, attrs }, def });
    });
    for (const { info } of nodes) {
      for (const name of info.inputs) {
        if (name && !known.has(name) && !producer.has(name)) {
          throw new OnnxError(`${info.label}: input ${q(name)} is not a graph input, an initializer or any node's output`, info.label);
        }
      }
    }
    const outputs: OnnxValueInfo[] = [];
    const outNames = new Set<string>();
    for (const vi of g.output ?? []) {
      const info = valueInfo(vi, 'graph output');
      if (!info.name) throw new OnnxError('a graph output has no name');
      if (outNames.has(info.name)) throw new OnnxError(`graph output ${q(info.name)} is declared twice`);
      if (!known.has(info.name) && !producer.has(info.name)) throw new OnnxError(`graph output ${q(info.name)} is not computed by any node`);
      outNames.add(info.name);
      outputs.push(info);
    }
    if (outputs.length === 0) throw new OnnxError('the graph has no outputs');

    const order = topologicalOrder(nodes.map((n) => n.info), producer);
    // Which nodes the outputs depend on (others are checked, but never run).
    const needed = new Set<number>();
    const stack = [...outNames].flatMap((n) => (producer.has(n) ? [producer.get(n) as number] : []));
    while (stack.length) {
      const i = stack.pop() as number;
      if (needed.has(i)) continue;
      needed.add(i);
      for (const name of nodes[i].info.inputs) if (producer.has(name)) stack.push(producer.get(name) as number);
    }

    const ctx: CompileContext = {
      limits,
      constant: (name) => constants.get(name),
      own: (d) => void this.owned.push(d),
    };
    for (const i of order) {
      const { info, def } = nodes[i];
      const kernel = withLabel(info.label, () => def.compile(info, ctx));
      if (!needed.has(i)) continue;
      const present = info.inputs.filter((n) => n !== '');
      if (def.fold !== false && present.every((n) => constants.has(n))) {
        const outs = withLabel(info.label, () => kernel(info.inputs.map((n) => (n ? constants.get(n) : undefined))));
        info.outputs.forEach((o, k) => {
          const v = outs[k];
          if (o && v) constants.set(o, v);
        });
        continue;
      }
      this.steps.push({ label: info.label, kernel, inputs: info.inputs, outputs: info.outputs, free: [] });
    }
    // Free each computed value after the last step that reads it.
    const lastUse = new Map<string, number>();
    this.steps.forEach((s, k) => {
      for (const n of s.inputs) if (n) lastUse.set(n, k);
      for (const n of s.outputs) if (n && !lastUse.has(n)) lastUse.set(n, k);
    });
    for (const [name, k] of lastUse) {
      if (!outNames.has(name) && !constants.has(name)) this.steps[k].free.push(name);
    }
    for (const v of constants.values()) this.constantBuffers.add(v.data.buffer);
    return { inputs, outputs };
  }

  run(feeds: Readonly<Record<string, OnnxFeed>>): Record<string, Tensor> {
    if (this.disposed) throw new Error('OnnxModel.run: the model was disposed');
    const env = this.feed(feeds);
    const foreign = new Set<ArrayBufferLike>(this.constantBuffers);
    for (const v of env.values()) foreign.add(v.data.buffer);
    for (const step of this.steps) {
      const ins = step.inputs.map((n) => (n ? env.get(n) ?? this.constants.get(n) : undefined));
      let outs: (Value | undefined)[];
      try {
        outs = step.kernel(ins);
      } catch (err) {
        throw prefixed(err, err instanceof OnnxError ? 'OnnxModel.run: ' : `OnnxModel.run: ${step.label}: `);
      }
      step.outputs.forEach((o, k) => {
        const v = outs[k];
        if (o && v) env.set(o, v);
      });
      for (const n of step.free) env.delete(n);
    }
    const result: Record<string, Tensor> = {};
    for (const info of this.outputs) {
      const v = env.get(info.name) ?? this.constants.get(info.name);
      if (!v) throw new OnnxError(`OnnxModel.run: graph output ${q(info.name)} was not computed (an optional output its node does not give)`);
      result[info.name] = this.toTensor(info.name, v, foreign);
    }
    return result;
  }

  /** Checks the feeds against the declared inputs and converts them to values. */
  private feed(feeds: unknown): Map<string, Value> {
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds)) {
      throw new TypeError(`OnnxModel.run: feeds must be an object { inputName: Tensor | { data, shape } }, got ${describe(feeds)}`);
    }
    const names = this.inputNames;
    for (const k of Object.keys(feeds)) {
      if (!names.includes(k)) {
        throw new TypeError(`OnnxModel.run: unknown input ${q(k)}; the model's inputs are ${names.map(q).join(', ') || '(none)'}`);
      }
    }
    const env = new Map<string, Value>();
    for (const info of this.inputs) {
      const f = (feeds as Record<string, unknown>)[info.name];
      if (f === undefined) throw new TypeError(`OnnxModel.run: missing input ${q(info.name)}`);
      env.set(info.name, this.feedValue(info, f));
    }
    return env;
  }

  private feedValue(info: OnnxValueInfo, f: unknown): Value {
    const what = `OnnxModel.run: input ${q(info.name)}`;
    const want = info.dtype as DType;
    if (f === null || typeof f !== 'object' || !('data' in f) || !('shape' in f)) {
      throw new TypeError(`${what} must be a Tensor or { data, shape }, got ${describe(f)}`);
    }
    const { data, shape } = f as { data: unknown; shape: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${what}: shape must be an array of non-negative integers, got ${describe(shape)}`);
    }
    const size = checkSizeOrRange(shape, this.limits, what);
    if (!ArrayBuffer.isView(data) && !Array.isArray(data)) throw new TypeError(`${what}: data must be a typed array or an array of numbers, got ${describe(data)}`);
    const len = (data as ArrayLike<unknown>).length;
    if (len !== size) throw new RangeError(`${what}: shape ${shapeStr(shape)} holds ${size} values, but data has ${len}`);
    const declared = info.shape;
    if (declared) {
      const bad = declared.length !== shape.length || declared.some((d, i) => typeof d === 'number' && d !== shape[i]);
      if (bad) throw new RangeError(`${what} must have shape ${declaredShape(declared)}, got ${shapeStr(shape)}`);
    }
    const kind = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64'
      : data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32' : data instanceof Int16Array ? 'int16'
      : data instanceof Uint16Array ? 'uint16' : data instanceof Int8Array ? 'int8' : data instanceof Uint8Array ? 'uint8'
      : Array.isArray(data) ? 'array' : 'other';
    const ints = want !== 'float32' && want !== 'float64';
    const ok = kind === want || kind === 'array' || (ints && (kind === 'int32' || kind === 'int64')) || (want === 'bool' && kind === 'uint8');
    if (!ok) {
      const hint = want === 'float32' ? 'a Float32Array (or a Tensor)' : ints ? 'an Int32Array or a BigInt64Array' : 'a Float64Array';
      throw new TypeError(`${what} is ${want}: pass ${hint}, got ${kind === 'other' ? describe(data) : `${data.constructor.name}`}`);
    }
    if (want === 'float32' && data instanceof Float32Array) return { dtype: want, shape: [...shape], data };
    const out = want === 'float32' ? new Float32Array(size) : new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const raw = (data as ArrayLike<number | bigint>)[i];
      const v = typeof raw === 'bigint' ? Number(raw) : raw;
      if (typeof v !== 'number') throw new TypeError(`${what}: data[${i}] is not a number (${describe(raw)})`);
      if (ints && !(Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) {
        throw new RangeError(`${what}: data[${i}] = ${v} is not an integer of the input's type ${want}`);
      }
      out[i] = want === 'bool' ? (v !== 0 ? 1 : 0) : v;
    }
    return { dtype: want, shape: [...shape], data: out };
  }

  private toTensor(name: string, v: Value, foreign: Set<ArrayBufferLike>): Tensor {
    if (v.dtype === 'float32') {
      const own = foreign.has(v.data.buffer) ? (v.data as Float32Array).slice() : (v.data as Float32Array);
      foreign.add(own.buffer);
      return new Tensor(own, v.shape);
    }
    const out = new Float32Array(v.data.length);
    const exact = v.dtype !== 'float64';
    for (let i = 0; i < out.length; i++) {
      const x = v.data[i];
      if (exact && Math.abs(x) > 2 ** 24) {
        throw new RangeError(`OnnxModel.run: output ${q(name)} is ${v.dtype}; its value ${x} at flat index ${i} has no exact float32 form`);
      }
      out[i] = x;
    }
    return new Tensor(out, v.shape);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.owned) d.dispose();
    this.owned.length = 0;
  }
}

function checkSizeOrRange(shape: number[], limits: Limits, what: string): number {
  try {
    return checkSize(shape, limits, what);
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
}

function defaultOpset(imports: readonly { domain?: string | null; version?: unknown }[]): number {
  const entry = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new OnnxError('the model imports no default-domain (ai.onnx) opset');
  const v = int(entry.version);
  if (!(v >= MIN_OPSET && v <= MAX_OPSET)) {
    throw new OnnxError(
      `opset ${v} is not supported (importOnnx reads opsets ${MIN_OPSET}–${MAX_OPSET}; ` +
        'onnx.version_converter.convert_version(model, 17) converts a model)',
    );
  }
  return v;
}

/** Kahn's algorithm over the producer map; a cycle is an error naming a node on it. */
function topologicalOrder(nodes: readonly NodeInfo[], producer: ReadonlyMap<string, number>): number[] {
  const waiting = nodes.map((n) => new Set(n.inputs.filter((x) => producer.has(x)).map((x) => producer.get(x) as number)).size);
  const users = nodes.map((): number[] => []);
  nodes.forEach((n, i) => {
    for (const p of new Set(n.inputs.filter((x) => producer.has(x)).map((x) => producer.get(x) as number))) users[p].push(i);
  });
  const order: number[] = [];
  waiting.forEach((w, i) => w === 0 && order.push(i));
  // `order` doubles as the FIFO queue: nodes are appended as their last input becomes ready.
  for (let head = 0; head < order.length; head++) {
    for (const u of users[order[head]]) if (--waiting[u] === 0) order.push(u);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i] > 0) as NodeInfo;
    throw new OnnxError(`the graph has a cycle through ${stuck.label}`, stuck.label);
  }
  return order;
}

function valueInfo(vi: ValueInfoProto, what: string): OnnxValueInfo {
  const name = vi.name ?? '';
  const type = vi.type;
  if (!type) return { name, dtype: null, shape: null };
  const tt = type.tensorType;
  if (!tt) {
    const kind = type.sequenceType ? 'a sequence' : type.mapType ? 'a map' : type.optionalType ? 'an optional'
      : type.sparseTensorType ? 'a sparse tensor' : 'not a tensor';
    throw new OnnxError(`${what} ${q(name)} is ${kind}; only tensors are supported`);
  }
  const code = tt.elemType ?? 0;
  const dtype = code === 0 ? null : dtypeOf(code);
  if (code !== 0 && !dtype) throw new OnnxError(`${what} ${q(name)} has element type ${typeCodeName(code)}, which is not supported`);
  const shape = tt.shape
    ? (tt.shape.dim ?? []).map((d) => (d.dimValue != null ? int(d.dimValue) : d.dimParam ? d.dimParam : null))
    : null;
  return { name, dtype, shape };
}

function declaredShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function arity([lo, hi]: readonly [number, number]): string {
  return hi === Infinity ? `at least ${lo}` : lo === hi ? String(lo) : `${lo} to ${hi}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  if (typeof v === 'string') return `'${v.slice(0, 40)}'`;
  return String(v);
}

/** Runs f; an error that is not already an OnnxError (which names its node) gets the node's label. */
function withLabel<T>(label: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw err instanceof OnnxError ? err : prefixed(err, `${label}: `);
  }
}

/** The same kind of error with a prefix on its message (keeping OnnxError's node). */
function prefixed(err: unknown, prefix: string): Error {
  if (!(err instanceof Error)) return new OnnxError(prefix + String(err));
  if (err.message.startsWith(prefix)) return err;
  let out: Error;
  if (err instanceof OnnxError) out = new OnnxError(prefix + err.message, err.node);
  else if (err instanceof RangeError) out = new RangeError(prefix + err.message);
  else if (err instanceof TypeError) out = new TypeError(prefix + err.message);
  else out = new Error(prefix + err.message);
  if (err.stack) out.stack = err.stack.replace(err.message, out.message);
  return out;
}

/**
 * The ONNX protobuf messages (onnx-proto's generated protobufjs code) and the checked
 * conversions between them and our values: tensors, attributes and 64-bit integers.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { OnnxError, q } from './errors.js';
import { BYTES, checkSize, converter, dtypeOf, newData, shapeStr, typeCodeName, type DType, type Limits, type Value } from './value.js';

export const { onnx } = onnxProto;
export type ModelProto = OnnxTypes.IModelProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type AttributeProto = OnnxTypes.IAttributeProto;
export type ValueInfoProto = OnnxTypes.IValueInfoProto;

/** Decodes ModelProto bytes; anything protobufjs cannot read becomes one clear OnnxError. */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new OnnxError(`the bytes are not a readable ONNX model (protobuf: ${why})`);
  }
}

/**
 * A protobuf int64 as a JS number: protobufjs gives a number, or a Long ({ low, high }) where the
 * `long` package is loadable. Values beyond 2^53 lose precision, which no size or index we accept
 * needs (they are refused as too large).
 */
export function int(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    return (unsigned ? high >>> 0 : high | 0) * 2 ** 32 + (low >>> 0);
  }
  if (v === undefined || v === null) return 0;
  return NaN;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Which typed field of TensorProto holds values of a dtype when raw_data is not used. */
function typedField(t: TensorProto, dtype: DType): { name: string; values: ArrayLike<unknown> } {
  switch (dtype) {
    case 'float32':
      return { name: 'float_data', values: t.floatData ?? [] };
    case 'float64':
      return { name: 'double_data', values: t.doubleData ?? [] };
    case 'int64':
      return { name: 'int64_data', values: t.int64Data ?? [] };
    default:
      return { name: 'int32_data', values: t.int32Data ?? [] };
  }
}

/**
 * A TensorProto as a Value, validated before anything is allocated: a supported data type, sane
 * dims within the limits, no external data, and exactly dims × dtype bytes of raw_data (or
 * exactly dims values in the typed field).
 */
export function tensorFromProto(t: TensorProto, limits: Limits, what: string): Value {
  const code = t.dataType ?? 0;
  const dtype = dtypeOf(code);
  if (!dtype) {
    throw new OnnxError(`${what}: data type ${typeCodeName(code)} is not supported (float, double, int8–int64, uint8, uint16, bool)`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new OnnxError(`${what}: its data is in an external file (external_data), which importOnnx cannot read; save the model with the weights inside it`);
  }
  if (t.segment) throw new OnnxError(`${what}: segmented tensors are not supported`);
  const dims = (t.dims ?? []).map(int);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`${what}: dims ${shapeStr(dims)} must be non-negative integers`);
  }
  const n = checkSize(dims, limits, what);
  const raw = t.rawData ?? new Uint8Array(0);
  const typed = typedField(t, dtype);
  const out = newData(dtype, n);
  if (raw.length > 0) {
    if (typed.values.length > 0) throw new OnnxError(`${what}: has both raw_data and ${typed.name}`);
    const want = n * BYTES[dtype];
    if (raw.length !== want) {
      throw new OnnxError(
        `${what}: raw_data holds ${raw.length} bytes, but dims ${shapeStr(dims)} of ${typeCodeName(code)} need ${want}`,
      );
    }
    readRaw(raw, dtype, out);
  } else {
    if (typed.values.length !== n) {
      throw new OnnxError(`${what}: ${typed.name} holds ${typed.values.length} values, but dims ${shapeStr(dims)} need ${n}`);
    }
    const vals = typed.values;
    const fix = converter(dtype);
    for (let i = 0; i < n; i++) {
      const v = vals[i];
      const x = typeof v === 'number' ? v : int(v);
      out[i] = fix ? fix(x) : x;
    }
  }
  return { dtype, shape: dims, data: out };
}

function readRaw(raw: Uint8Array, dtype: DType, out: Float32Array | Float64Array): void {
  const n = out.length;
  if ((dtype === 'float32' || dtype === 'float64') && LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(raw); // out is freshly allocated: exactly raw.length bytes
    return;
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32': out[i] = dv.getFloat32(i * 4, true); break;
      case 'float64': out[i] = dv.getFloat64(i * 8, true); break;
      case 'int8': out[i] = dv.getInt8(i); break;
      case 'uint8': out[i] = dv.getUint8(i); break;
      case 'bool': out[i] = dv.getUint8(i) !== 0 ? 1 : 0; break;
      case 'int16': out[i] = dv.getInt16(i * 2, true); break;
      case 'uint16': out[i] = dv.getUint16(i * 2, true); break;
      case 'int32': out[i] = dv.getInt32(i * 4, true); break;
      case 'int64': out[i] = Number(dv.getBigInt64(i * 8, true)); break;
    }
  }
}

const AT = onnx.AttributeProto.AttributeType;
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(AT).map(([k, v]) => [v as number, k]));

/** What the node an attribute belongs to says about itself in messages. */
export interface Labelled {
  readonly label: string;
}

/**
 * A node's attributes, checked against the names its operator accepts (anything else is refused
 * by name), with typed getters that refuse a wrong attribute type.
 */
export class Attributes {
  private readonly byName = new Map<string, AttributeProto>();

  constructor(private readonly owner: Labelled, list: readonly AttributeProto[], allowed: readonly string[]) {
    for (const a of list) {
      const name = a.name ?? '';
      if (this.byName.has(name)) throw new OnnxError(`${owner.label}: attribute ${q(name)} is given twice`, owner.label);
      if (a.refAttrName) {
        throw new OnnxError(`${owner.label}: attribute ${q(name)} refers to a function attribute, which is not supported`, owner.label);
      }
      if (!allowed.includes(name)) {
        throw new OnnxError(
          `${owner.label}: attribute ${q(name)} is not supported` +
            (allowed.length ? ` (supported: ${allowed.join(', ')})` : ' (this operator takes none)'),
          owner.label,
        );
      }
      this.byName.set(name, a);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    const got = a.type ?? AT.UNDEFINED;
    if (got !== type && !(got === AT.UNDEFINED && inferType(a) === type)) {
      throw new OnnxError(
        `${this.owner.label}: attribute ${q(name)} must be ${TYPE_NAMES[type]}, got ${TYPE_NAMES[got] ?? `type ${got}`}`,
        this.owner.label,
      );
    }
    return a;
  }

  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  int(name: string, dflt?: number): number | undefined {
    const a = this.get(name, AT.INT);
    return a ? int(a.i) : dflt;
  }

  float(name: string): number | undefined {
    const a = this.get(name, AT.FLOAT);
    return a ? (a.f ?? 0) : undefined;
  }

  string(name: string, dflt: string): string;
  string(name: string): string | undefined;
  string(name: string, dflt?: string): string | undefined {
    const a = this.get(name, AT.STRING);
    return a ? utf8(a.s ?? new Uint8Array(0)) : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, AT.INTS);
    return a ? (a.ints ?? []).map(int) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, AT.FLOATS);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  strings(name: string): string[] | undefined {
    const a = this.get(name, AT.STRINGS);
    return a ? (a.strings ?? []).map(utf8) : undefined;
  }

  tensor(name: string): TensorProto | undefined {
    const a = this.get(name, AT.TENSOR);
    return a ? (a.t ?? {}) : undefined;
  }

  /** The attribute's type name (for Constant, which takes one of several). */
  typeOf(name: string): string | undefined {
    const a = this.byName.get(name);
    return a ? TYPE_NAMES[a.type ?? AT.UNDEFINED] : undefined;
  }
}

/** Old exporters leave AttributeProto.type unset: infer it from the field that holds a value. */
function inferType(a: AttributeProto): number {
  if (a.floats?.length) return AT.FLOATS;
  if (a.ints?.length) return AT.INTS;
  if (a.strings?.length) return AT.STRINGS;
  if (a.tensors?.length) return AT.TENSORS;
  if (a.graphs?.length) return AT.GRAPHS;
  if (a.t) return AT.TENSOR;
  if (a.g) return AT.GRAPH;
  if (a.s?.length) return AT.STRING;
  if (a.f) return AT.FLOAT;
  return AT.INT;
}

const decoder = new TextDecoder('utf-8');
export function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}

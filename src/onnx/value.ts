/**
 * The values an imported graph computes with: a dtype, a shape and the numbers. float32 data is
 * a Float32Array (every result rounds to float32 as ONNX Runtime's would); every other dtype is
 * a Float64Array holding the exact value (integers are exact below 2^53, which covers shapes,
 * indices and token ids).
 */
import { OnnxError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';
export type Data = Float32Array | Float64Array;

export interface Value {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Data;
}

/** ONNX TensorProto.DataType codes of the dtypes we compute with. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float64: 11,
};

const FROM_CODE: Readonly<Record<number, DType>> = Object.fromEntries(
  Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]),
);

/** Names of every ONNX data type, for messages about the ones we do not support. */
const CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128',
  16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ',
};

export function typeCodeName(code: number): string {
  return CODE_NAMES[code] ?? `data type ${code}`;
}

/** The dtype of an ONNX data type code, or null when we do not compute with it. */
export function dtypeOf(code: number): DType | null {
  return FROM_CODE[code] ?? null;
}

export const BYTES: Readonly<Record<DType, number>> = {
  float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, bool: 1,
};

export const isFloat = (t: DType): boolean => t === 'float32' || t === 'float64';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** How much one tensor may hold: checked before anything is allocated. */
export interface Limits {
  readonly maxElements: number;
}

/** 2^26 elements (256 MB of float32) per tensor unless importOnnx's options say otherwise. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 26;

/** Throws unless a tensor of `shape` fits the limits; returns its element count. */
export function checkSize(shape: readonly number[], limits: Limits, what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`${what}: dimension ${d} in ${shapeStr(shape)} is not a non-negative integer`);
    n *= d;
  }
  if (n > limits.maxElements) {
    throw new OnnxError(
      `${what}: shape ${shapeStr(shape)} holds ${n} elements, more than the limit of ${limits.maxElements} ` +
        '(importOnnx option maxElements)',
    );
  }
  return n;
}

export function newData(dtype: DType, n: number): Data {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** A zero-filled value, after checking its size against the limits. */
export function alloc(dtype: DType, shape: readonly number[], limits: Limits, what: string): Value {
  return { dtype, shape: [...shape], data: newData(dtype, checkSize(shape, limits, what)) };
}

/** Maps a number to what `dtype` stores (wrapping integers as ONNX Runtime's C++ casts do). */
export function converter(dtype: DType): ((v: number) => number) | null {
  switch (dtype) {
    case 'float32':
    case 'float64':
      return null;
    case 'bool':
      return (v) => (v !== 0 ? 1 : 0);
    case 'int8':
      return (v) => ((trunc(v) << 24) >> 24);
    case 'uint8':
      return (v) => trunc(v) & 0xff;
    case 'int16':
      return (v) => ((trunc(v) << 16) >> 16);
    case 'uint16':
      return (v) => trunc(v) & 0xffff;
    case 'int32':
      return (v) => trunc(v) | 0;
    case 'int64':
      return trunc;
  }
}

function trunc(v: number): number {
  return Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** Converts a value to another dtype (ONNX Cast). */
export function castTo(v: Value, dtype: DType): Value {
  if (v.dtype === dtype) return v;
  const fix = converter(dtype);
  const out = newData(dtype, v.data.length);
  if (fix) for (let i = 0; i < out.length; i++) out[i] = fix(v.data[i]);
  else out.set(v.data);
  return { dtype, shape: v.shape, data: out };
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** numpy-style (multidirectional) broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each flat index of `out`, the flat index into a tensor of shape `src` broadcast to it
 * (`src` right-aligned, size-1 dimensions repeated). Returned as one Int32Array map, or null when
 * `src` equals `out` (the identity).
 */
export function broadcastIndex(src: readonly number[], out: readonly number[]): Int32Array | null {
  if (src.length === out.length && src.every((d, i) => d === out[i])) return null;
  const n = sizeOf(out), r = out.length;
  const map = new Int32Array(n);
  const ss = strides(src);
  const st = new Array<number>(r).fill(0);
  for (let i = 0; i < r; i++) {
    const k = src.length - r + i;
    st[i] = k >= 0 && src[k] !== 1 ? ss[k] : 0;
  }
  const idx = new Array<number>(r).fill(0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    map[i] = at;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      at += st[d];
      if (idx[d] < out[d]) break;
      at -= st[d] * out[d];
      idx[d] = 0;
    }
  }
  return map;
}

/** Normalizes an axis in [-rank, rank), naming what it is for in the error. */
export function normAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new OnnxError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

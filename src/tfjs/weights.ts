/**
 * The weights manifest (`weightSpecs`, or model.json's `weightsManifest`) and the bytes it
 * describes. The whole manifest is checked against the data before anything is allocated: every
 * entry's shape × bytes per value (its quantized dtype's, when quantized), in order, must cover
 * `weightData` exactly. Values are decoded as tfjs-core's `io.decodeWeights` decodes them:
 * little-endian float32, or dequantized — uint8/uint16 as `v · scale + min` (rounded once to
 * float32), float16 widened exactly.
 */
import { TfjsError, dims, isObject, q, show } from './errors.js';

/** At most this many entries in a manifest (a Keras model has a handful per layer). */
export const MAX_WEIGHTS = 65_536;
/** At most this many values in one weight (what a WebAssembly memory can hold as float32). */
export const MAX_WEIGHT_VALUES = 2 ** 30;
/** At most this many bytes of weights in a model (a WebAssembly memory holds 4 GiB). */
export const MAX_WEIGHT_BYTES = 2 ** 32;

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

/** The weight data as importTfjs accepts it: what `model.save` hands a save handler, or file bytes. */
export type WeightData = ArrayBuffer | readonly ArrayBuffer[] | ArrayBufferView;

export interface Quantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly scale: number;
  readonly min: number;
}

/** One checked manifest entry and where its bytes are. */
export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly group: string | undefined;
  readonly quantization: Quantization | undefined;
  readonly size: number;
  readonly offset: number;
  readonly bytes: number;
}

/** Byte access over one buffer or several (tfjs 4 may hand over `ArrayBuffer[]`), without joining them. */
export class WeightBytes {
  private readonly parts: Uint8Array[];
  readonly byteLength: number;

  constructor(data: unknown, what: string) {
    const parts = Array.isArray(data) ? data : [data];
    if (parts.length > MAX_WEIGHTS) throw new TfjsError(`${what} must be an ArrayBuffer, ArrayBuffer[] or a byte view; got an array of ${parts.length}`);
    this.parts = parts.map((p, i) => {
      const view = bytesOf(p);
      if (!view) {
        throw new TfjsError(`${what}${Array.isArray(data) ? `[${i}]` : ''} must be an ArrayBuffer${Array.isArray(data) ? '' : ', ArrayBuffer[]'} or a byte view (Uint8Array, Buffer), got ${typeName(p)}`);
      }
      return view;
    });
    this.byteLength = this.parts.reduce((a, p) => a + p.byteLength, 0);
  }

  /** A fresh, aligned copy of bytes [offset, offset + length) (the caller checked the range). */
  copy(offset: number, length: number): ArrayBuffer {
    const out = new Uint8Array(length);
    let at = 0, start = 0;
    for (const p of this.parts) {
      const end = start + p.byteLength;
      if (end > offset && start < offset + length) {
        const from = Math.max(offset, start) - start, to = Math.min(offset + length, end) - start;
        out.set(p.subarray(from, to), at);
        at += to - from;
      }
      start = end;
      if (start >= offset + length) break;
    }
    return out.buffer;
  }
}

function bytesOf(p: unknown): Uint8Array | null {
  const tag = Object.prototype.toString.call(p);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(p as ArrayBuffer);
  if (ArrayBuffer.isView(p)) return new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  return null;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Checks every entry (name, shape, dtype, quantization) and that their sizes add up to the
 * data's length, in order, before anything is read or allocated.
 */
export function readManifest(specs: unknown, data: WeightBytes, what: string): WeightEntry[] {
  const entries = checkManifest(specs, what, data.byteLength, 'weightData has');
  const total = entries.reduce((a, e) => a + e.bytes, 0);
  if (total !== data.byteLength) {
    throw new TfjsError(`${what} describes ${total} bytes of weights, but weightData has ${data.byteLength} (${data.byteLength - total} bytes too many)`);
  }
  return entries;
}

/**
 * The entries of a manifest, checked, with their offsets; stops as soon as they need more than
 * `limit` bytes (`limitWhat` says what the limit is, for the message).
 */
export function checkManifest(specs: unknown, what: string, limit = MAX_WEIGHT_BYTES, limitWhat = 'a WebAssembly memory holds'): WeightEntry[] {
  if (!Array.isArray(specs)) throw new TfjsError(`${what} must be an array of weight entries {name, shape, dtype}, got ${typeName(specs)}`);
  if (specs.length > MAX_WEIGHTS) throw new TfjsError(`${what} lists ${specs.length} weights, more than ${MAX_WEIGHTS}`);
  const cap = Math.min(limit, MAX_WEIGHT_BYTES);
  const out: WeightEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  specs.forEach((s: unknown, i) => {
    const at = `${what}[${i}]`;
    if (!isObject(s)) throw new TfjsError(`${at} must be an object {name, shape, dtype}, got ${typeName(s)}`);
    const { name, shape, dtype, group, quantization } = s;
    if (typeof name !== 'string' || name.length === 0 || name.length > 4096) throw new TfjsError(`${at}.name must be a non-empty string, got ${show(name)}`);
    const label = `${at} (${q(name)})`;
    if (seen.has(name)) throw new TfjsError(`${label}: the name is listed twice`);
    seen.add(name);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TfjsError(`${label}.shape must be an array of at most 8 non-negative integers, got ${show(shape)}`);
    }
    let size = 1;
    for (const d of shape as number[]) size *= d;
    if (size > MAX_WEIGHT_VALUES) throw new TfjsError(`${label}: shape ${dims(shape as number[])} holds ${size} values, more than ${MAX_WEIGHT_VALUES}`);
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new TfjsError(`${label}: dtype ${show(dtype)} is not supported (supported: 'float32', 'int32', 'bool')`);
    }
    if (group !== undefined && group !== null && typeof group !== 'string') throw new TfjsError(`${label}.group must be a string, got ${show(group)}`);
    const quant = quantization === undefined || quantization === null ? undefined : parseQuantization(quantization, dtype, label);
    const bytes = size * (quant ? QUANTIZED_BYTES[quant.dtype] : DTYPE_BYTES[dtype]);
    if (offset + bytes > cap) {
      throw new TfjsError(
        `${label}: the manifest needs at least ${offset + bytes} bytes of weight data up to this weight, but ${cap < limit ? 'a WebAssembly memory holds' : limitWhat} ${cap}`,
      );
    }
    out.push({ name, shape: [...(shape as number[])], dtype, group: typeof group === 'string' ? group : undefined, quantization: quant, size, offset, bytes });
    offset += bytes;
  });
  return out;
}

function parseQuantization(v: unknown, dtype: string, label: string): Quantization {
  if (!isObject(v)) throw new TfjsError(`${label}.quantization must be an object {dtype, scale, min}, got ${show(v)}`);
  const qd = v.dtype;
  if (typeof qd !== 'string' || !(qd in QUANTIZED_BYTES)) {
    throw new TfjsError(`${label}: quantization dtype ${show(qd)} is not supported (supported: 'uint8', 'uint16', 'float16')`);
  }
  if (qd === 'float16') {
    if (dtype !== 'float32') throw new TfjsError(`${label}: float16 quantization needs a float32 weight, got dtype ${q(dtype)}`);
    return { dtype: 'float16', scale: 1, min: 0 };
  }
  const { scale, min } = v;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || typeof min !== 'number' || !Number.isFinite(min)) {
    throw new TfjsError(`${label}: ${qd} quantization needs finite numbers 'scale' and 'min', got scale ${show(scale)}, min ${show(min)}`);
  }
  return { dtype: qd as 'uint8' | 'uint16', scale, min };
}

/** A float32 weight's values, dequantized when quantized, each checked finite. */
export function decodeFloat32(e: WeightEntry, data: WeightBytes, label: string): Float32Array {
  if (e.dtype !== 'float32') throw new TfjsError(`importTfjs: ${label}: weight ${q(e.name)} has dtype ${q(e.dtype)}; our layers need float32`, label);
  const raw = data.copy(e.offset, e.bytes);
  let out: Float32Array;
  const qz = e.quantization;
  if (!qz) out = new Float32Array(raw);
  else if (qz.dtype === 'float16') {
    const h = new Uint16Array(raw);
    out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
  } else {
    const v = qz.dtype === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
    out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i] * qz.scale + qz.min;
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new TfjsError(`importTfjs: ${label}: weight ${q(e.name)} holds ${out[i]} at flat index ${i}${qz ? ` (after ${qz.dtype} dequantization)` : ''}`, label);
    }
  }
  return out;
}

/** IEEE 754 binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

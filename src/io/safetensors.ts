/**
 * safetensors (https://huggingface.co/docs/safetensors): the tensor file format of PyTorch and
 * Hugging Face. A file is an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * (tensor name → {dtype, shape, data_offsets: [begin, end]}, offsets relative to the data after
 * the header, plus an optional "__metadata__" object of strings), then the data, little-endian.
 *
 * The reader refuses everything the reference library (huggingface/safetensors) refuses, and also
 * what it lets through: duplicate keys, unknown entry fields, non-integer number literals, a null
 * "__metadata__". It checks the whole header against the file's length before it allocates an
 * output, so a hostile file costs at most a parse of its own header. The writer produces the bytes the
 * reference writes for float32 tensors: compact JSON, tensors in name order (code points), the
 * header padded with spaces to a multiple of 8 bytes. The reference writes `__metadata__` in hash
 * order; we write its keys in code-point order, so equal content gives equal bytes.
 */
import { Tensor, toTensor, typeName, type TensorLike } from '../tensor.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

/** A file that is not valid safetensors, or holds values float32 cannot represent. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`readSafetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

export interface SafetensorsContents {
  /** Every tensor as float32, in the order of the data buffer. */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` ({} when there is none). */
  metadata: Record<string, string>;
}

/** The reference library's cap on the header; larger headers are refused by reader and writer. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of the dtypes we read. Integers and BOOL are read when float32 holds them exactly. */
const READABLE = new Map<string, number>([
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2],
  ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1],
  ['U64', 8], ['U32', 4], ['U16', 2], ['U8', 1], ['BOOL', 1],
]);
/** Dtypes of the format that we refuse by name (sub-byte and 8-bit floats, complex). */
const UNSUPPORTED = new Set(['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'C64']);
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];
const METADATA_KEY = '__metadata__';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  size: number;
  begin: number;
  end: number;
}

/**
 * Reads a safetensors file. F32, F16, BF16 and F64 become float32 (F64 rounded to nearest);
 * integer and BOOL tensors become float32 when every value is exactly representable.
 * A malformed file throws a SafetensorsError naming what is wrong; nothing is allocated for
 * tensors until the whole header has been checked against the file.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`readSafetensors: bytes must be a Uint8Array, got ${typeName(bytes)}`);
  }
  const { headerLength, text, header } = readHeaderJson(bytes);
  const dataLength = bytes.length - 8 - headerLength;
  const { entries, metadata } = checkHeader(header);
  checkDuplicatesAndNumbers(text);
  checkOffsets(entries, dataLength);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    const data = decode(bytes, view, 8 + headerLength + e.begin, e);
    defineOwn(tensors, e.name, new Tensor(data, e.shape));
  }
  return { tensors, metadata };
}

function readHeaderJson(bytes: Uint8Array): { headerLength: number; text: string; header: unknown } {
  if (bytes.length < 8) {
    throw new SafetensorsError(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`header length ${n64} exceeds the limit of ${SAFETENSORS_MAX_HEADER_BYTES} bytes`);
  }
  const n = Number(n64);
  if (n < 2) throw new SafetensorsError(`header length ${n} is too small (the shortest header, {}, is 2 bytes)`);
  if (8 + n > bytes.length) {
    throw new SafetensorsError(`header length ${n} needs ${8 + n} bytes, but the file has only ${bytes.length} (truncated?)`);
  }
  // TextDecoder refuses views of a SharedArrayBuffer: copy the header out of one.
  const headerBytes = bytes.buffer instanceof ArrayBuffer ? bytes.subarray(8, 8 + n) : bytes.slice(8, 8 + n);
  let text: string;
  try {
    // A byte-order mark stays in the text (ignoreBOM), where JSON.parse refuses it as the reference does.
    text = decodeUtf8(headerBytes);
  } catch {
    throw new SafetensorsError(`the header (bytes 8 to ${8 + n}) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`the header is not valid JSON: ${(err as Error).message}`);
  }
  return { headerLength: n, text, header };
}

function checkHeader(header: unknown): { entries: Entry[]; metadata: Record<string, string> } {
  if (!isJsonObject(header)) {
    throw new SafetensorsError(`the header must be a JSON object, got ${jsonType(header)}`);
  }
  const entries: Entry[] = [];
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === METADATA_KEY) {
      if (!isJsonObject(value)) throw new SafetensorsError(`__metadata__ must be an object of strings, got ${jsonType(value)}`);
      for (const key of Object.keys(value)) {
        const v = value[key];
        if (typeof v !== 'string') {
          throw new SafetensorsError(`__metadata__ '${brief(key)}' must be a string, got ${jsonType(v)}`);
        }
        defineOwn(metadata, key, v);
      }
      continue;
    }
    entries.push(checkEntry(name, value));
  }
  return { entries, metadata };
}

function checkEntry(name: string, value: unknown): Entry {
  const what = `tensor '${brief(name)}'`;
  if (!isJsonObject(value)) {
    throw new SafetensorsError(`${what} must be an object {dtype, shape, data_offsets}, got ${jsonType(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!ENTRY_KEYS.includes(key)) {
      throw new SafetensorsError(`${what} has an unexpected key '${brief(key)}' (expected dtype, shape, data_offsets)`);
    }
  }
  for (const key of ENTRY_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) throw new SafetensorsError(`${what} has no '${key}'`);
  }
  const { dtype, shape, data_offsets: offsets } = value as { dtype: unknown; shape: unknown; data_offsets: unknown };
  if (typeof dtype !== 'string') throw new SafetensorsError(`${what} dtype must be a string, got ${jsonType(dtype)}`);
  const itemBytes = READABLE.get(dtype);
  if (itemBytes === undefined) {
    if (UNSUPPORTED.has(dtype)) {
      throw new SafetensorsError(
        `${what} has dtype ${dtype}, which wasm-rnn does not read (it reads ${[...READABLE.keys()].join(', ')})`,
      );
    }
    throw new SafetensorsError(`${what} has an unknown dtype ${brief(JSON.stringify(dtype))}`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw new SafetensorsError(`${what} shape must be an array of non-negative integers, got ${brief(show(shape))}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new SafetensorsError(`${what} data_offsets must be [begin, end] of non-negative integers, got ${brief(show(offsets))}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError(`${what} data_offsets [${begin}, ${end}] end before they begin`);
  // Like the reference, refuse a shape whose running product overflows, even when a later dimension is 0.
  let size = 1;
  for (const d of shape as number[]) {
    size *= d;
    if (size > Number.MAX_SAFE_INTEGER) {
      throw new SafetensorsError(`${what} shape ${brief(show(shape))} has more elements than a safe integer can count`);
    }
  }
  const byteLength = size * itemBytes;
  if (byteLength !== end - begin) {
    throw new SafetensorsError(
      `${what} of shape ${brief(`[${shape.join(', ')}]`)} and dtype ${dtype} needs ${byteLength} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], size, begin, end };
}

/** The tensors, sorted by offset, must tile the data buffer exactly: from 0, no gap, no overlap, to its end. */
function checkOffsets(entries: Entry[], dataLength: number): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: Entry | null = null;
  for (const e of entries) {
    if (e.begin !== at) {
      const where = prev ? `where tensor '${brief(prev.name)}' ends` : 'the start of the data buffer';
      throw new SafetensorsError(
        `tensor '${brief(e.name)}' data_offsets [${e.begin}, ${e.end}] ${e.begin < at ? 'overlap' : 'leave a gap'}: ` +
          `expected it to begin at ${at}, ${where}`,
      );
    }
    at = e.end;
    prev = e;
  }
  if (at > dataLength) {
    throw new SafetensorsError(
      `the tensors need ${at} bytes of data, but the file holds ${dataLength} after its header (truncated?)`,
    );
  }
  if (at < dataLength) {
    throw new SafetensorsError(`the tensors cover ${at} bytes of data, but the file holds ${dataLength} after its header`);
  }
}

/**
 * JSON.parse keeps the last of duplicate keys silently, and reads 1.0 or 1e0 as the integer 1; the
 * reference refuses both. This scan runs on text JSON.parse accepted and checkHeader validated, so it
 * only has to follow strings, braces and commas.
 */
function checkDuplicatesAndNumbers(text: string): void {
  interface Frame { keys: Set<string> | null; name: string; lastKey: string }
  const stack: Frame[] = [];
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          const where = stack.length === 1 ? 'the header' : top.name === METADATA_KEY ? '__metadata__' : `tensor '${brief(top.name)}'`;
          throw new SafetensorsError(`duplicate key '${brief(key)}' in ${where}`);
        }
        top.keys.add(key);
        top.lastKey = key;
        expectKey = false;
      }
      i = j + 1;
    } else if (c === 0x7b /* { */) {
      const parent = stack[stack.length - 1];
      stack.push({ keys: new Set(), name: parent ? parent.lastKey : '', lastKey: '' });
      expectKey = true;
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, name: '', lastKey: '' });
      expectKey = false;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1]?.keys !== null;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && /[0-9eE+.-]/.test(text[j])) j++;
      const literal = text.slice(i, j);
      if (!/^(0|[1-9][0-9]*)$/.test(literal)) {
        throw new SafetensorsError(`the header number ${brief(literal)} is not written as a non-negative integer`);
      }
      i = j;
    } else {
      i++;
    }
  }
}

function decode(bytes: Uint8Array, view: DataView, at: number, e: Entry): Float32Array {
  const n = e.size;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const bits = new Uint32Array(out.buffer);
  switch (e.dtype) {
    case 'F32':
      // Copies (an offset need not be 4-aligned); reading bits keeps NaN payloads exact.
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * n));
      else for (let i = 0; i < n; i++) bits[i] = view.getUint32(at + 4 * i, true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      break;
    case 'F16':
      for (let i = 0; i < n; i++) {
        const h = view.getUint16(at + 2 * i, true);
        const sign = (h & 0x8000) << 16;
        const exp = (h >> 10) & 0x1f;
        const man = h & 0x3ff;
        if (exp === 0x1f) bits[i] = sign | 0x7f800000 | (man << 13);
        else if (exp !== 0) bits[i] = sign | ((exp + 112) << 23) | (man << 13);
        else out[i] = (sign ? -man : man) * 2 ** -24; // zero or subnormal, exact in float32
      }
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, true);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = bytes[at + i] === 0 ? 0 : 1;
      break;
    case 'U8':
      out.set(bytes.subarray(at, at + n));
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(at + i);
      break;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(at + 2 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, true);
      break;
    case 'U32':
    case 'I32': {
      const signed = e.dtype === 'I32';
      for (let i = 0; i < n; i++) {
        const v = signed ? view.getInt32(at + 4 * i, true) : view.getUint32(at + 4 * i, true);
        if (Math.fround(v) !== v) inexact(e, i, String(v));
        out[i] = v;
      }
      break;
    }
    case 'U64':
    case 'I64': {
      const signed = e.dtype === 'I64';
      for (let i = 0; i < n; i++) {
        const v = signed ? view.getBigInt64(at + 8 * i, true) : view.getBigUint64(at + 8 * i, true);
        const f = Math.fround(Number(v));
        if (BigInt(f) !== v) inexact(e, i, String(v));
        out[i] = f;
      }
      break;
    }
    default:
      throw new Error(`readSafetensors: internal error, no decoder for ${e.dtype}`);
  }
  return out;
}

function inexact(e: Entry, index: number, value: string): never {
  throw new SafetensorsError(
    `tensor '${brief(e.name)}' (${e.dtype}) holds ${value} at flat index ${index}, which float32 cannot represent exactly; ` +
      `convert the tensor to a float dtype before saving it`,
  );
}

/**
 * Writes float32 tensors (any TensorLike) as a safetensors file, byte for byte as the reference
 * library would. `metadata` becomes the header's `__metadata__` (left out when undefined).
 */
export function writeSafetensors(tensors: Record<string, TensorLike>, metadata?: Record<string, string>): Uint8Array {
  const fn = 'writeSafetensors';
  if (!isPlainObject(tensors)) {
    throw new TypeError(`${fn}: tensors must be a plain object of name → tensor, got ${typeName(tensors)}`);
  }
  // UTF-8 never takes fewer bytes than UTF-16 code units: `atLeast` bounds the header from below,
  // so an oversized one is refused before it is built.
  let atLeast = 2;
  const tooLarge = (bytes: number): RangeError =>
    new RangeError(`${fn}: the header would be at least ${bytes} bytes, over the limit of ${SAFETENSORS_MAX_HEADER_BYTES}`);
  const items: Array<{ name: string; tensor: Tensor }> = [];
  for (const name of Object.keys(tensors)) {
    if (name === METADATA_KEY) throw new RangeError(`${fn}: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    checkWellFormed(name, `${fn}: tensor name ${JSON.stringify(name)}`);
    items.push({ name, tensor: toTensor(tensors[name], `${fn}: tensors['${name}']`) });
    atLeast += name.length + 3;
  }
  let meta: Array<[string, string]> | null = null;
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) {
      throw new TypeError(`${fn}: metadata must be a plain object of strings (or undefined), got ${typeName(metadata)}`);
    }
    meta = [];
    for (const key of Object.keys(metadata)) {
      const v: unknown = metadata[key];
      if (typeof v !== 'string') throw new TypeError(`${fn}: metadata['${key}'] must be a string, got ${typeName(v)}`);
      checkWellFormed(key, `${fn}: metadata key ${JSON.stringify(key)}`);
      checkWellFormed(v, `${fn}: metadata['${key}']`);
      meta.push([key, v]);
      atLeast += key.length + v.length + 6;
    }
    meta.sort((a, b) => compareCodePoints(a[0], b[0]));
  }
  if (atLeast > SAFETENSORS_MAX_HEADER_BYTES) throw tooLarge(atLeast);
  items.sort((a, b) => compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (meta) parts.push(`"${METADATA_KEY}":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  let offset = 0;
  for (const { name, tensor } of items) {
    const end = offset + tensor.data.length * 4;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const text = `{${parts.join(',')}}`;
  if (text.length > SAFETENSORS_MAX_HEADER_BYTES) throw tooLarge(text.length);
  const json = encodeUtf8(text);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new RangeError(`${fn}: the header would be ${headerLength} bytes, over the limit of ${SAFETENSORS_MAX_HEADER_BYTES}`);
  }
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { tensor } of items) {
    const d = tensor.data;
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    } else {
      const bits = new Uint32Array(d.buffer, d.byteOffset, d.length);
      for (let i = 0; i < bits.length; i++) view.setUint32(at + 4 * i, bits[i], true);
    }
    at += d.byteLength;
  }
  return out;
}

/** Code-point order (Rust's and Python's string order); UTF-16 code-unit order differs above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (code points ≥ U+10000) above U+E000..U+FFFF, keeping each group's order. */
function codePointRank(unit: number): number {
  return unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** UTF-8 cannot encode a lone surrogate (TextEncoder would write U+FFFD instead). */
function checkWellFormed(s: string, what: string): void {
  if (nativeIsWellFormed?.call(s)) return; // ES2024: no scan at all for one-byte strings
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u < 0xd800 || u > 0xdfff) continue;
    const next = s.charCodeAt(i + 1);
    if (u <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    throw new RangeError(`${what} holds a lone surrogate at index ${i}, which UTF-8 cannot encode`);
  }
}

function isIndex(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v} (${brief(show(v))})`;
}

/** JSON, except that numbers JSON cannot spell (1e400 parses as Infinity) show as themselves. */
function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** A name or value for an error message, cut short: a hostile header may hold megabytes of it. */
function brief(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** An own property even for names such as '__proto__'. */
function defineOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

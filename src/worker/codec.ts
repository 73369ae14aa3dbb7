/**
 * How values cross between a page and its worker. Structured clone does the copying; this file
 * says what it cannot: a Tensor travels as { data, shape } and arrives as a Tensor of the
 * receiving side's core; a model given back by its own method arrives as its handle; a tokenizer
 * (anything with toJSON) travels as its JSON; functions, other models and other class instances
 * are refused with an error naming where they were. Buffers marked with transfer() move instead
 * of being copied, and so do the buffers of every result (the worker keeps no reference to them).
 */
import { Module, Tensor } from '../index.js';

const TENSOR = '__wasmRnnTensor';
const SELF = '__wasmRnnSelf';

const marks = new WeakMap<object, readonly ArrayBuffer[]>();

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;

/**
 * Marks `buffers` to be moved (transferred), not copied, when `value` is sent to the worker as
 * part of any call's arguments; the sender's buffers are detached afterwards. Returns `value`.
 */
export function transfer<T>(value: T, buffers: readonly ArrayBuffer[]): T {
  if (value === null || typeof value !== 'object') throw new TypeError(`transfer: value must be an object (what the buffers belong to), got ${describe(value)}`);
  if (!Array.isArray(buffers) || !buffers.every((b) => b instanceof ArrayBuffer)) {
    throw new TypeError(`transfer: buffers must be an array of ArrayBuffers (e.g. [x.buffer]), got ${describe(buffers)}`);
  }
  marks.set(value, buffers);
  return value;
}

export interface Encoded {
  value: unknown;
  transfer: ArrayBuffer[];
}

/**
 * `value` ready for postMessage. `where` names it in errors ("forward's argument 1") and `to`
 * says where it goes. With `move`, every typed array's buffer is transferred — a view of part of
 * a buffer is copied first, so nothing else loses its buffer. `self` (a result's own model)
 * is sent as a reference to its handle.
 */
export function encode(fn: string, where: string, value: unknown, to: 'worker' | 'page', move: boolean, self?: Module): Encoded {
  const buffers = new Set<ArrayBuffer>();
  const seen = new Map<object, unknown>();
  const refuse = (path: string, what: string, hint = ''): never => {
    throw new TypeError(`${fn}: ${path} is ${what}, which cannot cross to the ${to}${hint}`);
  };
  const view = (v: ArrayBufferView): ArrayBufferView => {
    if (!move) return v;
    const whole = v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
    const own = whole ? v : v instanceof DataView ? new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))
      : new (v.constructor as new (a: ArrayBufferView) => ArrayBufferView)(v);
    buffers.add(own.buffer as ArrayBuffer);
    return own;
  };
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'function') refuse(path, 'a function');
    if (typeof v === 'symbol') refuse(path, 'a symbol');
    if (v === null || typeof v !== 'object') return v;
    marks.get(v)?.forEach((b) => buffers.add(b));
    if (seen.has(v)) return seen.get(v);
    if (v instanceof Tensor) {
      const out = { [TENSOR]: 1, data: view(v.data), shape: [...v.shape] };
      seen.set(v, out);
      return out;
    }
    if (ArrayBuffer.isView(v)) return view(v);
    if (v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return v;
    if (v instanceof Module) {
      if (v === self) return { [SELF]: 1 };
      refuse(path, `a ${v.constructor.name} model`, to === 'worker' ? ' (send save() bytes and load() them there)' : '');
    }
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      v.forEach((x, i) => (out[i] = walk(x, `${path}[${i}]`)));
      return out;
    }
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {};
      seen.set(v, out);
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, `${path}.${k}`);
      return out;
    }
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return walk(json.call(v), path);
    return refuse(path, `a ${describe(v)}`);
  };
  const out = walk(value, where);
  return { value: out, transfer: [...buffers] };
}

/** The received `value` with its Tensors (and its model reference, as `self`) restored, in place. */
export function decode(value: unknown, self?: unknown): unknown {
  const seen = new Set<object>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || seen.has(v)) return v;
    const o = v as Record<string, unknown>;
    if (o[TENSOR] === 1) return new Tensor(o.data as Float32Array, o.shape as number[]);
    if (o[SELF] === 1 && self !== undefined) return self;
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => (v[i] = walk(x)));
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const k of Object.keys(o)) o[k] = walk(o[k]);
    return v;
  };
  return walk(value);
}

/** A worker error as plain data (structured clone keeps only some errors' class and fields). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** NonFiniteError's fields. */
  fields?: Record<string, unknown>;
}

export function wireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (v === null || typeof v !== 'object') fields[k] = v;
  return { name: err.name, message: err.message, stack: err.stack, fields };
}

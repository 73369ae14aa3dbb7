/**
 * Argument checks shared by the data layer. Every message names the function, the argument,
 * what was expected and what came, in the words src/layers/options.ts uses.
 */
import { typeName } from '../tensor.js';
import { checkOptions, fmt } from '../layers/options.js';

export { fmt, typeName };

/**
 * The most values one array built here may hold: 2^30 float32 values fill the 4 GiB a wasm32
 * memory can address, so no layer could take anything larger. Checked before allocating.
 */
export const MAX_VALUES = 2 ** 30;

/** Checks an optional options object: undefined is no options, anything else must be a plain object of known keys. */
export function readOptions(fn: string, options: unknown, allowed: readonly string[]): void {
  if (options !== undefined) checkOptions(fn, options, allowed);
}

/** Checks a required options object. */
export function requireOptions(fn: string, options: unknown, allowed: readonly string[]): void {
  checkOptions(fn, options, allowed);
}

export function positiveInt(fn: string, name: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${fn}: ${name} must be a positive integer, got ${fmt(v)}`);
  }
  return v;
}

export function nonNegativeInt(fn: string, name: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${fmt(v)}`);
  }
  return v;
}

export function bool(fn: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${fmt(v)}`);
  return v;
}

export function finiteNumber(fn: string, name: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(`${fn}: ${name} must be a finite number, got ${fmt(v)}`);
  }
  return v;
}

/** 'a', 'b' or 'c' */
export function quotedList(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

export function choice<T extends string>(fn: string, name: string, v: unknown, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new RangeError(`${fn}: ${name} must be ${quotedList(choices)}, got ${fmt(v)}`);
  }
  return v as T;
}

/** The shuffle seed: an integer, 0 when absent (reproducible by default, like lmBatches). */
export function seed(fn: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${fn}: seed must be an integer, got ${fmt(v)}`);
  return v;
}

/** An array, typed array or other object with a length, but not a string. */
export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v !== null && typeof v === 'object' && Number.isSafeInteger((v as { length?: unknown }).length) && (v as ArrayLike<unknown>).length >= 0;
}

export function isIterable(v: unknown): v is Iterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

export function isInt32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}

/** Refuses, before allocating, an array of more than MAX_VALUES values. */
export function checkSize(fn: string, what: string, n: number): void {
  if (!(n <= MAX_VALUES)) {
    throw new RangeError(`${fn}: ${what} would hold ${n} values, more than the ${MAX_VALUES} (2^30) one array may hold`);
  }
}

/**
 * The object a fromJSON() reads: a JSON string or an already parsed object, whose `type` and
 * `version` say it is what the caller reads.
 */
export function jsonObject(fn: string, json: unknown, type: string, version: number): Record<string, unknown> {
  let obj = json;
  if (typeof json === 'string') {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new TypeError(`${fn}: json is a string but not valid JSON (${(e as Error).message})`);
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TypeError(`${fn}: json must be an object (or its JSON text), got ${typeName(obj)}`);
  }
  const o = obj as Record<string, unknown>;
  if (o.type !== type) throw new TypeError(`${fn}: json.type must be '${type}', got ${fmt(o.type)}`);
  if (o.version !== version) throw new RangeError(`${fn}: json.version must be ${version}, got ${fmt(o.version)}`);
  return o;
}

/** A JSON array of finite numbers of the given length. */
export function jsonNumbers(fn: string, name: string, v: unknown, length: number): number[] {
  if (!Array.isArray(v) || v.length !== length) {
    throw new TypeError(`${fn}: ${name} must be an array of ${length} numbers, got ${Array.isArray(v) ? `length ${v.length}` : typeName(v)}`);
  }
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) {
      throw new TypeError(`${fn}: ${name}[${i}] must be a finite number, got ${fmt(v[i])}`);
    }
  }
  return v as number[];
}

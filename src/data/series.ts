/**
 * The forms a time series comes in, read into one: N steps of F features, row-major. A 1-D array
 * is univariate; arrays of rows and { data, shape: [N, F] } (a Tensor, or any flat array with its
 * shape) are multivariate.
 */
import { fmt, isArrayLike, typeName } from './checks.js';

export type SeriesLike =
  | ArrayLike<number>
  | readonly ArrayLike<number>[]
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

export interface Series {
  /** N·F values, row-major: step n's feature f is values[n·F + f]. */
  values: ArrayLike<number>;
  /** Steps. */
  length: number;
  /** Values per step (the last dimension). */
  features: number;
  /** The shape it came in: [N] for a 1-D array, [N, F] otherwise. */
  shape: number[];
}

function finite(fn: string, where: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${fn}: ${where} must be a finite number, got ${fmt(v)}`);
}

/** Reads a series, checking every value is a finite number. */
export function readSeries(fn: string, name: string, s: unknown): Series {
  if (isArrayLike(s)) {
    const N = s.length;
    if (N === 0 || !isArrayLike(s[0])) {
      for (let i = 0; i < N; i++) finite(fn, `${name}[${i}]`, s[i]);
      return { values: s as ArrayLike<number>, length: N, features: 1, shape: [N] };
    }
    const F = (s[0] as ArrayLike<unknown>).length;
    if (F === 0) throw new RangeError(`${fn}: ${name}[0] must be a row of at least one value, got an empty one`);
    const values = new Float64Array(N * F);
    for (let i = 0; i < N; i++) {
      const row = s[i];
      if (!isArrayLike(row) || row.length !== F) {
        throw new RangeError(`${fn}: ${name}[${i}] must be a row of ${F} numbers like ${name}[0], got ${isArrayLike(row) ? `length ${row.length}` : fmt(row)}`);
      }
      for (let f = 0; f < F; f++) {
        finite(fn, `${name}[${i}][${f}]`, row[f]);
        values[i * F + f] = row[f] as number;
      }
    }
    return { values, length: N, features: F, shape: [N, F] };
  }
  if (s !== null && typeof s === 'object' && 'data' in s && 'shape' in s) {
    const { data, shape } = s as { data: unknown; shape: unknown };
    if (!isArrayLike(data)) throw new TypeError(`${fn}: ${name}.data must be an array of numbers, got ${typeName(data)}`);
    if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 2) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${fn}: ${name}.shape must be [N] or [N, features], got ${Array.isArray(shape) ? `[${shape.map(fmt).join(', ')}]` : typeName(shape)}`);
    }
    const N = shape[0], F = shape.length === 2 ? shape[1] : 1;
    if (F === 0) throw new RangeError(`${fn}: ${name}.shape must have at least one feature, got [${shape.join(', ')}]`);
    if (data.length !== N * F) throw new RangeError(`${fn}: ${name}.shape [${shape.join(', ')}] holds ${N * F} values, but its data has ${data.length}`);
    for (let i = 0; i < data.length; i++) finite(fn, `${name}.data[${i}]`, data[i]);
    return { values: data as ArrayLike<number>, length: N, features: F, shape: [...shape] };
  }
  throw new TypeError(`${fn}: ${name} must be an array of numbers, an array of rows or { data, shape }, got ${fmt(s)}`);
}

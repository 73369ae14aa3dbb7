/**
 * Chronological splits: the first steps train, the next validate, the last test. Nothing is
 * shuffled, so no future value reaches training; window each part on its own (slidingWindows) and
 * fit scalers on the training part only, and no window or statistic crosses a boundary.
 */
import { fmt, isArrayLike, requireOptions, typeName } from './checks.js';
import { Tensor } from '../tensor.js';

export interface SplitOptions {
  /** The training share of the steps, in (0, 1): the first floor(N·trainFraction). */
  trainFraction?: number;
  /** Or the index the training part ends before (exclusive). */
  trainEnd?: number;
  /** The validation share, in (0, 1), after the training part; without it there is no validation part. */
  valFraction?: number;
  /** Or the index the validation part ends before (exclusive). */
  valEnd?: number;
}

export interface Split<S> {
  train: S;
  /** Present when valFraction or valEnd was given. */
  val?: S;
  test: S;
  /** The steps [0, trainEnd) train, [trainEnd, valEnd) validate, [valEnd, N) test (valEnd = trainEnd without validation). */
  trainEnd: number;
  valEnd: number;
}

/** Anything with steps along its first axis: an array (of numbers, rows, Dates, …), a typed array, or { data, shape }. */
export type Splittable = ArrayLike<unknown> | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

function sliceOf(a: ArrayLike<unknown>, from: number, to: number): ArrayLike<unknown> {
  const s = (a as { slice?: unknown }).slice;
  return typeof s === 'function' ? (s as (f: number, t: number) => ArrayLike<unknown>).call(a, from, to) : Array.prototype.slice.call(a, from, to);
}

function fraction(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new RangeError(`${fn}: ${name} must be a number in (0, 1), got ${fmt(v)}`);
  return v;
}

/** floor(N·f), forgiving float dust such as 0.29·100 = 28.999999999999996. */
function share(N: number, f: number): number {
  return Math.floor(N * f + 1e-9);
}

/**
 * Splits along time. Each part is the same kind as the input: arrays and typed arrays give
 * slices of the same type, { data, shape } gives { data, shape } with its first dimension cut
 * (a Tensor gives Tensors). Every part must hold at least one step.
 */
export function splitByTime<S extends Splittable>(series: S, options: SplitOptions): Split<S> {
  const fn = 'splitByTime';
  requireOptions(fn, options, ['trainFraction', 'trainEnd', 'valFraction', 'valEnd']);
  let N: number, cut: (from: number, to: number) => S;
  if (isArrayLike(series)) {
    N = series.length;
    cut = (from, to) => sliceOf(series, from, to) as S;
  } else if (series !== null && typeof series === 'object' && 'data' in series && 'shape' in series) {
    const { data, shape } = series as { data: unknown; shape: unknown };
    if (!isArrayLike(data)) throw new TypeError(`${fn}: series.data must be an array of numbers, got ${typeName(data)}`);
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${fn}: series.shape must be [N, …] of non-negative integers, got ${Array.isArray(shape) ? `[${shape.map(fmt).join(', ')}]` : typeName(shape)}`);
    }
    const row = (shape as number[]).slice(1).reduce((a, b) => a * b, 1);
    if (data.length !== shape[0] * row) throw new RangeError(`${fn}: series.shape [${shape.join(', ')}] holds ${shape[0] * row} values, but its data has ${data.length}`);
    N = shape[0];
    cut = (from, to) => {
      const part = sliceOf(data, from * row, to * row) as ArrayLike<number>;
      const partShape = [to - from, ...(shape as number[]).slice(1)];
      return (series instanceof Tensor && part instanceof Float32Array ? new Tensor(part, partShape) : { data: part, shape: partShape }) as unknown as S;
    };
  } else {
    throw new TypeError(`${fn}: series must be an array, a typed array or { data, shape }, got ${fmt(series)}`);
  }
  const o = options;
  if ((o.trainFraction === undefined) === (o.trainEnd === undefined)) {
    throw new TypeError(`${fn}: give exactly one of trainFraction and trainEnd, got ${o.trainFraction === undefined ? 'neither' : 'both'}`);
  }
  if (o.valFraction !== undefined && o.valEnd !== undefined) throw new TypeError(`${fn}: give at most one of valFraction and valEnd, got both`);
  let trainEnd: number;
  if (o.trainFraction !== undefined) trainEnd = share(N, fraction(fn, 'trainFraction', o.trainFraction));
  else {
    trainEnd = o.trainEnd as number;
    if (!Number.isSafeInteger(trainEnd) || trainEnd < 1 || trainEnd >= N) {
      throw new RangeError(`${fn}: trainEnd must be an integer in [1, ${N - 1}] for a series of ${N} steps, got ${fmt(o.trainEnd)}`);
    }
  }
  const hasVal = o.valFraction !== undefined || o.valEnd !== undefined;
  let valEnd = trainEnd;
  if (o.valFraction !== undefined) valEnd = trainEnd + share(N, fraction(fn, 'valFraction', o.valFraction));
  else if (o.valEnd !== undefined) {
    valEnd = o.valEnd;
    if (!Number.isSafeInteger(valEnd) || valEnd <= trainEnd || valEnd >= N) {
      throw new RangeError(`${fn}: valEnd must be an integer in [${trainEnd + 1}, ${N - 1}] (after trainEnd = ${trainEnd}, before N = ${N}), got ${fmt(o.valEnd)}`);
    }
  }
  if (o.trainFraction !== undefined && o.valFraction !== undefined && o.trainFraction + o.valFraction >= 1) {
    throw new RangeError(`${fn}: trainFraction + valFraction must be below 1 to leave a test part, got ${o.trainFraction} + ${o.valFraction}`);
  }
  if (valEnd > N) throw new RangeError(`${fn}: the validation part would end at step ${valEnd}, past the series' ${N} steps`);
  const sizes = `train ${trainEnd}, ${hasVal ? `validation ${valEnd - trainEnd}, ` : ''}test ${N - valEnd}`;
  if (trainEnd < 1 || (hasVal && valEnd === trainEnd) || valEnd >= N) {
    throw new RangeError(`${fn}: every part must hold at least one step; a series of ${N} steps splits into ${sizes}`);
  }
  const out: Split<S> = { train: cut(0, trainEnd), test: cut(valEnd, N), trainEnd, valEnd };
  if (hasVal) out.val = cut(trainEnd, valEnd);
  return out;
}

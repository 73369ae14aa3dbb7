/**
 * Sliding windows over a time series for forecasting: each window is `window` consecutive steps
 * (the input) and the `horizon` steps right after it (the target), laid out as the Forecaster's
 * WindowBatch — x time-major [T, B, F], y [B, horizon·targets] — so windows train it directly.
 */
import {
  bool,
  checkSize,
  fmt,
  positiveInt,
  requireOptions,
  typeName,
} from './checks.js';
import { readSeries, type SeriesLike } from './series.js';
import { epochRandom, range, shuffleInPlace } from './shuffle.js';

export interface WindowOptions {
  /** Input steps per window (T). */
  window: number;
  /** Steps predicted after each window. Default 1. */
  horizon?: number;
  /** Steps between the starts of consecutive windows. Default 1. */
  stride?: number;
  /** The columns the targets are taken from. Default all. */
  targetColumns?: readonly number[];
}

/** A WindowBatch (what Forecaster.trainBatch takes) that knows where its windows came from. */
export interface Windows {
  /** Inputs, time-major [T, B, features]: x[(t·B + b)·F + f] is step starts[b] + t, feature f. */
  x: Float32Array;
  /** Targets [B, horizon·K]: y[b·horizon·K + h·K + k] is step starts[b] + T + h, column targetColumns[k]. */
  y: Float32Array;
  T: number;
  B: number;
  features: number;
  horizon: number;
  targetColumns: number[];
  /** The series index of each window's first step. */
  starts: Int32Array;
}

function columns(fn: string, v: unknown, F: number): number[] {
  if (v === undefined) return Array.from(range(F));
  if (!Array.isArray(v) || v.length === 0) {
    throw new TypeError(`${fn}: targetColumns must be a non-empty array of column indices, got ${Array.isArray(v) ? 'an empty array' : typeName(v)}`);
  }
  const seen = new Set<number>();
  v.forEach((c: unknown, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= F) {
      throw new RangeError(`${fn}: targetColumns[${i}] must be a column index in [0, ${F - 1}], got ${fmt(c)}`);
    }
    if (seen.has(c)) throw new RangeError(`${fn}: targetColumns[${i}] repeats column ${c}`);
    seen.add(c);
  });
  return [...v] as number[];
}

/**
 * Every window of a series, in time order: window b starts at step b·stride. Windows never reach
 * past the end (the last target step is the series' last step at most); split the series first
 * (splitByTime) so that no window crosses from training into test data.
 */
export function slidingWindows(series: SeriesLike, options: WindowOptions): Windows {
  const fn = 'slidingWindows';
  requireOptions(fn, options, ['window', 'horizon', 'stride', 'targetColumns']);
  const T = positiveInt(fn, 'window', options.window);
  const horizon = positiveInt(fn, 'horizon', options.horizon, 1);
  const stride = positiveInt(fn, 'stride', options.stride, 1);
  const s = readSeries(fn, 'series', series);
  const { values: v, length: N, features: F } = s;
  const targets = columns(fn, options.targetColumns, F);
  if (N < T + horizon) {
    throw new RangeError(`${fn}: series must hold at least window + horizon = ${T + horizon} steps, got ${N}`);
  }
  const B = Math.floor((N - T - horizon) / stride) + 1;
  const K = targets.length, HK = horizon * K;
  checkSize(fn, 'x', T * B * F);
  checkSize(fn, 'y', B * HK);
  const x = new Float32Array(T * B * F), y = new Float32Array(B * HK), starts = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const s0 = b * stride;
    starts[b] = s0;
    for (let t = 0; t < T; t++) {
      const src = (s0 + t) * F, dst = (t * B + b) * F;
      for (let f = 0; f < F; f++) x[dst + f] = v[src + f];
    }
    for (let h = 0; h < horizon; h++) {
      const src = (s0 + T + h) * F;
      for (let k = 0; k < K; k++) y[b * HK + h * K + k] = v[src + targets[k]];
    }
  }
  return { x, y, T, B, features: F, horizon, targetColumns: targets, starts };
}

export interface WindowBatchOptions {
  batchSize: number;
  /** Shuffle the windows every epoch. Default true. */
  shuffle?: boolean;
  /** Default 0. */
  seed?: number;
  /** Mixed into the seed, so each epoch has its own order (pass fit()'s epoch). Default 0. */
  epoch?: number;
  /** Leave out the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/** Windows: slidingWindows' result, or any { x, y, T, B } with x [T, B, F] and y [B, O]. */
export interface WindowsLike {
  x: Float32Array;
  y: Float32Array;
  T: number;
  B: number;
  starts?: Int32Array;
}

/** Cuts windows into seeded mini-batches (each a Windows), every window in exactly one batch. */
export function windowBatches(windows: WindowsLike, options: WindowBatchOptions): Windows[] {
  const fn = 'windowBatches';
  if (windows === null || typeof windows !== 'object') {
    throw new TypeError(`${fn}: windows must be slidingWindows' result { x, y, T, B }, got ${typeName(windows)}`);
  }
  requireOptions(fn, options, ['batchSize', 'shuffle', 'seed', 'epoch', 'dropLast']);
  const batchSize = positiveInt(fn, 'batchSize', options.batchSize);
  const shuffle = bool(fn, 'shuffle', options.shuffle, true);
  const dropLast = bool(fn, 'dropLast', options.dropLast, false);
  const rng = epochRandom(fn, options.seed, options.epoch);
  const { x, y } = windows;
  const T = positiveInt(fn, 'windows.T', windows.T);
  const B = positiveInt(fn, 'windows.B', windows.B);
  if (!(x instanceof Float32Array)) throw new TypeError(`${fn}: windows.x must be a Float32Array, got ${typeName(x)}`);
  if (!(y instanceof Float32Array)) throw new TypeError(`${fn}: windows.y must be a Float32Array, got ${typeName(y)}`);
  if (x.length === 0 || x.length % (T * B) !== 0) throw new RangeError(`${fn}: windows.x must hold T·B·F values (T·B = ${T * B}), got ${x.length}`);
  if (y.length === 0 || y.length % B !== 0) throw new RangeError(`${fn}: windows.y must hold B·O values (B = ${B}), got ${y.length}`);
  const F = x.length / (T * B), O = y.length / B;
  const w = windows as Partial<Windows>;
  const starts = windows.starts;
  if (starts !== undefined && (!(starts instanceof Int32Array) || starts.length !== B)) {
    throw new TypeError(`${fn}: windows.starts must be an Int32Array of B = ${B} indices, got ${starts instanceof Int32Array ? `length ${starts.length}` : typeName(starts)}`);
  }
  const horizon = Number.isSafeInteger(w.horizon) && O % w.horizon! === 0 ? w.horizon! : 1;
  const targetColumns = Array.isArray(w.targetColumns) && w.targetColumns.length * horizon === O ? [...w.targetColumns] : Array.from(range(O / horizon));

  const order = range(B);
  if (shuffle) shuffleInPlace(order, rng);
  const out: Windows[] = [];
  for (let start = 0; start < B; start += batchSize) {
    const idx = order.subarray(start, Math.min(B, start + batchSize));
    const b2 = idx.length;
    if (dropLast && b2 < batchSize) break;
    const bx = new Float32Array(T * b2 * F), by = new Float32Array(b2 * O), bs = new Int32Array(b2);
    for (let j = 0; j < b2; j++) {
      const i = idx[j];
      for (let t = 0; t < T; t++) bx.set(x.subarray((t * B + i) * F, (t * B + i + 1) * F), (t * b2 + j) * F);
      by.set(y.subarray(i * O, (i + 1) * O), j * O);
      bs[j] = starts ? starts[i] : i;
    }
    out.push({ x: bx, y: by, T, B: b2, features: F, horizon, targetColumns, starts: bs });
  }
  return out;
}

/**
 * Per-feature scalers with sklearn's names and numbers: StandardScaler ((x − mean) / std, the
 * population std) and MinMaxScaler (onto featureRange). Statistics are float64; results are
 * float32 Tensors shaped like the input. Fit on the training part only (splitByTime).
 */
import { Tensor } from '../tensor.js';
import { bool, fmt, jsonNumbers, jsonObject, readOptions, typeName } from './checks.js';
import { readSeries, type SeriesLike } from './series.js';

export interface TransformOptions {
  /**
   * The fitted features that the input's columns are, when it holds only some of them — e.g.
   * forecasts of the target column: inverseTransform(pred, { columns: [0] }). The input's last
   * dimension may hold several rows of them ([B, horizon·K] forecasts), row-major.
   */
  columns?: readonly number[];
}

abstract class Scaler {
  protected F = 0;
  protected N = 0;

  /** Features seen by fit() (sklearn's n_features_in_). */
  get nFeatures(): number {
    return this.F;
  }

  /** Rows seen by fit() (sklearn's n_samples_seen_). */
  get nSamples(): number {
    return this.N;
  }

  protected abstract get name(): string;
  protected abstract fitStats(values: ArrayLike<number>, N: number, F: number): void;
  protected abstract forward(x: number, f: number): number;
  protected abstract backward(x: number, f: number): number;

  get fitted(): boolean {
    return this.F > 0;
  }

  /** Learns each feature's statistics from N rows of F features. Returns this. */
  fit(series: SeriesLike): this {
    const fn = `${this.name}.fit`;
    const s = readSeries(fn, 'series', series);
    if (s.length === 0) throw new RangeError(`${fn}: series must hold at least one step, got none`);
    this.fitStats(s.values, s.length, s.features);
    this.F = s.features;
    this.N = s.length;
    return this;
  }

  fitTransform(series: SeriesLike): Tensor {
    return this.fit(series).transform(series);
  }

  transform(series: SeriesLike, options?: TransformOptions): Tensor {
    return this.apply(`${this.name}.transform`, series, options, (x, f) => this.forward(x, f));
  }

  inverseTransform(series: SeriesLike, options?: TransformOptions): Tensor {
    return this.apply(`${this.name}.inverseTransform`, series, options, (x, f) => this.backward(x, f));
  }

  protected checkFitted(fn: string): void {
    if (!this.fitted) throw new Error(`${fn}: not fitted: call fit(series) first`);
  }

  private apply(fn: string, series: SeriesLike, options: TransformOptions | undefined, op: (x: number, f: number) => number): Tensor {
    readOptions(fn, options, ['columns']);
    this.checkFitted(fn);
    const F = this.F;
    const cols = options?.columns === undefined ? null : columnList(fn, options.columns, F);
    const K = cols ? cols.length : F;
    const s = readSeries(fn, 'series', series);
    const width = s.features;
    if (width % K !== 0) {
      const what = cols ? `columns.length = ${K}` : `the ${F} fitted features`;
      throw new RangeError(`${fn}: series must have ${what} per row (or a multiple of it), got rows of ${width}`);
    }
    const v = s.values, out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const k = i % K;
      out[i] = op(v[i], cols ? cols[k] : k);
    }
    return new Tensor(out, s.shape);
  }
}

function columnList(fn: string, v: unknown, F: number): number[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new TypeError(`${fn}: columns must be a non-empty array of feature indices, got ${Array.isArray(v) ? 'an empty array' : typeName(v)}`);
  }
  v.forEach((c: unknown, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= F) {
      throw new RangeError(`${fn}: columns[${i}] must be a feature index in [0, ${F - 1}], got ${fmt(c)}`);
    }
  });
  return v as number[];
}

const EPS = Number.EPSILON;

/**
 * sklearn's test for a constant feature (_is_constant_feature): a variance within the rounding
 * error of computing it from n values around `mean`. Such features get scale 1, as in sklearn.
 */
function constantFeature(variance: number, mean: number, n: number): boolean {
  return variance <= n * EPS * variance + (n * mean * EPS) ** 2;
}

export interface StandardScalerOptions {
  /** Subtract the mean. Default true. */
  withMean?: boolean;
  /** Divide by the standard deviation. Default true. */
  withStd?: boolean;
}

export interface StandardScalerJSON {
  type: 'StandardScaler';
  version: 1;
  withMean: boolean;
  withStd: boolean;
  nSamples: number;
  /** null when not fitted. */
  mean: number[] | null;
  variance: number[] | null;
}

export class StandardScaler extends Scaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  private m: Float64Array = new Float64Array(0);
  private v: Float64Array = new Float64Array(0);
  private s: Float64Array = new Float64Array(0);

  constructor(options: StandardScalerOptions = {}) {
    super();
    readOptions('StandardScaler', options, ['withMean', 'withStd']);
    this.withMean = bool('StandardScaler', 'withMean', options.withMean, true);
    this.withStd = bool('StandardScaler', 'withStd', options.withStd, true);
  }

  protected get name(): string {
    return 'StandardScaler';
  }

  /** Per-feature mean (sklearn's mean_). */
  get mean(): Float64Array {
    this.checkFitted('StandardScaler.mean');
    return this.m.slice();
  }

  /** Per-feature population variance (sklearn's var_: divided by N, not N − 1). */
  get variance(): Float64Array {
    this.checkFitted('StandardScaler.variance');
    return this.v.slice();
  }

  /** What transform divides by (sklearn's scale_): the std, 1 for constant features or without withStd. */
  get scale(): Float64Array {
    this.checkFitted('StandardScaler.scale');
    return this.s.slice();
  }

  protected fitStats(x: ArrayLike<number>, N: number, F: number): void {
    const mean = new Float64Array(F), variance = new Float64Array(F);
    for (let i = 0; i < x.length; i++) mean[i % F] += x[i];
    for (let f = 0; f < F; f++) mean[f] /= N;
    // Two passes, with the first-order correction of the summed deviations (rounding of the mean).
    const d = new Float64Array(F), d2 = new Float64Array(F);
    for (let i = 0; i < x.length; i++) {
      const f = i % F, e = x[i] - mean[f];
      d[f] += e;
      d2[f] += e * e;
    }
    for (let f = 0; f < F; f++) variance[f] = Math.max(0, (d2[f] - (d[f] * d[f]) / N) / N);
    this.setStats(mean, variance, N);
  }

  private setStats(mean: Float64Array, variance: Float64Array, N: number): void {
    this.m = mean;
    this.v = variance;
    this.s = variance.map((v, f) => (!this.withStd || constantFeature(v, mean[f], N) ? 1 : Math.sqrt(v)));
  }

  protected forward(x: number, f: number): number {
    return (this.withMean ? x - this.m[f] : x) / this.s[f];
  }

  protected backward(x: number, f: number): number {
    const y = x * this.s[f];
    return this.withMean ? y + this.m[f] : y;
  }

  toJSON(): StandardScalerJSON {
    const fitted = this.fitted;
    return {
      type: 'StandardScaler',
      version: 1,
      withMean: this.withMean,
      withStd: this.withStd,
      nSamples: this.nSamples,
      mean: fitted ? Array.from(this.m) : null,
      variance: fitted ? Array.from(this.v) : null,
    };
  }

  static fromJSON(json: unknown): StandardScaler {
    const fn = 'StandardScaler.fromJSON';
    const o = jsonObject(fn, json, 'StandardScaler', 1);
    for (const k of ['withMean', 'withStd'] as const) {
      if (typeof o[k] !== 'boolean') throw new TypeError(`${fn}: json.${k} must be a boolean, got ${fmt(o[k])}`);
    }
    const scaler = new StandardScaler({ withMean: o.withMean as boolean, withStd: o.withStd as boolean });
    if (o.mean === null && o.variance === null && o.nSamples === 0) return scaler;
    if (!Array.isArray(o.mean) || o.mean.length === 0) {
      throw new TypeError(`${fn}: json.mean must be a non-empty array of numbers (or null, unfitted), got ${Array.isArray(o.mean) ? 'an empty array' : fmt(o.mean)}`);
    }
    const F = o.mean.length;
    const N = o.nSamples;
    if (typeof N !== 'number' || !Number.isSafeInteger(N) || N < 1) throw new RangeError(`${fn}: json.nSamples must be a positive integer, got ${fmt(N)}`);
    const mean = jsonNumbers(fn, 'json.mean', o.mean, F);
    const variance = jsonNumbers(fn, 'json.variance', o.variance, F);
    variance.forEach((v, f) => {
      if (v < 0) throw new RangeError(`${fn}: json.variance[${f}] must be non-negative, got ${v}`);
    });
    scaler.setStats(Float64Array.from(mean), Float64Array.from(variance), N);
    scaler.F = F;
    scaler.N = N;
    return scaler;
  }
}

export interface MinMaxScalerOptions {
  /** The range the training data is mapped onto. Default [0, 1]. */
  featureRange?: readonly [number, number];
  /** Clip transformed values into featureRange (held-out data can fall outside). Default false. */
  clip?: boolean;
}

export interface MinMaxScalerJSON {
  type: 'MinMaxScaler';
  version: 1;
  featureRange: [number, number];
  clip: boolean;
  nSamples: number;
  /** null when not fitted. */
  dataMin: number[] | null;
  dataMax: number[] | null;
}

function rangeOption(fn: string, name: string, v: unknown): [number, number] {
  if (v === undefined) return [0, 1];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(v[0] < v[1])) {
    throw new RangeError(`${fn}: ${name} must be [min, max] of finite numbers with min < max, got ${Array.isArray(v) ? `[${v.map(fmt).join(', ')}]` : fmt(v)}`);
  }
  return [v[0], v[1]];
}

export class MinMaxScaler extends Scaler {
  readonly featureRange: readonly [number, number];
  readonly clip: boolean;
  private lo: Float64Array = new Float64Array(0);
  private hi: Float64Array = new Float64Array(0);
  private s: Float64Array = new Float64Array(0);
  private b: Float64Array = new Float64Array(0);

  constructor(options: MinMaxScalerOptions = {}) {
    super();
    const fn = 'MinMaxScaler';
    readOptions(fn, options, ['featureRange', 'clip']);
    this.featureRange = Object.freeze(rangeOption(fn, 'featureRange', options.featureRange));
    this.clip = bool(fn, 'clip', options.clip, false);
  }

  protected get name(): string {
    return 'MinMaxScaler';
  }

  /** sklearn's data_min_. */
  get dataMin(): Float64Array {
    this.checkFitted('MinMaxScaler.dataMin');
    return this.lo.slice();
  }

  /** sklearn's data_max_. */
  get dataMax(): Float64Array {
    this.checkFitted('MinMaxScaler.dataMax');
    return this.hi.slice();
  }

  /** sklearn's data_range_: dataMax − dataMin. */
  get dataRange(): Float64Array {
    this.checkFitted('MinMaxScaler.dataRange');
    return this.hi.map((h, f) => h - this.lo[f]);
  }

  /** sklearn's scale_: (max − min) of featureRange over the data range, which counts as 1 for a constant feature. */
  get scale(): Float64Array {
    this.checkFitted('MinMaxScaler.scale');
    return this.s.slice();
  }

  /** sklearn's min_: transform(x) = x·scale + min. */
  get min(): Float64Array {
    this.checkFitted('MinMaxScaler.min');
    return this.b.slice();
  }

  protected fitStats(x: ArrayLike<number>, _N: number, F: number): void {
    const lo = new Float64Array(F).fill(Infinity), hi = new Float64Array(F).fill(-Infinity);
    for (let i = 0; i < x.length; i++) {
      const f = i % F;
      const v = x[i] + 0; // -0 as 0, which JSON would make of it anyway
      if (v < lo[f]) lo[f] = v;
      if (v > hi[f]) hi[f] = v;
    }
    this.setStats(lo, hi);
  }

  private setStats(lo: Float64Array, hi: Float64Array): void {
    const [a, b] = this.featureRange;
    this.lo = lo;
    this.hi = hi;
    // sklearn's _handle_zeros_in_scale: a range below 10·eps counts as 1.
    this.s = hi.map((h, f) => (b - a) / (h - lo[f] < 10 * EPS ? 1 : h - lo[f]));
    this.b = lo.map((l, f) => a - l * this.s[f]);
  }

  protected forward(x: number, f: number): number {
    const y = x * this.s[f] + this.b[f];
    if (!this.clip) return y;
    return Math.min(this.featureRange[1], Math.max(this.featureRange[0], y));
  }

  protected backward(x: number, f: number): number {
    return (x - this.b[f]) / this.s[f];
  }

  toJSON(): MinMaxScalerJSON {
    const fitted = this.fitted;
    return {
      type: 'MinMaxScaler',
      version: 1,
      featureRange: [this.featureRange[0], this.featureRange[1]],
      clip: this.clip,
      nSamples: this.nSamples,
      dataMin: fitted ? Array.from(this.lo) : null,
      dataMax: fitted ? Array.from(this.hi) : null,
    };
  }

  static fromJSON(json: unknown): MinMaxScaler {
    const fn = 'MinMaxScaler.fromJSON';
    const o = jsonObject(fn, json, 'MinMaxScaler', 1);
    if (typeof o.clip !== 'boolean') throw new TypeError(`${fn}: json.clip must be a boolean, got ${fmt(o.clip)}`);
    const featureRange = rangeOption(fn, 'json.featureRange', o.featureRange ?? null);
    const scaler = new MinMaxScaler({ featureRange, clip: o.clip });
    if (o.dataMin === null && o.dataMax === null && o.nSamples === 0) return scaler;
    if (!Array.isArray(o.dataMin) || o.dataMin.length === 0) {
      throw new TypeError(`${fn}: json.dataMin must be a non-empty array of numbers (or null, unfitted), got ${Array.isArray(o.dataMin) ? 'an empty array' : fmt(o.dataMin)}`);
    }
    const F = o.dataMin.length;
    const N = o.nSamples;
    if (typeof N !== 'number' || !Number.isSafeInteger(N) || N < 1) throw new RangeError(`${fn}: json.nSamples must be a positive integer, got ${fmt(N)}`);
    const lo = jsonNumbers(fn, 'json.dataMin', o.dataMin, F);
    const hi = jsonNumbers(fn, 'json.dataMax', o.dataMax, F);
    hi.forEach((h, f) => {
      if (h < lo[f]) throw new RangeError(`${fn}: json.dataMax[${f}] must be at least json.dataMin[${f}] = ${lo[f]}, got ${h}`);
    });
    scaler.setStats(Float64Array.from(lo), Float64Array.from(hi));
    scaler.F = F;
    scaler.N = N;
    return scaler;
  }
}

/**
 * A time-series forecaster: RNN/LSTM/GRU over a window of steps (targets and covariates) →
 * the last step's output → dropout → Linear to `horizon` steps of the target columns at once
 * (direct multi-step), trained with mean squared error through autograd. `forecast(history,
 * steps)` rolls it forward (autoregressive: each forecast becomes input, with the known future
 * covariates) for any number of steps. A fitted scaler in its configuration lets forecast() and
 * the error metrics speak the data's own units. Parameters: rnn.*, linear.*.
 */
import { noGrad } from '../autograd/graph.js';
import { lastStep } from '../autograd/pooling.js';
import { readSeries, type SeriesLike } from '../data/series.js';
import { Dropout } from '../layers/activations.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { bool, checkOptions, fmt, positiveInt, seedOf } from '../layers/options.js';
import type { GRU, LSTM, RNN } from '../layers/rnn.js';
import { Tensor, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';
import { mse } from '../train/losses.js';
import { CELL_NAMES, cellOf, choiceOf, finite, fraction, recurrent, scalerOf, type CellName, type Scaler, type ScalerJSON } from './common.js';

export interface ForecasterOptions {
  /** Features per step: the target columns and the covariates (default 1). */
  inputSize?: number;
  hiddenSize: number;
  /** Values the head predicts: horizon · (target columns) (the default). */
  outputSize?: number;
  /** Steps predicted at once (default 1): the head's outputs are horizon rows of the targets. */
  horizon?: number;
  /** The input columns that are the targets (default the first outputSize / horizon columns). */
  targetColumns?: readonly number[];
  /** The steps of history forecast() feeds the model (default all it is given): the training window. */
  window?: number;
  /**
   * Subtract each window's mean of each target column from that column and from the targets;
   * predictions add it back (default false). The model then learns the shape of what comes
   * next rather than the level, which carries it across a trend that leaves the training range
   * (DeepAR's mean scaling, subtracted rather than divided; RevIN without the spread).
   */
  centerWindows?: boolean;
  numLayers?: number;
  cell?: CellName;
  /** Dropout on the last step's output and between stacked layers, in training (default 0). */
  dropout?: number;
  /**
   * A fitted StandardScaler/MinMaxScaler over the inputSize features (or its toJSON()): the
   * batches are in its scaled units, forecast() takes and returns the data's own units, and
   * the absolute errors (fit()'s 'mae', evaluate()) are in the data's units.
   */
  scaler?: Scaler | ScalerJSON;
  seed?: number;
}

/** Windows x: time-major [T, B, inputSize] (flat), targets y: [B, outputSize] (flat). slidingWindows() gives this. */
export interface WindowBatch {
  x: Float32Array;
  y: Float32Array;
  T: number;
  B: number;
}

/** fit()'s batch result: MSE over the batch; Σ|pred − target| over `count` values (the 'mae' metric). */
export interface ForecastResult {
  loss: number;
  tokens: number;
  absError: number;
  count: number;
}

/** Errors of forecasts: mean absolute, root mean squared, and mean absolute percentage (a fraction: 0.05 = 5%, as sklearn). */
export interface ForecastErrors {
  mae: number;
  rmse: number;
  mape: number;
  count: number;
}

/**
 * MAE, RMSE and MAPE of predictions against targets (equal lengths). MAPE divides by
 * max(|target|, ε) as sklearn's mean_absolute_percentage_error does.
 */
export function forecastErrors(pred: ArrayLike<number>, target: ArrayLike<number>): ForecastErrors {
  const fn = 'forecastErrors';
  for (const [name, v] of [['pred', pred], ['target', target]] as const) {
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') throw new TypeError(`${fn}: ${name} must be an array of numbers, got ${typeName(v)}`);
  }
  if (pred.length !== target.length || pred.length === 0) {
    throw new RangeError(`${fn}: pred and target must hold the same number of values (at least one), got ${pred.length} and ${target.length}`);
  }
  let abs = 0, sq = 0, pct = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i], t = target[i];
    if (!Number.isFinite(p) || !Number.isFinite(t)) throw new RangeError(`${fn}: pred[${i}] and target[${i}] must be finite, got ${p} and ${t}`);
    const e = Math.abs(p - t);
    abs += e;
    sq += e * e;
    pct += e / Math.max(Math.abs(t), Number.EPSILON);
  }
  const n = pred.length;
  return { mae: abs / n, rmse: Math.sqrt(sq / n), mape: pct / n, count: n };
}

export class Forecaster extends Module {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly horizon: number;
  /** The target columns, or null when outputSize / horizon exceeds inputSize (no rollout then). */
  readonly targetColumns: readonly number[] | null;
  readonly window: number | null;
  readonly centerWindows: boolean;
  readonly scaler: Scaler | null;
  private readonly givenTargets: boolean;
  rnn: LSTM | GRU | RNN;
  drop: Dropout;
  linear: Linear;

  constructor(options: ForecasterOptions) {
    super();
    const fn = new.target.name;
    checkOptions(fn, options, [
      'inputSize', 'hiddenSize', 'outputSize', 'horizon', 'targetColumns', 'window', 'centerWindows', 'numLayers', 'cell', 'dropout', 'scaler', 'seed',
    ]);
    const o = options;
    this.inputSize = positiveInt(fn, 'inputSize', o.inputSize ?? 1);
    this.horizon = positiveInt(fn, 'horizon', o.horizon ?? 1);
    const F = this.inputSize;
    if (o.targetColumns !== undefined) {
      const tc = o.targetColumns as unknown;
      if (!Array.isArray(tc) || tc.length === 0) {
        throw new TypeError(`${fn}: targetColumns must be a non-empty array of column indices, got ${Array.isArray(tc) ? 'an empty array' : typeName(tc)}`);
      }
      tc.forEach((c: unknown, i) => {
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= F) {
          throw new RangeError(`${fn}: targetColumns[${i}] must be a column index in [0, ${F - 1}] (inputSize ${F}), got ${fmt(c)}`);
        }
        if (tc.indexOf(c) !== i) throw new RangeError(`${fn}: targetColumns[${i}] repeats column ${c}`);
      });
    }
    this.outputSize = positiveInt(fn, 'outputSize', o.outputSize ?? this.horizon * (o.targetColumns?.length ?? 1));
    if (this.outputSize % this.horizon !== 0) {
      throw new RangeError(`${fn}: outputSize must be a multiple of horizon = ${this.horizon} (horizon rows of the targets), got ${this.outputSize}`);
    }
    const K = this.outputSize / this.horizon;
    if (o.targetColumns !== undefined && o.targetColumns.length !== K) {
      throw new RangeError(`${fn}: targetColumns must name outputSize / horizon = ${K} columns, got ${o.targetColumns.length}`);
    }
    this.givenTargets = o.targetColumns !== undefined;
    this.targetColumns = o.targetColumns ? Object.freeze([...o.targetColumns]) : K <= F ? Object.freeze(Array.from({ length: K }, (_, k) => k)) : null;
    this.window = o.window === undefined ? null : positiveInt(fn, 'window', o.window);
    this.centerWindows = bool(fn, 'centerWindows', o.centerWindows, false);
    if (this.centerWindows && !this.targetColumns) {
      throw new RangeError(`${fn}: centerWindows needs targetColumns (the model predicts more values per step than it has inputs)`);
    }
    this.scaler = scalerOf(fn, 'scaler', o.scaler, F);
    const H = positiveInt(fn, 'hiddenSize', o.hiddenSize);
    const seed = seedOf(fn, o.seed);
    const cell = choiceOf(fn, 'cell', o.cell, CELL_NAMES, 'lstm');
    const numLayers = positiveInt(fn, 'numLayers', o.numLayers ?? 1);
    const p = fraction(fn, 'dropout', o.dropout, 0);
    const s = (k: number): number | undefined => (seed === undefined ? undefined : seed * 31 + k);
    this.rnn = recurrent(cell, { inputSize: F, hiddenSize: H, numLayers, dropout: numLayers > 1 ? p : 0, seed: s(1) });
    this.drop = new Dropout(p, { seed: s(3) });
    this.linear = new Linear(H, this.outputSize, { seed: s(2) });
  }

  override getConfig(): Record<string, unknown> {
    const r = this.rnn;
    return {
      inputSize: this.inputSize, hiddenSize: r.hiddenSize, outputSize: this.outputSize, horizon: this.horizon,
      ...(this.givenTargets ? { targetColumns: [...(this.targetColumns as number[])] } : {}),
      ...(this.window !== null ? { window: this.window } : {}),
      ...(this.centerWindows ? { centerWindows: true } : {}),
      numLayers: r.numLayers, cell: cellOf(r), dropout: this.drop.p,
      ...(this.scaler ? { scaler: this.scaler.toJSON() } : {}),
    };
  }

  /**
   * Predictions [B, outputSize] for windows x [T, B, inputSize] (in the batches' units). In
   * training mode (train(), or `training: true`) the result is recorded for loss.backward().
   */
  forward(x: TensorLike, options: { training?: boolean } = {}): Tensor {
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['training']);
    const xt = toTensor(x, `${fn}: x`);
    if (xt.shape.length !== 3 || xt.shape[2] !== this.inputSize) {
      throw new RangeError(`${fn}: x must be [T, B, inputSize = ${this.inputSize}], got shape ${shapeStr(xt.shape)}`);
    }
    const pred = this.predictOrNull(xt, options.training ?? this.training);
    if (!pred) throw new RangeError(`${fn}: the activations are not finite (diverged weights?)`);
    return pred;
  }

  /** The model's output for windows x (centred first with centerWindows: add `means` back for predictions). */
  private outputOrNull(x: Tensor, training: boolean): { out: Tensor; means: Float32Array | null } | null {
    this.checkAlive();
    const c = this.centerWindows ? this.center(x) : null;
    const r = this.rnn.forward(c ? c.x : x, undefined, { training });
    const last = lastStep(r.output);
    if (!finite(last)) return null;
    const out = this.linear.forward(this.drop.forward(last, { training }), { training });
    return finite(out) ? { out, means: c ? c.means : null } : null;
  }

  /** Predictions (the batches' units), or null when an activation is not finite. */
  private predictOrNull(x: Tensor, training: boolean): Tensor | null {
    const r = this.outputOrNull(x, training);
    if (!r) return null;
    return r.means ? new Tensor(this.shift(r.out.data, r.means, 1), r.out.shape) : r.out;
  }

  /** x [T, B, F] with each target column minus its mean over the window, and those means [B, K]. */
  private center(x: Tensor): { x: Tensor; means: Float32Array } {
    const [T, B, F] = x.shape, cols = this.targetColumns as readonly number[], K = cols.length;
    const means = new Float32Array(B * K), data = Float32Array.from(x.data);
    for (let b = 0; b < B; b++) {
      cols.forEach((col, k) => {
        let s = 0;
        for (let t = 0; t < T; t++) s += data[(t * B + b) * F + col];
        const m = (means[b * K + k] = s / T);
        for (let t = 0; t < T; t++) data[(t * B + b) * F + col] -= m;
      });
    }
    return { x: new Tensor(data, x.shape), means };
  }

  /** v [B, horizon·K] plus `sign` × each row's means [B, K], per target column. */
  private shift(v: Float32Array, means: Float32Array, sign: number): Float32Array {
    const K = means.length / (v.length / this.outputSize), O = this.outputSize, out = Float32Array.from(v);
    for (let i = 0; i < out.length; i++) out[i] += sign * means[Math.floor(i / O) * K + (i % O) % K];
    return out;
  }

  private check(b: WindowBatch, fn: string): void {
    if (b === null || typeof b !== 'object') throw new TypeError(`${fn}: batch must be {x, y, T, B}, got ${typeName(b)}`);
    positiveInt(fn, 'T', b.T);
    positiveInt(fn, 'B', b.B);
    for (const key of ['x', 'y'] as const) {
      if (!(b[key] instanceof Float32Array)) throw new TypeError(`${fn}: ${key} must be a Float32Array, got ${typeName(b[key])}`);
    }
    if (b.x.length !== b.T * b.B * this.inputSize || b.y.length !== b.B * this.outputSize) {
      throw new RangeError(
        `${fn}: batch x must hold T·B·inputSize = ${b.T * b.B * this.inputSize} values and y B·outputSize = ` +
          `${b.B * this.outputSize}, got ${b.x.length} and ${b.y.length} (shape ${shapeStr([b.T, b.B])})`,
      );
    }
  }

  private run(b: WindowBatch, training: boolean, fn: string): ForecastResult {
    this.check(b, fn);
    const { T, B } = b, O = this.outputSize;
    // Diverged weights can overflow an activation: that is a non-finite loss for fit() to stop
    // on (keeping the last good weights), not bad input.
    const res = this.outputOrNull(new Tensor(b.x, [T, B, this.inputSize]), training);
    if (!res) return { loss: NaN, tokens: B, absError: NaN, count: B * O };
    // With centerWindows the model's output is the targets minus the window means.
    const { out, means } = res;
    const r = mse(out, new Tensor(means ? this.shift(b.y, means, -1) : b.y, [B, O]));
    if (training && Number.isFinite(r.loss as number)) r.backward();
    const p = this.unscale(means ? this.shift(out.data, means, 1) : out.data, B), y = this.unscale(b.y, B);
    let absError = 0;
    for (let i = 0; i < p.length; i++) absError += Math.abs(p[i] - y[i]);
    return { loss: r.loss as number, tokens: B, absError, count: B * O };
  }

  /** [B, outputSize] values in the data's own units (the scaler's inverse on the target columns). */
  private unscale(v: Float32Array, B: number): Float32Array {
    if (!this.scaler || !this.targetColumns) return v;
    return this.scaler.inverseTransform({ data: v, shape: [B, this.outputSize] }, { columns: this.targetColumns }).data;
  }

  /** Forward + backward on one batch: gradients are added to gradients(). */
  trainBatch(b: WindowBatch): ForecastResult {
    return this.run(b, true, `${this.constructor.name}.trainBatch`);
  }

  /** Loss and absolute error on one batch, recording nothing. */
  evalBatch(b: WindowBatch): ForecastResult {
    return noGrad(() => this.run(b, false, `${this.constructor.name}.evalBatch`));
  }

  /**
   * Predictions [B, outputSize] (the batches' units) for windows x: flat time-major values with
   * T and B, or a tensor [T, B, inputSize].
   */
  predict(x: Float32Array | TensorLike, T?: number, B?: number): Tensor {
    const fn = `${this.constructor.name}.predict`;
    let xt: Tensor;
    if (x instanceof Float32Array) {
      positiveInt(fn, 'T', T);
      positiveInt(fn, 'B', B);
      const n = (T as number) * (B as number) * this.inputSize;
      if (x.length !== n) throw new RangeError(`${fn}: x must hold T·B·inputSize = ${n} values, got ${x.length}`);
      xt = new Tensor(x, [T as number, B as number, this.inputSize]);
    } else {
      xt = toTensor(x, `${fn}: x`);
      if (xt.shape.length !== 3 || xt.shape[2] !== this.inputSize) {
        throw new RangeError(`${fn}: x must be [T, B, inputSize = ${this.inputSize}], got shape ${shapeStr(xt.shape)}`);
      }
    }
    const pred = noGrad(() => this.predictOrNull(xt, false));
    if (!pred) throw new RangeError(`${fn}: the activations are not finite (diverged weights?)`);
    return pred;
  }

  /**
   * MAE, RMSE and MAPE of the direct forecasts of windows (slidingWindows' result, in the
   * batches' units), measured in the data's own units when the model has a scaler.
   */
  evaluate(windows: WindowBatch): ForecastErrors {
    const fn = `${this.constructor.name}.evaluate`;
    this.check(windows, fn);
    const B = windows.B;
    const pred = this.predict(windows.x, windows.T, B);
    return forecastErrors(this.unscale(pred.data, B), this.unscale(windows.y, B));
  }

  /**
   * Forecasts `steps` steps after `history` ([N, inputSize] rows in the data's own units; a
   * plain array for one feature): the model's horizon at a time, each forecast appended to
   * the history (autoregressive rollout) with the covariates of that step — `covariates`
   * holds, for each forecast step, the non-target columns in column order ([steps, inputSize −
   * targets]), needed when the rollout appends rows (steps > horizon). Returns [steps, targets].
   */
  forecast(history: SeriesLike, steps: number, options: { covariates?: SeriesLike } = {}): Tensor {
    const fn = `${this.constructor.name}.forecast`;
    this.checkAlive();
    checkOptions(fn, options, ['covariates']);
    positiveInt(fn, 'steps', steps);
    const targets = this.targetColumns;
    if (!targets) {
      throw new RangeError(`${fn}: the model predicts ${this.outputSize / this.horizon} values per step, more than its inputSize ${this.inputSize}: give targetColumns to roll it forward`);
    }
    const F = this.inputSize, K = targets.length, C = F - K, h = this.horizon;
    const hist = readSeries(fn, 'history', history);
    if (hist.features !== F) throw new RangeError(`${fn}: history must have inputSize = ${F} values per step, got ${hist.features}`);
    if (hist.length === 0) throw new RangeError(`${fn}: history must hold at least one step, got none`);
    const others = Array.from({ length: F }, (_, f) => f).filter((f) => !targets.includes(f));
    let cov: ArrayLike<number> | null = null;
    if (C > 0 && steps > h) {
      if (options.covariates === undefined) {
        throw new TypeError(`${fn}: covariates must give the ${C} non-target column${C > 1 ? 's' : ''} (${others.join(', ')}) of each of the ${steps} forecast steps: the rollout feeds them to the model`);
      }
      const c = readSeries(fn, 'covariates', options.covariates);
      if (c.features !== C || c.length < steps) {
        throw new RangeError(`${fn}: covariates must be [steps = ${steps}, ${C}] (the non-target columns ${others.join(', ')}), got [${c.length}, ${c.features}]`);
      }
      cov = c.values;
    }
    const T = Math.min(hist.length, this.window ?? hist.length);
    // The last T rows, in the data's own units, grown by each forecast step.
    const rows: number[] = Array.from({ length: T * F }, (_, i) => hist.values[(hist.length - T) * F + i]);
    const out = new Float32Array(steps * K);
    for (let done = 0; done < steps; ) {
      const win = Float32Array.from(rows.slice(rows.length - T * F));
      const x = this.scaler ? this.scaler.transform({ data: win, shape: [T, F] }).data : win;
      const pred = this.unscale(this.predict(x, T, 1).data, 1);
      const n = Math.min(h, steps - done);
      for (let j = 0; j < n; j++, done++) {
        const row = new Array<number>(F);
        targets.forEach((col, k) => (row[col] = out[done * K + k] = pred[j * K + k]));
        others.forEach((col, k) => (row[col] = cov ? cov[done * C + k] : NaN));
        rows.push(...row);
      }
    }
    return new Tensor(out, [steps, K]);
  }
}

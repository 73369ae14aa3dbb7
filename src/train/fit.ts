/**
 * The training loop: epochs of batches, an optimizer step per batch (or per `accumulate`
 * batches) with optional gradient clipping, validation per epoch and every N steps or seconds,
 * metrics, a time budget, early stopping that restores the best weights, checkpoints, and a hard
 * stop with the last finite weights when a loss, gradient or update turns non-finite.
 */
import { Module, type Parameter } from '../layers/module.js';
import { checkOptions, fmt } from '../layers/options.js';
import { typeName } from '../tensor.js';
import { saveFileSync } from '../io/files.js';
import { clipGradNorm, gradNorm } from './clip.js';
import { NonFiniteError } from './errors.js';
import { Optimizer } from './optimizers.js';
import { LRScheduler } from './schedulers.js';

/**
 * What a model reports for one batch. `loss` is the mean over `tokens` (the tokens, sequences
 * or values it was averaged over). For metrics: `correct` predictions among `count` (accuracy),
 * and `absError` = Σ|prediction − target| over `count` values (MAE); `count` defaults to tokens.
 */
export interface BatchResult {
  loss: number;
  tokens: number;
  correct?: number;
  count?: number;
  absError?: number;
}

/** A model fit() can train: it computes a batch's loss and adds its gradients. */
export interface Trainable<B> extends Module {
  trainBatch(batch: B): BatchResult;
  evalBatch(batch: B): BatchResult;
  /** Called at the start of every epoch and validation pass (e.g. to reset carried state). */
  resetState?(): void;
}

export type Metric = 'accuracy' | 'perplexity' | 'mae';
const METRICS: readonly Metric[] = ['accuracy', 'perplexity', 'mae'];

export interface StepInfo {
  epoch: number;
  step: number;
  loss: number;
  /** Global gradient norm before clipping (of the accumulated gradient, on the steps that update). */
  gradNorm: number;
  tokensPerSecond: number;
  lr: number;
  /** The requested metrics on this batch. */
  metrics: Partial<Record<Metric, number>>;
  /** Seconds since fit() started. */
  elapsed: number;
}

export interface ValidationInfo {
  epoch: number;
  step: number;
  valLoss: number;
  valMetrics: Partial<Record<Metric, number>>;
  /** Whether this is the best validation so far (by the monitored value). */
  best: boolean;
  elapsed: number;
}

export interface EpochInfo {
  epoch: number;
  /** Token-weighted mean training loss of the epoch. */
  loss: number;
  valLoss?: number;
  metrics: Partial<Record<Metric, number>>;
  valMetrics?: Partial<Record<Metric, number>>;
  tokensPerSecond: number;
  seconds: number;
}

export interface FitOptions<B> {
  optimizer: Optimizer;
  epochs: number;
  /** The batches of an epoch: an array (same every epoch) or a function of the epoch number. */
  train: readonly B[] | ((epoch: number) => readonly B[]);
  validation?: readonly B[] | ((epoch: number) => readonly B[]);
  /** Also validate every so many steps and/or seconds (besides the end of every epoch). */
  validateEvery?: { steps?: number; seconds?: number };
  /** Stop after this many seconds of training (checked after every step). */
  maxSeconds?: number;
  /** Metrics computed from the models' batch results, reported in the callbacks. */
  metrics?: readonly Metric[];
  /** Clip the global gradient norm to this before each step. */
  clipNorm?: number;
  /** Sum the gradients of this many batches (scaled by 1/accumulate) before each optimizer step (default 1). */
  accumulate?: number;
  /** Stepped once per epoch. */
  scheduler?: LRScheduler;
  /** Return false to stop after this step. */
  onStep?: (info: StepInfo) => void | boolean;
  /** After every validation; return false to stop. */
  onValidation?: (info: ValidationInfo) => void | boolean;
  /** Return false to stop after this epoch. */
  onEpoch?: (info: EpochInfo) => void | boolean;
  /**
   * Stop when the monitored value (the validation loss, or the training loss without
   * validation) has not improved by minDelta for `patience` validations (epochs without
   * validateEvery); restoreBest (default true) puts back the weights of the best one.
   */
  earlyStopping?: { patience: number; minDelta?: number; restoreBest?: boolean };
  /**
   * Saves the model (with saveFile's atomic write; Node) after every validation — or only after
   * an improvement with bestOnly — and with `optimizer: true` the optimizer state too.
   */
  checkpoint?: { path: string; bestOnly?: boolean; optimizer?: boolean };
}

export interface FitResult {
  epochs: EpochInfo[];
  steps: number;
  stoppedEarly: boolean;
  /** Why training ended. */
  stoppedBy: 'epochs' | 'earlyStopping' | 'maxSeconds' | 'callback';
  /** The best monitored value and where it was reached (null without validation or early stopping). */
  best: { value: number; epoch: number; step: number } | null;
  /** Whether the weights were put back to the best ones at the end. */
  restoredBest: boolean;
  seconds: number;
}

function batchesOf<B>(src: readonly B[] | ((e: number) => readonly B[]), epoch: number): readonly B[] {
  return typeof src === 'function' ? src(epoch) : src;
}

/** Running sums of batch results: the token-weighted loss and the metric counts. */
class Tally {
  loss = 0;
  tokens = 0;
  correct = 0;
  absError = 0;
  count = 0;
  hasCorrect = true;
  hasAbs = true;

  add(r: BatchResult): void {
    this.loss += r.loss * r.tokens;
    this.tokens += r.tokens;
    const n = r.count ?? r.tokens;
    this.count += n;
    if (r.correct === undefined) this.hasCorrect = false;
    else this.correct += r.correct;
    if (r.absError === undefined) this.hasAbs = false;
    else this.absError += r.absError;
  }

  get mean(): number {
    return this.tokens > 0 ? this.loss / this.tokens : NaN;
  }

  metrics(fn: string, wanted: readonly Metric[]): Partial<Record<Metric, number>> {
    const out: Partial<Record<Metric, number>> = {};
    for (const m of wanted) {
      if (m === 'perplexity') out.perplexity = Math.exp(this.mean);
      else if (m === 'accuracy') {
        if (!this.hasCorrect) throw new TypeError(`${fn}: metric 'accuracy' needs the model's batch results to report 'correct'`);
        out.accuracy = this.count > 0 ? this.correct / this.count : NaN;
      } else {
        if (!this.hasAbs) throw new TypeError(`${fn}: metric 'mae' needs the model's batch results to report 'absError'`);
        out.mae = this.count > 0 ? this.absError / this.count : NaN;
      }
    }
    return out;
  }
}

function evaluate<B>(model: Trainable<B>, batches: readonly B[]): Tally {
  model.resetState?.();
  const t = new Tally();
  for (const b of batches) t.add(model.evalBatch(b));
  return t;
}

function snapshot(params: readonly Parameter[]): Float32Array[] {
  return params.map((p) => {
    const { be, p: ptr } = p.module._locate(p.spec);
    return be.arena.read(ptr, p.size);
  });
}

function restore(params: readonly Parameter[], saved: readonly Float32Array[]): void {
  params.forEach((p, i) => {
    const { be, p: ptr } = p.module._locate(p.spec);
    be.arena.write(ptr, saved[i]);
    p.module._touch();
  });
}

function paramsFinite(params: readonly Parameter[]): boolean {
  let s = 0;
  for (const p of params) {
    const { be, p: ptr } = p.module._locate(p.spec);
    s += be.kernels.sumSquares(ptr, p.size);
  }
  return Number.isFinite(s);
}

function scaleGrads(params: readonly Parameter[], s: number): void {
  for (const p of params) {
    const { be, g } = p.module._locate(p.spec);
    be.kernels.scale(g, p.size, s);
  }
}

function positive(fn: string, name: string, v: unknown, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${fn}: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${fmt(v)}`);
  }
  return v;
}

export function fit<B>(model: Trainable<B>, options: FitOptions<B>): FitResult {
  const fn = 'fit';
  if (!(model instanceof Module) || typeof model.trainBatch !== 'function') {
    throw new TypeError(`${fn}: model must be a Module with trainBatch()/evalBatch(), got ${typeName(model)}`);
  }
  checkOptions(fn, options, [
    'optimizer', 'epochs', 'train', 'validation', 'validateEvery', 'maxSeconds', 'metrics', 'clipNorm', 'accumulate', 'scheduler',
    'onStep', 'onValidation', 'onEpoch', 'earlyStopping', 'checkpoint',
  ]);
  const { optimizer, epochs } = options;
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${fn}: optimizer must be an Optimizer (SGD, Adam, …), got ${typeName(optimizer)}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`${fn}: epochs must be a positive integer, got ${fmt(epochs)}`);
  const clipNorm = positive(fn, 'clipNorm', options.clipNorm, false);
  const maxSeconds = positive(fn, 'maxSeconds', options.maxSeconds, false);
  const accumulate = positive(fn, 'accumulate', options.accumulate, true) ?? 1;
  for (const key of ['train', 'validation'] as const) {
    const v = options[key];
    if ((key === 'train' || v !== undefined) && typeof v !== 'function' && !Array.isArray(v)) {
      throw new TypeError(`${fn}: ${key} must be an array of batches or a function of the epoch, got ${typeName(v)}`);
    }
  }
  if (options.scheduler !== undefined && !(options.scheduler instanceof LRScheduler)) {
    throw new TypeError(`${fn}: scheduler must be an LRScheduler, got ${typeName(options.scheduler)}`);
  }
  for (const key of ['onStep', 'onValidation', 'onEpoch'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`${fn}: ${key} must be a function, got ${typeName(options[key])}`);
  }
  const metrics = options.metrics ?? [];
  if (!Array.isArray(metrics) || metrics.some((m) => !METRICS.includes(m))) {
    throw new RangeError(`${fn}: metrics must be an array of ${METRICS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(metrics)}`);
  }
  const every = options.validateEvery;
  if (every !== undefined) {
    checkOptions(`${fn}: validateEvery`, every, ['steps', 'seconds']);
    positive(`${fn}: validateEvery`, 'steps', every.steps, true);
    positive(`${fn}: validateEvery`, 'seconds', every.seconds, false);
    if (options.validation === undefined) throw new RangeError(`${fn}: validateEvery needs validation batches`);
  }
  const es = options.earlyStopping;
  if (es !== undefined) {
    checkOptions(`${fn}: earlyStopping`, es, ['patience', 'minDelta', 'restoreBest']);
    if (!Number.isInteger(es.patience) || es.patience < 1) throw new RangeError(`${fn}: earlyStopping.patience must be a positive integer, got ${fmt(es.patience)}`);
  }
  const ck = options.checkpoint;
  if (ck !== undefined) {
    checkOptions(`${fn}: checkpoint`, ck, ['path', 'bestOnly', 'optimizer']);
    if (typeof ck.path !== 'string' || ck.path === '') throw new TypeError(`${fn}: checkpoint.path must be a non-empty string, got ${typeName(ck.path)}`);
  }

  const params = optimizer.params;
  const history: EpochInfo[] = [];
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  let steps = 0, batchesSeen = 0, bad = 0;
  let stoppedBy: FitResult['stoppedBy'] = 'epochs';
  let best: FitResult['best'] = null;
  let bestWeights: Float32Array[] | null = null;
  let lastValidationStep = 0, lastValidationTime = 0;
  const restoreBest = es?.restoreBest ?? true;

  /** Records a monitored value; returns whether training should stop (patience used up). */
  const monitor = (value: number, epoch: number): boolean => {
    const improved = best === null || value < best.value - (es?.minDelta ?? 0);
    if (improved) {
      best = { value, epoch, step: steps };
      if (es && restoreBest) bestWeights = snapshot(params);
      bad = 0;
    } else bad++;
    if (ck && (!ck.bestOnly || improved)) saveFileSync(model, ck.path, ck.optimizer ? { optimizer } : {});
    return es !== undefined && bad >= es.patience;
  };

  const validate = (epoch: number): { tally: Tally; stop: boolean } => {
    const tally = evaluate(model, batchesOf(options.validation as NonNullable<typeof options.validation>, epoch));
    lastValidationStep = steps;
    lastValidationTime = elapsed();
    const valLoss = tally.mean;
    const prevBest = best;
    const stop = monitor(valLoss, epoch);
    const info: ValidationInfo = {
      epoch, step: steps, valLoss, valMetrics: tally.metrics(fn, metrics), best: best !== prevBest, elapsed: elapsed(),
    };
    const cb = options.onValidation?.(info) === false;
    return { tally, stop: stop || cb };
  };

  let stop = false;
  for (let epoch = 0; epoch < epochs && !stop; epoch++) {
    model.resetState?.();
    const batches = batchesOf(options.train, epoch);
    if (batches.length === 0) throw new RangeError(`${fn}: epoch ${epoch} has no training batches`);
    const te = performance.now();
    const tally = new Tally();
    let validatedAtEnd: Tally | null = null;
    for (let i = 0; i < batches.length; i++) {
      const ts = performance.now();
      if (batchesSeen % accumulate === 0) optimizer.zeroGrad();
      const r = model.trainBatch(batches[i]);
      batchesSeen++;
      if (!Number.isFinite(r.loss)) throw new NonFiniteError('loss', steps + 1, r.loss);
      tally.add(r);
      const update = batchesSeen % accumulate === 0 || i === batches.length - 1;
      let norm = NaN;
      if (update) {
        steps++;
        const k = ((batchesSeen - 1) % accumulate) + 1;
        if (k > 1) scaleGrads(params, 1 / k);
        norm = clipNorm !== undefined ? clipGradNorm(params, clipNorm) : gradNorm(params);
        if (!Number.isFinite(norm)) throw new NonFiniteError('gradient', steps, norm);
        const saved = snapshot(params);
        optimizer.step();
        if (!paramsFinite(params)) {
          restore(params, saved);
          throw new NonFiniteError('parameters', steps, NaN);
        }
        batchesSeen = 0;
      }
      const one = new Tally();
      one.add(r);
      const info: StepInfo = {
        epoch, step: steps, loss: r.loss, gradNorm: norm, lr: optimizer.lr, metrics: one.metrics(fn, metrics),
        tokensPerSecond: r.tokens / ((performance.now() - ts) / 1000), elapsed: elapsed(),
      };
      if (options.onStep?.(info) === false) {
        stop = true;
        stoppedBy = 'callback';
      }
      if (!stop && update && every && ((every.steps !== undefined && steps - lastValidationStep >= every.steps) ||
        (every.seconds !== undefined && elapsed() - lastValidationTime >= every.seconds))) {
        const v = validate(epoch);
        if (i === batches.length - 1) validatedAtEnd = v.tally;
        model.resetState?.();
        if (v.stop) {
          stop = true;
          stoppedBy = bad >= (es?.patience ?? Infinity) ? 'earlyStopping' : 'callback';
        }
      }
      if (!stop && maxSeconds !== undefined && elapsed() >= maxSeconds) {
        stop = true;
        stoppedBy = 'maxSeconds';
      }
      if (stop) break;
    }
    const seconds = (performance.now() - te) / 1000;
    const info: EpochInfo = { epoch, loss: tally.mean, metrics: tally.metrics(fn, metrics), tokensPerSecond: tally.tokens / seconds, seconds };
    if (options.validation && !every) {
      const v = validate(epoch);
      info.valLoss = v.tally.mean;
      info.valMetrics = v.tally.metrics(fn, metrics);
      if (v.stop && !stop) {
        stop = true;
        stoppedBy = bad >= (es?.patience ?? Infinity) ? 'earlyStopping' : 'callback';
      }
    } else if (validatedAtEnd) {
      info.valLoss = validatedAtEnd.mean;
      info.valMetrics = validatedAtEnd.metrics(fn, metrics);
    } else if (!options.validation && (es || ck)) {
      if (monitor(info.loss, epoch) && !stop) {
        stop = true;
        stoppedBy = 'earlyStopping';
      }
    }
    history.push(info);
    options.scheduler?.step();
    if (options.onEpoch?.(info) === false && !stop) {
      stop = true;
      stoppedBy = 'callback';
    }
  }
  let restoredBest = false;
  if (bestWeights && restoreBest) {
    restore(params, bestWeights);
    restoredBest = true;
  }
  return { epochs: history, steps, stoppedEarly: stoppedBy === 'earlyStopping', stoppedBy, best, restoredBest, seconds: elapsed() };
}


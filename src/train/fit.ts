/**
 * The training loop: epochs of batches, an optimizer step per batch with optional gradient
 * clipping, validation, per-step and per-epoch callbacks, early stopping, and a hard stop with
 * the last finite weights when a loss, gradient or update turns non-finite.
 */
import { Module, type Parameter } from '../layers/module.js';
import { checkOptions, fmt } from '../layers/options.js';
import { typeName } from '../tensor.js';
import { clipGradNorm, gradNorm } from './clip.js';
import { NonFiniteError } from './errors.js';
import { Optimizer } from './optimizers.js';
import { LRScheduler } from './schedulers.js';

/** A model fit() can train: it computes a batch's loss and adds its gradients. */
export interface Trainable<B> extends Module {
  trainBatch(batch: B): { loss: number; tokens: number };
  evalBatch(batch: B): { loss: number; tokens: number };
  /** Called at the start of every epoch and validation pass (e.g. to reset carried state). */
  resetState?(): void;
}

export interface StepInfo {
  epoch: number;
  step: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokensPerSecond: number;
  lr: number;
}

export interface EpochInfo {
  epoch: number;
  /** Token-weighted mean training loss of the epoch. */
  loss: number;
  valLoss?: number;
  tokensPerSecond: number;
  seconds: number;
}

export interface FitOptions<B> {
  optimizer: Optimizer;
  epochs: number;
  /** The batches of an epoch: an array (same every epoch) or a function of the epoch number. */
  train: readonly B[] | ((epoch: number) => readonly B[]);
  validation?: readonly B[] | ((epoch: number) => readonly B[]);
  /** Clip the global gradient norm to this before each step. */
  clipNorm?: number;
  /** Stepped once per epoch. */
  scheduler?: LRScheduler;
  /** Return false to stop after this step. */
  onStep?: (info: StepInfo) => void | boolean;
  /** Return false to stop after this epoch. */
  onEpoch?: (info: EpochInfo) => void | boolean;
  /** Stop when the validation loss (or training loss without validation) stops improving. */
  earlyStopping?: { patience: number; minDelta?: number };
}

export interface FitResult {
  epochs: EpochInfo[];
  steps: number;
  stoppedEarly: boolean;
}

function batchesOf<B>(src: readonly B[] | ((e: number) => readonly B[]), epoch: number): readonly B[] {
  return typeof src === 'function' ? src(epoch) : src;
}

function evaluate<B>(model: Trainable<B>, batches: readonly B[]): number {
  model.resetState?.();
  let sum = 0, n = 0;
  for (const b of batches) {
    const r = model.evalBatch(b);
    sum += r.loss * r.tokens;
    n += r.tokens;
  }
  return n > 0 ? sum / n : NaN;
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

export function fit<B>(model: Trainable<B>, options: FitOptions<B>): FitResult {
  const fn = 'fit';
  if (!(model instanceof Module) || typeof model.trainBatch !== 'function') {
    throw new TypeError(`${fn}: model must be a Module with trainBatch()/evalBatch(), got ${typeName(model)}`);
  }
  checkOptions(fn, options, ['optimizer', 'epochs', 'train', 'validation', 'clipNorm', 'scheduler', 'onStep', 'onEpoch', 'earlyStopping']);
  const { optimizer, epochs } = options;
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${fn}: optimizer must be an Optimizer (SGD, Adam, …), got ${typeName(optimizer)}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`${fn}: epochs must be a positive integer, got ${fmt(epochs)}`);
  if (options.clipNorm !== undefined && !(options.clipNorm > 0)) {
    throw new RangeError(`${fn}: clipNorm must be a positive number, got ${fmt(options.clipNorm)}`);
  }
  for (const key of ['train', 'validation'] as const) {
    const v = options[key];
    if ((key === 'train' || v !== undefined) && typeof v !== 'function' && !Array.isArray(v)) {
      throw new TypeError(`${fn}: ${key} must be an array of batches or a function of the epoch, got ${typeName(v)}`);
    }
  }
  if (options.scheduler !== undefined && !(options.scheduler instanceof LRScheduler)) {
    throw new TypeError(`${fn}: scheduler must be an LRScheduler, got ${typeName(options.scheduler)}`);
  }
  for (const key of ['onStep', 'onEpoch'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`${fn}: ${key} must be a function, got ${typeName(options[key])}`);
  }
  const es = options.earlyStopping;
  if (es !== undefined) checkOptions(`${fn}: earlyStopping`, es, ['patience', 'minDelta']);
  if (es && (!Number.isInteger(es.patience) || es.patience < 1)) {
    throw new RangeError(`${fn}: earlyStopping.patience must be a positive integer, got ${fmt(es.patience)}`);
  }
  const params = optimizer.params;
  const history: EpochInfo[] = [];
  let steps = 0, best = Infinity, bad = 0, stop = false, stoppedEarly = false;

  for (let epoch = 0; epoch < epochs && !stop; epoch++) {
    model.resetState?.();
    const batches = batchesOf(options.train, epoch);
    if (batches.length === 0) throw new RangeError(`${fn}: epoch ${epoch} has no training batches`);
    const t0 = performance.now();
    let lossSum = 0, tokens = 0;
    for (const batch of batches) {
      const ts = performance.now();
      optimizer.zeroGrad();
      const r = model.trainBatch(batch);
      steps++;
      if (!Number.isFinite(r.loss)) throw new NonFiniteError('loss', steps, r.loss);
      const norm = options.clipNorm !== undefined ? clipGradNorm(params, options.clipNorm) : gradNorm(params);
      if (!Number.isFinite(norm)) throw new NonFiniteError('gradient', steps, norm);
      const saved = snapshot(params);
      optimizer.step();
      if (!paramsFinite(params)) {
        restore(params, saved);
        throw new NonFiniteError('parameters', steps, NaN);
      }
      lossSum += r.loss * r.tokens;
      tokens += r.tokens;
      const info: StepInfo = {
        epoch, step: steps, loss: r.loss, gradNorm: norm, lr: optimizer.lr,
        tokensPerSecond: r.tokens / ((performance.now() - ts) / 1000),
      };
      if (options.onStep?.(info) === false) {
        stop = true;
        break;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const info: EpochInfo = { epoch, loss: lossSum / tokens, tokensPerSecond: tokens / seconds, seconds };
    if (options.validation) info.valLoss = evaluate(model, batchesOf(options.validation, epoch));
    history.push(info);
    options.scheduler?.step();
    if (options.onEpoch?.(info) === false) stop = true;
    if (es) {
      const monitored = info.valLoss ?? info.loss;
      if (monitored < best - (es.minDelta ?? 0)) {
        best = monitored;
        bad = 0;
      } else if (++bad >= es.patience) {
        stop = true;
        stoppedEarly = true;
      }
    }
  }
  return { epochs: history, steps, stoppedEarly };
}

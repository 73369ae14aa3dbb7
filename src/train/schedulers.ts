/** Learning-rate schedules with PyTorch's formulas; call step() once per epoch (or per step). */
import { checkOptions } from '../layers/options.js';
import { typeName } from '../tensor.js';
import { Optimizer } from './optimizers.js';

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  readonly baseLr: number;
  /** Epochs (calls to step()) so far. */
  lastEpoch = 0;

  protected constructor(optimizer: Optimizer, options: unknown, allowed: readonly string[]) {
    const fn = new.target.name;
    if (!(optimizer instanceof Optimizer)) {
      throw new TypeError(`${fn}: optimizer must be an Optimizer (SGD, Adam, …), got ${typeName(optimizer)}`);
    }
    checkOptions(fn, options, allowed);
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.next(this.optimizer.lr, this.lastEpoch);
  }

  protected abstract next(lr: number, epoch: number): number;
}

function positive(fn: string, name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${fn}: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return v;
}

/** Multiplies the lr by gamma every stepSize epochs (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer, options, ['stepSize', 'gamma']);
    this.stepSize = positive('StepLR', 'stepSize', options.stepSize, true);
    this.gamma = positive('StepLR', 'gamma', options.gamma ?? 0.1);
  }
  protected next(lr: number, epoch: number): number {
    return epoch % this.stepSize === 0 ? lr * this.gamma : lr;
  }
}

/** Multiplies the lr by gamma every epoch (torch.optim.lr_scheduler.ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: { gamma: number }) {
    super(optimizer, options, ['gamma']);
    this.gamma = positive('ExponentialLR', 'gamma', options.gamma);
  }
  protected next(lr: number): number {
    return lr * this.gamma;
  }
}

/** Cosine annealing from the base lr to etaMin over tMax epochs (PyTorch's recursive form). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer, options, ['tMax', 'etaMin']);
    this.tMax = positive('CosineAnnealingLR', 'tMax', options.tMax, true);
    const etaMin = options.etaMin ?? 0;
    if (typeof etaMin !== 'number' || !(etaMin >= 0)) {
      throw new RangeError(`CosineAnnealingLR: etaMin must be a non-negative number, got ${String(etaMin)}`);
    }
    this.etaMin = etaMin;
  }
  protected next(lr: number, e: number): number {
    const T = this.tMax, eta = this.etaMin;
    if ((e - 1 - T) % (2 * T) === 0) return lr + ((this.baseLr - eta) * (1 - Math.cos(Math.PI / T))) / 2;
    return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - eta) + eta;
  }
}

/** Gradient clipping over a set of parameters, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_. */
import type { Module, Parameter } from '../layers/module.js';
import { fmt } from '../layers/options.js';
import { paramList } from './optimizers.js';

function list(fn: string, params: Module | readonly Parameter[]): readonly Parameter[] {
  return paramList(fn, params);
}

/** The global L2 norm of the gradients (float64 accumulation). */
export function gradNorm(params: Module | readonly Parameter[]): number {
  let sum = 0;
  for (const p of list('gradNorm', params)) {
    const { be, g } = p.module._locate(p.spec);
    sum += be.kernels.sumSquares(g, p.size);
  }
  return Math.sqrt(sum);
}

/**
 * Scales all gradients by maxNorm / (norm + 1e-6) when their global L2 norm exceeds maxNorm.
 * Returns the norm before clipping, like PyTorch.
 */
export function clipGradNorm(params: Module | readonly Parameter[], maxNorm: number): number {
  const ps = list('clipGradNorm', params);
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || maxNorm === Infinity) {
    throw new RangeError(`clipGradNorm: maxNorm must be a positive finite number, got ${fmt(maxNorm)}`);
  }
  const norm = gradNorm(ps);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of ps) {
      const { be, g } = p.module._locate(p.spec);
      be.kernels.scale(g, p.size, coef);
    }
  }
  return norm;
}

/** Clamps every gradient value into [−clipValue, clipValue]. */
export function clipGradValue(params: Module | readonly Parameter[], clipValue: number): void {
  const ps = list('clipGradValue', params);
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new RangeError(`clipGradValue: clipValue must be a non-negative number, got ${fmt(clipValue)}`);
  }
  for (const p of ps) {
    const { be, g } = p.module._locate(p.spec);
    be.kernels.clampValues(g, p.size, -clipValue, clipValue);
  }
}

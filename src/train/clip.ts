/** Gradient clipping over a set of parameters, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_. */
import { Module, type Parameter } from '../layers/module.js';

function list(params: Module | readonly Parameter[]): readonly Parameter[] {
  return params instanceof Module ? params.parameters() : params;
}

/** The global L2 norm of the gradients (float64 accumulation). */
export function gradNorm(params: Module | readonly Parameter[]): number {
  let sum = 0;
  for (const p of list(params)) {
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
  if (typeof maxNorm !== 'number' || !(maxNorm > 0)) {
    throw new RangeError(`clipGradNorm: maxNorm must be a positive number, got ${String(maxNorm)}`);
  }
  const ps = list(params);
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
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new RangeError(`clipGradValue: clipValue must be a non-negative number, got ${String(clipValue)}`);
  }
  for (const p of list(params)) {
    const { be, g } = p.module._locate(p.spec);
    be.kernels.clampValues(g, p.size, -clipValue, clipValue);
  }
}

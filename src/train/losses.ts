/**
 * Losses with PyTorch's semantics, forward and gradient fused in one kernel call on the current
 * backend. Each returns the loss and the gradient of the reduced loss w.r.t. the input; when
 * the input was recorded (computed in training mode), `backward()` backpropagates the loss
 * through everything that produced it, and `tensor` is the loss as a recorded tensor to combine
 * with other losses.
 */
import { backward as backpropagate, isRecorded, record } from '../autograd/graph.js';
import { backendInstance } from '../backend/index.js';
import { checkOptions, fmt } from '../layers/options.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossResult {
  /** The reduced loss, or per-element losses (a Tensor) with reduction 'none'. */
  loss: number | Tensor;
  /** d(loss)/d(input); with 'none', the gradient of the sum of the per-element losses. */
  grad: Tensor;
  /** The loss as a tensor (shape [] reduced, or the per-element shape), recorded when the input was. */
  tensor: Tensor;
  /**
   * Backpropagates d(loss) = 1 (with 'none': d(sum of the losses)) into everything that
   * produced the input: parameter gradients are added to their modules' gradients().
   */
  backward(): void;
}

/**
 * Wraps a loss computed on `input`: its tensor is recorded with a node whose backward scales
 * the fused gradient by the upstream gradient (one value, or one per element for 'none').
 */
function lossResult(fn: string, input: Tensor, loss: number | Tensor, grad: Tensor, perRow: number): LossResult {
  const tensor = typeof loss === 'number' ? new Tensor(Float32Array.of(loss), []) : loss;
  if (isRecorded(input)) {
    record({
      name: fn, inputs: [input], outputs: 1,
      backward: ([g]) => {
        const up = g as Float32Array, src = grad.data, out = new Float32Array(src.length);
        if (up.length === 1) {
          const s = up[0];
          for (let i = 0; i < src.length; i++) out[i] = src[i] * s;
        } else {
          for (let i = 0; i < src.length; i++) out[i] = src[i] * up[Math.floor(i / perRow)];
        }
        return [out];
      },
    }, [tensor]);
  }
  const res: LossResult = {
    loss, grad, tensor,
    backward: () => {
      if (!isRecorded(input)) {
        throw new Error(`${fn}(...).backward: the input has no recorded history: compute it in training mode (model.train(), or { training: true })`);
      }
      const ones = new Float32Array(tensor.size).fill(1);
      backpropagate(tensor, ones, `${fn}(...).backward`);
    },
  };
  return res;
}

/**
 * Non-finite values in a recorded input come from diverged weights, not from the caller: the
 * loss is then non-finite (for fit() to stop on). Anything else must be finite.
 */
function checkInput(x: Tensor, arg: string): void {
  if (!isRecorded(x)) checkFinite(x.data, arg);
}

function reductionOf(fn: string, r: unknown): Reduction {
  if (r === undefined) return 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new RangeError(`${fn}: reduction must be 'mean', 'sum' or 'none', got ${fmt(r)}`);
  }
  return r;
}

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Targets equal to this are skipped (default −100, as in PyTorch). */
  ignoreIndex?: number;
  /** ε of label smoothing in [0, 1] (default 0). */
  labelSmoothing?: number;
}

/** Softmax cross-entropy of logits [N, C] against integer class targets [N]. */
export function crossEntropy(logits: TensorLike, targets: ArrayLike<number>, options: CrossEntropyOptions = {}): LossResult {
  const fn = 'crossEntropy';
  checkOptions(fn, options, ['reduction', 'ignoreIndex', 'labelSmoothing']);
  const x = toTensor(logits, `${fn}: logits`);
  if (x.shape.length !== 2 || x.shape[0] < 1 || x.shape[1] < 1) {
    throw new RangeError(`${fn}: logits must be 2-D [N, C] with N, C ≥ 1, got shape ${shapeStr(x.shape)}`);
  }
  const [N, C] = x.shape;
  const reduction = reductionOf(fn, options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new TypeError(`${fn}: ignoreIndex must be an integer, got ${fmt(ignoreIndex)}`);
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    throw new RangeError(`${fn}: labelSmoothing must be a number in [0, 1], got ${fmt(eps)}`);
  }
  if (targets === null || typeof targets !== 'object' || typeof targets.length !== 'number') {
    throw new TypeError(`${fn}: targets must be an array of ${N} class ids, got ${typeName(targets)}`);
  }
  if (targets.length !== N) throw new RangeError(`${fn}: targets must have N = ${N} entries (one per logits row), got ${targets.length}`);
  const tg = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    if (!Number.isInteger(t) || ((t < 0 || t >= C) && t !== ignoreIndex)) {
      throw new RangeError(`${fn}: targets[${i}] must be a class id in [0, ${C - 1}] or ignoreIndex (${ignoreIndex}), got ${fmt(t)}`);
    }
    tg[i] = t;
  }
  checkInput(x, `${fn}: logits`);

  const be = backendInstance();
  const a = be.arena;
  const nc = N * C, pad = (n: number): number => Math.ceil(n / 16) * 16;
  const base = a.scratch((pad(nc) * 2 + pad(N) * 2) * 4);
  const pl = base, pg = pl + pad(nc) * 4, pt = pg + pad(nc) * 4, ploss = pt + pad(N) * 4;
  a.write(pl, x.data);
  a.i32.set(tg, pt >>> 2);
  // Count the rows that count first: the mean's gradient scale needs it.
  let count = 0;
  for (let i = 0; i < N; i++) if (tg[i] !== ignoreIndex) count++;
  const scale = reduction === 'mean' ? 1 / count : 1;
  be.kernels.crossEntropy(ploss, pg, pl, pt, N, C, ignoreIndex, eps, count === 0 ? 0 : scale);
  const grad = new Tensor(a.read(pg, nc), [N, C]);
  const rows = a.read(ploss, N);
  if (reduction === 'none') return lossResult(fn, x, new Tensor(rows, [N]), grad, C);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += rows[i];
  return lossResult(fn, x, reduction === 'sum' ? Math.fround(sum) : Math.fround(sum / count), grad, C);
}

function pair(fn: string, a: TensorLike, b: TensorLike, an: string, bn: string): [Tensor, Tensor] {
  const x = toTensor(a, `${fn}: ${an}`), y = toTensor(b, `${fn}: ${bn}`);
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new RangeError(`${fn}: ${bn} must have the shape of ${an} ${shapeStr(x.shape)}, got ${shapeStr(y.shape)}`);
  }
  if (x.size === 0) throw new RangeError(`${fn}: ${an} is empty (shape ${shapeStr(x.shape)})`);
  checkInput(x, `${fn}: ${an}`);
  checkFinite(y.data, `${fn}: ${bn}`);
  return [x, y];
}

type SumKernel = 'mseSum' | 'bceWithLogitsSum';

function elementwise(fn: string, kernel: SumKernel, a: TensorLike, b: TensorLike, an: string, options: { reduction?: Reduction }): LossResult {
  checkOptions(fn, options, ['reduction']);
  const [x, y] = pair(fn, a, b, an, 'target');
  const reduction = reductionOf(fn, options.reduction);
  const n = x.size;
  const be = backendInstance();
  const ar = be.arena, pad = Math.ceil(n / 16) * 16;
  const base = ar.scratch(pad * 3 * 4);
  const px = base, py = px + pad * 4, pg = py + pad * 4;
  ar.write(px, x.data);
  ar.write(py, y.data);
  const scale = reduction === 'mean' ? 1 / n : 1;
  const sum = be.kernels[kernel](pg, px, py, n, scale);
  const grad = new Tensor(ar.read(pg, n), x.shape);
  if (reduction !== 'none') return lossResult(fn, x, Math.fround(reduction === 'sum' ? sum : sum / n), grad, 1);
  // Per-element losses: one kernel call per element would be wasteful; compute them directly.
  const per = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = x.data[i], t = y.data[i];
    per[i] = kernel === 'mseSum' ? (p - t) * (p - t) : Math.max(p, 0) - p * t + Math.log1p(Math.exp(-Math.abs(p)));
  }
  return lossResult(fn, x, new Tensor(per, x.shape), grad, 1);
}

/** Mean squared error (PyTorch's mse_loss). */
export function mse(pred: TensorLike, target: TensorLike, options: { reduction?: Reduction } = {}): LossResult {
  return elementwise('mse', 'mseSum', pred, target, 'pred', options);
}

/** Binary cross-entropy on logits, in the numerically stable form (PyTorch's binary_cross_entropy_with_logits). */
export function bceWithLogits(logits: TensorLike, target: TensorLike, options: { reduction?: Reduction } = {}): LossResult {
  return elementwise('bceWithLogits', 'bceWithLogitsSum', logits, target, 'logits', options);
}

/**
 * The small layers a Keras model needs beyond our standard ones, built from the core's tensor
 * ops (so they record for autograd like any op, and an imported model trains): a time reversal
 * for `goBackwards`, the merge of a bidirectional layer's two halves for Keras's `merge_mode`
 * 'sum' / 'ave' / 'mul' (a Dense layer's softmax activation is the core's Softmax layer). Both are
 * registered with load(), so an imported model saves and loads like any other.
 */
import { Module, Tensor, add, cat, mul, registerModel, slice, type TensorLike } from '../index.js';

function tensorOf(fn: string, x: TensorLike): Tensor {
  if (x instanceof Tensor) return x;
  try {
    return Tensor.from(x);
  } catch (err) {
    const e = err as Error;
    const Ctor = e instanceof RangeError ? RangeError : TypeError;
    throw new Ctor(`${fn}: x: ${e.message.replace(/^Tensor\.from: values:? ?/, '')}`);
  }
}

/**
 * Reverses the time axis of a batch-first sequence: [B, T, F] → [B, T, F] with step t taken
 * from step T − 1 − t (Keras's `go_backwards`, whose outputs stay in processing order).
 */
export class ReverseTime extends Module {
  forward(x: TensorLike): Tensor {
    const fn = `${this.constructor.name}.forward`;
    const t = tensorOf(fn, x);
    if (t.shape.length !== 3) throw new RangeError(`${fn}: x must be [batch, time, features], got shape [${t.shape.join(', ')}]`);
    const T = t.shape[1];
    if (T <= 1) return t;
    const steps: Tensor[] = [];
    for (let s = T - 1; s >= 0; s--) steps.push(slice(t, 1, s, s + 1));
    return cat(steps, 1);
  }
}

export type MergeMode = 'sum' | 'ave' | 'mul';

/**
 * Merges the forward and backward halves of a bidirectional layer's features, [..., 2H] →
 * [..., H]: their sum, mean ('ave') or product (Keras's Bidirectional `merge_mode`; 'concat' is
 * the layer's own output).
 */
export class MergeDirections extends Module {
  readonly mode: MergeMode;

  constructor(options: { mode: MergeMode }) {
    super();
    const name = new.target.name;
    if (options === null || typeof options !== 'object') throw new TypeError(`${name}: options must be an object {mode}, got ${String(options)}`);
    for (const k of Object.keys(options)) if (k !== 'mode') throw new TypeError(`${name}: unknown option '${k}'; expected 'mode'`);
    const mode = options.mode;
    if (mode !== 'sum' && mode !== 'ave' && mode !== 'mul') throw new RangeError(`${name}: mode must be 'sum', 'ave' or 'mul', got ${String(mode)}`);
    this.mode = mode;
  }

  override getConfig(): Record<string, unknown> {
    return { mode: this.mode };
  }

  forward(x: TensorLike): Tensor {
    const fn = `${this.constructor.name}.forward`;
    const t = tensorOf(fn, x);
    const r = t.shape.length, F = r > 0 ? t.shape[r - 1] : 0;
    if (r < 1 || F % 2 !== 0 || F === 0) {
      throw new RangeError(`${fn}: x's last dimension must hold both directions (2·H features), got shape [${t.shape.join(', ')}]`);
    }
    const H = F / 2;
    const fwd = slice(t, -1, 0, H), bwd = slice(t, -1, H, F);
    if (this.mode === 'sum') return add(fwd, bwd);
    if (this.mode === 'mul') return mul(fwd, bwd);
    return mul(add(fwd, bwd), 0.5);
  }
}

registerModel('ReverseTime', () => new ReverseTime());
registerModel('MergeDirections', (c) => new MergeDirections(c as { mode: MergeMode }));

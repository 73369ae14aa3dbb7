/**
 * Sequential: a plain chain of layers (PyTorch's nn.Sequential), with its numbered parameter
 * names (`0.weight`, `1.weight_ih_l0`, …). A recurrent layer passes its whole result on, so the
 * next layer can pool it (LastStep, MeanPool, MaxPool, FinalHidden); a Linear or activation
 * after a recurrent layer takes its output. The batch's `lengths` reach the recurrent and
 * pooling layers.
 */
import { Tensor, typeName } from '../tensor.js';
import { Embedding, type Ids } from './embedding.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { checkOptions } from './options.js';
import { FinalHidden, LastStep, MaxPool, MeanPool } from './pooling.js';
import { RNNBase } from './rnn.js';
import type { RNNResult, RNNState } from './recurrent/types.js';

export interface SequentialOptions {
  /** Valid length of each batch row, for the recurrent and pooling layers. */
  lengths?: ArrayLike<number>;
  /** Initial state of the first recurrent layer. */
  state?: RNNState;
  /** Overrides each layer's training mode for this call. */
  training?: boolean;
}

/** A layer Sequential can hold: a built-in layer, or any Module with forward(input). */
type Layer = Module & { forward(input: never, ...rest: never[]): unknown };

export class Sequential extends Module {
  private readonly layers: Layer[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module) || typeof (m as unknown as Partial<Layer>).forward !== 'function') {
        throw new TypeError(`${new.target.name}: layer ${i} must be a Module with forward(), got ${typeName(m)}`);
      }
    });
    this.layers = layers as Layer[];
  }

  /** The layers under their numbers: '0', '1', … (so parameters are named '0.weight', …). */
  override namedChildren(): Array<[string, Module]> {
    return this.layers.map((m, i) => [String(i), m]);
  }

  /** Each layer's class and configuration, in order (what load() rebuilds the chain from). */
  override getConfig(): Record<string, unknown> {
    return { layers: this.layers.map((m) => ({ class: m.constructor.name, config: m.getConfig() })) };
  }

  get length(): number {
    return this.layers.length;
  }

  /** Layer i (negative counts from the end). */
  at(i: number): Module {
    const m = this.layers[i < 0 ? i + this.layers.length : i];
    if (!m) throw new RangeError(`${this.constructor.name}.at: index must be in [${-this.layers.length}, ${this.layers.length - 1}], got ${String(i)}`);
    return m;
  }

  /** Runs the chain. Returns the last layer's result (a Tensor, or a recurrent layer's {output, h[, c]}). */
  forward(input: unknown, options: SequentialOptions = {}): Tensor | RNNResult {
    const fn = `${this.constructor.name}.forward`;
    this.checkAlive();
    checkOptions(fn, options, ['lengths', 'state', 'training']);
    const train = options.training === undefined ? {} : { training: options.training };
    let v: unknown = input;
    let state = options.state;
    for (const m of this.layers) {
      if (m instanceof Embedding) v = m.forward(v as Ids, train);
      else if (m instanceof RNNBase) {
        v = (m as unknown as { forward(x: Tensor, s?: RNNState, o?: object): RNNResult }).forward(outputOf(v), state, {
          ...train, ...(options.lengths ? { lengths: options.lengths } : {}),
        });
        state = undefined;
      } else if (m instanceof LastStep || m instanceof MeanPool || m instanceof MaxPool) v = m.forward(v as RNNResult, options.lengths);
      else if (m instanceof FinalHidden) v = m.forward(v as RNNResult);
      else if (m instanceof Linear) v = m.forward(outputOf(v), train);
      else v = (m as { forward(x: unknown, o?: object): unknown }).forward(outputOf(v), train);
    }
    return v as Tensor | RNNResult;
  }
}

/** A recurrent result stands for its output tensor where a layer wants a tensor. */
function outputOf(v: unknown): Tensor {
  if (v !== null && typeof v === 'object' && !(v instanceof Tensor) && (v as RNNResult).output instanceof Tensor) return (v as RNNResult).output;
  return v as Tensor;
}

/** Parameterless layers for Sequential chains: ReLU, Tanh, Sigmoid, Softmax and Dropout (PyTorch's nn modules). */
import { dropout, relu, sigmoid, tanh } from '../autograd/elementwise.js';
import { softmax } from '../autograd/softmax.js';
import { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { checkOptions, fmt, seedOf } from './options.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** softmax along `dim` (default −1, the last dimension), like nn.Softmax(dim). */
export class Softmax extends Module {
  readonly dim: number;
  constructor(options: { dim?: number } = {}) {
    super();
    const name = new.target.name;
    checkOptions(name, options, ['dim']);
    const dim = options.dim ?? -1;
    if (!Number.isInteger(dim)) throw new TypeError(`${name}: dim must be an integer, got ${fmt(dim)}`);
    this.dim = dim;
  }

  override getConfig(): Record<string, unknown> {
    return { dim: this.dim };
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** Inverted dropout in training mode (train()); the identity in inference mode. */
export class Dropout extends Module {
  readonly p: number;
  private rng: Random;

  constructor(p = 0.5, options: { seed?: number } = {}) {
    super();
    const name = new.target.name;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new RangeError(`${name}: p must be a number in [0, 1), got ${fmt(p)}`);
    checkOptions(name, options, ['seed']);
    this.p = p;
    this.rng = new Random(seedOf(name, options.seed));
  }

  override getConfig(): Record<string, unknown> {
    return { p: this.p };
  }

  override _rngState(): number | null {
    return this.rng.state;
  }

  override _setRngState(state: number): void {
    this.rng.state = state;
  }

  forward(x: Tensor, options: { training?: boolean } = {}): Tensor {
    return dropout(x, this.p, { training: options.training ?? this.training, rng: this.rng });
  }
}

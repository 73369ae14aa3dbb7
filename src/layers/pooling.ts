/**
 * Sequence pooling as layers, for Sequential chains (Embedding → LSTM → pooling → Linear): each
 * takes a recurrent layer's result (or its output tensor) and the batch's lengths.
 */
import { finalHidden, lastStep, maxPool, meanPool } from '../autograd/pooling.js';
import { Tensor, typeName } from '../tensor.js';
import { Module } from './module.js';
import { checkOptions } from './options.js';
import type { RNNResult } from './recurrent/types.js';

/** What a pooling layer accepts: a recurrent layer's result, or its output tensor. */
export type SequenceInput = Tensor | RNNResult;

function outputOf(fn: string, v: SequenceInput): Tensor {
  if (v instanceof Tensor) return v;
  if (v !== null && typeof v === 'object' && (v as RNNResult).output instanceof Tensor) return (v as RNNResult).output;
  throw new TypeError(`${fn}: input must be a recurrent layer's result {output, h} or its output tensor, got ${typeName(v)}`);
}

abstract class Pool extends Module {
  readonly batchFirst: boolean;
  constructor(options: { batchFirst?: boolean } = {}) {
    super();
    checkOptions(new.target.name, options, ['batchFirst']);
    this.batchFirst = options.batchFirst ?? false;
  }
  override getConfig(): Record<string, unknown> {
    return { batchFirst: this.batchFirst };
  }
}

/** Each row's output at its last valid step: [T, B, F] → [B, F]. */
export class LastStep extends Pool {
  forward(input: SequenceInput, lengths?: ArrayLike<number> | null): Tensor {
    return lastStep(outputOf(`${this.constructor.name}.forward`, input), lengths, { batchFirst: this.batchFirst });
  }
}

/** The mean over each row's valid steps: [T, B, F] → [B, F]. */
export class MeanPool extends Pool {
  forward(input: SequenceInput, lengths?: ArrayLike<number> | null): Tensor {
    return meanPool(outputOf(`${this.constructor.name}.forward`, input), lengths, { batchFirst: this.batchFirst });
  }
}

/** The maximum over each row's valid steps: [T, B, F] → [B, F]. */
export class MaxPool extends Pool {
  forward(input: SequenceInput, lengths?: ArrayLike<number> | null): Tensor {
    return maxPool(outputOf(`${this.constructor.name}.forward`, input), lengths, { batchFirst: this.batchFirst });
  }
}

/** The top layer's final hidden state, both directions concatenated: a result's h [L·D, B, H] → [B, D·H]. */
export class FinalHidden extends Module {
  forward(input: RNNResult): Tensor {
    const fn = `${this.constructor.name}.forward`;
    if (input === null || typeof input !== 'object' || !(input.h instanceof Tensor) || !(input.output instanceof Tensor)) {
      throw new TypeError(`${fn}: input must be a recurrent layer's result {output, h}, got ${typeName(input)}`);
    }
    const H = input.h.shape[input.h.shape.length - 1];
    const D = input.output.shape[input.output.shape.length - 1] / H;
    return finalHidden(input.h, D === 2 ? 2 : 1);
  }
}

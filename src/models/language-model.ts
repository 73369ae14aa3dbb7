/**
 * A token language model: Embedding → RNN/LSTM/GRU → Linear, trained with cross-entropy.
 * Its parameters carry PyTorch's names for a module with attributes embedding, rnn, linear.
 */
import { Embedding, type Ids } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { GRU, LSTM, RNN, type RNNState } from '../layers/rnn.js';
import { checkOptions, positiveInt, seedOf } from '../layers/options.js';
import { Tensor, allFinite } from '../tensor.js';
import { crossEntropy } from '../train/losses.js';
import type { TokenBatch } from '../data/batches.js';

export interface LanguageModelOptions {
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers?: number;
  cell?: 'lstm' | 'gru' | 'rnn';
  dropout?: number;
  seed?: number;
}

export interface BatchResult {
  /** Mean cross-entropy over the batch's tokens. */
  loss: number;
  /** Tokens the loss was averaged over. */
  tokens: number;
}

export class LanguageModel extends Module {
  readonly vocabSize: number;
  embedding: Embedding;
  rnn: LSTM | GRU | RNN;
  linear: Linear;
  /** State carried between consecutive batches ('sequential' batches, truncated BPTT). */
  private carried: RNNState | null = null;

  constructor(options: LanguageModelOptions) {
    super();
    const fn = 'LanguageModel';
    checkOptions(fn, options, ['vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell', 'dropout', 'seed']);
    this.vocabSize = positiveInt(fn, 'vocabSize', options.vocabSize);
    const E = positiveInt(fn, 'embeddingDim', options.embeddingDim);
    const H = positiveInt(fn, 'hiddenSize', options.hiddenSize);
    const seed = seedOf(fn, options.seed);
    const cell = options.cell ?? 'lstm';
    if (cell !== 'lstm' && cell !== 'gru' && cell !== 'rnn') {
      throw new RangeError(`${fn}: cell must be 'lstm', 'gru' or 'rnn', got ${String(cell)}`);
    }
    const s = (k: number): number | undefined => (seed === undefined ? undefined : seed * 7919 + k);
    this.embedding = new Embedding(this.vocabSize, E, { seed: s(1) });
    const rnnOpts = { inputSize: E, hiddenSize: H, numLayers: options.numLayers ?? 1, dropout: options.dropout ?? 0, seed: s(2) };
    this.rnn = cell === 'lstm' ? new LSTM(rnnOpts) : cell === 'gru' ? new GRU(rnnOpts) : new RNN(rnnOpts);
    this.linear = new Linear(H, this.vocabSize, { seed: s(3) });
  }

  override getConfig(): Record<string, unknown> {
    const r = this.rnn;
    return {
      vocabSize: this.vocabSize, embeddingDim: this.embedding.embeddingDim, hiddenSize: r.hiddenSize, numLayers: r.numLayers,
      cell: r.mode === 'LSTM' ? 'lstm' : r.mode === 'GRU' ? 'gru' : 'rnn', dropout: r.dropout,
    };
  }

  /** Logits [T, B, vocabSize] for time-major ids [T, B] (nested arrays or { data, shape }). */
  forward(ids: Ids, state?: RNNState): { logits: Tensor; state: RNNState } {
    const emb = this.embedding.forward(ids);
    const out = this.rnn.forward(emb, state);
    const [T, B, H] = out.output.shape;
    const logits = this.linear.forward(new Tensor(out.output.data, [T * B, H]));
    const next: RNNState = 'c' in out ? { h: out.h, c: (out as { c: Tensor }).c } : { h: out.h };
    return { logits: new Tensor(logits.data, [T, B, this.vocabSize]), state: next };
  }

  /** Forgets the carried state (start of an epoch or a new stream). */
  resetState(): void {
    this.carried = null;
  }

  private run(batch: TokenBatch, training: boolean): BatchResult {
    const { T, B, x, y } = batch;
    if (x.length !== T * B || y.length !== T * B) {
      throw new RangeError(`LanguageModel: batch x and y must hold T·B = ${T * B} ids, got ${x.length} and ${y.length}`);
    }
    const state = batch.carry ? this.carried ?? undefined : undefined;
    const emb = this.embedding.forward({ data: x, shape: [T, B] }, { training });
    const out = this.rnn.forward(emb, state, { training });
    const H = out.output.shape[2];
    this.carried = 'c' in out ? { h: out.h, c: (out as { c: Tensor }).c } : { h: out.h };
    // Diverged weights can overflow an activation: that is a non-finite loss, not bad input.
    if (!allFinite(out.output.data)) return { loss: NaN, tokens: T * B };
    const logits = this.linear.forward(new Tensor(out.output.data, [T * B, H]), { training });
    if (!allFinite(logits.data)) return { loss: NaN, tokens: T * B };
    const ce = crossEntropy(logits, y);
    if (training) {
      const dOut = this.linear.backward(ce.grad);
      const g = this.rnn.backward(new Tensor(dOut.data, [T, B, H]));
      this.embedding.backward(g.x);
    }
    return { loss: ce.loss as number, tokens: T * B };
  }

  /** Forward + backward on one batch: gradients are added to gradients(). */
  trainBatch(batch: TokenBatch): BatchResult {
    return this.run(batch, true);
  }

  /** Loss on one batch without recording anything for backward. */
  evalBatch(batch: TokenBatch): BatchResult {
    return this.run(batch, false);
  }
}

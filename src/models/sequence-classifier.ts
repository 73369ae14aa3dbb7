/**
 * A many-to-one sequence classifier: token ids (Embedding) or feature vectors → a stacked,
 * optionally bidirectional RNN/LSTM/GRU over padded batches with lengths → pooling over each
 * row's valid steps ('last': the final hidden state of each direction; 'mean'; 'max') →
 * dropout → Linear. Two classes train one logit with bceWithLogits (PyTorch's
 * BCEWithLogitsLoss), more train softmax cross-entropy. Parameters: embedding.*, rnn.*, linear.*.
 */
import { finalHidden, maxPool, meanPool } from '../autograd/pooling.js';
import { noGrad } from '../autograd/graph.js';
import { padSequences, type FeatureSequence, type IdSequence } from '../data/padding.js';
import { Dropout } from '../layers/activations.js';
import { Embedding } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { bool, checkOptions, fmt, positiveInt, seedOf } from '../layers/options.js';
import type { GRU, LSTM, RNN } from '../layers/rnn.js';
import { Tensor, shapeStr, toTensor, typeName } from '../tensor.js';
import { bceWithLogits, crossEntropy } from '../train/losses.js';
import {
  CELL_NAMES, argmax, cellOf, childSeed, choiceOf, finite, fraction, recurrent, tokenizerOf,
  type CellName, type Tokenizer, type TokenizerJSON,
} from './common.js';

export type Pooling = 'last' | 'mean' | 'max';
const POOLINGS: readonly Pooling[] = ['last', 'mean', 'max'];

export interface SequenceClassifierOptions {
  /** Classes (≥ 2; default 2, or classes.length). Two classes: one logit and bceWithLogits. */
  numClasses?: number;
  /** Optional class names, in class-id order (e.g. ['female', 'male']). */
  classes?: readonly string[];
  /** Token input: the vocabulary size of the Embedding (default: the tokenizer's). */
  vocabSize?: number;
  /** Token input: the embedding width (default 32). */
  embeddingDim?: number;
  /** Numeric input: features per step (instead of vocabSize). */
  inputSize?: number;
  /** A fitted CharTokenizer/WordTokenizer (or its toJSON()): predict() then takes strings. */
  tokenizer?: Tokenizer | TokenizerJSON;
  hiddenSize: number;
  numLayers?: number;
  cell?: CellName;
  bidirectional?: boolean;
  /** How the steps become one vector: 'last' (default), 'mean' or 'max' over each row's valid steps. */
  pooling?: Pooling;
  /** Dropout on the pooled features and between stacked recurrent layers, in training (default 0). */
  dropout?: number;
  seed?: number;
}

/** What trainBatch/evalBatch take: sequenceBatches() gives exactly this. */
export interface ClassifierBatch {
  /** Ids [T, B] (token input) or features [T, B, inputSize], time-major, padded. */
  x: { readonly data: ArrayLike<number>; readonly shape: readonly number[] };
  /** Each row's valid length (default: all T). */
  lengths?: ArrayLike<number> | null;
  /** A class id per row. */
  y: ArrayLike<number> | null;
}

/** fit()'s batch result: the mean loss over `tokens` rows, and `correct` of `count` for accuracy. */
export interface ClassifierResult {
  loss: number;
  tokens: number;
  correct: number;
  count: number;
}

/** What predict() and predictProba() take. */
export type ClassifierInput =
  | string
  | readonly string[]
  | readonly IdSequence[]
  | readonly FeatureSequence[]
  | { readonly x: { readonly data: ArrayLike<number>; readonly shape: readonly number[] }; readonly lengths?: ArrayLike<number> | null };

const CHUNK = 1024;

export class SequenceClassifier extends Module {
  readonly numClasses: number;
  readonly classes: readonly string[] | null;
  readonly pooling: Pooling;
  readonly tokenizer: Tokenizer | null;
  /** Features per step of numeric input, or null for token input. */
  readonly inputSize: number | null;
  embedding: Embedding | null;
  rnn: LSTM | GRU | RNN;
  drop: Dropout;
  linear: Linear;

  constructor(options: SequenceClassifierOptions) {
    super();
    const fn = new.target.name;
    checkOptions(fn, options, [
      'numClasses', 'classes', 'vocabSize', 'embeddingDim', 'inputSize', 'tokenizer', 'hiddenSize', 'numLayers', 'cell',
      'bidirectional', 'pooling', 'dropout', 'seed',
    ]);
    const o = options;
    if (o.classes !== undefined) {
      if (!Array.isArray(o.classes) || o.classes.length < 2 || !o.classes.every((c) => typeof c === 'string')) {
        throw new TypeError(`${fn}: classes must be an array of at least 2 class names (strings), got ${Array.isArray(o.classes) ? `[${o.classes.map(fmt).join(', ')}]` : fmt(o.classes)}`);
      }
      if (new Set(o.classes).size !== o.classes.length) throw new RangeError(`${fn}: classes must not repeat a name, got [${o.classes.map(fmt).join(', ')}]`);
    }
    this.numClasses = positiveInt(fn, 'numClasses', o.numClasses ?? o.classes?.length ?? 2);
    if (this.numClasses < 2) throw new RangeError(`${fn}: numClasses must be at least 2, got ${this.numClasses}`);
    if (o.classes !== undefined && o.classes.length !== this.numClasses) {
      throw new RangeError(`${fn}: classes must name numClasses = ${this.numClasses} classes, got ${o.classes.length}`);
    }
    this.classes = o.classes ? Object.freeze([...o.classes]) : null;
    this.tokenizer = tokenizerOf(fn, 'tokenizer', o.tokenizer);
    const tokens = o.vocabSize !== undefined || o.embeddingDim !== undefined || this.tokenizer !== null;
    if (tokens === (o.inputSize !== undefined)) {
      throw new TypeError(
        `${fn}: give vocabSize (or a tokenizer) for token input, or inputSize for numeric input, ` +
          `got ${tokens ? 'both' : 'neither'}`,
      );
    }
    const H = positiveInt(fn, 'hiddenSize', o.hiddenSize);
    const numLayers = positiveInt(fn, 'numLayers', o.numLayers ?? 1);
    const cell = choiceOf(fn, 'cell', o.cell, CELL_NAMES, 'lstm');
    const bidirectional = bool(fn, 'bidirectional', o.bidirectional, false);
    this.pooling = choiceOf(fn, 'pooling', o.pooling, POOLINGS, 'last');
    const p = fraction(fn, 'dropout', o.dropout, 0);
    const seed = seedOf(fn, o.seed);
    let width: number;
    if (tokens) {
      const V = o.vocabSize ?? this.tokenizer?.vocabSize;
      positiveInt(fn, 'vocabSize', V);
      if (this.tokenizer && V !== this.tokenizer.vocabSize) {
        throw new RangeError(`${fn}: vocabSize must equal the tokenizer's vocabulary size ${this.tokenizer.vocabSize}, got ${V}`);
      }
      width = positiveInt(fn, 'embeddingDim', o.embeddingDim ?? 32);
      this.embedding = new Embedding(V as number, width, { seed: childSeed(seed, 1) });
      this.inputSize = null;
    } else {
      width = positiveInt(fn, 'inputSize', o.inputSize);
      this.embedding = null;
      this.inputSize = width;
    }
    this.rnn = recurrent(cell, { inputSize: width, hiddenSize: H, numLayers, dropout: numLayers > 1 ? p : 0, bidirectional, seed: childSeed(seed, 2) });
    this.drop = new Dropout(p, { seed: childSeed(seed, 3) });
    this.linear = new Linear((bidirectional ? 2 : 1) * H, this.numClasses === 2 ? 1 : this.numClasses, { seed: childSeed(seed, 4) });
  }

  override getConfig(): Record<string, unknown> {
    const r = this.rnn;
    return {
      numClasses: this.numClasses,
      ...(this.classes ? { classes: [...this.classes] } : {}),
      ...(this.embedding ? { vocabSize: this.embedding.numEmbeddings, embeddingDim: this.embedding.embeddingDim } : { inputSize: this.inputSize }),
      ...(this.tokenizer ? { tokenizer: this.tokenizer.toJSON() } : {}),
      hiddenSize: r.hiddenSize, numLayers: r.numLayers, cell: cellOf(r), bidirectional: r.bidirectional,
      pooling: this.pooling, dropout: this.drop.p,
    };
  }

  /**
   * Logits for a padded batch: x is ids [T, B] (token input) or features [T, B, inputSize];
   * returns [B, 1] for two classes (the logit of class 1) or [B, numClasses]. In training mode
   * (train(), or `training: true`) the result is recorded: `loss.backward()` reaches every layer.
   */
  forward(x: ClassifierBatch['x'], options: { lengths?: ArrayLike<number> | null; training?: boolean } = {}): Tensor {
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['lengths', 'training']);
    const out = this.logits(fn, x, options.lengths ?? null, bool(fn, 'training', options.training, this.training));
    if (!out) throw new RangeError(`${fn}: the activations are not finite (diverged weights?)`);
    return out;
  }

  /** The logits, or null when an activation is not finite (diverged weights). */
  private logits(fn: string, x: ClassifierBatch['x'], lengths: ArrayLike<number> | null, training: boolean): Tensor | null {
    this.checkAlive();
    if (x === null || typeof x !== 'object' || !Array.isArray(x.shape)) {
      throw new TypeError(`${fn}: x must be a padded batch { data, shape } (padSequences), got ${typeName(x)}`);
    }
    const want = this.embedding ? '[T, B] token ids' : `[T, B, ${this.inputSize}] features`;
    const rank = this.embedding ? 2 : 3;
    if (x.shape.length !== rank || (!this.embedding && x.shape[2] !== this.inputSize)) {
      throw new RangeError(`${fn}: x must be ${want}, got shape ${shapeStr(x.shape)}`);
    }
    const B = x.shape[1];
    if (lengths !== null && (typeof lengths !== 'object' || lengths.length !== B)) {
      throw new RangeError(`${fn}: lengths must hold one length per batch row (${B}), got ${typeof lengths === 'object' ? `${lengths.length}` : fmt(lengths)}`);
    }
    const lens = lengths ?? undefined;
    const input = this.embedding ? this.embedding.forward(x, { training }) : toTensor(x, `${fn}: x`);
    if (!finite(input)) return null;
    const r = this.rnn.forward(input, undefined, { ...(lens ? { lengths: lens } : {}), training });
    const pooled = this.pooling === 'last' ? finalHidden(r.h, this.rnn.bidirectional ? 2 : 1)
      : this.pooling === 'mean' ? meanPool(r.output, lens) : maxPool(r.output, lens);
    if (!finite(pooled)) return null;
    const logits = this.linear.forward(this.drop.forward(pooled, { training }), { training });
    return finite(logits) ? logits : null;
  }

  private run(batch: ClassifierBatch, training: boolean, fn: string): ClassifierResult {
    if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: batch must be { x, lengths, y } (sequenceBatches), got ${typeName(batch)}`);
    const { y } = batch;
    const x = batch.x;
    const B = Array.isArray(x?.shape) ? x.shape[1] : NaN;
    if (y === null || typeof y !== 'object' || typeof y.length !== 'number') {
      throw new TypeError(`${fn}: batch.y must hold a class id per row, got ${typeName(y)}`);
    }
    if (Number.isInteger(B) && y.length !== B) throw new RangeError(`${fn}: batch.y must hold B = ${B} class ids, got ${y.length}`);
    const C = this.numClasses;
    for (let b = 0; b < y.length; b++) {
      if (!Number.isInteger(y[b]) || y[b] < 0 || y[b] >= C) throw new RangeError(`${fn}: batch.y[${b}] must be a class id in [0, ${C - 1}], got ${fmt(y[b])}`);
    }
    const logits = this.logits(fn, x, batch.lengths ?? null, training);
    if (!logits) return { loss: NaN, tokens: y.length, correct: 0, count: y.length };
    const n = y.length;
    const loss = C === 2
      ? bceWithLogits(logits, new Tensor(Float32Array.from(y as ArrayLike<number>), [n, 1]))
      : crossEntropy(logits, y);
    if (training && Number.isFinite(loss.loss as number)) loss.backward();
    let correct = 0;
    for (let b = 0; b < n; b++) if (this.classOf(logits.data, b) === y[b]) correct++;
    return { loss: loss.loss as number, tokens: n, correct, count: n };
  }

  private classOf(logits: Float32Array, b: number): number {
    return this.numClasses === 2 ? (logits[b] > 0 ? 1 : 0) : argmax(logits, b * this.numClasses, this.numClasses);
  }

  /** Forward + backward on one batch (the loss's gradients are added to gradients()). */
  trainBatch(batch: ClassifierBatch): ClassifierResult {
    return this.run(batch, true, `${this.constructor.name}.trainBatch`);
  }

  /** Loss and correct predictions on one batch, recording nothing. */
  evalBatch(batch: ClassifierBatch): ClassifierResult {
    return noGrad(() => this.run(batch, false, `${this.constructor.name}.evalBatch`));
  }

  /** Class probabilities [N, numClasses] for N inputs (strings with a tokenizer, id or feature sequences, or a padded batch). */
  predictProba(input: ClassifierInput): Tensor {
    const fn = `${this.constructor.name}.predictProba`;
    const C = this.numClasses;
    const parts = this.inputs(fn, input).map((b) => {
      const logits = noGrad(() => this.logits(fn, b.x, b.lengths, false));
      if (!logits) throw new RangeError(`${fn}: the activations are not finite (diverged weights?)`);
      return logits;
    });
    const N = parts.reduce((a, t) => a + t.shape[0], 0);
    const out = new Float32Array(N * C);
    let row = 0;
    for (const t of parts) {
      for (let b = 0; b < t.shape[0]; b++, row++) {
        if (C === 2) {
          const p = 1 / (1 + Math.exp(-t.data[b]));
          out[row * 2] = 1 - p;
          out[row * 2 + 1] = p;
          continue;
        }
        const at = b * C;
        let m = -Infinity, s = 0;
        for (let j = 0; j < C; j++) m = Math.max(m, t.data[at + j]);
        for (let j = 0; j < C; j++) s += Math.exp(t.data[at + j] - m);
        for (let j = 0; j < C; j++) out[row * C + j] = Math.exp(t.data[at + j] - m) / s;
      }
    }
    return new Tensor(out, [N, C]);
  }

  /** The most likely class id of each input (see predictProba for the inputs). */
  predict(input: ClassifierInput): Int32Array {
    const p = this.predictProba(input);
    const C = this.numClasses, N = p.shape[0];
    const out = new Int32Array(N);
    for (let i = 0; i < N; i++) out[i] = argmax(p.data, i * C, C);
    return out;
  }

  /** Inputs as padded chunks of at most CHUNK rows. */
  private inputs(fn: string, input: ClassifierInput): Array<{ x: ClassifierBatch['x']; lengths: ArrayLike<number> | null }> {
    if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'x' in input) {
      return [{ x: input.x, lengths: input.lengths ?? null }];
    }
    const list: readonly unknown[] = typeof input === 'string' ? [input] : (input as readonly unknown[]);
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`${fn}: input must be a non-empty array of sequences${this.tokenizer ? ' or strings' : ''}, or a padded batch { x, lengths }, got ${Array.isArray(list) ? 'an empty array' : typeName(input)}`);
    }
    const seqs = list.map((s, i) => {
      if (typeof s === 'string') {
        if (!this.tokenizer) throw new TypeError(`${fn}: input[${i}] is a string, but this model has no tokenizer; pass token ids`);
        return this.tokenizer.encode(s);
      }
      return s;
    });
    const V = this.embedding?.numEmbeddings ?? 0;
    seqs.forEach((s, i) => {
      const len = s !== null && typeof s === 'object' ? ((s as { shape?: number[] }).shape?.[0] ?? (s as ArrayLike<unknown>).length) : undefined;
      if (len === 0) throw new RangeError(`${fn}: input[${i}] is empty; every sequence needs at least one step`);
      if (!this.embedding || !s || typeof s !== 'object' || !('length' in s)) return;
      const ids = s as ArrayLike<unknown>;
      for (let t = 0; t < ids.length; t++) {
        const v = ids[t];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= V) {
          throw new RangeError(`${fn}: input[${i}][${t}] must be a token id in [0, ${V - 1}], got ${fmt(v)}`);
        }
      }
    });
    const out: Array<{ x: ClassifierBatch['x']; lengths: ArrayLike<number> | null }> = [];
    for (let at = 0; at < seqs.length; at += CHUNK) {
      const chunk = seqs.slice(at, at + CHUNK) as (IdSequence | FeatureSequence)[];
      if (this.embedding) {
        const { data, shape, lengths } = padSequences(chunk as IdSequence[]);
        out.push({ x: { data, shape }, lengths });
        continue;
      }
      // One feature per step may come as plain numbers: [0.1, 0.2, …] is [[0.1], [0.2], …].
      const scalar = this.inputSize === 1 && chunk.every((s) => Array.isArray(s) || ArrayBuffer.isView(s)) &&
        chunk.every((s) => typeof (s as ArrayLike<unknown>)[0] === 'number');
      const { data, shape, lengths } = scalar ? padSequences(chunk as IdSequence[], { dtype: 'float32' }) : padSequences(chunk as FeatureSequence[]);
      out.push({ x: { data, shape: shape.length === 2 ? [...shape, 1] : shape }, lengths });
    }
    return out;
  }
}

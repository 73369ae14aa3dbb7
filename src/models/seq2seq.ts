/**
 * An encoder–decoder (sequence to sequence) model: Embedding → GRU/LSTM encoder (stacked,
 * optionally bidirectional) over the source with its lengths; a decoder of the same cell,
 * started from the encoder's final state (both directions side by side), that reads one target
 * token per step — with optional additive attention over the encoder's outputs (Bahdanau: the
 * previous decoder state queries, the context joins the input and the output layer) — and a
 * Linear to the target vocabulary. The decoder cell and its Linear are called at every step,
 * so training is autograd through the whole unrolled graph. Teacher forcing feeds the true
 * previous token with probability `teacherForcingRatio` per step (else the model's own
 * choice); inference decodes greedily or by beam search. Source and target lengths differ
 * freely. Parameters: srcEmbedding.*, encoder.*, tgtEmbedding.*, attention.*, decoder.*, out.*.
 */
import { noGrad } from '../autograd/graph.js';
import { cat, reshape, select, stack } from '../autograd/shape-ops.js';
import { padSequences, type IdSequence } from '../data/padding.js';
import { sequenceBatches } from '../data/sequence-batches.js';
import { Dropout } from '../layers/activations.js';
import { Embedding } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { bool, checkOptions, fmt, positiveInt, seedOf } from '../layers/options.js';
import type { GRU, LSTM, RNNState } from '../layers/rnn.js';
import { Random } from '../random.js';
import { Tensor, shapeStr, typeName } from '../tensor.js';
import { crossEntropy } from '../train/losses.js';
import { AdditiveAttention, lengthMask } from './attention.js';
import { argmax, childSeed, choiceOf, finite, fraction, recurrent, tokenizerOf, type Tokenizer, type TokenizerJSON } from './common.js';

export interface Seq2SeqOptions {
  /** Source vocabulary size (default: the source tokenizer's). */
  srcVocabSize?: number;
  /** Target vocabulary size (default: the target tokenizer's). */
  tgtVocabSize?: number;
  /** Fitted tokenizers (or their toJSON()): translate() then takes and returns strings. */
  srcTokenizer?: Tokenizer | TokenizerJSON;
  tgtTokenizer?: Tokenizer | TokenizerJSON;
  /** Target ids that start and end a decoded sequence (default: the target vocabulary's '<bos>', '<eos>'). */
  bosId?: number;
  eosId?: number;
  /** Width of both embeddings (default 32). */
  embeddingDim?: number;
  /** The encoder's hidden size per direction; the decoder's is directions × hiddenSize. */
  hiddenSize: number;
  numLayers?: number;
  cell?: 'gru' | 'lstm';
  /** A bidirectional encoder (default false). */
  bidirectional?: boolean;
  /** Additive attention over the encoder's outputs (default true). */
  attention?: boolean;
  /** Width of the attention scores' hidden layer (default the decoder's hidden size). */
  attentionSize?: number;
  /** Dropout on the embeddings and before the output layer, in training (default 0). */
  dropout?: number;
  /** Probability, per decoder step, of feeding the true previous token in training (default 1). */
  teacherForcingRatio?: number;
  seed?: number;
}

/** A batch of (source, target) pairs: seq2seqBatches() gives it. Ids are time-major and padded. */
export interface Seq2SeqBatch {
  /** Source ids [Ts, B]. */
  src: { readonly data: ArrayLike<number>; readonly shape: readonly number[] };
  srcLengths: ArrayLike<number>;
  /** Target ids [Tt, B], without '<bos>'/'<eos>' (the model adds them). */
  tgt: { readonly data: ArrayLike<number>; readonly shape: readonly number[] };
  tgtLengths: ArrayLike<number>;
}

/** fit()'s batch result: mean cross-entropy over the `tokens` target tokens (each '<eos>' included); `correct` of them predicted. */
export interface Seq2SeqResult {
  loss: number;
  tokens: number;
  correct: number;
  count: number;
}

export interface TranslateOptions {
  /** Longest output, in tokens (default 2 · source length + 10). */
  maxLen?: number;
  /** Hypotheses kept by beam search (default 1: greedy). */
  beamSize?: number;
  /** Beam hypotheses are ranked by log-probability / length^lengthPenalty (default 1). */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** Target ids, without '<bos>' and '<eos>'. */
  ids: Int32Array;
  /** The text (with a target tokenizer). */
  text?: string;
  /** Sum of the tokens' log-probabilities ('<eos>' included when it ended). */
  logProb: number;
  /** logProb / length^lengthPenalty: what the hypotheses are ranked by. */
  score: number;
  /** Whether it ended with '<eos>' (not cut at maxLen). */
  finished: boolean;
}

/** A source: a string (with a source tokenizer) or its token ids. */
export type Source = string | IdSequence;

export interface PairBatchOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  bucketByLength?: boolean;
  dropLast?: boolean;
}

/**
 * Seeded, padded mini-batches of (source, target) id pairs for Seq2Seq.trainBatch —
 * sequenceBatches over the sources (shuffle, bucketing by source length), targets padded
 * alongside.
 */
export function seq2seqBatches(pairs: readonly { source: IdSequence; target: IdSequence }[], options: PairBatchOptions): Seq2SeqBatch[] {
  const fn = 'seq2seqBatches';
  if (!Array.isArray(pairs)) throw new TypeError(`${fn}: pairs must be an array of { source, target } id sequences, got ${typeName(pairs)}`);
  checkOptions(fn, options, ['batchSize', 'shuffle', 'seed', 'epoch', 'bucketByLength', 'dropLast']);
  pairs.forEach((p, i) => {
    if (p === null || typeof p !== 'object' || !('source' in p) || !('target' in p)) {
      throw new TypeError(`${fn}: pairs[${i}] must be { source, target }, got ${typeName(p)}`);
    }
    const t = p.target as unknown;
    if (t === null || typeof t !== 'object' || typeof (t as ArrayLike<unknown>).length !== 'number') {
      throw new TypeError(`${fn}: pairs[${i}].target must be an array of token ids, got ${typeName(t)}`);
    }
  });
  const batches = sequenceBatches(pairs.map((p, i) => ({ sequence: p.source, label: i })), options);
  return batches.map((b) => {
    const targets = Array.from(b.indices, (i) => pairs[i].target);
    const tgt = targets.some((t) => t.length > 0) ? padSequences(targets) : { data: new Int32Array(0), shape: [0, b.B], lengths: new Int32Array(b.B) };
    return { src: b.x, srcLengths: b.lengths, tgt: { data: tgt.data, shape: tgt.shape }, tgtLengths: tgt.lengths };
  });
}

/** What the decoder attends to: the encoder's outputs, their projection and the length mask. */
interface Memory {
  keys: Tensor;
  values: Tensor;
  mask: Tensor | null;
}

interface DecoderState {
  h: Tensor;
  c?: Tensor;
}

/** Thrown inside a training forward whose activations overflowed (caught: a non-finite loss). */
const DIVERGED = Symbol('diverged');

export class Seq2Seq extends Module {
  readonly srcVocabSize: number;
  readonly tgtVocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly srcTokenizer: Tokenizer | null;
  readonly tgtTokenizer: Tokenizer | null;
  /** Probability, per decoder step, of feeding the true previous token in training. */
  teacherForcingRatio: number;
  srcEmbedding: Embedding;
  encoder: GRU | LSTM;
  tgtEmbedding: Embedding;
  attention: AdditiveAttention | null;
  decoder: GRU | LSTM;
  embDrop: Dropout;
  outDrop: Dropout;
  out: Linear;
  /** Draws the teacher-forcing coin (saved with the model, so resumed training repeats it). */
  private rng: Random;

  constructor(options: Seq2SeqOptions) {
    super();
    const fn = new.target.name;
    checkOptions(fn, options, [
      'srcVocabSize', 'tgtVocabSize', 'srcTokenizer', 'tgtTokenizer', 'bosId', 'eosId', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell',
      'bidirectional', 'attention', 'attentionSize', 'dropout', 'teacherForcingRatio', 'seed',
    ]);
    const o = options;
    this.srcTokenizer = tokenizerOf(fn, 'srcTokenizer', o.srcTokenizer);
    this.tgtTokenizer = tokenizerOf(fn, 'tgtTokenizer', o.tgtTokenizer);
    const vocab = (name: string, v: number | undefined, t: Tokenizer | null, tk: string): number => {
      const n = positiveInt(fn, name, v ?? t?.vocabSize);
      if (t && n !== t.vocabSize) throw new RangeError(`${fn}: ${name} must equal the ${tk}'s vocabulary size ${t.vocabSize}, got ${n}`);
      return n;
    };
    this.srcVocabSize = vocab('srcVocabSize', o.srcVocabSize, this.srcTokenizer, 'srcTokenizer');
    this.tgtVocabSize = vocab('tgtVocabSize', o.tgtVocabSize, this.tgtTokenizer, 'tgtTokenizer');
    const special = (name: 'bosId' | 'eosId', token: string): number => {
      let v: unknown = o[name];
      if (v === undefined) {
        const voc = this.tgtTokenizer?.vocab;
        if (!voc || !voc.has(token)) throw new TypeError(`${fn}: ${name} is required (the target id of '${token}'), unless the tgtTokenizer's vocabulary has '${token}'`);
        v = voc.indexOf(token);
      }
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= this.tgtVocabSize) {
        throw new RangeError(`${fn}: ${name} must be a target id in [0, ${this.tgtVocabSize - 1}], got ${fmt(v)}`);
      }
      return v;
    };
    this.bosId = special('bosId', '<bos>');
    this.eosId = special('eosId', '<eos>');
    const E = positiveInt(fn, 'embeddingDim', o.embeddingDim ?? 32);
    const H = positiveInt(fn, 'hiddenSize', o.hiddenSize);
    const L = positiveInt(fn, 'numLayers', o.numLayers ?? 1);
    const cell = choiceOf(fn, 'cell', o.cell, ['gru', 'lstm'] as const, 'gru');
    const bidirectional = bool(fn, 'bidirectional', o.bidirectional, false);
    const useAttention = bool(fn, 'attention', o.attention, true);
    const p = fraction(fn, 'dropout', o.dropout, 0);
    this.teacherForcingRatio = fraction(fn, 'teacherForcingRatio', o.teacherForcingRatio, 1, true);
    const seed = seedOf(fn, o.seed);
    const Hd = (bidirectional ? 2 : 1) * H;
    const s = (k: number): number | undefined => childSeed(seed, k);
    this.srcEmbedding = new Embedding(this.srcVocabSize, E, { seed: s(1) });
    this.encoder = recurrent(cell, { inputSize: E, hiddenSize: H, numLayers: L, dropout: L > 1 ? p : 0, bidirectional, seed: s(2) }) as GRU | LSTM;
    this.tgtEmbedding = new Embedding(this.tgtVocabSize, E, { seed: s(3) });
    this.attention = useAttention ? new AdditiveAttention(Hd, Hd, { attentionSize: o.attentionSize ?? Hd, seed: s(4) }) : null;
    if (!useAttention && o.attentionSize !== undefined) throw new TypeError(`${fn}: attentionSize is given, but attention is false`);
    this.decoder = recurrent(cell, { inputSize: E + (useAttention ? Hd : 0), hiddenSize: Hd, numLayers: L, dropout: L > 1 ? p : 0, seed: s(5) }) as GRU | LSTM;
    this.embDrop = new Dropout(p, { seed: s(6) });
    this.outDrop = new Dropout(p, { seed: s(7) });
    this.out = new Linear(Hd * (useAttention ? 2 : 1), this.tgtVocabSize, { seed: s(8) });
    this.rng = new Random(s(9) ?? undefined);
  }

  override getConfig(): Record<string, unknown> {
    const e = this.encoder;
    return {
      srcVocabSize: this.srcVocabSize, tgtVocabSize: this.tgtVocabSize,
      ...(this.srcTokenizer ? { srcTokenizer: this.srcTokenizer.toJSON() } : {}),
      ...(this.tgtTokenizer ? { tgtTokenizer: this.tgtTokenizer.toJSON() } : {}),
      bosId: this.bosId, eosId: this.eosId, embeddingDim: this.srcEmbedding.embeddingDim, hiddenSize: e.hiddenSize,
      numLayers: e.numLayers, cell: e.mode === 'LSTM' ? 'lstm' : 'gru', bidirectional: e.bidirectional,
      attention: this.attention !== null, ...(this.attention ? { attentionSize: this.attention.attentionSize } : {}),
      dropout: this.embDrop.p, teacherForcingRatio: this.teacherForcingRatio,
    };
  }

  override _rngState(): number | null {
    return this.rng.state;
  }

  override _setRngState(state: number): void {
    this.rng.state = state;
  }

  private get decoderHidden(): number {
    return this.decoder.hiddenSize;
  }

  /** Encodes padded source ids [Ts, B]: the decoder's initial state and what it attends to. */
  private encode(src: Seq2SeqBatch['src'], lengths: ArrayLike<number>, training: boolean): { state: DecoderState; memory: Memory | null } {
    const emb = this.embDrop.forward(this.srcEmbedding.forward(src, { training }), { training });
    const r = this.encoder.forward(emb, undefined, { lengths, training });
    if (!finite(r.output)) throw DIVERGED;
    const L = this.encoder.numLayers, D = this.encoder.bidirectional ? 2 : 1;
    // h_n [L·D, B, H] → [L, B, D·H]: each layer's directions side by side (forward first).
    const join = (h: Tensor): Tensor => (D === 1 ? h : stack(Array.from({ length: L }, (_, l) => cat([select(h, 0, 2 * l), select(h, 0, 2 * l + 1)], 1)), 0));
    const c = (r as { c?: Tensor }).c;
    const state: DecoderState = c ? { h: join(r.h), c: join(c) } : { h: join(r.h) };
    if (!this.attention) return { state, memory: null };
    const Ts = src.shape[0];
    let full = true;
    for (let b = 0; b < lengths.length; b++) if (lengths[b] !== Ts) full = false;
    return { state, memory: { keys: this.attention.projectKeys(r.output, { training }), values: r.output, mask: full ? null : lengthMask(Ts, lengths) } };
  }

  /** One decoder step for the previous tokens prev [B]: logits [B, tgtVocabSize] and the new state. */
  private decodeStep(prev: Int32Array, state: DecoderState, memory: Memory | null, training: boolean): { logits: Tensor; state: DecoderState; weights: Tensor | null } {
    const B = prev.length, Hd = this.decoderHidden;
    let x = this.embDrop.forward(this.tgtEmbedding.forward({ data: prev, shape: [1, B] }, { training }), { training });
    let context: Tensor | null = null, weights: Tensor | null = null;
    if (this.attention && memory) {
      const query = select(state.h, 0, this.decoder.numLayers - 1); // the previous top-layer state
      ({ context, weights } = this.attention.forward(query, memory.keys, memory.values, memory.mask, { training }));
      x = cat([x, reshape(context, [1, B, Hd])], 2);
    }
    const r = this.decoder.forward(x, state as RNNState, { training });
    let top = reshape(r.output, [B, Hd]);
    if (context) top = cat([top, context], 1);
    if (!finite(top)) throw DIVERGED;
    const logits = this.out.forward(this.outDrop.forward(top, { training }), { training });
    if (!finite(logits)) throw DIVERGED;
    const c = (r as { c?: Tensor }).c;
    return { logits, state: c ? { h: r.h, c } : { h: r.h }, weights };
  }

  /**
   * Logits [Tt + 1, B, tgtVocabSize] for every target step ('<eos>' last), decoding with the
   * given teacher-forcing ratio (1: the true previous token at every step; 0: the model's own
   * previous choice, argmax, as at inference). Recorded in training mode for loss.backward().
   */
  forward(batch: Seq2SeqBatch, options: { teacherForcingRatio?: number; training?: boolean } = {}): Tensor {
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['teacherForcingRatio', 'training']);
    const training = bool(fn, 'training', options.training, this.training);
    const ratio = fraction(fn, 'teacherForcingRatio', options.teacherForcingRatio, this.teacherForcingRatio, true);
    const b = this.checkBatch(fn, batch);
    try {
      const steps = this.unroll(batch, b, ratio, training);
      const [Tt1, B, V] = [steps.length, b.B, this.tgtVocabSize];
      return reshape(cat(steps, 0), [Tt1, B, V]);
    } catch (e) {
      if (e === DIVERGED) throw new RangeError(`${fn}: the activations are not finite (diverged weights?)`);
      throw e;
    }
  }

  /** The decoder over every target step: one logits tensor [B, V] per step. */
  private unroll(batch: Seq2SeqBatch, b: { B: number; Tt: number; tgt: Int32Array }, ratio: number, training: boolean): Tensor[] {
    const { B, Tt, tgt } = b;
    const enc = this.encode(batch.src, batch.srcLengths, training);
    const memory = enc.memory;
    let state = enc.state;
    const prev = new Int32Array(B).fill(this.bosId);
    const steps: Tensor[] = [];
    for (let t = 0; t <= Tt; t++) {
      const r = this.decodeStep(prev, state, memory, training);
      steps.push(r.logits);
      state = r.state;
      if (t === Tt) break;
      // Teacher forcing: the true token with probability `ratio` (one draw per step, as in
      // the PyTorch seq2seq tutorials), else the model's own choice (no gradient through it).
      const force = ratio >= 1 || (ratio > 0 && this.rng.next() < ratio);
      const V = this.tgtVocabSize;
      for (let i = 0; i < B; i++) {
        const gold = tgt[t * B + i];
        prev[i] = force && gold >= 0 ? gold : argmax(r.logits.data, i * V, V);
      }
    }
    return steps;
  }

  /** Checks a batch; returns B, Tt and the target ids as decoder outputs (−100 past each row's '<eos>'). */
  private checkBatch(fn: string, batch: Seq2SeqBatch): { B: number; Tt: number; tgt: Int32Array; out: Int32Array } {
    if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: batch must be { src, srcLengths, tgt, tgtLengths } (seq2seqBatches), got ${typeName(batch)}`);
    const ids = (name: 'src' | 'tgt', V: number): { T: number; B: number; data: ArrayLike<number> } => {
      const x = batch[name];
      if (x === null || typeof x !== 'object' || !Array.isArray(x.shape) || x.shape.length !== 2 || typeof x.data?.length !== 'number') {
        throw new TypeError(`${fn}: batch.${name} must be padded ids { data, shape: [T, B] }, got ${x && typeof x === 'object' && Array.isArray(x.shape) ? `shape ${shapeStr(x.shape)}` : typeName(x)}`);
      }
      const [T, B] = x.shape;
      if (x.data.length !== T * B) throw new RangeError(`${fn}: batch.${name}.shape ${shapeStr(x.shape)} holds ${T * B} ids, but its data has ${x.data.length}`);
      for (let i = 0; i < x.data.length; i++) {
        const v = x.data[i];
        if (!Number.isInteger(v) || v < 0 || v >= V) throw new RangeError(`${fn}: batch.${name}.data[${i}] must be a token id in [0, ${V - 1}], got ${fmt(v)}`);
      }
      return { T, B, data: x.data };
    };
    const src = ids('src', this.srcVocabSize), tgt = ids('tgt', this.tgtVocabSize);
    const B = src.B;
    if (B < 1 || src.T < 1) throw new RangeError(`${fn}: batch.src must hold at least one step and one row, got shape ${shapeStr([src.T, B])}`);
    if (tgt.B !== B) throw new RangeError(`${fn}: batch.tgt must have B = ${B} rows like batch.src, got ${tgt.B}`);
    const lens = (name: 'srcLengths' | 'tgtLengths', T: number, min: number): ArrayLike<number> => {
      const l = batch[name];
      if (l === null || typeof l !== 'object' || l.length !== B) {
        throw new RangeError(`${fn}: batch.${name} must hold B = ${B} lengths, got ${l && typeof l === 'object' ? l.length : typeName(l)}`);
      }
      for (let b = 0; b < B; b++) {
        if (!Number.isInteger(l[b]) || l[b] < min || l[b] > T) throw new RangeError(`${fn}: batch.${name}[${b}] must be an integer in [${min}, ${T}], got ${fmt(l[b])}`);
      }
      return l;
    };
    lens('srcLengths', src.T, 1);
    const tl = lens('tgtLengths', tgt.T, 0);
    const Tt = tgt.T;
    // Decoder inputs after '<bos>' are the targets; its outputs the targets then '<eos>'.
    const input = new Int32Array(Tt * B), out = new Int32Array((Tt + 1) * B).fill(-100);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < tl[b]; t++) input[t * B + b] = out[t * B + b] = tgt.data[t * B + b];
      for (let t = tl[b]; t < Tt; t++) input[t * B + b] = -1;
      out[tl[b] * B + b] = this.eosId;
    }
    return { B, Tt, tgt: input, out };
  }

  private run(batch: Seq2SeqBatch, training: boolean, ratio: number, fn: string): Seq2SeqResult {
    this.checkAlive();
    const b = this.checkBatch(fn, batch);
    let tokens = 0;
    for (let i = 0; i < b.out.length; i++) if (b.out[i] >= 0) tokens++;
    let steps: Tensor[];
    try {
      steps = this.unroll(batch, b, ratio, training);
    } catch (e) {
      if (e === DIVERGED) return { loss: NaN, tokens, correct: 0, count: tokens };
      throw e;
    }
    const logits = steps.length === 1 ? steps[0] : cat(steps, 0); // [(Tt + 1)·B, V], time-major
    const ce = crossEntropy(logits, b.out, { ignoreIndex: -100 });
    if (training && Number.isFinite(ce.loss as number)) ce.backward();
    const V = this.tgtVocabSize;
    let correct = 0;
    for (let i = 0; i < b.out.length; i++) if (b.out[i] >= 0 && argmax(logits.data, i * V, V) === b.out[i]) correct++;
    return { loss: ce.loss as number, tokens, correct, count: tokens };
  }

  /** Forward + backward on one batch, with the model's teacherForcingRatio. */
  trainBatch(batch: Seq2SeqBatch): Seq2SeqResult {
    return this.run(batch, true, this.teacherForcingRatio, `${this.constructor.name}.trainBatch`);
  }

  /** Teacher-forced loss and token accuracy on one batch, recording nothing. */
  evalBatch(batch: Seq2SeqBatch): Seq2SeqResult {
    return noGrad(() => this.run(batch, false, 1, `${this.constructor.name}.evalBatch`));
  }

  /** Source ids of a string (source tokenizer) or an id sequence, checked. */
  private sourceIds(fn: string, where: string, s: unknown): Int32Array {
    let ids: ArrayLike<unknown>;
    if (typeof s === 'string') {
      if (!this.srcTokenizer) throw new TypeError(`${fn}: ${where} is a string, but this model has no srcTokenizer; pass token ids`);
      ids = this.srcTokenizer.encode(s);
    } else if (s !== null && typeof s === 'object' && typeof (s as ArrayLike<unknown>).length === 'number') ids = s as ArrayLike<unknown>;
    else throw new TypeError(`${fn}: ${where} must be ${this.srcTokenizer ? 'a string or ' : ''}an array of source token ids, got ${typeName(s)}`);
    if (ids.length === 0) throw new RangeError(`${fn}: ${where} is empty; a source needs at least one token`);
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= this.srcVocabSize) {
        throw new RangeError(`${fn}: ${where}[${i}] must be a source token id in [0, ${this.srcVocabSize - 1}], got ${fmt(v)}`);
      }
      out[i] = v;
    }
    return out;
  }

  private translateOptions(fn: string, options: TranslateOptions): { maxLen: number | null; beamSize: number; lengthPenalty: number } {
    checkOptions(fn, options, ['maxLen', 'beamSize', 'lengthPenalty']);
    const lp = options.lengthPenalty ?? 1;
    if (typeof lp !== 'number' || !Number.isFinite(lp)) throw new TypeError(`${fn}: lengthPenalty must be a finite number, got ${fmt(lp)}`);
    return {
      maxLen: options.maxLen === undefined ? null : positiveInt(fn, 'maxLen', options.maxLen),
      beamSize: positiveInt(fn, 'beamSize', options.beamSize ?? 1),
      lengthPenalty: lp,
    };
  }

  /** A single source, or a list of them? */
  private static isList(src: unknown): src is readonly Source[] {
    return Array.isArray(src) && src.length > 0 && typeof src[0] !== 'number';
  }

  /**
   * Translates a source (a string with a source tokenizer, or ids) or a list of them: greedy
   * (beamSize 1, batched) or the best beam-search hypothesis. Returns the text (with a target
   * tokenizer, for string sources) or the target ids, without '<bos>'/'<eos>'.
   */
  translate(src: Source, options?: TranslateOptions): string | Int32Array;
  translate(src: readonly Source[], options?: TranslateOptions): Array<string | Int32Array>;
  translate(src: Source | readonly Source[], options: TranslateOptions = {}): string | Int32Array | Array<string | Int32Array> {
    const fn = `${this.constructor.name}.translate`;
    this.checkAlive();
    const o = this.translateOptions(fn, options);
    const list = Seq2Seq.isList(src) ? src : [src as Source];
    if (Array.isArray(src) && src.length === 0) throw new RangeError(`${fn}: src is an empty array`);
    const ids = list.map((s, i) => this.sourceIds(fn, Seq2Seq.isList(src) ? `src[${i}]` : 'src', s));
    const outs = o.beamSize === 1 ? this.greedy(ids, o.maxLen) : ids.map((s) => this.beam(s, o.beamSize, o.maxLen, o.lengthPenalty)[0].ids);
    const shown = outs.map((t, i) => (typeof list[i] === 'string' && this.tgtTokenizer ? this.tgtTokenizer.decode(t) : t));
    return Seq2Seq.isList(src) ? shown : shown[0];
  }

  /** The beamSize best hypotheses for one source, best first (beamSize 1 is greedy decoding). */
  beamSearch(src: Source, options: TranslateOptions = {}): Hypothesis[] {
    const fn = `${this.constructor.name}.beamSearch`;
    this.checkAlive();
    const o = this.translateOptions(fn, options);
    const hyps = this.beam(this.sourceIds(fn, 'src', src), o.beamSize, o.maxLen, o.lengthPenalty);
    if (this.tgtTokenizer && typeof src === 'string') for (const h of hyps) h.text = this.tgtTokenizer.decode(h.ids);
    return hyps;
  }

  /** Greedy decoding of many sources, in padded batches. */
  private greedy(sources: Int32Array[], maxLen: number | null): Int32Array[] {
    const out: Int32Array[] = [];
    const V = this.tgtVocabSize, CHUNK = 256;
    for (let at = 0; at < sources.length; at += CHUNK) {
      const chunk = sources.slice(at, at + CHUNK);
      const { data, shape, lengths } = padSequences(chunk);
      const B = chunk.length;
      // Each row's own limit, as beam search has for its one source.
      const limits = chunk.map((c) => maxLen ?? 2 * c.length + 10);
      const limit = Math.max(...limits);
      const tokens: number[][] = chunk.map(() => []);
      noGrad(() => {
        const enc = this.encodeOrThrow({ data, shape }, lengths);
        const memory = enc.memory;
        let state = enc.state;
        const prev = new Int32Array(B).fill(this.bosId), done = new Uint8Array(B);
        let left = B;
        for (let t = 0; t < limit && left > 0; t++) {
          const r = this.stepOrThrow(prev, state, memory);
          state = r.state;
          for (let i = 0; i < B; i++) {
            const k = argmax(r.logits.data, i * V, V);
            prev[i] = k;
            if (done[i]) continue;
            if (k !== this.eosId) tokens[i].push(k);
            if (k === this.eosId || tokens[i].length >= limits[i]) {
              done[i] = 1;
              left--;
            }
          }
        }
      });
      for (const t of tokens) out.push(Int32Array.from(t));
    }
    return out;
  }

  private encodeOrThrow(src: Seq2SeqBatch['src'], lengths: ArrayLike<number>): { state: DecoderState; memory: Memory | null } {
    try {
      return this.encode(src, lengths, false);
    } catch (e) {
      if (e === DIVERGED) throw new RangeError(`${this.constructor.name}.translate: the activations are not finite (diverged weights?)`);
      throw e;
    }
  }

  private stepOrThrow(prev: Int32Array, state: DecoderState, memory: Memory | null): { logits: Tensor; state: DecoderState } {
    try {
      return this.decodeStep(prev, state, memory, false);
    } catch (e) {
      if (e === DIVERGED) throw new RangeError(`${this.constructor.name}.translate: the activations are not finite (diverged weights?)`);
      throw e;
    }
  }

  /**
   * Beam search for one source: each step extends every live hypothesis by every token and
   * keeps the beamSize best by log-probability; one that emits '<eos>' is finished. Stops when
   * beamSize hypotheses finished or none is live (or at maxLen); returns them ranked by
   * logProb / length^lengthPenalty, best first.
   */
  private beam(src: Int32Array, k: number, maxLen: number | null, lengthPenalty: number): Hypothesis[] {
    const V = this.tgtVocabSize, Ts = src.length, limit = maxLen ?? 2 * Ts + 10;
    const finished: Hypothesis[] = [];
    const rank = (ids: number[], logProb: number, done: boolean): Hypothesis => {
      const len = ids.length + (done ? 1 : 0);
      return { ids: Int32Array.from(ids), logProb, score: logProb / Math.max(1, len) ** lengthPenalty, finished: done };
    };
    noGrad(() => {
      const enc = this.encodeOrThrow({ data: src, shape: [Ts, 1] }, [Ts]);
      let live: Array<{ ids: number[]; logProb: number }> = [{ ids: [], logProb: 0 }];
      let state = enc.state;
      for (let t = 0; t < limit && live.length > 0 && finished.length < k; t++) {
        const n = live.length;
        const memory = enc.memory ? {
          keys: repeatRows(enc.memory.keys, n), values: repeatRows(enc.memory.values, n), mask: null,
        } : null;
        const prev = Int32Array.from(live, (h) => (h.ids.length === 0 ? this.bosId : h.ids[h.ids.length - 1]));
        const r = this.stepOrThrow(prev, state, memory);
        // Every extension's log-probability; the k best (ties: the earlier hypothesis, then the smaller id).
        const cand: Array<{ from: number; token: number; logProb: number }> = [];
        for (let i = 0; i < n; i++) {
          const row = r.logits.data.subarray(i * V, (i + 1) * V);
          let m = -Infinity, s = 0;
          for (let j = 0; j < V; j++) m = Math.max(m, row[j]);
          for (let j = 0; j < V; j++) s += Math.exp(row[j] - m);
          const lse = m + Math.log(s);
          for (let j = 0; j < V; j++) cand.push({ from: i, token: j, logProb: live[i].logProb + row[j] - lse });
        }
        cand.sort((a, b) => b.logProb - a.logProb || a.from - b.from || a.token - b.token);
        const next: Array<{ ids: number[]; logProb: number }> = [], parents: number[] = [];
        for (const c of cand.slice(0, k)) {
          const ids = live[c.from].ids;
          if (c.token === this.eosId) finished.push(rank(ids, c.logProb, true));
          else {
            next.push({ ids: [...ids, c.token], logProb: c.logProb });
            parents.push(c.from);
          }
        }
        live = next;
        if (live.length > 0) state = gatherState(r.state, parents);
      }
      for (const h of live) finished.push(rank(h.ids, h.logProb, false));
    });
    return finished.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

/** [T, 1, D] → [T, n, D]: one source's memory for n hypotheses. */
function repeatRows(t: Tensor, n: number): Tensor {
  const [T, , D] = t.shape;
  if (n === 1) return t;
  const out = new Float32Array(T * n * D);
  for (let s = 0; s < T; s++) for (let i = 0; i < n; i++) out.set(t.data.subarray(s * D, (s + 1) * D), (s * n + i) * D);
  return new Tensor(out, [T, n, D]);
}

/** The rows `parents` of a state [L, n, H] → [L, parents.length, H]. */
function gatherState(state: DecoderState, parents: readonly number[]): DecoderState {
  const pick = (t: Tensor): Tensor => {
    const [L, n, H] = t.shape, m = parents.length, out = new Float32Array(L * m * H);
    for (let l = 0; l < L; l++) parents.forEach((p, i) => out.set(t.data.subarray((l * n + p) * H, (l * n + p + 1) * H), (l * m + i) * H));
    return new Tensor(out, [L, m, H]);
  };
  return state.c ? { h: pick(state.h), c: pick(state.c) } : { h: pick(state.h) };
}

/**
 * A token language model: Embedding → RNN/LSTM/GRU → Linear, trained with cross-entropy through
 * autograd, and generating one token at a time. Its parameters carry PyTorch's names for a
 * module with attributes embedding, rnn, linear. A tokenizer attached at construction is part of
 * its configuration, so save()/load() keep it and text goes in and comes out.
 */
import { noGrad } from '../autograd/graph.js';
import { reshape } from '../autograd/shape-ops.js';
import { CharTokenizer, WordTokenizer, type CharTokenizerJSON, type WordTokenizerJSON } from '../data/tokenizers.js';
import type { TokenBatch } from '../data/batches.js';
import { Embedding, type Ids } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { checkOptions, fmt, positiveInt, seedOf } from '../layers/options.js';
import { GRU, LSTM, RNN, type RNNState, type StepState } from '../layers/rnn.js';
import { Tensor, allFinite, typeName } from '../tensor.js';
import { crossEntropy } from '../train/losses.js';
import { Sampler, type SamplingOptions } from './sampling.js';

export type LMTokenizer = CharTokenizer | WordTokenizer;

export interface LanguageModelOptions {
  /** Rows of the embedding and columns of the logits; defaults to the tokenizer's vocabSize. */
  vocabSize?: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers?: number;
  cell?: 'lstm' | 'gru' | 'rnn';
  dropout?: number;
  seed?: number;
  /** A fitted tokenizer (or its toJSON()): kept in the configuration, so save() writes it. */
  tokenizer?: LMTokenizer | CharTokenizerJSON | WordTokenizerJSON;
}

export interface BatchResult {
  /** Mean cross-entropy over the batch's tokens. */
  loss: number;
  /** Tokens the loss was averaged over. */
  tokens: number;
  /** Tokens whose most likely prediction (argmax of the logits) was the target. */
  correct: number;
  /** Tokens `correct` counts over (= tokens). */
  count: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most (stop tokens included). Default 100. */
  maxTokens?: number;
  /**
   * Stop when the generated tokens end with one of these: a token id, a string (encoded with
   * the tokenizer: needs one), or an array of them. The stop itself is not returned.
   */
  stop?: number | string | readonly (number | string)[];
  /**
   * Called with each generated id as soon as it is final: at once without stops; a token that
   * could still begin a multi-token stop is held back until it cannot (a matched stop is never
   * passed). The ids passed, in order, are the ones returned.
   */
  onToken?: (token: number) => void;
}

export interface GenerateTextOptions extends GenerateOptions {
  /** Called with the text each final token adds (see onToken): the pieces join to the returned text. */
  onText?: (piece: string) => void;
}

/** Longest forward over a prefix or a text at once: longer ones run in chunks, carrying the state. */
const CHUNK = 512;

export class LanguageModel extends Module {
  readonly vocabSize: number;
  embedding: Embedding;
  rnn: LSTM | GRU | RNN;
  linear: Linear;
  /** The attached tokenizer (a copy of the one given), or null. */
  readonly tokenizer: LMTokenizer | null;
  /** State carried between consecutive batches ('sequential' batches, truncated BPTT). */
  private carried: RNNState | null = null;

  constructor(options: LanguageModelOptions) {
    super();
    const fn = 'LanguageModel';
    checkOptions(fn, options, ['vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell', 'dropout', 'seed', 'tokenizer']);
    this.tokenizer = options.tokenizer === undefined ? null : tokenizerOf(fn, options.tokenizer);
    const tokV = this.tokenizer?.vocabSize;
    this.vocabSize = positiveInt(fn, 'vocabSize', options.vocabSize ?? tokV);
    if (tokV !== undefined && tokV !== this.vocabSize) {
      throw new RangeError(`${fn}: vocabSize must equal the tokenizer's vocabSize (${tokV}), got ${this.vocabSize}`);
    }
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
      ...(this.tokenizer ? { tokenizer: this.tokenizer.toJSON() } : {}),
    };
  }

  /**
   * Logits [T, B, vocabSize] for time-major ids [T, B] ([T, vocabSize] for ids [T]), and the
   * final state. In training mode (`train()`) the logits are recorded: `crossEntropy(reshape(
   * logits, [T·B, vocabSize]), targets).backward()` adds every parameter's gradient.
   */
  forward(ids: Ids, state?: RNNState): { logits: Tensor; state: RNNState } {
    const out = this.rnn.forward(this.embedding.forward(ids), state);
    const logits = this.project(out.output);
    if (!logits) throw new RangeError('LanguageModel.forward: the recurrent layer produced non-finite values (diverged weights?)');
    return { logits, state: stateOf(out) };
  }

  /** Linear over the last dimension of the recurrent output, or null when that output is not finite. */
  private project(output: Tensor): Tensor | null {
    if (!allFinite(output.data)) return null;
    const H = this.rnn.hiddenSize;
    const lead = output.shape.slice(0, -1);
    const logits = this.linear.forward(reshape(output, [output.size / H, H]));
    return reshape(logits, [...lead, this.vocabSize]);
  }

  /** Forgets the carried state (start of an epoch or a new stream). */
  resetState(): void {
    this.carried = null;
  }

  /**
   * Forward + backward on one batch in training mode: gradients are added to gradients(). With
   * `carry`, the batch starts from the previous batch's final state, detached (truncated BPTT).
   */
  trainBatch(batch: TokenBatch): BatchResult {
    const was = this.training;
    this.train(true);
    try {
      return this.run('LanguageModel.trainBatch', batch, true);
    } finally {
      if (!was) this.eval();
    }
  }

  /** Loss on one batch without recording anything for backward (no dropout). */
  evalBatch(batch: TokenBatch): BatchResult {
    return noGrad(() => this.run('LanguageModel.evalBatch', batch, false));
  }

  private run(fn: string, batch: TokenBatch, training: boolean): BatchResult {
    if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: batch must be a TokenBatch { x, y, T, B, carry }, got ${typeName(batch)}`);
    const { T, B, x, y } = batch;
    if (!Number.isSafeInteger(T) || T < 1 || !Number.isSafeInteger(B) || B < 1) {
      throw new RangeError(`${fn}: batch T and B must be positive integers, got ${fmt(T)} and ${fmt(B)}`);
    }
    if (x?.length !== T * B || y?.length !== T * B) {
      throw new RangeError(`${fn}: batch x and y must hold T·B = ${T * B} ids, got ${x?.length} and ${y?.length}`);
    }
    const N = T * B, V = this.vocabSize;
    const state = batch.carry ? this.carried ?? undefined : undefined;
    const out = this.rnn.forward(this.embedding.forward({ data: x, shape: [T, B] }), state);
    this.carried = detachState(out);
    // Diverged weights can overflow an activation: that is a non-finite loss, not bad input.
    const logits = this.project(out.output);
    if (!logits || !allFinite(logits.data)) return { loss: NaN, tokens: N, correct: 0, count: N };
    const ce = crossEntropy(reshape(logits, [N, V]), y);
    if (training) ce.backward();
    return { loss: ce.loss as number, tokens: N, correct: countCorrect(logits.data, y, V), count: N };
  }

  /** A zero state for step(): h (and c for LSTM) shaped [numLayers, batch, hiddenSize]. */
  createState(batch = 1): StepState {
    return this.rnn.createState(batch);
  }

  /**
   * Feeds one token per stream (a number for one stream, or B ids for a state of batch B) and
   * returns the next token's logits ([B, vocabSize] values, written to `out` when given); the
   * state (from createState() or generate's prefix) is updated in place. Allocates no Wasm memory
   * after the first call.
   */
  step(token: number | ArrayLike<number>, state: StepState, out?: Float32Array): Float32Array {
    const fn = 'LanguageModel.step';
    if (state === null || typeof state !== 'object' || !(state.h instanceof Tensor) || state.h.shape.length !== 3) {
      throw new TypeError(`${fn}: state must come from createState(batch) ({ h${this.rnn.mode === 'LSTM' ? ', c' : ''} } of shape [numLayers, B, H]), got ${typeName(state)}`);
    }
    const B = state.h.shape[1];
    const ids = typeof token === 'number' ? [token] : token;
    if (ids === null || typeof ids !== 'object' || ids.length !== B) {
      throw new RangeError(`${fn}: token must be ${B === 1 ? 'one id (a number)' : `${B} ids, one per stream of the state`}, got ${typeName(token)}${ids?.length !== undefined ? ` of length ${ids.length}` : ''}`);
    }
    const V = this.vocabSize;
    for (let i = 0; i < B; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new RangeError(`${fn}: ${typeof token === 'number' ? 'token' : `token[${i}]`} must be a token id in [0, ${V - 1}], got ${fmt(id)}`);
      }
    }
    if (out !== undefined && (!(out instanceof Float32Array) || out.length !== B * V)) {
      throw new RangeError(`${fn}: out must be a Float32Array of B·vocabSize = ${B * V} values, got ${typeName(out)}${out instanceof Float32Array ? ` of length ${out.length}` : ''}`);
    }
    return noGrad(() => {
      const x = this.embedding.forward({ data: ids, shape: [B] });
      const h = this.rnn.step(x.data, state);
      const logits = this.linear.forward(new Tensor(h, [B, this.rnn.hiddenSize])).data;
      if (!out) return logits;
      out.set(logits);
      return out;
    });
  }

  /**
   * Perplexity of a token sequence: exp of the mean cross-entropy of predicting each token from
   * the ones before it (tokens[1..] given tokens[0..n−2]), from a zero state. A string is
   * encoded with the tokenizer. Long sequences run in chunks that carry the state (same result).
   */
  perplexity(tokens: ArrayLike<number> | string): number {
    const fn = 'LanguageModel.perplexity';
    const ids = this.idsOf(fn, 'tokens', tokens);
    if (ids.length < 2) throw new RangeError(`${fn}: tokens must hold at least 2 ids (one to read, one to predict), got ${ids.length}`);
    const V = this.vocabSize;
    let nll = 0;
    noGrad(() => {
      let state: RNNState | undefined;
      for (let s = 0; s < ids.length - 1; s += CHUNK) {
        const e = Math.min(s + CHUNK, ids.length - 1);
        const r = this.forward({ data: ids.subarray(s, e), shape: [e - s, 1] }, state);
        state = r.state;
        const z = r.logits.data;
        for (let t = 0; t < e - s; t++) nll -= logSoftmaxAt(z, t * V, V, ids[s + t + 1]);
      }
    });
    return Math.exp(nll / (ids.length - 1));
  }

  /**
   * Continues `prefix` (token ids, at least one): the prefix is read by one forward, then each
   * new token is sampled from the logits and fed back through one `rnn.step` (Embedding → step
   * → Linear, no Wasm allocation per token). Returns the generated ids (without the prefix and
   * without a matched stop). Greedy at temperature 0; seeded draws are reproducible.
   */
  generate(prefix: ArrayLike<number>, options: GenerateOptions = {}): Int32Array {
    const fn = 'LanguageModel.generate';
    checkOptions(fn, options, ['maxTokens', 'temperature', 'topK', 'topP', 'seed', 'stop', 'onToken']);
    const onToken = callback(fn, 'onToken', options.onToken);
    const ids = this.idsOf(fn, 'prefix', prefix);
    if (ids.length === 0) throw new RangeError(`${fn}: prefix must hold at least one token id`);
    const maxTokens = options.maxTokens ?? 100;
    if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
      throw new RangeError(`${fn}: maxTokens must be a positive integer, got ${fmt(maxTokens)}`);
    }
    const stops = this.stopsOf(fn, options.stop);
    const sampler = new Sampler(fn, this.vocabSize, options);
    // The last (longest stop − 1) tokens may still become the start of a stop: held back from onToken.
    const hold = Math.max(0, ...stops.map((s) => s.length - 1));
    let passed = 0;
    return noGrad(() => {
      const H = this.rnn.hiddenSize, E = this.embedding.embeddingDim, L = this.rnn.numLayers;
      let state: RNNState | undefined;
      for (let s = 0; s < ids.length; s += CHUNK) {
        const e = Math.min(s + CHUNK, ids.length);
        state = stateOf(this.rnn.forward(this.embedding.forward({ data: ids.subarray(s, e), shape: [e - s, 1] }), state));
      }
      const st = state as StepState; // [numLayers, 1, H]: what step() takes
      const h = st.h.data.slice((L - 1) * H, L * H);
      const hIn = new Tensor(h, [1, H]);
      const table = this.embedding.parameters()[0].value().data; // read once: the weights do not change here
      const out: number[] = [];
      let logits = this.checkedLogits(fn, hIn);
      for (;;) {
        const token = sampler.sample(logits);
        out.push(token);
        const cut = endsWithStop(out, stops);
        if (cut > 0) {
          out.length -= cut;
          break;
        }
        if (out.length === maxTokens) break;
        while (onToken && passed < out.length - hold) onToken(out[passed++]);
        this.rnn.step(table.subarray(token * E, token * E + E), st, h);
        logits = this.checkedLogits(fn, hIn);
      }
      while (onToken && passed < out.length) onToken(out[passed++]);
      return Int32Array.from(out);
    });
  }

  /**
   * generate() from text to text with the attached tokenizer: the prefix is encoded, and the
   * continuation (without the prefix) is decoded as the tokenizer would write it after the prefix;
   * `onText` receives it piece by piece as the tokens are generated.
   */
  generateText(prefix: string, options: GenerateTextOptions = {}): string {
    const fn = 'LanguageModel.generateText';
    const tok = this.needTokenizer(fn);
    if (typeof prefix !== 'string') throw new TypeError(`${fn}: prefix must be a string, got ${typeName(prefix)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${typeName(options)}`);
    const { onText, ...rest } = options;
    const textOf = callback(fn, 'onText', onText);
    const onToken = callback(fn, 'onToken', rest.onToken);
    const ids = tok.encode(prefix);
    // The tokenizers' decoding only appends, so the continuation is the pieces the tokens add after the prefix.
    const piece = tok._streamDecoder(fn);
    for (const id of ids) piece(id);
    let text = '';
    this.generate(ids, {
      ...rest,
      onToken: (id) => {
        const p = piece(id);
        text += p;
        onToken?.(id);
        textOf?.(p);
      },
    });
    return text;
  }

  private checkedLogits(fn: string, h: Tensor): Float32Array {
    if (!allFinite(h.data)) throw new RangeError(`${fn}: the recurrent layer produced non-finite values (diverged weights?)`);
    return this.linear.forward(h).data;
  }

  private needTokenizer(fn: string): LMTokenizer {
    if (!this.tokenizer) {
      throw new TypeError(`${fn}: the model has no tokenizer: pass { tokenizer } (a fitted CharTokenizer or WordTokenizer) to the LanguageModel constructor`);
    }
    return this.tokenizer;
  }

  /** Token ids (a string is encoded with the tokenizer), each checked against the vocabulary. */
  private idsOf(fn: string, name: string, v: ArrayLike<number> | string): Int32Array {
    if (typeof v === 'string') return this.needTokenizer(fn).encode(v);
    if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
      throw new TypeError(`${fn}: ${name} must be an array of token ids${this.tokenizer ? ' or a string' : ''}, got ${typeName(v)}`);
    }
    const ids = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const id = v[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`${fn}: ${name}[${i}] must be a token id in [0, ${this.vocabSize - 1}], got ${fmt(id)}`);
      }
      ids[i] = id;
    }
    return ids;
  }

  private stopsOf(fn: string, stop: GenerateOptions['stop']): Int32Array[] {
    if (stop === undefined) return [];
    const list = Array.isArray(stop) ? (stop as readonly unknown[]) : [stop];
    return list.map((s, i) => {
      const where = Array.isArray(stop) ? `stop[${i}]` : 'stop';
      if (typeof s === 'number') {
        if (!Number.isInteger(s) || s < 0 || s >= this.vocabSize) {
          throw new RangeError(`${fn}: ${where} must be a token id in [0, ${this.vocabSize - 1}] or a string, got ${fmt(s)}`);
        }
        return Int32Array.of(s);
      }
      if (typeof s !== 'string') throw new TypeError(`${fn}: ${where} must be a token id or a string, got ${typeName(s)}`);
      if (!this.tokenizer) throw new TypeError(`${fn}: ${where} is a string (${JSON.stringify(s)}), which needs a tokenizer: give token ids, or attach a tokenizer to the model`);
      const seq = this.tokenizer.encode(s);
      if (seq.length === 0) throw new RangeError(`${fn}: ${where} (${JSON.stringify(s)}) encodes to no tokens`);
      return seq;
    });
  }
}

function callback<F>(fn: string, name: string, f: F | undefined): F | undefined {
  if (f !== undefined && typeof f !== 'function') throw new TypeError(`${fn}: ${name} must be a function, got ${typeName(f)}`);
  return f;
}

function tokenizerOf(fn: string, t: unknown): LMTokenizer {
  let tok: LMTokenizer;
  if (t instanceof CharTokenizer || t instanceof WordTokenizer) tok = t;
  else if (t !== null && typeof t === 'object' && (t as { type?: unknown }).type === 'CharTokenizer') tok = CharTokenizer.fromJSON(t);
  else if (t !== null && typeof t === 'object' && (t as { type?: unknown }).type === 'WordTokenizer') tok = WordTokenizer.fromJSON(t);
  else throw new TypeError(`${fn}: tokenizer must be a CharTokenizer or WordTokenizer (or its toJSON()), got ${typeName(t)}`);
  if (!tok.fitted) throw new RangeError(`${fn}: tokenizer must be fitted (call tokenizer.fit(texts) first, or give it a vocab)`);
  // A copy: refitting the caller's tokenizer later cannot change this model's vocabulary.
  return tok instanceof CharTokenizer ? CharTokenizer.fromJSON(tok.toJSON()) : WordTokenizer.fromJSON(tok.toJSON());
}

function stateOf(out: { h: Tensor; c?: Tensor }): RNNState {
  return out.c ? { h: out.h, c: out.c } : { h: out.h };
}

/** The final state without its history: the next chunk starts from its values, no gradient flows back. */
function detachState(out: { h: Tensor; c?: Tensor }): RNNState {
  return out.c ? { h: out.h.detach(), c: out.c.detach() } : { h: out.h.detach() };
}

/** log softmax(z[off .. off+V))[target], in float64. */
function logSoftmaxAt(z: Float32Array, off: number, V: number, target: number): number {
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (z[off + j] > m) m = z[off + j];
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(z[off + j] - m);
  return z[off + target] - m - Math.log(s);
}

function countCorrect(logits: Float32Array, targets: ArrayLike<number>, V: number): number {
  let n = 0;
  for (let i = 0, off = 0; i < targets.length; i++, off += V) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[off + j] > logits[off + best]) best = j;
    if (best === targets[i]) n++;
  }
  return n;
}

/** The length of the stop sequence `out` ends with (the first that matches), or 0. */
function endsWithStop(out: readonly number[], stops: readonly Int32Array[]): number {
  for (const s of stops) {
    const n = s.length;
    if (n > out.length) continue;
    let k = 0;
    while (k < n && out[out.length - n + k] === s[k]) k++;
    if (k === n) return n;
  }
  return 0;
}

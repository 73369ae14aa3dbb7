/**
 * Choosing the next token from a row of logits: greedy at temperature 0, otherwise a draw from
 * softmax(logits / temperature) restricted to the topK most likely tokens and then to the
 * nucleus (topP: the smallest set of most likely tokens whose probability reaches topP), as
 * Hugging Face's generate() applies them. The scratch arrays are made once per sampler, so
 * sampling allocates nothing per token; draws come from a seeded Random.
 */
import { Random } from '../random.js';
import { fmt } from '../layers/options.js';

/** Tokens ranked one at a time before the rest of the vocabulary is sorted at once. */
const RANK_BY_SELECTION = 32;

export interface SamplingOptions {
  /** 0: greedy (argmax, the first of equal maxima). Default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens only (k ≥ 1; larger than the vocabulary: all). */
  topK?: number;
  /** Sample from the smallest set of most likely tokens whose probability reaches topP, 0 < topP ≤ 1. */
  topP?: number;
  /** Seed of the draws: the same seed, model and options give the same tokens. Default: random. */
  seed?: number;
}

export class Sampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  private readonly rng: Random;
  private readonly probs: Float64Array;
  private readonly order: Int32Array;
  private readonly byProbability: (a: number, b: number) => number;
  /** How many of the most likely tokens `order` holds in order (see rank). */
  private ranked = 0;

  /** `fn` names the caller in errors; the options are validated here. */
  constructor(fn: string, vocabSize: number, options: SamplingOptions) {
    const t = options.temperature ?? 1;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      throw new RangeError(`${fn}: temperature must be a finite number ≥ 0 (0 = greedy), got ${fmt(t)}`);
    }
    const k = options.topK;
    if (k !== undefined && (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1)) {
      throw new RangeError(`${fn}: topK must be a positive integer, got ${fmt(k)}`);
    }
    const p = options.topP;
    if (p !== undefined && (typeof p !== 'number' || !(p > 0 && p <= 1))) {
      throw new RangeError(`${fn}: topP must be a number in (0, 1], got ${fmt(p)}`);
    }
    const seed = options.seed;
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) {
      throw new TypeError(`${fn}: seed must be an integer, got ${fmt(seed)}`);
    }
    this.temperature = t;
    this.topK = Math.min(k ?? vocabSize, vocabSize);
    this.topP = p ?? 1;
    this.rng = new Random(seed);
    this.probs = new Float64Array(vocabSize);
    this.order = new Int32Array(vocabSize);
    const probs = this.probs;
    // Most likely first; equal probabilities by id, so topK = 1 picks what argmax picks.
    this.byProbability = (a, b) => probs[b] - probs[a] || a - b;
  }

  /**
   * The j-th most likely token (j = 0, 1, … in turn): order[0..ranked) holds the most likely
   * tokens in order. The first few are found by selection (a nucleus is usually a handful of
   * tokens); past RANK_BY_SELECTION the rest is sorted at once.
   */
  private rank(j: number): number {
    const order = this.order, probs = this.probs, V = order.length;
    if (j < this.ranked) return order[j];
    if (j < RANK_BY_SELECTION) {
      let best = j, pb = probs[order[j]];
      for (let i = j + 1; i < V; i++) {
        const p = probs[order[i]];
        if (p > pb || (p === pb && order[i] < order[best])) {
          best = i;
          pb = p;
        }
      }
      const t = order[j];
      order[j] = order[best];
      order[best] = t;
      this.ranked = j + 1;
    } else {
      order.subarray(j).sort(this.byProbability);
      this.ranked = V;
    }
    return order[j];
  }

  /** The next token id for one row of logits (vocabSize values, all finite). */
  sample(logits: Float32Array): number {
    const V = this.probs.length;
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    if (this.temperature === 0) return best;
    const probs = this.probs, max = logits[best], invT = 1 / this.temperature;
    let total = 0;
    for (let i = 0; i < V; i++) total += probs[i] = Math.exp((logits[i] - max) * invT);
    if (this.topK >= V && this.topP >= 1) {
      let u = this.rng.next() * total;
      for (let i = 0; i < V; i++) {
        u -= probs[i];
        if (u < 0) return i;
      }
      return best; // u fell in the rounding left at the end of the sum
    }
    const order = this.order;
    for (let i = 0; i < V; i++) order[i] = i;
    this.ranked = 0;
    let kept = this.topK;
    let keptSum = 0;
    for (let j = 0; j < kept; j++) keptSum += probs[this.rank(j)];
    if (this.topP < 1) {
      // Keep token j while the tokens before it hold less than topP of the (top-k) probability.
      const target = this.topP * keptSum;
      let cum = 0, j = 0;
      while (j < kept && cum < target) cum += probs[this.rank(j++)];
      kept = Math.max(j, 1);
      keptSum = cum > 0 ? cum : probs[order[0]];
    }
    let u = this.rng.next() * keptSum;
    for (let j = 0; j < kept; j++) {
      u -= probs[order[j]];
      if (u < 0) return order[j];
    }
    return order[0];
  }
}

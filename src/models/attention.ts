/**
 * Additive (Bahdanau) attention, as d2l.ai writes it: score(q, k_t) = w_vᵀ tanh(W_q q + W_k k_t),
 * a softmax over each row's valid steps, and the context Σ_t α_t v_t. Built from layer calls and
 * tensor ops, so it trains through autograd; the ops it adds are `tanhAdd` (tanh(keys + query),
 * fused) and `weightedSum` (the context: PyTorch's torch.bmm(weights, values) for one query per
 * row). Parameters W_q.weight, W_k.weight, w_v.weight (no biases, as in d2l's AdditiveAttention).
 */
import { add } from '../autograd/elementwise.js';
import { opResult, tensorArg } from '../autograd/op.js';
import { reshape } from '../autograd/shape-ops.js';
import { softmax } from '../autograd/softmax.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { checkOptions, fmt, positiveInt, seedOf } from '../layers/options.js';
import { Tensor, shapeStr, typeName } from '../tensor.js';

/**
 * Σ_t weights[t, b] · values[t, b, :] → [B, D] for weights [T, B] and values [T, B, D], with
 * gradients to both (d weights[t, b] = g[b] · values[t, b]; d values[t, b] = weights[t, b] · g[b]).
 */
export function weightedSum(weights: Tensor, values: Tensor): Tensor {
  const fn = 'weightedSum';
  const w = tensorArg(fn, 'weights', weights), v = tensorArg(fn, 'values', values);
  if (v.shape.length !== 3 || w.shape.length !== 2 || w.shape[0] !== v.shape[0] || w.shape[1] !== v.shape[1]) {
    throw new RangeError(`${fn}: weights must be [T, B] and values [T, B, D] with the same T and B, got ${shapeStr(w.shape)} and ${shapeStr(v.shape)}`);
  }
  const [T, B, D] = v.shape;
  const wd = w.data, vd = v.data, acc = new Float64Array(B * D);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const a = wd[t * B + b], at = (t * B + b) * D;
      if (a === 0) continue;
      for (let d = 0; d < D; d++) acc[b * D + d] += a * vd[at + d];
    }
  }
  return opResult(fn, [w, v], Float32Array.from(acc), [B, D], (g, needs) => {
    let gw: Float32Array | null = null, gv: Float32Array | null = null;
    if (needs[0]) {
      gw = new Float32Array(T * B);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          let s = 0;
          const at = (t * B + b) * D;
          for (let d = 0; d < D; d++) s += g[b * D + d] * vd[at + d];
          gw[t * B + b] = s;
        }
      }
    }
    if (needs[1]) {
      gv = new Float32Array(T * B * D);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const a = wd[t * B + b], at = (t * B + b) * D;
          for (let d = 0; d < D; d++) gv[at + d] = a * g[b * D + d];
        }
      }
    }
    return [gw, gv];
  });
}

/**
 * tanh(keys[t, b, :] + query[b, :]) → [T, B, A] for keys [T, B, A] and query [B, A]: the hidden
 * layer of additive attention's scores in one pass (what tanh(add(keys, query)) computes, without
 * the broadcast's index maps — it runs for every decoder step over the whole source).
 */
export function tanhAdd(keys: Tensor, query: Tensor): Tensor {
  const fn = 'tanhAdd';
  const k = tensorArg(fn, 'keys', keys), q = tensorArg(fn, 'query', query);
  if (k.shape.length !== 3 || q.shape.length !== 2 || q.shape[0] !== k.shape[1] || q.shape[1] !== k.shape[2]) {
    throw new RangeError(`${fn}: keys must be [T, B, A] and query [B, A], got ${shapeStr(k.shape)} and ${shapeStr(q.shape)}`);
  }
  const [T, B, A] = k.shape, BA = B * A;
  const kd = k.data, qd = q.data, y = new Float32Array(T * BA);
  for (let t = 0; t < T; t++) for (let j = 0; j < BA; j++) y[t * BA + j] = Math.tanh(kd[t * BA + j] + qd[j]);
  return opResult(fn, [k, q], y, k.shape, (g, needs) => {
    const gk = new Float32Array(T * BA);
    for (let i = 0; i < gk.length; i++) gk[i] = g[i] * (1 - y[i] * y[i]);
    let gq: Float32Array | null = null;
    if (needs[1]) {
      const acc = new Float64Array(BA);
      for (let t = 0; t < T; t++) for (let j = 0; j < BA; j++) acc[j] += gk[t * BA + j];
      gq = Float32Array.from(acc);
    }
    return [needs[0] ? gk : null, gq];
  });
}

/** A [T, B] mask that softmax turns into zero weight past each row's length: 0 where valid, −∞ past it. */
export function lengthMask(T: number, lengths: ArrayLike<number>): Tensor {
  const B = lengths.length, m = new Float32Array(T * B);
  for (let b = 0; b < B; b++) for (let t = lengths[b]; t < T; t++) m[t * B + b] = -Infinity;
  return new Tensor(m, [T, B]);
}

export interface AdditiveAttentionOptions {
  /** Width of the scores' hidden layer (default keySize). */
  attentionSize?: number;
  seed?: number;
}

export class AdditiveAttention extends Module {
  readonly querySize: number;
  readonly keySize: number;
  readonly attentionSize: number;
  W_q: Linear;
  W_k: Linear;
  w_v: Linear;

  constructor(querySize: number, keySize: number, options: AdditiveAttentionOptions = {}) {
    super();
    const fn = new.target.name;
    checkOptions(fn, options, ['attentionSize', 'seed']);
    this.querySize = positiveInt(fn, 'querySize', querySize);
    this.keySize = positiveInt(fn, 'keySize', keySize);
    this.attentionSize = positiveInt(fn, 'attentionSize', options.attentionSize ?? keySize);
    const seed = seedOf(fn, options.seed);
    const s = (k: number): number | undefined => (seed === undefined ? undefined : seed * 131 + k);
    this.W_q = new Linear(this.querySize, this.attentionSize, { bias: false, seed: s(1) });
    this.W_k = new Linear(this.keySize, this.attentionSize, { bias: false, seed: s(2) });
    this.w_v = new Linear(this.attentionSize, 1, { bias: false, seed: s(3) });
  }

  override getConfig(): Record<string, unknown> {
    return { querySize: this.querySize, keySize: this.keySize, attentionSize: this.attentionSize };
  }

  /** W_k · keys for keys [T, B, keySize] → [T, B, attentionSize]: once per source batch, reused by every query. */
  projectKeys(keys: Tensor, options: { training?: boolean } = {}): Tensor {
    const fn = `${this.constructor.name}.projectKeys`;
    const k = tensorArg(fn, 'keys', keys);
    if (k.shape.length !== 3 || k.shape[2] !== this.keySize) {
      throw new RangeError(`${fn}: keys must be [T, B, keySize = ${this.keySize}], got shape ${shapeStr(k.shape)}`);
    }
    return this.W_k.forward(k, { training: options.training ?? this.training });
  }

  /**
   * One query per row against a source: query [B, querySize], projectedKeys [T, B,
   * attentionSize] (projectKeys), values [T, B, D] → context [B, D] and weights [T, B] (zero
   * past each row's length; each row sums to 1). `mask` is lengthMask(T, lengths), or null.
   */
  forward(
    query: Tensor, projectedKeys: Tensor, values: Tensor, mask: Tensor | null = null, options: { training?: boolean } = {},
  ): { context: Tensor; weights: Tensor } {
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['training']);
    const q = tensorArg(fn, 'query', query), kp = tensorArg(fn, 'projectedKeys', projectedKeys), v = tensorArg(fn, 'values', values);
    const B = q.shape[0];
    if (q.shape.length !== 2 || q.shape[1] !== this.querySize) {
      throw new RangeError(`${fn}: query must be [B, querySize = ${this.querySize}], got shape ${shapeStr(q.shape)}`);
    }
    if (kp.shape.length !== 3 || kp.shape[1] !== B || kp.shape[2] !== this.attentionSize) {
      throw new RangeError(`${fn}: projectedKeys must be [T, B = ${B}, attentionSize = ${this.attentionSize}], got shape ${shapeStr(kp.shape)}`);
    }
    const T = kp.shape[0];
    if (v.shape.length !== 3 || v.shape[0] !== T || v.shape[1] !== B) {
      throw new RangeError(`${fn}: values must be [T = ${T}, B = ${B}, D], got shape ${shapeStr(v.shape)}`);
    }
    if (mask !== null && (!(mask instanceof Tensor) || mask.shape.length !== 2 || mask.shape[0] !== T || mask.shape[1] !== B)) {
      throw new TypeError(`${fn}: mask must be a [T = ${T}, B = ${B}] tensor (lengthMask) or null, got ${mask instanceof Tensor ? shapeStr(mask.shape) : typeName(mask)}`);
    }
    const training = options.training ?? this.training;
    if (typeof training !== 'boolean') throw new TypeError(`${fn}: training must be a boolean, got ${fmt(training)}`);
    const features = tanhAdd(kp, this.W_q.forward(q, { training })); // [T, B, A]
    const scores = reshape(this.w_v.forward(features, { training }), [T, B]);
    const weights = softmax(mask ? add(scores, mask) : scores, 0);
    return { context: weightedSum(weights, v), weights };
  }
}

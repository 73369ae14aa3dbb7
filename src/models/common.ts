/**
 * What the task models (SequenceClassifier, Forecaster, Seq2Seq) share: the choice of recurrent
 * cell, option checks in the layers' words, and the tokenizers and scalers they carry in their
 * configuration (as JSON, so save() writes them and load() rebuilds them).
 */
import { GRU, LSTM, RNN, type RNNBase } from '../layers/rnn.js';
import { fmt, oneOf } from '../layers/options.js';
import { CharTokenizer, WordTokenizer, type CharTokenizerJSON, type WordTokenizerJSON } from '../data/tokenizers.js';
import { MinMaxScaler, StandardScaler, type MinMaxScalerJSON, type StandardScalerJSON } from '../data/scalers.js';
import { allFinite, typeName, type Tensor } from '../tensor.js';

export type CellName = 'lstm' | 'gru' | 'rnn';
export const CELL_NAMES: readonly CellName[] = ['lstm', 'gru', 'rnn'];

export type Tokenizer = CharTokenizer | WordTokenizer;
export type TokenizerJSON = CharTokenizerJSON | WordTokenizerJSON;
export type Scaler = StandardScaler | MinMaxScaler;
export type ScalerJSON = StandardScalerJSON | MinMaxScalerJSON;

export function choiceOf<T extends string>(fn: string, name: string, v: unknown, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new RangeError(`${fn}: ${name} must be ${oneOf(choices)}, got ${fmt(v)}`);
  }
  return v as T;
}

/** A probability-like number in [0, max) (dropout) or [0, 1] (a ratio). */
export function fraction(fn: string, name: string, v: unknown, dflt: number, closed = false): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0 && (closed ? v <= 1 : v < 1))) {
    throw new RangeError(`${fn}: ${name} must be a number in [0, 1${closed ? ']' : ')'}, got ${fmt(v)}`);
  }
  return v;
}

/** The recurrent layer of a cell name. */
export function recurrent(
  cell: CellName,
  options: { inputSize: number; hiddenSize: number; numLayers: number; dropout?: number; bidirectional?: boolean; seed?: number },
): LSTM | GRU | RNN {
  return cell === 'lstm' ? new LSTM(options) : cell === 'gru' ? new GRU(options) : new RNN(options);
}

export function cellOf(rnn: RNNBase): CellName {
  return rnn.mode === 'LSTM' ? 'lstm' : rnn.mode === 'GRU' ? 'gru' : 'rnn';
}

/** A child seed derived from the model's seed (undefined stays undefined: random initialisation). */
export function childSeed(seed: number | undefined, k: number): number | undefined {
  return seed === undefined ? undefined : seed * 7919 + k;
}

/** A tokenizer given as an instance or as its toJSON() (what a saved configuration holds). */
export function tokenizerOf(fn: string, name: string, v: unknown): Tokenizer | null {
  if (v === undefined || v === null) return null;
  let t: Tokenizer;
  if (v instanceof CharTokenizer || v instanceof WordTokenizer) t = v;
  else if (typeof v === 'object' && (v as { type?: unknown }).type === 'CharTokenizer') t = CharTokenizer.fromJSON(v);
  else if (typeof v === 'object' && (v as { type?: unknown }).type === 'WordTokenizer') t = WordTokenizer.fromJSON(v);
  else throw new TypeError(`${fn}: ${name} must be a CharTokenizer or a WordTokenizer (or its toJSON()), got ${typeName(v)}`);
  if (!t.fitted) throw new RangeError(`${fn}: ${name} must be fitted (call ${t.constructor.name}.fit(texts) first)`);
  return t;
}

/** A fitted scaler given as an instance or as its toJSON(). */
export function scalerOf(fn: string, name: string, v: unknown, features: number): Scaler | null {
  if (v === undefined || v === null) return null;
  let s: Scaler;
  if (v instanceof StandardScaler || v instanceof MinMaxScaler) s = v;
  else if (typeof v === 'object' && (v as { type?: unknown }).type === 'StandardScaler') s = StandardScaler.fromJSON(v);
  else if (typeof v === 'object' && (v as { type?: unknown }).type === 'MinMaxScaler') s = MinMaxScaler.fromJSON(v);
  else throw new TypeError(`${fn}: ${name} must be a StandardScaler or a MinMaxScaler (or its toJSON()), got ${typeName(v)}`);
  if (!s.fitted) throw new RangeError(`${fn}: ${name} must be fitted (call ${s.constructor.name}.fit(series) first)`);
  if (s.nFeatures !== features) {
    throw new RangeError(`${fn}: ${name} must be fitted on the ${features} input features, got one fitted on ${s.nFeatures}`);
  }
  return s;
}

/**
 * Diverged weights overflow activations before they reach a loss; the layers refuse
 * non-finite inputs (bad input from a caller), so the models check in between and report a
 * non-finite loss for fit() to stop on, with the last good weights.
 */
export function finite(...ts: readonly Tensor[]): boolean {
  for (const t of ts) if (!allFinite(t.data)) return false;
  return true;
}

/** Index of the largest of n values starting at `from` (the first one on ties). */
export function argmax(data: ArrayLike<number>, from: number, n: number): number {
  let best = 0, v = data[from];
  for (let j = 1; j < n; j++) {
    if (data[from + j] > v) {
      v = data[from + j];
      best = j;
    }
  }
  return best;
}

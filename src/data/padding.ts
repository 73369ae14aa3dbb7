/**
 * Padding a list of variable-length sequences into one batch, like PyTorch's
 * torch.nn.utils.rnn.pad_sequence, plus the lengths that the recurrent layers' `lengths` option
 * (packed-sequence semantics) and pack_padded_sequence take.
 */
import {
  bool,
  checkSize,
  choice,
  finiteNumber,
  fmt,
  isArrayLike,
  isInt32,
  positiveInt,
  readOptions,
  typeName,
} from './checks.js';

/** A sequence of token ids: [len]. */
export type IdSequence = ArrayLike<number>;
/** A sequence of feature vectors: rows [len][F], or flat values with shape [len, F] (a Tensor). */
export type FeatureSequence = readonly ArrayLike<number>[] | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

export interface PadOptions {
  /** Lay the batch out [B, T, …] instead of PyTorch's default time-major [T, B, …]. Default false. */
  batchFirst?: boolean;
  /** The value of the padded positions. Default 0 (pass vocab.padId for token ids). */
  paddingValue?: number;
  /** Longer sequences are cut to their first maxLength steps (and their lengths with them). */
  maxLength?: number;
  /**
   * The type of the data of 1-D sequences: 'int32' token ids (default) or 'float32' values.
   * Sequences of feature vectors are always 'float32'.
   */
  dtype?: 'int32' | 'float32';
}

export interface PaddedBatch<D extends Int32Array | Float32Array = Int32Array | Float32Array> {
  /** [T, B] or [T, B, F] (batchFirst: [B, T] or [B, T, F]), T the longest length. */
  data: D;
  shape: number[];
  /** The length of each sequence (after maxLength), in batch order. */
  lengths: Int32Array;
}

/** One sequence, read: `flat` holds len·F values row-major, or `rows` holds len rows of F. */
export interface ReadSequence {
  len: number;
  /** 0 for a sequence of ids, the feature count otherwise; -1 for an empty array (either). */
  F: number;
  flat: ArrayLike<number> | null;
  rows: readonly ArrayLike<number>[] | null;
}

/** Reads the kind and length of a sequence (its values are checked as they are copied). */
export function readSequence(fn: string, name: string, s: unknown): ReadSequence {
  if (isArrayLike(s)) {
    if (s.length === 0) return { len: 0, F: -1, flat: s as ArrayLike<number>, rows: null };
    const first = s[0];
    if (typeof first === 'number') return { len: s.length, F: 0, flat: s as ArrayLike<number>, rows: null };
    if (isArrayLike(first)) {
      if (first.length === 0) throw new RangeError(`${fn}: ${name}[0] must be a feature vector of at least one value, got an empty one`);
      return { len: s.length, F: first.length, flat: null, rows: s as readonly ArrayLike<number>[] };
    }
    throw new TypeError(`${fn}: ${name}[0] must be a number (an id) or an array of numbers (a feature vector), got ${fmt(first)}`);
  }
  if (s !== null && typeof s === 'object' && 'data' in s && 'shape' in s) {
    const { data, shape } = s as { data: unknown; shape: unknown };
    if (!isArrayLike(data)) throw new TypeError(`${fn}: ${name}.data must be an array of numbers, got ${typeName(data)}`);
    if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 2) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${fn}: ${name}.shape must be [len] or [len, features], got ${Array.isArray(shape) ? `[${shape.map(fmt).join(', ')}]` : typeName(shape)}`);
    }
    const size = shape.length === 1 ? shape[0] : shape[0] * shape[1];
    if (data.length !== size) throw new RangeError(`${fn}: ${name}.shape [${shape.join(', ')}] holds ${size} values, but its data has ${data.length}`);
    if (shape.length === 2 && shape[1] === 0) throw new RangeError(`${fn}: ${name}.shape must have at least one feature, got [${shape.join(', ')}]`);
    return { len: shape[0], F: shape.length === 1 ? 0 : shape[1], flat: data as ArrayLike<number>, rows: null };
  }
  throw new TypeError(`${fn}: ${name} must be an array of ids, an array of feature vectors or { data, shape }, got ${fmt(s)}`);
}

/** The checks and the copy; also what sequenceBatches pads each batch with. */
export function padInto(
  fn: string,
  sequences: readonly unknown[],
  order: ArrayLike<number> | null,
  options: PadOptions | undefined,
  nameOf: (i: number) => string = (i) => `sequences[${i}]`,
): PaddedBatch {
  readOptions(fn, options, ['batchFirst', 'paddingValue', 'maxLength', 'dtype']);
  const o = options ?? {};
  const batchFirst = bool(fn, 'batchFirst', o.batchFirst, false);
  const maxLength = o.maxLength === undefined ? Infinity : positiveInt(fn, 'maxLength', o.maxLength);
  const dtype = choice(fn, 'dtype', o.dtype, ['int32', 'float32'], 'int32');
  const pad = finiteNumber(fn, 'paddingValue', o.paddingValue, 0);
  const B = order ? order.length : sequences.length;
  if (B === 0) throw new RangeError(`${fn}: sequences must hold at least one sequence, got an empty array`);

  const seqs: ReadSequence[] = new Array(B);
  let F = -1, firstOfF = -1, T = 0;
  for (let b = 0; b < B; b++) {
    const i = order ? order[b] : b;
    const r = (seqs[b] = readSequence(fn, nameOf(i), sequences[i]));
    if (r.F >= 0) {
      if (F < 0) {
        F = r.F;
        firstOfF = i;
      } else if (r.F !== F) {
        const what = (f: number): string => (f === 0 ? 'ids' : `feature vectors of ${f}`);
        throw new RangeError(`${fn}: ${nameOf(i)} holds ${what(r.F)}, but ${nameOf(firstOfF)} holds ${what(F)}`);
      }
    }
    T = Math.max(T, Math.min(r.len, maxLength));
  }
  const features = F > 0;
  if (features && o.dtype === 'int32') {
    throw new RangeError(`${fn}: dtype 'int32' is for sequences of ids; sequences of feature vectors are 'float32', got dtype 'int32'`);
  }
  const ints = !features && dtype === 'int32';
  if (ints && !isInt32(pad)) throw new RangeError(`${fn}: paddingValue must be an int32 for 'int32' data, got ${pad}`);
  const W = features ? F : 1;
  checkSize(fn, 'the padded batch', T * B * W);

  const data = ints ? new Int32Array(T * B * W) : new Float32Array(T * B * W);
  if (pad !== 0) data.fill(pad);
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const r = seqs[b];
    const name = nameOf(order ? order[b] : b);
    const len = Math.min(r.len, maxLength);
    lengths[b] = len;
    for (let t = 0; t < len; t++) {
      const row = r.rows ? r.rows[t] : null;
      if (r.rows && (!isArrayLike(row) || row.length !== W)) {
        throw new RangeError(`${fn}: ${name}[${t}] must be a feature vector of ${W} numbers, got ${isArrayLike(row) ? `length ${row.length}` : fmt(row)}`);
      }
      const at = (batchFirst ? b * T + t : t * B + b) * W;
      for (let f = 0; f < W; f++) {
        const v = row ? row[f] : r.flat![t * W + f];
        if (ints ? !isInt32(v) : typeof v !== 'number' || !Number.isFinite(v)) {
          const where = features ? `${name}[${t}][${f}]` : `${name}[${t}]`;
          const hint = ints && typeof v === 'number' && Number.isFinite(v) ? " (pass dtype: 'float32' for real values)" : '';
          throw new TypeError(`${fn}: ${where} must be ${ints ? 'an int32 id' : 'a finite number'}, got ${fmt(v)}${hint}`);
        }
        data[at + f] = v;
      }
    }
  }
  const shape = batchFirst ? [B, T] : [T, B];
  if (features) shape.push(F);
  return { data, shape, lengths };
}

/**
 * Pads sequences to the longest one: pad_sequence([[1, 2, 3], [4, 5]]) is [[1, 4], [2, 5], [3, 0]]
 * with lengths [3, 2]. Sequences of ids give Int32Array data [T, B]; sequences of feature vectors
 * ([len, F], every F equal) give Float32Array data [T, B, F]. The result feeds Embedding.forward
 * or an RNN's forward ({ data, shape }) directly, with `lengths` as its lengths option.
 */
export function padSequences(sequences: readonly IdSequence[], options?: PadOptions & { dtype?: 'int32' }): PaddedBatch<Int32Array>;
export function padSequences(sequences: readonly IdSequence[], options: PadOptions & { dtype: 'float32' }): PaddedBatch<Float32Array>;
export function padSequences(sequences: readonly FeatureSequence[], options?: PadOptions): PaddedBatch<Float32Array>;
export function padSequences(sequences: readonly (IdSequence | FeatureSequence)[], options?: PadOptions): PaddedBatch;
export function padSequences(sequences: readonly (IdSequence | FeatureSequence)[], options?: PadOptions): PaddedBatch {
  const fn = 'padSequences';
  if (!Array.isArray(sequences)) throw new TypeError(`${fn}: sequences must be an array of sequences, got ${typeName(sequences)}`);
  return padInto(fn, sequences, null, options);
}

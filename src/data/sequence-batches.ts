/**
 * Seeded mini-batches over (sequence, label) examples — a DataLoader with shuffle and a padding
 * collate_fn, and optionally torchtext's BucketIterator: pools of bucketSize·batchSize examples
 * sorted by length so that each batch holds sequences of similar length (less padding), then the
 * batches shuffled. Each batch is padded (padSequences) and carries its lengths and labels.
 */
import {
  bool,
  checkSize,
  choice,
  fmt,
  isArrayLike,
  isInt32,
  positiveInt,
  requireOptions,
  typeName,
} from './checks.js';
import { padInto, readSequence, type FeatureSequence, type IdSequence } from './padding.js';
import { epochRandom, range, shuffleInPlace } from './shuffle.js';

export interface SequenceExample<S extends IdSequence | FeatureSequence = IdSequence | FeatureSequence> {
  /** Token ids [len], or feature vectors [len, F]; len ≥ 1. */
  sequence: S;
  /** A class id, a number, or a fixed-length vector of numbers; give it to every example or to none. */
  label?: number | ArrayLike<number>;
}

export interface SequenceBatchOptions {
  batchSize: number;
  /** Shuffle the examples (and, with bucketing, the batches) every epoch. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle. Default 0: reproducible unless you vary it. */
  seed?: number;
  /** Mixed into the seed, so each epoch has its own order (pass fit()'s epoch). Default 0. */
  epoch?: number;
  /** Sort pools of bucketSize·batchSize examples by length (longest first) before cutting batches. Default false. */
  bucketByLength?: boolean;
  /** Batches per pool when bucketing. Default 100 (torchtext's pool of 100 batches). */
  bucketSize?: number;
  /** Leave out the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Pad to [B, T, …] instead of [T, B, …]. Default false. */
  batchFirst?: boolean;
  /** Default 0; pass vocab.padId to pad token ids with <pad>. */
  paddingValue?: number;
  /** Cut longer sequences to their first maxLength steps. */
  maxLength?: number;
  /** 'int32' ids (default) or 'float32' values, for 1-D sequences; feature vectors are 'float32'. */
  dtype?: 'int32' | 'float32';
  /** Labels as 'int32' class ids (the default for number labels) or 'float32' (the default for vector labels). */
  labelDtype?: 'int32' | 'float32';
}

export interface SequenceBatch<D extends Int32Array | Float32Array = Int32Array | Float32Array> {
  /** The padded inputs [T, B] / [T, B, F] (batchFirst: [B, T] / [B, T, F]): feeds Embedding or RNN forward as is. */
  x: { data: D; shape: number[] };
  /** The length of each row: the lengths option of an RNN's forward. */
  lengths: Int32Array;
  /** Labels [B] (number labels) or [B, K] (vector labels) in batch order, or null without labels. */
  y: Int32Array | Float32Array | null;
  /** The example index of each row. */
  indices: Int32Array;
  T: number;
  B: number;
}

const OPTIONS = [
  'batchSize', 'shuffle', 'seed', 'epoch', 'bucketByLength', 'bucketSize', 'dropLast',
  'batchFirst', 'paddingValue', 'maxLength', 'dtype', 'labelDtype',
];

/** Labels, checked: their width K (0 for number labels) and dtype, or null without labels. */
function readLabels(fn: string, examples: readonly SequenceExample[], labelDtype: unknown): { K: number; ints: boolean } | null {
  const has = examples[0].label !== undefined;
  let K = 0;
  if (has) {
    const l0 = examples[0].label;
    if (typeof l0 !== 'number') {
      if (!isArrayLike(l0) || l0.length === 0) {
        throw new TypeError(`${fn}: examples[0].label must be a number or a non-empty array of numbers, got ${isArrayLike(l0) ? 'an empty array' : fmt(l0)}`);
      }
      K = l0.length;
    }
  }
  const ints = choice(fn, 'labelDtype', labelDtype, ['int32', 'float32'], K === 0 ? 'int32' : 'float32') === 'int32';
  for (let i = 0; i < examples.length; i++) {
    const l = examples[i].label;
    if ((l !== undefined) !== has) {
      throw new TypeError(`${fn}: examples[${i}] ${has ? 'has no label, but examples[0] has one' : 'has a label, but examples[0] has none'}; give every example a label or none`);
    }
    if (!has) continue;
    const values: ArrayLike<unknown> = K === 0 ? [l] : (l as ArrayLike<unknown>);
    if (K === 0 ? typeof l !== 'number' : !isArrayLike(l) || l.length !== K) {
      throw new TypeError(`${fn}: examples[${i}].label must be ${K === 0 ? 'a number' : `an array of ${K} numbers`} like examples[0]'s, got ${isArrayLike(l) ? `length ${l.length}` : fmt(l)}`);
    }
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (ints ? !isInt32(v) : typeof v !== 'number' || !Number.isFinite(v)) {
        const where = K === 0 ? `examples[${i}].label` : `examples[${i}].label[${k}]`;
        const hint = ints && typeof v === 'number' && Number.isFinite(v) ? " (pass labelDtype: 'float32' for real-valued labels)" : '';
        throw new TypeError(`${fn}: ${where} must be ${ints ? 'an int32 class id' : 'a finite number'}, got ${fmt(v)}${hint}`);
      }
    }
  }
  return has ? { K, ints } : null;
}

/**
 * The batches of one epoch over examples. Every example is in exactly one batch (but for a short
 * last batch with dropLast); the order depends only on (seed, epoch). Without shuffle and
 * bucketing, batches follow the examples' order.
 */
export function sequenceBatches(
  examples: readonly SequenceExample<IdSequence>[],
  options: SequenceBatchOptions & { dtype?: 'int32' },
): SequenceBatch<Int32Array>[];
export function sequenceBatches(
  examples: readonly SequenceExample<IdSequence>[],
  options: SequenceBatchOptions & { dtype: 'float32' },
): SequenceBatch<Float32Array>[];
export function sequenceBatches(examples: readonly SequenceExample<FeatureSequence>[], options: SequenceBatchOptions): SequenceBatch<Float32Array>[];
export function sequenceBatches(examples: readonly SequenceExample[], options: SequenceBatchOptions): SequenceBatch[];
export function sequenceBatches(examples: readonly SequenceExample[], options: SequenceBatchOptions): SequenceBatch[] {
  const fn = 'sequenceBatches';
  if (!Array.isArray(examples)) throw new TypeError(`${fn}: examples must be an array of { sequence, label } objects, got ${typeName(examples)}`);
  requireOptions(fn, options, OPTIONS);
  const batchSize = positiveInt(fn, 'batchSize', options.batchSize);
  const shuffle = bool(fn, 'shuffle', options.shuffle, true);
  const rng = epochRandom(fn, options.seed, options.epoch);
  const bucket = bool(fn, 'bucketByLength', options.bucketByLength, false);
  const bucketSize = positiveInt(fn, 'bucketSize', options.bucketSize, 100);
  const dropLast = bool(fn, 'dropLast', options.dropLast, false);
  const maxLength = options.maxLength === undefined ? Infinity : positiveInt(fn, 'maxLength', options.maxLength);
  const N = examples.length;
  if (N === 0) throw new RangeError(`${fn}: examples must hold at least one example, got an empty array`);

  // Every example is read up front, so a bad one fails whichever batch (or none) it lands in.
  const sequences: unknown[] = new Array(N);
  const lengths = new Float64Array(N);
  let F = -1, firstOfF = -1;
  for (let i = 0; i < N; i++) {
    const e = examples[i] as unknown;
    if (e === null || typeof e !== 'object' || !('sequence' in e)) {
      throw new TypeError(`${fn}: examples[${i}] must be a { sequence, label } object, got ${fmt(e)}`);
    }
    const r = readSequence(fn, `examples[${i}].sequence`, (e as SequenceExample).sequence);
    if (r.len === 0) throw new RangeError(`${fn}: examples[${i}].sequence is empty; a recurrent layer needs every length ≥ 1`);
    if (F < 0) {
      F = r.F;
      firstOfF = i;
    } else if (r.F !== F) {
      const what = (f: number): string => (f === 0 ? 'ids' : `feature vectors of ${f}`);
      throw new RangeError(`${fn}: examples[${i}].sequence holds ${what(r.F)}, but examples[${firstOfF}].sequence holds ${what(F)}`);
    }
    sequences[i] = (e as SequenceExample).sequence;
    lengths[i] = Math.min(r.len, maxLength);
  }
  const labels = readLabels(fn, examples, options.labelDtype);
  const W = labels && labels.K > 0 ? labels.K : 1;

  const order = range(N);
  if (shuffle) shuffleInPlace(order, rng);
  if (bucket) {
    const pool = bucketSize * batchSize;
    for (let start = 0; start < N; start += pool) {
      const chunk = Array.from(order.subarray(start, Math.min(N, start + pool)));
      chunk.sort((a, b) => lengths[b] - lengths[a]); // stable: equal lengths keep their shuffled order
      order.set(chunk, start);
    }
  }
  const groups: Int32Array[] = [];
  for (let start = 0; start < N; start += batchSize) groups.push(order.subarray(start, Math.min(N, start + batchSize)));
  let dropped: Int32Array | null = null;
  if (dropLast && groups[groups.length - 1].length < batchSize) dropped = groups.pop()!;
  if (shuffle && bucket) shuffleInPlace(groups, rng);

  const pad = { batchFirst: options.batchFirst, paddingValue: options.paddingValue, maxLength: options.maxLength, dtype: options.dtype };
  const nameOf = (i: number): string => `examples[${i}].sequence`;
  if (dropped) padInto(fn, sequences, dropped, pad, nameOf); // checks the values it leaves out
  return groups.map((indices) => {
    const { data, shape, lengths: lens } = padInto(fn, sequences, indices, pad, nameOf);
    const B = indices.length;
    let y: Int32Array | Float32Array | null = null;
    if (labels) {
      checkSize(fn, 'the labels of a batch', B * W);
      y = labels.ints ? new Int32Array(B * W) : new Float32Array(B * W);
      for (let b = 0; b < B; b++) {
        const l = examples[indices[b]].label!;
        if (typeof l === 'number') y[b] = l;
        else for (let k = 0; k < W; k++) y[b * W + k] = l[k];
      }
    }
    const T = shape[options.batchFirst ? 1 : 0];
    return { x: { data, shape }, lengths: lens, y, indices: Int32Array.from(indices), T, B };
  });
}

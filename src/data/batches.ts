/**
 * Batches for language-model training over one token stream (d2l's two partitionings):
 * - 'sequential': the stream is split into B parallel streams read in consecutive chunks of T
 *   steps, so each batch continues the previous one (carry the state, truncated BPTT);
 * - 'random': windows of T steps start at random offsets; the state is reset every batch.
 * x and y are time-major [T, B] int32 (y is x shifted by one token).
 */
import { Random } from '../random.js';
import { checkOptions } from '../layers/options.js';
import { typeName } from '../tensor.js';

export interface TokenBatch {
  x: Int32Array;
  y: Int32Array;
  T: number;
  B: number;
  /** True when this batch continues the streams of the previous one. */
  carry: boolean;
}

export interface LMBatchOptions {
  batchSize: number;
  seqLen: number;
  mode?: 'sequential' | 'random';
  /** Seed of the random offset/shuffle; the epoch number is mixed in so each epoch differs reproducibly. */
  seed?: number;
  epoch?: number;
}

export function lmBatches(tokens: ArrayLike<number>, options: LMBatchOptions): TokenBatch[] {
  const fn = 'lmBatches';
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.length !== 'number') {
    throw new TypeError(`${fn}: tokens must be an array of token ids, got ${typeName(tokens)}`);
  }
  checkOptions(fn, options, ['batchSize', 'seqLen', 'mode', 'seed', 'epoch']);
  const { batchSize: B, seqLen: T } = options;
  const mode = options.mode ?? 'sequential';
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`${fn}: batchSize must be a positive integer, got ${String(B)}`);
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`${fn}: seqLen must be a positive integer, got ${String(T)}`);
  if (mode !== 'sequential' && mode !== 'random') throw new RangeError(`${fn}: mode must be 'sequential' or 'random', got ${String(mode)}`);
  const n = tokens.length;
  if (n < B * T + 1) {
    throw new RangeError(`${fn}: tokens must hold at least batchSize·seqLen + 1 = ${B * T + 1} ids, got ${n}`);
  }
  const rng = new Random(((options.seed ?? 0) * 2654435761 + (options.epoch ?? 0) * 40503) >>> 0);
  const out: TokenBatch[] = [];
  if (mode === 'sequential') {
    const offset = Math.floor(rng.next() * Math.min(T, n - B * T));
    const per = Math.floor((n - offset - 1) / B); // tokens per stream
    const chunks = Math.floor(per / T);
    for (let c = 0; c < chunks; c++) {
      const x = new Int32Array(T * B), y = new Int32Array(T * B);
      for (let b = 0; b < B; b++) {
        const start = offset + b * per + c * T;
        for (let t = 0; t < T; t++) {
          x[t * B + b] = tokens[start + t];
          y[t * B + b] = tokens[start + t + 1];
        }
      }
      out.push({ x, y, T, B, carry: c > 0 });
    }
    return out;
  }
  const offset = Math.floor(rng.next() * T);
  const starts: number[] = [];
  for (let s = offset; s + T + 1 <= n; s += T) starts.push(s);
  for (let i = starts.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [starts[i], starts[j]] = [starts[j], starts[i]];
  }
  for (let i = 0; i + B <= starts.length; i += B) {
    const x = new Int32Array(T * B), y = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const start = starts[i + b];
      for (let t = 0; t < T; t++) {
        x[t * B + b] = tokens[start + t];
        y[t * B + b] = tokens[start + t + 1];
      }
    }
    out.push({ x, y, T, B, carry: false });
  }
  return out;
}

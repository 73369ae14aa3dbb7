/**
 * The sequence reductions RNN models need, over each row's valid steps (PyTorch's
 * packed-sequence semantics): the last valid step, the mean and the max over valid steps, and
 * the last layer's final hidden state with both directions concatenated.
 */
import { shapeStr, typeName, type Tensor } from '../tensor.js';
import { opResult, tensorArg } from './op.js';

export interface PoolOptions {
  /** output is [B, T, F] instead of [T, B, F] (default false). */
  batchFirst?: boolean;
}

interface Layout {
  T: number;
  B: number;
  F: number;
  /** Flat index of (t, b, 0). */
  at(t: number, b: number): number;
  lengths: Int32Array;
  outShape: number[];
}

function layout(fn: string, output: Tensor, lengths: ArrayLike<number> | undefined | null, options: PoolOptions): Layout {
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${typeName(options)}`);
  const r = output.shape.length;
  if (r !== 2 && r !== 3) {
    throw new RangeError(`${fn}: output must be [T, B, F] ([B, T, F] with batchFirst) or unbatched [T, F], got shape ${shapeStr(output.shape)}`);
  }
  const bf = options.batchFirst ?? false;
  const T = r === 2 ? output.shape[0] : bf ? output.shape[1] : output.shape[0];
  const B = r === 2 ? 1 : bf ? output.shape[0] : output.shape[1];
  const F = output.shape[r - 1];
  if (T < 1) throw new RangeError(`${fn}: output has no steps (shape ${shapeStr(output.shape)})`);
  const len = new Int32Array(B).fill(T);
  if (lengths !== undefined && lengths !== null) {
    if (typeof lengths !== 'object' || lengths.length !== B) {
      throw new RangeError(`${fn}: lengths must have one entry per batch row (${B}), got ${typeof lengths === 'object' ? lengths.length : typeName(lengths)}`);
    }
    for (let b = 0; b < B; b++) {
      const v = lengths[b];
      if (!Number.isInteger(v) || v < 1 || v > T) throw new RangeError(`${fn}: lengths[${b}] must be an integer in [1, ${T}], got ${String(v)}`);
      len[b] = v;
    }
  }
  const at = bf && r === 3 ? (t: number, b: number) => (b * T + t) * F : (t: number, b: number) => (t * B + b) * F;
  return { T, B, F, at, lengths: len, outShape: r === 2 ? [F] : [B, F] };
}

/** Each row's output at its last valid step: [T, B, F] → [B, F] (unbatched [T, F] → [F]). */
export function lastStep(output: Tensor, lengths?: ArrayLike<number> | null, options: PoolOptions = {}): Tensor {
  const fn = 'lastStep';
  const x = tensorArg(fn, 'output', output);
  const L = layout(fn, x, lengths, options);
  const data = new Float32Array(L.B * L.F);
  for (let b = 0; b < L.B; b++) data.set(x.data.subarray(L.at(L.lengths[b] - 1, b), L.at(L.lengths[b] - 1, b) + L.F), b * L.F);
  return opResult(fn, [x], data, L.outShape, (g) => {
    const out = new Float32Array(x.size);
    for (let b = 0; b < L.B; b++) out.set(g.subarray(b * L.F, (b + 1) * L.F), L.at(L.lengths[b] - 1, b));
    return [out];
  });
}

/** The mean over each row's valid steps: [T, B, F] → [B, F]. */
export function meanPool(output: Tensor, lengths?: ArrayLike<number> | null, options: PoolOptions = {}): Tensor {
  const fn = 'meanPool';
  const x = tensorArg(fn, 'output', output);
  const L = layout(fn, x, lengths, options);
  const data = new Float32Array(L.B * L.F), acc = new Float64Array(L.F);
  for (let b = 0; b < L.B; b++) {
    acc.fill(0);
    for (let t = 0; t < L.lengths[b]; t++) {
      const o = L.at(t, b);
      for (let j = 0; j < L.F; j++) acc[j] += x.data[o + j];
    }
    for (let j = 0; j < L.F; j++) data[b * L.F + j] = acc[j] / L.lengths[b];
  }
  return opResult(fn, [x], data, L.outShape, (g) => {
    const out = new Float32Array(x.size);
    for (let b = 0; b < L.B; b++) {
      const n = L.lengths[b];
      for (let t = 0; t < n; t++) {
        const o = L.at(t, b);
        for (let j = 0; j < L.F; j++) out[o + j] = g[b * L.F + j] / n;
      }
    }
    return [out];
  });
}

/** The maximum over each row's valid steps, per feature: [T, B, F] → [B, F] (gradient to the first maximum). */
export function maxPool(output: Tensor, lengths?: ArrayLike<number> | null, options: PoolOptions = {}): Tensor {
  const fn = 'maxPool';
  const x = tensorArg(fn, 'output', output);
  const L = layout(fn, x, lengths, options);
  const data = new Float32Array(L.B * L.F), arg = new Int32Array(L.B * L.F);
  for (let b = 0; b < L.B; b++) {
    for (let j = 0; j < L.F; j++) {
      let best = -Infinity, where = L.at(0, b) + j;
      for (let t = 0; t < L.lengths[b]; t++) {
        const v = x.data[L.at(t, b) + j];
        if (v > best || Number.isNaN(v)) {
          best = v;
          where = L.at(t, b) + j;
          if (Number.isNaN(v)) break;
        }
      }
      data[b * L.F + j] = best;
      arg[b * L.F + j] = where;
    }
  }
  return opResult(fn, [x], data, L.outShape, (g) => {
    const out = new Float32Array(x.size);
    for (let k = 0; k < arg.length; k++) out[arg[k]] += g[k];
    return [out];
  });
}

/**
 * The top layer's final hidden state, directions concatenated (PyTorch's
 * `torch.cat([h_n[-2], h_n[-1]], dim=1)` for a bidirectional layer): h [L·D, B, H] → [B, D·H]
 * (unbatched [L·D, H] → [D·H]).
 */
export function finalHidden(h: Tensor, directions: 1 | 2 = 1): Tensor {
  const fn = 'finalHidden';
  const x = tensorArg(fn, 'h', h);
  if (directions !== 1 && directions !== 2) throw new RangeError(`${fn}: directions must be 1 or 2, got ${String(directions)}`);
  const r = x.shape.length;
  if ((r !== 2 && r !== 3) || x.shape[0] % directions !== 0 || x.shape[0] < directions) {
    throw new RangeError(`${fn}: h must be [numLayers·${directions}, B, H] or unbatched [numLayers·${directions}, H], got shape ${shapeStr(x.shape)}`);
  }
  const LD = x.shape[0], B = r === 2 ? 1 : x.shape[1], H = x.shape[r - 1], D = directions;
  const data = new Float32Array(B * D * H);
  for (let d = 0; d < D; d++) {
    const k = LD - D + d;
    for (let b = 0; b < B; b++) data.set(x.data.subarray((k * B + b) * H, (k * B + b + 1) * H), (b * D + d) * H);
  }
  return opResult(fn, [x], data, r === 2 ? [D * H] : [B, D * H], (g) => {
    const out = new Float32Array(x.size);
    for (let d = 0; d < D; d++) {
      const k = LD - D + d;
      for (let b = 0; b < B; b++) out.set(g.subarray((b * D + d) * H, (b * D + d + 1) * H), (k * B + b) * H);
    }
    return [out];
  });
}

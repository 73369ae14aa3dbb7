/** Ops that move values without arithmetic: cat, stack, slice, select, reshape (PyTorch's semantics). */
import { shapeStr, typeName, type Tensor } from '../tensor.js';
import { dimArg, opResult, product, sameShapes, tensorArg } from './op.js';

function tensorList(fn: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${fn}: tensors must be a non-empty array of tensors, got ${typeName(tensors)}`);
  }
  return tensors.map((t, i) => tensorArg(fn, `tensors[${i}]`, t));
}

/** Concatenates along an existing dimension (torch.cat). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const fn = 'cat';
  const ts = tensorList(fn, tensors);
  const d = dimArg(fn, dim, ts[0].shape.length);
  sameShapes(fn, ts, d);
  const s0 = ts[0].shape, outer = product(s0, 0, d), inner = product(s0, d + 1);
  const widths = ts.map((t) => t.shape[d] * inner);
  const total = widths.reduce((a, b) => a + b, 0);
  const data = new Float32Array(outer * total);
  for (let o = 0; o < outer; o++) {
    let at = o * total;
    ts.forEach((t, k) => {
      data.set(t.data.subarray(o * widths[k], (o + 1) * widths[k]), at);
      at += widths[k];
    });
  }
  const shape = [...s0];
  shape[d] = ts.reduce((a, t) => a + t.shape[d], 0);
  return opResult(fn, ts, data, shape, (g, needs) =>
    ts.map((_t, k) => {
      if (!needs[k]) return null;
      const w = widths[k], off = widths.slice(0, k).reduce((a, b) => a + b, 0), out = new Float32Array(outer * w);
      for (let o = 0; o < outer; o++) out.set(g.subarray(o * total + off, o * total + off + w), o * w);
      return out;
    }),
  );
}

/** Stacks equally shaped tensors along a new dimension (torch.stack). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const fn = 'stack';
  const ts = tensorList(fn, tensors);
  const d = dimArg(fn, dim, ts[0].shape.length, 1);
  sameShapes(fn, ts, null);
  const s0 = ts[0].shape, outer = product(s0, 0, d), inner = product(s0, d), K = ts.length;
  const data = new Float32Array(outer * K * inner);
  for (let o = 0; o < outer; o++) ts.forEach((t, k) => data.set(t.data.subarray(o * inner, (o + 1) * inner), (o * K + k) * inner));
  const shape = [...s0.slice(0, d), K, ...s0.slice(d)];
  return opResult(fn, ts, data, shape, (g, needs) =>
    ts.map((_t, k) => {
      if (!needs[k]) return null;
      const out = new Float32Array(outer * inner);
      for (let o = 0; o < outer; o++) out.set(g.subarray((o * K + k) * inner, (o * K + k + 1) * inner), o * inner);
      return out;
    }),
  );
}

/** t[..., start:end, ...] along `dim` (negative indices count from the end; bounds are clamped, as in Python). */
export function slice(t: Tensor, dim: number, start: number, end?: number): Tensor {
  const fn = 'slice';
  const x = tensorArg(fn, 't', t);
  const d = dimArg(fn, dim, x.shape.length);
  const n = x.shape[d];
  const idx = (v: unknown, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${fn}: ${name} must be an integer, got ${String(v)}`);
    return Math.min(n, Math.max(0, v < 0 ? v + n : v));
  };
  const a = idx(start, 'start', 0), b = Math.max(a, idx(end, 'end', n));
  const outer = product(x.shape, 0, d), inner = product(x.shape, d + 1), len = b - a;
  const data = new Float32Array(outer * len * inner);
  for (let o = 0; o < outer; o++) data.set(x.data.subarray((o * n + a) * inner, (o * n + b) * inner), o * len * inner);
  const shape = [...x.shape];
  shape[d] = len;
  return opResult(fn, [x], data, shape, (g) => {
    const out = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) out.set(g.subarray(o * len * inner, (o + 1) * len * inner), (o * n + a) * inner);
    return [out];
  });
}

/** t[..., index, ...] along `dim`, removing that dimension (torch.select). */
export function select(t: Tensor, dim: number, index: number): Tensor {
  const fn = 'select';
  const x = tensorArg(fn, 't', t);
  const d = dimArg(fn, dim, x.shape.length);
  const n = x.shape[d];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < -n || index >= n) {
    throw new RangeError(`${fn}: index must be an integer in [${-n}, ${n - 1}] for dim ${d} of shape ${shapeStr(x.shape)}, got ${String(index)}`);
  }
  const i = index < 0 ? index + n : index;
  const sliced = slice(x, d, i, i + 1);
  return reshape(sliced, [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]);
}

/** The same values in another shape (one dimension may be −1: inferred). Shares the data, like a view. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  const fn = 'reshape';
  const x = tensorArg(fn, 't', t);
  if (!Array.isArray(shape) || !shape.every((v) => Number.isInteger(v) && v >= -1) || shape.filter((v) => v === -1).length > 1) {
    throw new TypeError(`${fn}: shape must be an array of non-negative integers with at most one −1, got ${JSON.stringify(shape)}`);
  }
  const known = shape.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
  const out = shape.map((v) => (v === -1 ? (known === 0 ? 0 : x.size / known) : v));
  if (product(out) !== x.size || !out.every(Number.isInteger)) {
    throw new RangeError(`${fn}: cannot view shape ${shapeStr(x.shape)} (${x.size} values) as ${shapeStr(shape)}`);
  }
  return opResult(fn, [x], x.data, out, (g) => [g]);
}

/**
 * Elementwise ops with gradients: add and mul with NumPy/PyTorch broadcasting, the activations
 * relu, tanh and sigmoid, and dropout. Float64 arithmetic rounded once to float32 (the values
 * PyTorch's float32 gets to within its rounding).
 */
import { Random } from '../random.js';
import { Tensor, shapeStr } from '../tensor.js';
import type { Grad } from './graph.js';
import { opResult, product, tensorArg } from './op.js';

/** A tensor or a number (a scalar that broadcasts). */
export type Operand = Tensor | number;

function operand(fn: string, arg: string, v: unknown): Tensor {
  if (typeof v === 'number') return new Tensor(Float32Array.of(v), []);
  return tensorArg(fn, arg, v);
}

/** The broadcast shape of a and b, and for each output element the flat index into each. */
function broadcast(fn: string, a: Tensor, b: Tensor): { shape: number[]; ia: Int32Array | null; ib: Int32Array | null } {
  const sa = a.shape, sb = b.shape;
  if (sa.length === sb.length && sa.every((d, i) => d === sb[i])) return { shape: [...sa], ia: null, ib: null };
  const r = Math.max(sa.length, sb.length);
  const shape: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = sa[sa.length - r + i] ?? 1, db = sb[sb.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${fn}: shapes ${shapeStr(sa)} and ${shapeStr(sb)} do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    shape.push(Math.max(da, db));
  }
  const n = product(shape);
  const strides = (s: readonly number[]): number[] => {
    const st = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      st[r - s.length + i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const st = [strides(sa), strides(sb)];
  const idx = [new Int32Array(n), new Int32Array(n)];
  const pos = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    for (let w = 0; w < 2; w++) {
      let o = 0;
      for (let i = 0; i < r; i++) o += pos[i] * st[w][i];
      idx[w][k] = o;
    }
    for (let i = r - 1; i >= 0; i--) {
      if (++pos[i] < shape[i]) break;
      pos[i] = 0;
    }
  }
  return { shape, ia: idx[0], ib: idx[1] };
}

/** Sums g into an input of `size` values through the broadcast map (identity when null). */
function reduceTo(g: Float32Array, map: Int32Array | null, size: number): Float32Array {
  if (!map) return g;
  const acc = new Float64Array(size);
  for (let k = 0; k < g.length; k++) acc[map[k]] += g[k];
  return Float32Array.from(acc);
}

function binary(
  fn: string, a: Operand, b: Operand, f: (x: number, y: number) => number,
  grads: (g: Float32Array, x: Tensor, y: Tensor, ia: Int32Array | null, ib: Int32Array | null, needs: readonly boolean[]) => Grad[],
): Tensor {
  const x = operand(fn, 'a', a), y = operand(fn, 'b', b);
  const { shape, ia, ib } = broadcast(fn, x, y);
  const n = product(shape), data = new Float32Array(n), xd = x.data, yd = y.data;
  if (!ia || !ib) for (let k = 0; k < n; k++) data[k] = f(xd[k], yd[k]);
  else for (let k = 0; k < n; k++) data[k] = f(xd[ia[k]], yd[ib[k]]);
  return opResult(fn, [x, y], data, shape, (g, needs) => grads(g, x, y, ia, ib, needs));
}

/** a + b, broadcasting (torch.add). */
export function add(a: Operand, b: Operand): Tensor {
  return binary('add', a, b, (x, y) => x + y, (g, x, y, ia, ib, needs) => [
    needs[0] ? reduceTo(g, ia, x.size) : null,
    needs[1] ? reduceTo(g, ib, y.size) : null,
  ]);
}

/** a ⊙ b, broadcasting (torch.mul). */
export function mul(a: Operand, b: Operand): Tensor {
  return binary('mul', a, b, (x, y) => x * y, (g, x, y, ia, ib, needs) => {
    const n = g.length;
    const part = (other: Tensor, map: Int32Array | null): Float32Array => {
      const out = new Float32Array(n), od = other.data;
      for (let k = 0; k < n; k++) out[k] = g[k] * od[map ? map[k] : k];
      return out;
    };
    return [needs[0] ? reduceTo(part(y, ib), ia, x.size) : null, needs[1] ? reduceTo(part(x, ia), ib, y.size) : null];
  });
}

function unary(fn: string, t: Tensor, f: (x: number) => number, dfdy: (y: number, x: number) => number): Tensor {
  const x = tensorArg(fn, 't', t);
  const n = x.size, data = new Float32Array(n), xd = x.data;
  for (let i = 0; i < n; i++) data[i] = f(xd[i]);
  return opResult(fn, [x], data, x.shape, (g) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = g[i] * dfdy(data[i], xd[i]);
    return [out];
  });
}

export function relu(t: Tensor): Tensor {
  return unary('relu', t, (x) => (x > 0 ? x : 0), (_y, x) => (x > 0 ? 1 : 0));
}

export function tanh(t: Tensor): Tensor {
  return unary('tanh', t, Math.tanh, (y) => 1 - y * y);
}

export function sigmoid(t: Tensor): Tensor {
  return unary('sigmoid', t, (x) => 1 / (1 + Math.exp(-x)), (y) => y * (1 - y));
}

/** The sum of every value, as a one-value tensor of shape []. */
export function sum(t: Tensor): Tensor {
  const x = tensorArg('sum', 't', t);
  let s = 0;
  for (let i = 0; i < x.size; i++) s += x.data[i];
  return opResult('sum', [x], Float32Array.of(s), [], (g) => [new Float32Array(x.size).fill(g[0])]);
}

/** The mean of every value, as a one-value tensor of shape []. */
export function mean(t: Tensor): Tensor {
  const x = tensorArg('mean', 't', t);
  let s = 0;
  for (let i = 0; i < x.size; i++) s += x.data[i];
  const n = x.size;
  return opResult('mean', [x], Float32Array.of(s / n), [], (g) => [new Float32Array(n).fill(g[0] / n)]);
}

let dropoutRng = new Random(0x2545f491);

/** Restarts the functional dropout's masks from a seed (layers have their own: setDropoutSeed). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new TypeError(`manualSeed: seed must be an integer, got ${String(seed)}`);
  dropoutRng = new Random(seed);
}

export interface DropoutOptions {
  /** Apply it (default true, like torch.nn.functional.dropout); false returns t unchanged. */
  training?: boolean;
  /** A generator of its own (default: the one manualSeed() seeds). */
  rng?: Random;
}

/** Zeroes each value with probability p and scales the rest by 1/(1 − p) (inverted dropout). */
export function dropout(t: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const fn = 'dropout';
  const x = tensorArg(fn, 't', t);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new RangeError(`${fn}: p must be a number in [0, 1), got ${String(p)}`);
  if (options.training === false || p === 0) return x;
  const rng = options.rng ?? dropoutRng;
  const n = x.size, keep = 1 - p, inv = 1 / keep, mask = new Float32Array(n), data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    mask[i] = rng.next() < keep ? inv : 0;
    data[i] = x.data[i] * mask[i];
  }
  return opResult(fn, [x], data, x.shape, (g) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = g[i] * mask[i];
    return [out];
  });
}

/** softmax and logSoftmax along a dimension, numerically stable (the maximum is subtracted first). */
import type { Tensor } from '../tensor.js';
import { dimArg, opResult, product, tensorArg } from './op.js';

function along(fn: string, t: Tensor, dim: number, log: boolean): Tensor {
  const x = tensorArg(fn, 't', t);
  const d = dimArg(fn, dim, Math.max(1, x.shape.length));
  const shape = x.shape.length === 0 ? [1] : x.shape;
  const outer = product(shape, 0, d), n = shape[d], inner = product(shape, d + 1);
  const xd = x.data, y = new Float32Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, xd[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(xd[base + k * inner] - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < n; k++) {
        const v = xd[base + k * inner];
        y[base + k * inner] = log ? v - lse : Math.exp(v - lse);
      }
    }
  }
  return opResult(fn, [x], y, x.shape, (g) => {
    const out = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let s = 0;
        // softmax: dx = y ⊙ (g − Σ g·y);  logSoftmax: dx = g − softmax ⊙ Σ g.
        for (let k = 0; k < n; k++) s += log ? g[base + k * inner] : g[base + k * inner] * y[base + k * inner];
        for (let k = 0; k < n; k++) {
          const at = base + k * inner;
          out[at] = log ? g[at] - Math.exp(y[at]) * s : y[at] * (g[at] - s);
        }
      }
    }
    return [out];
  });
}

/** exp(x) / Σ exp(x) along `dim` (torch.softmax). */
export function softmax(t: Tensor, dim: number): Tensor {
  return along('softmax', t, dim, false);
}

/** x − log Σ exp(x) along `dim` (torch.log_softmax). */
export function logSoftmax(t: Tensor, dim: number): Tensor {
  return along('logSoftmax', t, dim, true);
}

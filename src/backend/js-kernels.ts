/**
 * The pure-TypeScript kernels: the test oracle and the "JS" side of the Wasm-vs-JS benchmark.
 * Written as a careful engineer would (typed arrays, no allocation, contiguous walks, dot
 * products unrolled for ILP) — never deliberately slow. Arithmetic is float64 (JS numbers),
 * rounded to float32 when stored.
 */
import type { Arena } from './arena.js';
import type { Kernels } from './kernels.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function createJsKernels(arena: Arena): Kernels {
  /** y[0..n) = A-row · Wᵀ (+ bias): dot products of contiguous rows of W (unpacked). */
  function gemm(c: number, a: number, w: number, bias: number, m: number, n: number, k: number): void {
    const f = arena.f32;
    const c0 = c >> 2, a0 = a >> 2, w0 = w >> 2, b0 = bias >> 2;
    const k4 = k & ~3;
    for (let i = 0; i < m; i++) {
      const ai = a0 + i * k;
      const ci = c0 + i * n;
      for (let j = 0; j < n; j++) {
        const wj = w0 + j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let p = 0;
        for (; p < k4; p += 4) {
          s0 += f[ai + p] * f[wj + p];
          s1 += f[ai + p + 1] * f[wj + p + 1];
          s2 += f[ai + p + 2] * f[wj + p + 2];
          s3 += f[ai + p + 3] * f[wj + p + 3];
        }
        for (; p < k; p++) s0 += f[ai + p] * f[wj + p];
        f[ci + j] = (s0 + s1) + (s2 + s3) + (bias !== 0 ? f[b0 + j] : 0);
      }
    }
  }

  return {
    packedSize: (n, k) => n * k,
    packWeights(dst, w, n, k) {
      const f = arena.f32;
      f.copyWithin(dst >> 2, w >> 2, (w >> 2) + n * k);
    },
    gemm,
    rnnStep(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t) {
      gemm(scratch, hPrev, whh, bhh, B, H, H);
      const f = arena.f32;
      const len = arena.i32;
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >> 2) + b * H, ho = (hOut >> 2) + b * H;
        const o = (out >> 2) + b * ldOut;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          if (ho !== hp) f.copyWithin(ho, hp, hp + H);
          if (out !== 0) f.fill(0, o, o + H);
          continue;
        }
        const g = (gx >> 2) + b * H, s = (scratch >> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const x = f[g + j] + f[s + j];
          const h = relu ? (x > 0 ? x : 0) : Math.tanh(x);
          f[ho + j] = h;
          if (out !== 0) f[o + j] = h;
        }
      }
    },
    lstmStep(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t) {
      const G = 4 * H;
      gemm(scratch, hPrev, whh, bhh, B, G, H);
      const f = arena.f32;
      const len = arena.i32;
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >> 2) + b * H, ho = (hOut >> 2) + b * H;
        const cp = (cPrev >> 2) + b * H, co = (cOut >> 2) + b * H;
        const o = (out >> 2) + b * ldOut;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          if (ho !== hp) f.copyWithin(ho, hp, hp + H);
          if (co !== cp) f.copyWithin(co, cp, cp + H);
          if (out !== 0) f.fill(0, o, o + H);
          continue;
        }
        const g = (gx >> 2) + b * G, s = (scratch >> 2) + b * G;
        for (let j = 0; j < H; j++) {
          const ig = sigmoid(f[g + j] + f[s + j]);
          const fg = sigmoid(f[g + H + j] + f[s + H + j]);
          const gg = Math.tanh(f[g + 2 * H + j] + f[s + 2 * H + j]);
          const og = sigmoid(f[g + 3 * H + j] + f[s + 3 * H + j]);
          const c = fg * f[cp + j] + ig * gg;
          const h = og * Math.tanh(c);
          f[co + j] = c;
          f[ho + j] = h;
          if (out !== 0) f[o + j] = h;
        }
      }
    },
    gruStep(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t) {
      const G = 3 * H;
      gemm(scratch, hPrev, whh, bhh, B, G, H);
      const f = arena.f32;
      const len = arena.i32;
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >> 2) + b * H, ho = (hOut >> 2) + b * H;
        const o = (out >> 2) + b * ldOut;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          if (ho !== hp) f.copyWithin(ho, hp, hp + H);
          if (out !== 0) f.fill(0, o, o + H);
          continue;
        }
        const g = (gx >> 2) + b * G, s = (scratch >> 2) + b * G;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(f[g + j] + f[s + j]);
          const z = sigmoid(f[g + H + j] + f[s + H + j]);
          const nn = Math.tanh(f[g + 2 * H + j] + r * f[s + 2 * H + j]);
          const h = (1 - z) * nn + z * f[hp + j];
          f[ho + j] = h;
          if (out !== 0) f[o + j] = h;
        }
      }
    },
    embedding(out, table, ids, n, dim) {
      const f = arena.f32;
      const id = arena.i32;
      for (let i = 0; i < n; i++) {
        const src = (table >> 2) + id[(ids >> 2) + i] * dim;
        f.copyWithin((out >> 2) + i * dim, src, src + dim);
      }
    },
    addBias(x, bias, m, n) {
      const f = arena.f32;
      const b0 = bias >> 2;
      for (let i = 0; i < m; i++) {
        const r = (x >> 2) + i * n;
        for (let j = 0; j < n; j++) f[r + j] += f[b0 + j];
      }
    },
    tanh(dst, src, n) {
      const f = arena.f32;
      for (let i = 0; i < n; i++) f[(dst >> 2) + i] = Math.tanh(f[(src >> 2) + i]);
    },
    sigmoid(dst, src, n) {
      const f = arena.f32;
      for (let i = 0; i < n; i++) f[(dst >> 2) + i] = sigmoid(f[(src >> 2) + i]);
    },
  };
}

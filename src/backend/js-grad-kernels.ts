/**
 * JS twins of the training kernels (gemmEx, packRows, colSum, *StepTrain, *StepBackward): the
 * test oracle for the Wasm versions. Float64 arithmetic (JS numbers), rounded to float32 when
 * stored; typed arrays, no allocation per call. The JS backend keeps weights unpacked
 * (packedSize(n, k) = n·k), so a "packed" W is the plain row-major W[n, k] and packRows is a
 * transpose.
 *
 * gemmEx sums in exactly the order of the inference gemm in js-kernels.ts (four-row blocks with
 * even/odd split partial sums, leftover rows two columns at a time), so with a row-major A and
 * accumulate = 0 it reproduces gemm's bits, and the *StepTrain kernels reproduce the inference
 * steps' h, c and out bit for bit.
 */
import type { Arena } from './arena.js';
import type { Kernels } from './kernels.js';

export type GradKernels = Pick<
  Kernels,
  'gemmEx' | 'packRows' | 'colSum' | 'lstmStepTrain' | 'gruStepTrain' | 'rnnStepTrain' |
  'lstmStepBackward' | 'gruStepBackward' | 'rnnStepBackward'
>;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function createJsGradKernels(arena: Arena): GradKernels {
  /** float64 column sums for colSum; grown on demand (never per call once large enough). */
  let colAcc = new Float64Array(64);

  function gemmEx(
    c: number, a: number, w: number, bias: number, m: number, n: number, k: number,
    sAi: number, sAk: number, accumulate: number,
  ): void {
    const f = arena.f32;
    const c0 = c >> 2, a0 = a >> 2, w0 = w >> 2, b0 = bias >> 2;
    const acc = accumulate !== 0;
    const k2 = k & ~1;
    const sAk2 = 2 * sAk;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const r0 = a0 + i * sAi, r1 = r0 + sAi, r2 = r1 + sAi, r3 = r2 + sAi;
      const ci = c0 + i * n;
      for (let j = 0; j < n; j++) {
        const wj = w0 + j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
        let p = 0, q = 0;
        for (; p < k2; p += 2, q += sAk2) {
          const x = f[wj + p], y = f[wj + p + 1];
          const q1 = q + sAk;
          s0 += f[r0 + q] * x; s1 += f[r1 + q] * x; s2 += f[r2 + q] * x; s3 += f[r3 + q] * x;
          u0 += f[r0 + q1] * y; u1 += f[r1 + q1] * y; u2 += f[r2 + q1] * y; u3 += f[r3 + q1] * y;
        }
        if (p < k) {
          const x = f[wj + p];
          s0 += f[r0 + q] * x; s1 += f[r1 + q] * x; s2 += f[r2 + q] * x; s3 += f[r3 + q] * x;
        }
        const b = bias !== 0 ? f[b0 + j] : 0;
        const v0 = s0 + u0 + b, v1 = s1 + u1 + b, v2 = s2 + u2 + b, v3 = s3 + u3 + b;
        if (acc) {
          f[ci + j] += v0;
          f[ci + n + j] += v1;
          f[ci + 2 * n + j] += v2;
          f[ci + 3 * n + j] += v3;
        } else {
          f[ci + j] = v0;
          f[ci + n + j] = v1;
          f[ci + 2 * n + j] = v2;
          f[ci + 3 * n + j] = v3;
        }
      }
    }
    for (; i < m; i++) {
      const ai = a0 + i * sAi;
      const ci = c0 + i * n;
      let j = 0;
      for (; j + 2 <= n; j += 2) {
        const wj = w0 + j * k, wk = wj + k;
        let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
        let p = 0, q = 0;
        for (; p < k2; p += 2, q += sAk2) {
          const x0 = f[ai + q], x1 = f[ai + q + sAk];
          s0 += x0 * f[wj + p]; s1 += x1 * f[wj + p + 1];
          t0 += x0 * f[wk + p]; t1 += x1 * f[wk + p + 1];
        }
        if (p < k) {
          s0 += f[ai + q] * f[wj + p];
          t0 += f[ai + q] * f[wk + p];
        }
        const v0 = s0 + s1 + (bias !== 0 ? f[b0 + j] : 0);
        const v1 = t0 + t1 + (bias !== 0 ? f[b0 + j + 1] : 0);
        if (acc) {
          f[ci + j] += v0;
          f[ci + j + 1] += v1;
        } else {
          f[ci + j] = v0;
          f[ci + j + 1] = v1;
        }
      }
      if (j < n) {
        const wj = w0 + j * k;
        let s0 = 0;
        for (let p = 0, q = 0; p < k; p++, q += sAk) s0 += f[ai + q] * f[wj + p];
        const v = s0 + (bias !== 0 ? f[b0 + j] : 0);
        if (acc) f[ci + j] += v;
        else f[ci + j] = v;
      }
    }
  }

  /** The recurrent product s = hPrev·W_hhᵀ + b_hh, summed like js-kernels' gemm. */
  const recurrent = (s: number, hPrev: number, whh: number, bhh: number, B: number, G: number, H: number) =>
    gemmEx(s, hPrev, whh, bhh, B, G, H, H, 1, 0);

  return {
    gemmEx,

    packRows(dst, b, k, n) {
      // W = Bᵀ: W[j, kk] = B[kk, j]; blocked so both sides stay in cache.
      const f = arena.f32;
      const d0 = dst >> 2, s0 = b >> 2;
      const BLK = 32;
      for (let kb = 0; kb < k; kb += BLK) {
        const ke = Math.min(k, kb + BLK);
        for (let jb = 0; jb < n; jb += BLK) {
          const je = Math.min(n, jb + BLK);
          for (let kk = kb; kk < ke; kk++) {
            const src = s0 + kk * n;
            for (let j = jb; j < je; j++) f[d0 + j * k + kk] = f[src + j];
          }
        }
      }
    },

    colSum(dst, a, m, n, accumulate) {
      const f = arena.f32;
      if (colAcc.length < n) colAcc = new Float64Array(Math.max(n, 2 * colAcc.length));
      const s = colAcc;
      const d0 = dst >> 2;
      if (accumulate !== 0) for (let j = 0; j < n; j++) s[j] = f[d0 + j];
      else s.fill(0, 0, n);
      for (let i = 0, r = a >> 2; i < m; i++, r += n) {
        for (let j = 0; j < n; j++) s[j] += f[r + j];
      }
      for (let j = 0; j < n; j++) f[d0 + j] = s[j];
    },

    rnnStepTrain(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t, tape) {
      recurrent(scratch, hPrev, whh, bhh, B, H, H);
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
        const g = (gx >> 2) + b * H, s = (scratch >> 2) + b * H, tp = (tape >> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const x = f[g + j] + f[s + j];
          const h = relu ? (x > 0 ? x : 0) : Math.tanh(x);
          f[ho + j] = h;
          if (out !== 0) f[o + j] = h;
          f[tp + j] = h;
        }
      }
    },

    lstmStepTrain(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, tape) {
      const G = 4 * H;
      recurrent(scratch, hPrev, whh, bhh, B, G, H);
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
        const g = (gx >> 2) + b * G, s = (scratch >> 2) + b * G, tp = (tape >> 2) + b * 5 * H;
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
          f[tp + j] = ig;
          f[tp + H + j] = fg;
          f[tp + 2 * H + j] = gg;
          f[tp + 3 * H + j] = og;
          f[tp + 4 * H + j] = c;
        }
      }
    },

    gruStepTrain(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, tape) {
      const G = 3 * H;
      recurrent(scratch, hPrev, whh, bhh, B, G, H);
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
        const g = (gx >> 2) + b * G, s = (scratch >> 2) + b * G, tp = (tape >> 2) + b * 4 * H;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(f[g + j] + f[s + j]);
          const z = sigmoid(f[g + H + j] + f[s + H + j]);
          const sn = f[s + 2 * H + j];
          const nn = Math.tanh(f[g + 2 * H + j] + r * sn);
          const h = (1 - z) * nn + z * f[hp + j];
          f[ho + j] = h;
          if (out !== 0) f[o + j] = h;
          f[tp + j] = r;
          f[tp + H + j] = z;
          f[tp + 2 * H + j] = nn;
          f[tp + 3 * H + j] = sn;
        }
      }
    },

    lstmStepBackward(dG, dh, dc, tape, cPrev, ldcPrev, B, H, lengths, t) {
      const f = arena.f32;
      const len = arena.i32;
      const G = 4 * H;
      for (let b = 0; b < B; b++) {
        const dg = (dG >> 2) + b * G;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          f.fill(0, dg, dg + G);
          continue;
        }
        const d = (dh >> 2) + b * H, e = (dc >> 2) + b * H, tp = (tape >> 2) + b * 5 * H;
        const cp = (cPrev >> 2) + b * ldcPrev;
        for (let j = 0; j < H; j++) {
          const i = f[tp + j], fg = f[tp + H + j], g = f[tp + 2 * H + j];
          const o = f[tp + 3 * H + j], tc = Math.tanh(f[tp + 4 * H + j]);
          const dhv = f[d + j];
          const dcv = f[e + j] + dhv * o * (1 - tc * tc);
          const cpv = cPrev !== 0 ? f[cp + j] : 0;
          f[dg + j] = dcv * g * i * (1 - i);
          f[dg + H + j] = dcv * cpv * fg * (1 - fg);
          f[dg + 2 * H + j] = dcv * i * (1 - g * g);
          f[dg + 3 * H + j] = dhv * tc * o * (1 - o);
          f[e + j] = dcv * fg;
          f[d + j] = 0;
        }
      }
    },

    gruStepBackward(dGx, dS, dh, tape, hPrev, B, H, lengths, t) {
      const f = arena.f32;
      const len = arena.i32;
      const G = 3 * H;
      for (let b = 0; b < B; b++) {
        const gx = (dGx >> 2) + b * G, ds = (dS >> 2) + b * G;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          f.fill(0, gx, gx + G);
          f.fill(0, ds, ds + G);
          continue;
        }
        const d = (dh >> 2) + b * H, tp = (tape >> 2) + b * 4 * H, hp = (hPrev >> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const r = f[tp + j], z = f[tp + H + j], n = f[tp + 2 * H + j], sn = f[tp + 3 * H + j];
          const dhv = f[d + j];
          const hpv = hPrev !== 0 ? f[hp + j] : 0;
          const dan = dhv * (1 - z) * (1 - n * n);
          const dar = dan * sn * r * (1 - r);
          const daz = dhv * (hpv - n) * z * (1 - z);
          f[gx + j] = dar;
          f[gx + H + j] = daz;
          f[gx + 2 * H + j] = dan;
          f[ds + j] = dar;
          f[ds + H + j] = daz;
          f[ds + 2 * H + j] = dan * r;
          f[d + j] = dhv * z;
        }
      }
    },

    rnnStepBackward(dG, dh, tape, B, H, relu, lengths, t) {
      const f = arena.f32;
      const len = arena.i32;
      for (let b = 0; b < B; b++) {
        const dg = (dG >> 2) + b * H;
        if (lengths !== 0 && t >= len[(lengths >> 2) + b]) {
          f.fill(0, dg, dg + H);
          continue;
        }
        const d = (dh >> 2) + b * H, tp = (tape >> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const h = f[tp + j], dhv = f[d + j];
          f[dg + j] = relu ? (h > 0 ? dhv : 0) : dhv * (1 - h * h);
          f[d + j] = 0;
        }
      }
    },
  };
}

/**
 * JS twins of assembly/gemm.ts. The JS backend keeps weights unpacked (packedSize(n, k) = n·k):
 * a "packed" W is the plain row-major W[n, k], and packRows is a transpose. Arithmetic is
 * float64 (JS numbers), rounded to float32 when stored.
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';

export type GemmKernels = Pick<Kernels, 'packedSize' | 'packWeights' | 'gemm' | 'gemmEx' | 'packRows'>;

export function createGemmKernels(arena: Arena): GemmKernels {
  /**
   * C (+)= A·Wᵀ (+ bias) with W unpacked ([n, k] rows are contiguous) and A strided (element
   * (i, kk) at a + 4·(i·sAi + kk·sAk)). Register-blocked for JS: four rows of A share each load of
   * a W row; leftover rows take two W rows per pass so the loads of A are shared.
   */
  function gemmEx(
    c: number, a: number, w: number, bias: number, m: number, n: number, k: number,
    sAi: number, sAk: number, accumulate: number,
  ): void {
    const f = arena.f32;
    const c0 = c >>> 2, a0 = a >>> 2, w0 = w >>> 2, b0 = bias >>> 2;
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

  /**
   * C = A·Wᵀ (+ bias) with W unpacked ([n, k] rows are contiguous). Register-blocked for JS:
   * four rows of A share each load of a W row; leftover rows take two W rows per pass so the
   * loads of A are shared. (Measured ≈ 1.3–1.4× faster than a plain 4-accumulator dot.) Kept
   * apart from gemmEx, which sums in the same order: its strided A costs 15–35% in JS.
   */
  function gemm(c: number, a: number, w: number, bias: number, m: number, n: number, k: number): void {
    const f = arena.f32;
    const c0 = c >>> 2, a0 = a >>> 2, w0 = w >>> 2, b0 = bias >>> 2;
    const k2 = k & ~1;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const r0 = a0 + i * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      const ci = c0 + i * n;
      for (let j = 0; j < n; j++) {
        const wj = w0 + j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
        let p = 0;
        for (; p < k2; p += 2) {
          const x = f[wj + p], y = f[wj + p + 1];
          s0 += f[r0 + p] * x; s1 += f[r1 + p] * x; s2 += f[r2 + p] * x; s3 += f[r3 + p] * x;
          u0 += f[r0 + p + 1] * y; u1 += f[r1 + p + 1] * y; u2 += f[r2 + p + 1] * y; u3 += f[r3 + p + 1] * y;
        }
        if (p < k) {
          const x = f[wj + p];
          s0 += f[r0 + p] * x; s1 += f[r1 + p] * x; s2 += f[r2 + p] * x; s3 += f[r3 + p] * x;
        }
        const b = bias !== 0 ? f[b0 + j] : 0;
        f[ci + j] = s0 + u0 + b;
        f[ci + n + j] = s1 + u1 + b;
        f[ci + 2 * n + j] = s2 + u2 + b;
        f[ci + 3 * n + j] = s3 + u3 + b;
      }
    }
    for (; i < m; i++) {
      const ai = a0 + i * k;
      const ci = c0 + i * n;
      let j = 0;
      for (; j + 2 <= n; j += 2) {
        const wj = w0 + j * k, wk = wj + k;
        let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
        let p = 0;
        for (; p < k2; p += 2) {
          const x0 = f[ai + p], x1 = f[ai + p + 1];
          s0 += x0 * f[wj + p]; s1 += x1 * f[wj + p + 1];
          t0 += x0 * f[wk + p]; t1 += x1 * f[wk + p + 1];
        }
        if (p < k) {
          s0 += f[ai + p] * f[wj + p];
          t0 += f[ai + p] * f[wk + p];
        }
        f[ci + j] = s0 + s1 + (bias !== 0 ? f[b0 + j] : 0);
        f[ci + j + 1] = t0 + t1 + (bias !== 0 ? f[b0 + j + 1] : 0);
      }
      if (j < n) {
        const wj = w0 + j * k;
        let s0 = 0;
        for (let p = 0; p < k; p++) s0 += f[ai + p] * f[wj + p];
        f[ci + j] = s0 + (bias !== 0 ? f[b0 + j] : 0);
      }
    }
  }

  return {
    packedSize: (n, k) => n * k,
    packWeights(dst, w, n, k) {
      const f = arena.f32;
      f.copyWithin(dst >>> 2, w >>> 2, (w >>> 2) + n * k);
    },
    gemm,
    gemmEx,
    packRows(dst, b, k, n) {
      // W = Bᵀ: W[j, kk] = B[kk, j]; blocked so both sides stay in cache.
      const f = arena.f32;
      const d0 = dst >>> 2, s0 = b >>> 2;
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

  };
}

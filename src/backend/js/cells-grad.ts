/**
 * JS twins of assembly/cells-grad.ts (colSum and the *StepBackward kernels): the test oracle
 * for the Wasm versions. Float64 arithmetic (JS numbers), rounded to float32 when stored;
 * typed arrays, no allocation per call.
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';
import { sigmoid } from './activations.js';

export type GradKernels = Pick<Kernels, 'colSum' | 'lstmStepBackward' | 'gruStepBackward' | 'rnnStepBackward'>;

export function createGradKernels(arena: Arena): GradKernels {
  /** float64 column sums for colSum; grown on demand (never per call once large enough). */
  let colAcc = new Float64Array(64);

  return {
    colSum(dst, a, m, n, accumulate) {
      const f = arena.f32;
      if (colAcc.length < n) colAcc = new Float64Array(Math.max(n, 2 * colAcc.length));
      const s = colAcc;
      const d0 = dst >>> 2;
      if (accumulate !== 0) for (let j = 0; j < n; j++) s[j] = f[d0 + j];
      else s.fill(0, 0, n);
      for (let i = 0, r = a >>> 2; i < m; i++, r += n) {
        for (let j = 0; j < n; j++) s[j] += f[r + j];
      }
      for (let j = 0; j < n; j++) f[d0 + j] = s[j];
    },

    lstmStepBackward(dG, dh, dc, tape, cPrev, ldcPrev, B, H, lengths, t) {
      const f = arena.f32;
      const len = arena.i32;
      const G = 4 * H;
      for (let b = 0; b < B; b++) {
        const dg = (dG >>> 2) + b * G;
        if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
          f.fill(0, dg, dg + G);
          continue;
        }
        const d = (dh >>> 2) + b * H, e = (dc >>> 2) + b * H, tp = (tape >>> 2) + b * 5 * H;
        const cp = (cPrev >>> 2) + b * ldcPrev;
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
        const gx = (dGx >>> 2) + b * G, ds = (dS >>> 2) + b * G;
        if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
          f.fill(0, gx, gx + G);
          f.fill(0, ds, ds + G);
          continue;
        }
        const d = (dh >>> 2) + b * H, tp = (tape >>> 2) + b * 4 * H, hp = (hPrev >>> 2) + b * H;
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
        const dg = (dG >>> 2) + b * H;
        if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
          f.fill(0, dg, dg + H);
          continue;
        }
        const d = (dh >>> 2) + b * H, tp = (tape >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const h = f[tp + j], dhv = f[d + j];
          f[dg + j] = relu ? (h > 0 ? dhv : 0) : dhv * (1 - h * h);
          f[d + j] = 0;
        }
      }
    },
  };
}

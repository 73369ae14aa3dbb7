/**
 * JS twins of assembly/cells-ex-grad.ts (backward of the cell variants): float64 arithmetic,
 * rounded to float32 when stored, the activations' derivatives chosen once per call and taken
 * from their outputs on the tape.
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';
import { ACT_DERIVS } from './activations.js';
import { readParams } from './cells-ex.js';

export type CellExGradKernels = Pick<Kernels, 'rnnStepBackwardEx' | 'lstmStepBackwardEx' | 'gruStepBackwardEx'>;

export function createCellExGradKernels(arena: Arena, gemmEx: Kernels['gemmEx']): CellExGradKernels {
  const inactive = (lengths: number, b: number, t: number): boolean => lengths !== 0 && t >= arena.i32[(lengths >>> 2) + b];

  return {
    rnnStepBackwardEx(dG, dh, tape, B, H, lengths, t, params) {
      const d = ACT_DERIVS[readParams(arena, params).hiddenCode];
      const f = arena.f32;
      for (let b = 0; b < B; b++) {
        const dg = (dG >>> 2) + b * H;
        if (inactive(lengths, b, t)) {
          f.fill(0, dg, dg + H);
          continue;
        }
        const dr = (dh >>> 2) + b * H, tp = (tape >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          f[dg + j] = f[dr + j] * d(f[tp + j]);
          f[dr + j] = 0;
        }
      }
    },

    lstmStepBackwardEx(dG, dh, dc, tape, cPrev, ldcPrev, B, H, lengths, t, params) {
      const p = readParams(arena, params);
      const df = ACT_DERIVS[p.gateCode], dgc = ACT_DERIVS[p.cellCode], dhc = ACT_DERIVS[p.hiddenCode], ha = p.hidden;
      const coupled = p.inputForget, hasP = p.peep !== 0, hasD = hasP && p.dpeep !== 0;
      const P = p.peep >>> 2, DP = p.dpeep >>> 2;
      const f = arena.f32;
      const G = 4 * H;
      for (let b = 0; b < B; b++) {
        const dg = (dG >>> 2) + b * G;
        if (inactive(lengths, b, t)) {
          f.fill(0, dg, dg + G);
          continue;
        }
        const d = (dh >>> 2) + b * H, e = (dc >>> 2) + b * H, tp = (tape >>> 2) + b * 5 * H;
        const cp = (cPrev >>> 2) + b * ldcPrev;
        for (let j = 0; j < H; j++) {
          const i = f[tp + j], fg = f[tp + H + j], g = f[tp + 2 * H + j];
          const o = f[tp + 3 * H + j], c = f[tp + 4 * H + j];
          const y = ha(c);
          const dhv = f[d + j];
          const cpv = cPrev !== 0 ? f[cp + j] : 0;
          const dao = dhv * y * df(o);
          let dcv = f[e + j] + dhv * o * dhc(y);
          if (hasP) dcv += dao * f[P + 2 * H + j];
          const dai = dcv * (coupled ? g - cpv : g) * df(i);
          const daf = coupled ? 0 : dcv * cpv * df(fg);
          f[dg + j] = dai;
          f[dg + H + j] = daf;
          f[dg + 2 * H + j] = dcv * i * dgc(g);
          f[dg + 3 * H + j] = dao;
          f[e + j] = dcv * fg + (hasP ? dai * f[P + j] + daf * f[P + H + j] : 0);
          f[d + j] = 0;
          if (hasD) {
            f[DP + j] += dai * cpv;
            f[DP + H + j] += daf * cpv;
            f[DP + 2 * H + j] += dao * c;
          }
        }
      }
    },

    gruStepBackwardEx(dGx, dS, dh, tape, hPrev, whnT, drh, B, H, lengths, t, params) {
      const p = readParams(arena, params);
      const df = ACT_DERIVS[p.gateCode], dgc = ACT_DERIVS[p.cellCode];
      const before = p.resetBefore;
      const f = arena.f32;
      const G = 3 * H, W = before ? 3 * H : 4 * H;
      for (let b = 0; b < B; b++) {
        const gx = (dGx >>> 2) + b * G, ds = (dS >>> 2) + b * G;
        if (inactive(lengths, b, t)) {
          f.fill(0, gx, gx + G);
          if (!before) f.fill(0, ds, ds + G);
          continue;
        }
        const d = (dh >>> 2) + b * H, tp = (tape >>> 2) + b * W, hp = (hPrev >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const r = f[tp + j], z = f[tp + H + j], n = f[tp + 2 * H + j];
          const dhv = f[d + j];
          const hpv = hPrev !== 0 ? f[hp + j] : 0;
          const dan = dhv * (1 - z) * dgc(n);
          const daz = dhv * (hpv - n) * df(z);
          f[gx + H + j] = daz;
          f[gx + 2 * H + j] = dan;
          f[d + j] = dhv * z;
          if (before) continue;
          const sn = f[tp + 3 * H + j];
          const dar = dan * sn * df(r);
          f[gx + j] = dar;
          f[ds + j] = dar;
          f[ds + H + j] = daz;
          f[ds + 2 * H + j] = dan * r;
        }
      }
      if (!before) return;
      gemmEx(drh, dGx + 8 * H, whnT, 0, B, H, H, G, 1, 0);
      for (let b = 0; b < B; b++) {
        if (inactive(lengths, b, t)) continue;
        const gx = (dGx >>> 2) + b * G, d = (dh >>> 2) + b * H, tp = (tape >>> 2) + b * W;
        const hp = (hPrev >>> 2) + b * H, q = (drh >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const r = f[tp + j], dq = f[q + j];
          f[gx + j] = (hPrev !== 0 ? dq * f[hp + j] : 0) * df(r);
          f[d + j] += dq * r;
        }
      }
    },
  };
}

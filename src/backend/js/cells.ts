/**
 * JS twins of assembly/cells.ts: one implementation per cell — the inference steps are the
 * training steps without a tape. Float64 arithmetic, rounded to float32 when stored.
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';
import { sigmoid } from './activations.js';

export type CellKernels = Pick<
  Kernels,
  'rnnStep' | 'lstmStep' | 'gruStep' | 'rnnStepTrain' | 'lstmStepTrain' | 'gruStepTrain'
>;

export function createCellKernels(arena: Arena, gemm: Kernels['gemm']): CellKernels {
  const rnnStepTrain: Kernels['rnnStepTrain'] = (hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t, tape) => {
    gemm(scratch, hPrev, whh, bhh, B, H, H);
    const f = arena.f32;
    const len = arena.i32;
    for (let b = 0; b < B; b++) {
      const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
      const o = (out >>> 2) + b * ldOut;
      if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
        if (ho !== hp) f.copyWithin(ho, hp, hp + H);
        if (out !== 0) f.fill(0, o, o + H);
        continue;
      }
      const g = (gx >>> 2) + b * H, s = (scratch >>> 2) + b * H, tp = (tape >>> 2) + b * H;
      for (let j = 0; j < H; j++) {
        const x = f[g + j] + f[s + j];
        const h = relu ? (x > 0 ? x : 0) : Math.tanh(x);
        f[ho + j] = h;
        if (out !== 0) f[o + j] = h;
        if (tape !== 0) f[tp + j] = h;
      }
    }
  };

  const lstmStepTrain: Kernels['lstmStepTrain'] = (hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, tape) => {
    const G = 4 * H;
    gemm(scratch, hPrev, whh, bhh, B, G, H);
    const f = arena.f32;
    const len = arena.i32;
    for (let b = 0; b < B; b++) {
      const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
      const cp = (cPrev >>> 2) + b * H, co = (cOut >>> 2) + b * H;
      const o = (out >>> 2) + b * ldOut;
      if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
        if (ho !== hp) f.copyWithin(ho, hp, hp + H);
        if (co !== cp) f.copyWithin(co, cp, cp + H);
        if (out !== 0) f.fill(0, o, o + H);
        continue;
      }
      const g = (gx >>> 2) + b * G, s = (scratch >>> 2) + b * G, tp = (tape >>> 2) + b * 5 * H;
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
        if (tape !== 0) {
          f[tp + j] = ig;
          f[tp + H + j] = fg;
          f[tp + 2 * H + j] = gg;
          f[tp + 3 * H + j] = og;
          f[tp + 4 * H + j] = c;
        }
      }
    }
  };

  const gruStepTrain: Kernels['gruStepTrain'] = (hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, tape) => {
    const G = 3 * H;
    gemm(scratch, hPrev, whh, bhh, B, G, H);
    const f = arena.f32;
    const len = arena.i32;
    for (let b = 0; b < B; b++) {
      const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
      const o = (out >>> 2) + b * ldOut;
      if (lengths !== 0 && t >= len[(lengths >>> 2) + b]) {
        if (ho !== hp) f.copyWithin(ho, hp, hp + H);
        if (out !== 0) f.fill(0, o, o + H);
        continue;
      }
      const g = (gx >>> 2) + b * G, s = (scratch >>> 2) + b * G, tp = (tape >>> 2) + b * 4 * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(f[g + j] + f[s + j]);
        const z = sigmoid(f[g + H + j] + f[s + H + j]);
        const sn = f[s + 2 * H + j];
        const nn = Math.tanh(f[g + 2 * H + j] + r * sn);
        const h = (1 - z) * nn + z * f[hp + j];
        f[ho + j] = h;
        if (out !== 0) f[o + j] = h;
        if (tape !== 0) {
          f[tp + j] = r;
          f[tp + H + j] = z;
          f[tp + 2 * H + j] = nn;
          f[tp + 3 * H + j] = sn;
        }
      }
    }
  };

  return {
    rnnStep: (hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t) =>
      rnnStepTrain(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t, 0),
    lstmStep: (hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t) =>
      lstmStepTrain(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, 0),
    gruStep: (hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t) =>
      gruStepTrain(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, 0),
    rnnStepTrain,
    lstmStepTrain,
    gruStepTrain,
  };
}

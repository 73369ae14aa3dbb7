/**
 * JS twins of assembly/cells-ex.ts (the cell variants; contract in ../kernels.ts): float64
 * arithmetic, rounded to float32 when stored, one fused loop per batch row with the activation
 * functions chosen once per call.
 */
import type { Arena } from '../arena.js';
import { CELL_PARAMS, type Kernels } from '../kernels.js';
import { ACTS } from './activations.js';

export type CellExKernels = Pick<Kernels, 'rnnStepEx' | 'lstmStepEx' | 'gruStepEx'>;

/** A cell parameter block as read by the kernels. */
export interface CellParams {
  gate: (x: number) => number;
  cell: (x: number) => number;
  hidden: (x: number) => number;
  gateCode: number;
  cellCode: number;
  hiddenCode: number;
  /** The clip bound (Infinity without clip). */
  clip: number;
  peep: number;
  dpeep: number;
  inputForget: boolean;
  resetBefore: boolean;
}

export function readParams(arena: Arena, params: number): CellParams {
  const i32 = arena.i32, f = arena.f32, w = params >>> 2, P = CELL_PARAMS;
  const flags = i32[w + P.FLAGS];
  const clip = f[w + P.CLIP];
  const gateCode = i32[w + P.GATE], cellCode = i32[w + P.CELL], hiddenCode = i32[w + P.HIDDEN];
  const peepholes = (flags & P.PEEPHOLES) !== 0;
  return {
    gate: ACTS[gateCode], cell: ACTS[cellCode], hidden: ACTS[hiddenCode], gateCode, cellCode, hiddenCode,
    clip: clip > 0 ? clip : Infinity,
    peep: peepholes ? i32[w + P.PEEP] >>> 0 : 0,
    dpeep: peepholes ? i32[w + P.DPEEP] >>> 0 : 0,
    inputForget: (flags & P.INPUT_FORGET) !== 0,
    resetBefore: (flags & P.RESET_BEFORE) !== 0,
  };
}

export function createCellExKernels(arena: Arena, gemm: Kernels['gemm'], packedSize: Kernels['packedSize']): CellExKernels {
  const inactive = (lengths: number, b: number, t: number): boolean => lengths !== 0 && t >= arena.i32[(lengths >>> 2) + b];
  /** Inactive row: keep the state (unless aliased), zero the out row. */
  const hold = (ho: number, hp: number, o: number, H: number): void => {
    const f = arena.f32;
    if (ho !== hp) f.copyWithin(ho, hp, hp + H);
    if (o >= 0) f.fill(0, o, o + H);
  };

  return {
    rnnStepEx(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, tape, params) {
      gemm(scratch, hPrev, whh, bhh, B, H, H);
      const p = readParams(arena, params), act = p.hidden, c = p.clip;
      const f = arena.f32;
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
        const o = out !== 0 ? (out >>> 2) + b * ldOut : -1;
        if (inactive(lengths, b, t)) {
          hold(ho, hp, o, H);
          continue;
        }
        const g = (gx >>> 2) + b * H, s = (scratch >>> 2) + b * H, tp = (tape >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const h = act(Math.min(Math.max(f[g + j] + f[s + j], -c), c));
          f[s + j] = h;
          f[ho + j] = h;
          if (o >= 0) f[o + j] = h;
          if (tape !== 0) f[tp + j] = h;
        }
      }
    },

    lstmStepEx(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, tape, params) {
      const G = 4 * H;
      gemm(scratch, hPrev, whh, bhh, B, G, H);
      const p = readParams(arena, params), fa = p.gate, ga = p.cell, ha = p.hidden, c = p.clip;
      const clip = (x: number): number => Math.min(Math.max(x, -c), c);
      const f = arena.f32;
      const pi = p.peep >>> 2, hasP = p.peep !== 0;
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
        const cp = (cPrev >>> 2) + b * H, co = (cOut >>> 2) + b * H;
        const o = out !== 0 ? (out >>> 2) + b * ldOut : -1;
        if (inactive(lengths, b, t)) {
          hold(ho, hp, o, H);
          if (co !== cp) f.copyWithin(co, cp, cp + H);
          continue;
        }
        const g = (gx >>> 2) + b * G, s = (scratch >>> 2) + b * G, tp = (tape >>> 2) + b * 5 * H;
        for (let j = 0; j < H; j++) {
          const cpv = f[cp + j];
          const ig = fa(clip(f[g + j] + f[s + j] + (hasP ? f[pi + j] * cpv : 0)));
          const fg = p.inputForget ? 1 - ig : fa(clip(f[g + H + j] + f[s + H + j] + (hasP ? f[pi + H + j] * cpv : 0)));
          const gg = ga(clip(f[g + 2 * H + j] + f[s + 2 * H + j]));
          const cv = fg * cpv + ig * gg;
          const og = fa(clip(f[g + 3 * H + j] + f[s + 3 * H + j] + (hasP ? f[pi + 2 * H + j] * cv : 0)));
          const h = og * ha(cv);
          f[s + j] = ig;
          f[s + H + j] = fg;
          f[s + 2 * H + j] = gg;
          f[s + 3 * H + j] = og;
          f[co + j] = cv;
          f[ho + j] = h;
          if (o >= 0) f[o + j] = h;
          if (tape !== 0) {
            f[tp + j] = ig;
            f[tp + H + j] = fg;
            f[tp + 2 * H + j] = gg;
            f[tp + 3 * H + j] = og;
            f[tp + 4 * H + j] = cv;
          }
        }
      }
    },

    gruStepEx(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, tape, rh, params) {
      const p = readParams(arena, params), fa = p.gate, ga = p.cell, c = p.clip;
      const clip = (x: number): number => Math.min(Math.max(x, -c), c);
      const before = p.resetBefore;
      const G = 3 * H, S = before ? 2 * H : G, W = before ? 3 * H : 4 * H;
      gemm(scratch, hPrev, whh, bhh, B, S, H);
      const f = arena.f32;
      // Reset before: r and z first (r ⊙ hPrev feeds the second product), then n.
      for (let b = 0; b < B; b++) {
        if (inactive(lengths, b, t)) {
          if (before) f.fill(0, (rh >>> 2) + b * H, (rh >>> 2) + (b + 1) * H);
          continue;
        }
        const g = (gx >>> 2) + b * G, s = (scratch >>> 2) + b * S, tp = (tape >>> 2) + b * W;
        const hp = (hPrev >>> 2) + b * H, r0 = (rh >>> 2) + b * H;
        for (let j = 0; j < H; j++) {
          const r = fa(clip(f[g + j] + f[s + j]));
          const z = fa(clip(f[g + H + j] + f[s + H + j]));
          f[s + j] = r;
          f[s + H + j] = z;
          if (before) f[r0 + j] = r * f[hp + j];
          if (tape !== 0) {
            f[tp + j] = r;
            f[tp + H + j] = z;
          }
        }
      }
      const sN = (scratch >>> 2) + B * 2 * H;
      if (before) gemm(sN * 4, rh, whh + packedSize(2 * H, H) * 4, bhh !== 0 ? bhh + 8 * H : 0, B, H, H);
      for (let b = 0; b < B; b++) {
        const hp = (hPrev >>> 2) + b * H, ho = (hOut >>> 2) + b * H;
        const o = out !== 0 ? (out >>> 2) + b * ldOut : -1;
        if (inactive(lengths, b, t)) {
          hold(ho, hp, o, H);
          continue;
        }
        const g = (gx >>> 2) + b * G, s = (scratch >>> 2) + b * S, tp = (tape >>> 2) + b * W;
        for (let j = 0; j < H; j++) {
          const r = f[s + j], z = f[s + H + j];
          const sn = before ? f[sN + b * H + j] : f[s + 2 * H + j];
          const n = ga(clip(f[g + 2 * H + j] + (before ? sn : r * sn)));
          const h = (1 - z) * n + z * f[hp + j];
          f[ho + j] = h;
          if (o >= 0) f[o + j] = h;
          if (tape !== 0) {
            f[tp + 2 * H + j] = n;
            if (!before) f[tp + 3 * H + j] = sn;
          }
        }
      }
    },
  };
}

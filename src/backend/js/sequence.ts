/**
 * JS twin of assembly/sequence.ts: the recurrent time loops over the step kernels, one call
 * per step, so each step is bit-identical to calling its step kernel.
 */
import type { Arena } from '../arena.js';
import { CELL_CODES, type Kernels } from '../kernels.js';

type Steps = Pick<
  Kernels,
  'rnnStep' | 'lstmStep' | 'gruStep' | 'rnnStepTrain' | 'lstmStepTrain' | 'gruStepTrain' |
  'lstmStepBackward' | 'gruStepBackward' | 'rnnStepBackward' | 'gemmEx'
>;

const { LSTM, GRU, RNN_RELU } = CELL_CODES;
const gatesOf = (cell: number): number => (cell === LSTM ? 4 : cell === GRU ? 3 : 1);
/** Floats per batch row of one step's tape, in units of H (the *StepTrain layouts). */
const tapeWidthOf = (cell: number): number => (cell === LSTM ? 5 : cell === GRU ? 4 : 1);

export function createSequenceKernels(arena: Arena, k: Steps): Pick<Kernels, 'sequence' | 'sequenceBackward'> {
  return {
    sequence(cell, T, reverse, h, c, out, ldOut, gx, whh, bhh, scratch, B, H, lengths, tape, hist) {
      const BH = B * H, GH = gatesOf(cell) * H, tapeRow = tapeWidthOf(cell) * H;
      const relu = cell === RNN_RELU ? 1 : 0;
      for (let i = 0; i < T; i++) {
        const t = reverse ? T - 1 - i : i;
        const g = gx + t * B * GH * 4;
        const o = out !== 0 ? out + t * B * ldOut * 4 : 0;
        if (tape === 0) {
          if (cell === LSTM) k.lstmStep(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t);
          else if (cell === GRU) k.gruStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t);
          else k.rnnStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t);
          continue;
        }
        const f = arena.f32;
        f.copyWithin((hist >>> 2) + t * BH, h >>> 2, (h >>> 2) + BH);
        const tp = tape + t * B * tapeRow * 4;
        if (cell === LSTM) {
          k.lstmStepTrain(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp);
          if (lengths !== 0) {
            // Inactive rows held their c: record it where backward looks for c_{t±1}.
            const len = arena.i32;
            for (let b = 0; b < B; b++) {
              if (t < len[(lengths >>> 2) + b]) continue;
              const src = (c >>> 2) + b * H;
              arena.f32.copyWithin((tp >>> 2) + b * tapeRow + 4 * H, src, src + H);
            }
          }
        } else if (cell === GRU) k.gruStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp);
        else k.rnnStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t, tp);
      }
    },

    sequenceBackward(cell, T, reverse, dG, dS, dh, dc, dY, ldY, tape, hist, c0, whhT, B, H, lengths) {
      const BH = B * H, GH = gatesOf(cell) * H, tapeW = tapeWidthOf(cell) * H;
      const relu = cell === RNN_RELU ? 1 : 0;
      for (let i = T - 1; i >= 0; i--) {
        const t = reverse ? T - 1 - i : i;
        if (dY !== 0) {
          // dh += dY_t: a [B, H] slice of rows ldY floats apart.
          const f = arena.f32;
          const d0 = dh >>> 2, y0 = (dY >>> 2) + t * B * ldY;
          for (let b = 0; b < B; b++) {
            const hr = d0 + b * H, yr = y0 + b * ldY;
            for (let j = 0; j < H; j++) f[hr + j] += f[yr + j];
          }
        }
        const g = dG + t * B * GH * 4, tp = tape + t * B * tapeW * 4;
        let s = g;
        if (cell === LSTM) {
          // cPrev: the initial c at the first step, else the previous step's tape (c at 4H).
          const first = i === 0;
          const prev = reverse ? t + 1 : t - 1;
          const cPrev = first ? c0 : tape + prev * B * tapeW * 4 + 16 * H;
          k.lstmStepBackward(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t);
        } else if (cell === GRU) {
          s = dS + t * B * GH * 4;
          k.gruStepBackward(g, s, dh, tp, hist + t * BH * 4, B, H, lengths, t);
        } else {
          k.rnnStepBackward(g, dh, tp, B, H, relu, lengths, t);
        }
        k.gemmEx(dh, s, whhT, 0, B, H, GH, GH, 1, 1);
      }
    },
  };
}

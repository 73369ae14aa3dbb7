/**
 * JS twin of assembly/sequence.ts: the recurrent time loops over the step kernels, one call
 * per step, so each step is bit-identical to calling its step kernel.
 */
import type { Arena } from '../arena.js';
import { CELL_CODES, CELL_PARAMS, type Kernels } from '../kernels.js';

type Steps = Pick<
  Kernels,
  'rnnStep' | 'lstmStep' | 'gruStep' | 'rnnStepTrain' | 'lstmStepTrain' | 'gruStepTrain' |
  'lstmStepBackward' | 'gruStepBackward' | 'rnnStepBackward' | 'gemmEx' | 'packedSize' |
  'rnnStepEx' | 'lstmStepEx' | 'gruStepEx' | 'rnnStepBackwardEx' | 'lstmStepBackwardEx' | 'gruStepBackwardEx'
>;

const { LSTM, GRU, RNN_RELU, RNN_EX, LSTM_EX, GRU_EX } = CELL_CODES;
const gatesOf = (cell: number): number => (cell === LSTM || cell === LSTM_EX ? 4 : cell === GRU || cell === GRU_EX ? 3 : 1);

export function createSequenceKernels(arena: Arena, k: Steps): Pick<Kernels, 'sequence' | 'sequenceBackward'> {
  const resetBefore = (cell: number, params: number): boolean =>
    cell === GRU_EX && (arena.i32[(params >>> 2) + CELL_PARAMS.FLAGS] & CELL_PARAMS.RESET_BEFORE) !== 0;
  /** Floats per batch row of one step's tape, in units of H (the *StepTrain and *StepEx layouts). */
  const tapeWidthOf = (cell: number, params: number): number =>
    cell === LSTM || cell === LSTM_EX ? 5 : cell === GRU || cell === GRU_EX ? (resetBefore(cell, params) ? 3 : 4) : 1;

  return {
    sequence(cell, T, reverse, h, c, out, ldOut, gx, whh, bhh, scratch, B, H, lengths, tape, hist, params) {
      const BH = B * H, GH = gatesOf(cell) * H, tapeRow = tapeWidthOf(cell, params) * H;
      const relu = cell === RNN_RELU ? 1 : 0;
      for (let i = 0; i < T; i++) {
        const t = reverse ? T - 1 - i : i;
        const g = gx + t * B * GH * 4;
        const o = out !== 0 ? out + t * B * ldOut * 4 : 0;
        if (tape === 0) {
          if (cell === LSTM) k.lstmStep(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t);
          else if (cell === GRU) k.gruStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t);
          else if (cell < RNN_EX) k.rnnStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t);
          else if (cell === LSTM_EX) k.lstmStepEx(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, 0, params);
          else if (cell === GRU_EX) k.gruStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, 0, scratch + 3 * BH * 4, params);
          else k.rnnStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, 0, params);
          continue;
        }
        const f = arena.f32;
        f.copyWithin((hist >>> 2) + t * BH, h >>> 2, (h >>> 2) + BH);
        const tp = tape + t * B * tapeRow * 4;
        if (cell === LSTM || cell === LSTM_EX) {
          if (cell === LSTM) k.lstmStepTrain(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp);
          else k.lstmStepEx(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp, params);
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
        else if (cell < RNN_EX) k.rnnStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t, tp);
        else if (cell === GRU_EX) k.gruStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp, hist + (T + t) * BH * 4, params);
        else k.rnnStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp, params);
      }
    },

    sequenceBackward(cell, T, reverse, dG, dS, dh, dc, dY, ldY, tape, hist, c0, whhT, B, H, lengths, params) {
      const BH = B * H, GH = gatesOf(cell) * H, tapeW = tapeWidthOf(cell, params) * H;
      const relu = cell === RNN_RELU ? 1 : 0;
      const before = resetBefore(cell, params);
      const whnT = before ? whhT + k.packedSize(H, 2 * H) * 4 : 0;
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
        if (cell === LSTM || cell === LSTM_EX) {
          // cPrev: the initial c at the first step, else the previous step's tape (c at 4H).
          const first = i === 0;
          const prev = reverse ? t + 1 : t - 1;
          const cPrev = first ? c0 : tape + prev * B * tapeW * 4 + 16 * H;
          if (cell === LSTM) k.lstmStepBackward(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t);
          else k.lstmStepBackwardEx(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t, params);
        } else if (cell === GRU) {
          s = dS + t * B * GH * 4;
          k.gruStepBackward(g, s, dh, tp, hist + t * BH * 4, B, H, lengths, t);
        } else if (cell < RNN_EX) {
          k.rnnStepBackward(g, dh, tp, B, H, relu, lengths, t);
        } else if (before) {
          // dc is scratch here (no cell state): d(r ⊙ h_{t−1}). Then dh += (dA_r, dA_z) · W_h(r,z).
          k.gruStepBackwardEx(g, g, dh, tp, hist + t * BH * 4, whnT, dc, B, H, lengths, t, params);
          k.gemmEx(dh, g, whhT, 0, B, H, 2 * H, GH, 1, 1);
          continue;
        } else if (cell === GRU_EX) {
          s = dS + t * B * GH * 4;
          k.gruStepBackwardEx(g, s, dh, tp, hist + t * BH * 4, 0, 0, B, H, lengths, t, params);
        } else {
          k.rnnStepBackwardEx(g, dh, tp, B, H, lengths, t, params);
        }
        k.gemmEx(dh, s, whhT, 0, B, H, GH, GH, 1, 1);
      }
    },
  };
}

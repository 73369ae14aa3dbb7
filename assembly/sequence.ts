/**
 * The recurrent time loops on one thread: `sequence` runs T steps of one layer direction
 * (inference, or training with the tape that backward needs) and `sequenceBackward` runs its
 * backpropagation through time. They only sequence the step kernels of cells.ts and
 * cells-grad.ts (one call per step, nothing fused across steps), so each step is bit-identical
 * to calling its step kernel. The contract is src/backend/kernels.ts; the JS twin is
 * src/backend/js/sequence.ts. Cell codes: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU, and the
 * variants 4 RNN, 5 LSTM, 6 GRU (cells-ex.ts, cells-ex-grad.ts) with their parameter block.
 */
import { gruStep, gruStepTrain, lstmStep, lstmStepTrain, rnnStep, rnnStepTrain } from './cells';
import { gruStepBackward, lstmStepBackward, rnnStepBackward } from './cells-grad';
import { F_RESET_BEFORE, flagsOf, gruStepEx, lstmStepEx, rnnStepEx } from './cells-ex';
import { gruStepBackwardEx, lstmStepBackwardEx, rnnStepBackwardEx } from './cells-ex-grad';
import { gemmEx, packedSize } from './gemm';
import { addRow } from './rows';

// @ts-ignore: decorator
@inline const LSTM: i32 = 2;
// @ts-ignore: decorator
@inline const GRU: i32 = 3;
// @ts-ignore: decorator
@inline const RNN_EX: i32 = 4;
// @ts-ignore: decorator
@inline const LSTM_EX: i32 = 5;
// @ts-ignore: decorator
@inline const GRU_EX: i32 = 6;

// @ts-ignore: decorator
@inline function gatesOf(cell: i32): i32 {
  return cell == LSTM || cell == LSTM_EX ? 4 : cell == GRU || cell == GRU_EX ? 3 : 1;
}

/** Whether a cell is the GRU variant with the reset gate before the recurrent product. */
// @ts-ignore: decorator
@inline function resetBefore(cell: i32, params: usize): bool {
  return cell == GRU_EX && (flagsOf(params) & F_RESET_BEFORE) != 0;
}

/** Floats per batch row of one step's tape, in units of H (the *StepTrain and *StepEx layouts). */
// @ts-ignore: decorator
@inline function tapeWidthOf(cell: i32, params: usize): i32 {
  if (cell == LSTM || cell == LSTM_EX) return 5;
  if (cell == GRU || cell == GRU_EX) return resetBefore(cell, params) ? 3 : 4;
  return 1;
}

export function sequence(
  cell: i32, T: i32, reverse: i32, h: usize, c: usize, out: usize, ldOut: i32,
  gx: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, tape: usize, hist: usize, params: usize,
): void {
  const rowBytes = <usize>H << 2;
  const stateBytes = <usize>B * rowBytes;
  const gStep = stateBytes * <usize>gatesOf(cell);
  const oStep = <usize>B * <usize>ldOut << 2;
  const tapeRow = rowBytes * <usize>tapeWidthOf(cell, params);
  const tapeStep = <usize>B * tapeRow;
  const relu = cell == 1 ? 1 : 0;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const g = gx + <usize>t * gStep;
    const o = out != 0 ? out + <usize>t * oStep : 0;
    if (tape == 0) {
      if (cell == LSTM) lstmStep(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t);
      else if (cell == GRU) gruStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t);
      else if (cell < RNN_EX) rnnStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t);
      else if (cell == LSTM_EX) lstmStepEx(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, 0, params);
      else if (cell == GRU_EX) {
        // r ⊙ h_{t−1} (reset before) goes to the scratch's fourth block.
        gruStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, 0, scratch + 3 * stateBytes, params);
      } else rnnStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, 0, params);
      continue;
    }
    memory.copy(hist + <usize>t * stateBytes, h, stateBytes);
    const tp = tape + <usize>t * tapeStep;
    if (cell == LSTM || cell == LSTM_EX) {
      if (cell == LSTM) lstmStepTrain(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp);
      else lstmStepEx(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp, params);
      if (lengths != 0) {
        // Inactive rows held their c: record it where backward looks for c_{t±1}.
        for (let b = 0; b < B; b++) {
          if (t < load<i32>(lengths + (<usize>b << 2))) continue;
          memory.copy(tp + <usize>b * tapeRow + (rowBytes << 2), c + <usize>b * rowBytes, rowBytes);
        }
      }
    } else if (cell == GRU) gruStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp);
    else if (cell < RNN_EX) rnnStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t, tp);
    else if (cell == GRU_EX) {
      // Reset before: r_t ⊙ h_{t−1} is kept in hist's second half for the W_hn gradient.
      gruStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp, hist + <usize>(T + t) * stateBytes, params);
    } else rnnStepEx(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp, params);
  }
}

export function sequenceBackward(
  cell: i32, T: i32, reverse: i32, dG: usize, dS: usize, dh: usize, dc: usize,
  dY: usize, ldY: i32, tape: usize, hist: usize, c0: usize, whhT: usize,
  B: i32, H: i32, lengths: usize, params: usize,
): void {
  const G = gatesOf(cell);
  const GH = G * H;
  const rowBytes = <usize>H << 2;
  const stateBytes = <usize>B * rowBytes;
  const gStep = stateBytes * <usize>G;
  const yStep = <usize>B * <usize>ldY << 2;
  const tapeW = tapeWidthOf(cell, params) * H;
  const before = resetBefore(cell, params);
  // Reset before: W_hh's rows [2H, 3H) are packed after rows [0, 2H) (see kernels.ts).
  const whnT = before ? whhT + (<usize>packedSize(H, 2 * H) << 2) : 0;
  const tapeStep = <usize>B * (<usize>tapeW << 2);
  const relu = cell == 1 ? 1 : 0;
  const yRow = <usize>ldY << 2;
  for (let i = T - 1; i >= 0; i--) {
    const t = reverse ? T - 1 - i : i;
    if (dY != 0) {
      // dh += dY_t: a [B, H] slice of rows ldY floats apart.
      const y = dY + <usize>t * yStep;
      for (let b = 0; b < B; b++) addRow(dh + <usize>b * rowBytes, y + <usize>b * yRow, H);
    }
    const g = dG + <usize>t * gStep;
    const tp = tape + <usize>t * tapeStep;
    let s = g;
    if (cell == LSTM || cell == LSTM_EX) {
      // cPrev: the initial c at the first step, else the previous step's tape (c at 4H).
      const first = i == 0;
      const prev = reverse ? t + 1 : t - 1;
      const cPrev = first ? c0 : tape + <usize>prev * tapeStep + (rowBytes << 2);
      if (cell == LSTM) lstmStepBackward(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t);
      else lstmStepBackwardEx(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t, params);
    } else if (cell == GRU) {
      s = dS + <usize>t * gStep;
      gruStepBackward(g, s, dh, tp, hist + <usize>t * stateBytes, B, H, lengths, t);
    } else if (cell < RNN_EX) {
      rnnStepBackward(g, dh, tp, B, H, relu, lengths, t);
    } else if (before) {
      // dc is scratch here (no cell state): d(r ⊙ h_{t−1}). Then dh += (dA_r, dA_z) · W_h(r,z).
      gruStepBackwardEx(g, g, dh, tp, hist + <usize>t * stateBytes, whnT, dc, B, H, lengths, t, params);
      gemmEx(dh, g, whhT, 0, B, H, 2 * H, GH, 1, 1);
      continue;
    } else if (cell == GRU_EX) {
      s = dS + <usize>t * gStep;
      gruStepBackwardEx(g, s, dh, tp, hist + <usize>t * stateBytes, 0, 0, B, H, lengths, t, params);
    } else {
      rnnStepBackwardEx(g, dh, tp, B, H, lengths, t, params);
    }
    gemmEx(dh, s, whhT, 0, B, H, GH, GH, 1, 1);
  }
}


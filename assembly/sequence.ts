/**
 * The recurrent time loops on one thread: `sequence` runs T steps of one layer direction
 * (inference, or training with the tape that backward needs) and `sequenceBackward` runs its
 * backpropagation through time. They only sequence the step kernels of cells.ts and
 * cells-grad.ts (one call per step, nothing fused across steps), so each step is bit-identical
 * to calling its step kernel. The contract is src/backend/kernels.ts; the JS twin is
 * src/backend/js/sequence.ts. Cell codes: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU.
 */
import { gruStep, gruStepTrain, lstmStep, lstmStepTrain, rnnStep, rnnStepTrain } from './cells';
import { gruStepBackward, lstmStepBackward, rnnStepBackward } from './cells-grad';
import { gemmEx } from './gemm';

// @ts-ignore: decorator
@inline const LSTM: i32 = 2;
// @ts-ignore: decorator
@inline const GRU: i32 = 3;

// @ts-ignore: decorator
@inline function gatesOf(cell: i32): i32 {
  return cell == LSTM ? 4 : cell == GRU ? 3 : 1;
}

/** Floats per batch row of one step's tape, in units of H (the *StepTrain layouts). */
// @ts-ignore: decorator
@inline function tapeWidthOf(cell: i32): i32 {
  return cell == LSTM ? 5 : cell == GRU ? 4 : 1;
}

export function sequence(
  cell: i32, T: i32, reverse: i32, h: usize, c: usize, out: usize, ldOut: i32,
  gx: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, tape: usize, hist: usize,
): void {
  const rowBytes = <usize>H << 2;
  const stateBytes = <usize>B * rowBytes;
  const gStep = stateBytes * <usize>gatesOf(cell);
  const oStep = <usize>B * <usize>ldOut << 2;
  const tapeRow = rowBytes * <usize>tapeWidthOf(cell);
  const tapeStep = <usize>B * tapeRow;
  const relu = cell == 1 ? 1 : 0;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const g = gx + <usize>t * gStep;
    const o = out != 0 ? out + <usize>t * oStep : 0;
    if (tape == 0) {
      if (cell == LSTM) lstmStep(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t);
      else if (cell == GRU) gruStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t);
      else rnnStep(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t);
      continue;
    }
    memory.copy(hist + <usize>t * stateBytes, h, stateBytes);
    const tp = tape + <usize>t * tapeStep;
    if (cell == LSTM) {
      lstmStepTrain(h, c, o, ldOut, g, h, c, whh, bhh, scratch, B, H, lengths, t, tp);
      if (lengths != 0) {
        // Inactive rows held their c: record it where backward looks for c_{t±1}.
        for (let b = 0; b < B; b++) {
          if (t < load<i32>(lengths + (<usize>b << 2))) continue;
          memory.copy(tp + <usize>b * tapeRow + (rowBytes << 2), c + <usize>b * rowBytes, rowBytes);
        }
      }
    } else if (cell == GRU) gruStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, lengths, t, tp);
    else rnnStepTrain(h, o, ldOut, g, h, whh, bhh, scratch, B, H, relu, lengths, t, tp);
  }
}

export function sequenceBackward(
  cell: i32, T: i32, reverse: i32, dG: usize, dS: usize, dh: usize, dc: usize,
  dY: usize, ldY: i32, tape: usize, hist: usize, c0: usize, whhT: usize,
  B: i32, H: i32, lengths: usize,
): void {
  const G = gatesOf(cell);
  const GH = G * H;
  const rowBytes = <usize>H << 2;
  const stateBytes = <usize>B * rowBytes;
  const gStep = stateBytes * <usize>G;
  const yStep = <usize>B * <usize>ldY << 2;
  const tapeW = tapeWidthOf(cell) * H;
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
    if (cell == LSTM) {
      // cPrev: the initial c at the first step, else the previous step's tape (c at 4H).
      const first = i == 0;
      const prev = reverse ? t + 1 : t - 1;
      const cPrev = first ? c0 : tape + <usize>prev * tapeStep + (rowBytes << 2);
      lstmStepBackward(g, dh, dc, tp, cPrev, first ? H : tapeW, B, H, lengths, t);
    } else if (cell == GRU) {
      s = dS + <usize>t * gStep;
      gruStepBackward(g, s, dh, tp, hist + <usize>t * stateBytes, B, H, lengths, t);
    } else {
      rnnStepBackward(g, dh, tp, B, H, relu, lengths, t);
    }
    gemmEx(dh, s, whhT, 0, B, H, GH, GH, 1, 1);
  }
}

/** d[j] += s[j] for j < n. */
// @ts-ignore: decorator
@inline function addRow(d: usize, s: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(d + jb, f32x4.add(v128.load(d + jb), v128.load(s + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(d + jb, load<f32>(d + jb) + load<f32>(s + jb));
  }
}

/**
 * Backpropagation through time over a recorded training forward: per layer (top down) and
 * direction, the backend's sequenceBackward kernel turns the gradient w.r.t. the outputs into
 * pre-activation gate gradients dG_t step by step (carrying dh, dc), then the parameter
 * gradients are accumulated as large GEMMs over all steps at once:
 *   dW_ih += dGᵀ·X,  dW_hh += dSᵀ·H_prev,  db_ih += Σ dG,  db_hh += Σ dS,  dX = dG·W_ih
 * (dS = dG except for the GRU, whose r gates the recurrent n product). A cell whose last gate
 * blocks take r ⊙ h_{t−1} as recurrent input (Cell.hBlocks) takes those rows of dW_hh from that
 * second history. Peephole gradients are accumulated by the kernels (the cell parameter block).
 */
import type { Backend } from '../../backend/index.js';
import { Tensor } from '../../tensor.js';
import type { ParamSpec } from '../module.js';
import type { Cell } from './cells.js';
import type { BackwardWork, SavedBuffers } from './plan.js';
import type { Config } from './validate.js';
import type { DirectionParams, PackedWeights } from './weights.js';
import type { RNNGradients } from './types.js';
import { transposeBT, transposeTB } from './batch-first.js';

export interface BpttInput {
  be: Backend;
  cfg: Config;
  cell: Cell;
  dirs: readonly DirectionParams[];
  /** With the backward (transposed) set packed. */
  packed: PackedWeights;
  work: BackwardWork;
  saved: SavedBuffers;
  lengths: Int32Array | null;
  B: number;
  T: number;
  unbatched: boolean;
  /** Byte addresses of a parameter and of its gradient. */
  param: (s: ParamSpec) => number;
  grad: (s: ParamSpec) => number;
  /** Direction k's cell parameter block for backward (0 for PyTorch's cells). */
  cellParams: (k: number) => number;
  /** d(loss)/d(output) ([T, B, D·H] time-major or as the output was shaped), or null. */
  gradOutput: Float32Array | null;
  /** d(loss)/d(final h) and d(loss)/d(final c), [L·D, B, H], or null (zeros). */
  gradH: Float32Array | null;
  gradC: Float32Array | null;
}

export function backpropagate(p: BpttInput): RNNGradients {
  const { be, cfg, cell, dirs, packed, work: w, saved: sv, lengths, B, T } = p;
  const ks = be.kernels;
  const H = cfg.hiddenSize, L = cfg.numLayers, D = cfg.bidirectional ? 2 : 1, I = cfg.inputSize;
  const GH = cell.gates * H, DH = D * H, TB = T * B, BH = B * H, LDBH = L * D * BH;
  const lenPtr = lengths ? sv.len : 0;
  const tapeStep = TB * cell.tapeWidth * H * 4;
  const gradH0 = new Float32Array(LDBH), gradC0 = new Float32Array(cell.hasCellState ? LDBH : 0);

  // dY ← gradOutput, time-major, zero where outputs were padding (constant zeros in forward).
  let dY = w.dA, dX = w.dB;
  let hasDY = p.gradOutput !== null;
  let f = be.arena.f32;
  if (p.gradOutput) {
    if (p.unbatched || !cfg.batchFirst) f.set(p.gradOutput, dY >>> 2);
    else transposeBT(p.gradOutput, f, dY >>> 2, B, T, DH);
    if (lengths) {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) if (t >= lengths[b]) f.fill(0, (dY >>> 2) + (t * B + b) * DH, (dY >>> 2) + (t * B + b + 1) * DH);
      }
    }
  }

  for (let l = L - 1; l >= 0; l--) {
    const inSize = l === 0 ? I : DH;
    const xl = l === 0 ? sv.x : sv.y[l - 1];
    for (let d = 0; d < D; d++) {
      const k = l * D + d;
      const dS = cell.separateRecurrentGrad ? w.dS : w.dG;
      const hist = sv.hist + k * cell.histories * TB * H * 4;
      f = be.arena.f32;
      if (p.gradH) f.set(p.gradH.subarray(k * BH, (k + 1) * BH), w.dh >>> 2);
      else f.fill(0, w.dh >>> 2, (w.dh >>> 2) + BH);
      if (cell.hasCellState) {
        if (p.gradC) f.set(p.gradC.subarray(k * BH, (k + 1) * BH), w.dc >>> 2);
        else f.fill(0, w.dc >>> 2, (w.dc >>> 2) + BH);
      }
      ks.sequenceBackward(
        cell.code, T, d, w.dG, dS, w.dh, w.dc, hasDY ? dY + d * H * 4 : 0, DH,
        sv.tape + k * tapeStep, hist, cell.hasCellState ? sv.c0 + k * BH * 4 : 0, packed.backward.hhAt(k), B, H, lenPtr,
        p.cellParams(k),
      );
      f = be.arena.f32;
      gradH0.set(f.subarray(w.dh >>> 2, (w.dh >>> 2) + BH), k * BH);
      if (cell.hasCellState) gradC0.set(f.subarray(w.dc >>> 2, (w.dc >>> 2) + BH), k * BH);

      // Parameter gradients: one large GEMM each over all steps, on dGᵀ (row-major A is the
      // fast GEMM path; transposing once costs far less than a strided A).
      const { wIh, wHh, bIh, bHh } = dirs[k];
      ks.transpose(w.dGT, w.dG, TB, GH);
      ks.packRows(w.packTmp, xl, TB, inSize);
      ks.gemmEx(p.grad(wIh), w.dGT, w.packTmp, 0, GH, inSize, TB, TB, 1, 1);
      if (dS !== w.dG) ks.transpose(w.dGT, dS, TB, GH);
      // Rows [0, hBlocks·H) of dW_hh from h_{t−1}; the rest (if any) from the second history.
      for (let q = 0, row = 0; q < cell.histories; q++) {
        const rows = q === 0 ? Math.min(GH, cell.hBlocks * H) : GH - row;
        ks.packRows(w.packTmp, hist + q * TB * H * 4, TB, H);
        ks.gemmEx(p.grad(wHh) + row * H * 4, w.dGT + row * TB * 4, w.packTmp, 0, rows, H, TB, TB, 1, 1);
        row += rows;
      }
      if (bIh && bHh) {
        ks.colSum(p.grad(bIh), w.dG, TB, GH, 1);
        ks.colSum(p.grad(bHh), dS, TB, GH, 1);
      }
      ks.gemmEx(dX, w.dG, packed.backward.ihAt(k), 0, TB, inSize, GH, GH, 1, d === 0 ? 0 : 1);
    }
    if (l > 0 && sv.masks !== 0) ks.mulInPlace(dX, sv.masks + (l - 1) * TB * DH * 4, TB * DH);
    [dY, dX] = [dX, dY];
    hasDY = true;
  }

  f = be.arena.f32;
  const gx = new Float32Array(TB * I);
  if (p.unbatched || !cfg.batchFirst) gx.set(f.subarray(dY >>> 2, (dY >>> 2) + TB * I));
  else transposeTB(f, dY >>> 2, gx, B, T, I);
  const xShape = p.unbatched ? [T, I] : cfg.batchFirst ? [B, T, I] : [T, B, I];
  const sShape = p.unbatched ? [L * D, H] : [L * D, B, H];
  const res: RNNGradients = { x: new Tensor(gx, xShape), h: new Tensor(gradH0, sShape) };
  if (cell.hasCellState) res.c = new Tensor(gradC0, sShape);
  return res;
}

/**
 * The workspaces of a recurrent layer, planned per (batch, steps): named, shape-documented
 * buffers (see backend/layout.ts). The work areas are the layer's reusable workspace; the
 * saved buffers are one block per training forward (its own, so several forwards can wait for
 * their backward), freed by that backward.
 */
import { layout, type Layout } from '../../backend/layout.js';
import { CELL_PARAMS, type Kernels } from '../../backend/kernels.js';
import type { Cell } from './cells.js';

/** The sizes every plan derives from. D = directions, G = the cell's gates. */
export interface Dims {
  cell: Cell;
  L: number;
  D: number;
  B: number;
  T: number;
  H: number;
  I: number;
  dropout: boolean;
}

/** Words of the cell parameter blocks of `n` (layer, direction)s: none for PyTorch's cells. */
const cellParams = (d: Dims, n: number): number => (d.cell.variant ? n * CELL_PARAMS.words : 0);

/** Inference forward: everything in the reusable workspace. */
export function forwardWork(d: Dims) {
  const { T, B, I, H, L, D } = d;
  const GH = d.cell.gates * H, LDBH = L * D * B * H;
  return layout({
    x: T * B * I, //           [T, B, I]      the input, time-major
    y: [T * B * D * H, L > 1 ? T * B * D * H : 0], // 2 × [T, B, D·H] layer outputs, alternating
    gx: T * B * GH, //         [T, B, G·H]    input projection x·W_ihᵀ + b_ih of one direction
    h: LDBH, //                [L·D, B, H]    hidden state, initial in, final out
    c: d.cell.hasCellState ? LDBH : 0, //     cell state (LSTM), likewise
    s: B * d.cell.scratchWidth * H, // [B, G·H]  recurrent product h·W_hhᵀ + b_hh of a step (cell's scratch)
    len: B, //                 [B] int32      valid lengths
    cp: cellParams(d, L * D), // [L·D, 8] words  variant cells' parameter blocks
  });
}

/** Training forward: the work area (reused) … */
export function trainWork(d: Dims) {
  const { B, T, H, L, D } = d;
  const GH = d.cell.gates * H, LDBH = L * D * B * H;
  return layout({
    gx: T * B * GH, //         [T, B, G·H]
    h: LDBH, //                [L·D, B, H]
    c: d.cell.hasCellState ? LDBH : 0,
    s: B * d.cell.scratchWidth * H, // [B, G·H]
    cp: cellParams(d, L * D),
  });
}

/** … and what it keeps for backward (one block per training forward). */
export function savedBuffers(d: Dims) {
  const { T, B, I, H, L, D } = d;
  const TB = T * B, LDBH = L * D * B * H;
  return layout({
    x: TB * I, //                                  [T, B, I]         the input
    y: Array.from({ length: L }, () => TB * D * H), // L × [T, B, D·H] every layer's output
    c0: d.cell.hasCellState ? LDBH : 0, //         [L·D, B, H]       the initial c
    tape: L * D * TB * d.cell.tapeWidth * H, //    [L·D, T, B, W·H]  activated gates (and c) per step
    hist: L * D * d.cell.histories * TB * H, //    [L·D, R, T, B, H] h_{t−1} (and r ⊙ h_{t−1}) of every step
    masks: d.dropout && L > 1 ? (L - 1) * TB * D * H : 0, // [L−1, T, B, D·H] inter-layer dropout
    len: B, //                                     [B] int32
  });
}

/** Backward's scratch (the reusable workspace; forward's work area is dead by then). */
export function backwardWork(d: Dims, ks: Kernels) {
  const { T, B, I, H, L, D } = d;
  const TB = T * B, GH = d.cell.gates * H, maxIn = Math.max(I, D * H);
  return layout({
    dA: TB * maxIn, //    [T, B, max(I, D·H)]  gradient w.r.t. a layer's output, then its input …
    dB: TB * maxIn, //                          … alternating with dA from layer to layer
    dG: TB * GH, //       [T, B, G·H]          pre-activation gate gradients of one direction
    dS: d.cell.separateRecurrentGrad ? TB * GH : 0, // [T, B, G·H] w.r.t. h·W_hhᵀ + b_hh (GRU)
    dGT: TB * GH, //      [G·H, T·B]           dGᵀ (row-major A for the weight GEMMs)
    dh: B * H, //         [B, H]               gradient w.r.t. the running h
    dc: B * H, //         [B, H]               and c (LSTM)
    packTmp: Math.max(ks.packedSize(maxIn, TB), ks.packedSize(H, TB)), // X or H_prev packed as Wᵀ
    cp: cellParams(d, L * D), // [L·D, 8] words     cell parameter blocks
  });
}

/** step(): one time step of every layer (batch B). */
export function stepWork(d: Dims) {
  const { B, I, H, L } = d;
  const GH = d.cell.gates * H;
  return layout({
    x: B * I, //             [B, I]
    gx: B * GH, //           [B, G·H]
    y: [B * H, B * H], //    2 × [B, H]  layer outputs, alternating
    h: L * B * H, //         [L, B, H]
    c: d.cell.hasCellState ? L * B * H : 0,
    s: B * d.cell.scratchWidth * H, // [B, G·H]
    cp: cellParams(d, L),
  });
}

export type ForwardWork = ReturnType<ReturnType<typeof forwardWork>['at']>;
export type TrainWork = ReturnType<ReturnType<typeof trainWork>['at']>;
export type SavedBuffers = ReturnType<ReturnType<typeof savedBuffers>['at']>;
export type BackwardWork = ReturnType<ReturnType<typeof backwardWork>['at']>;
export type StepWork = ReturnType<ReturnType<typeof stepWork>['at']>;
export type { Layout };

/**
 * The table of recurrent cells: what the layer, planner and backward loop need to know about a
 * cell, so that none of them branches on the cell's kind. The kernels behind a cell are chosen
 * by its code (the sequence kernels switch on it once per step, never per element). Adding a
 * variant (a GRU with the reset before the recurrent product, an LSTM with peepholes) is a row
 * here plus its step kernels.
 */
import { CELL_CODES } from '../../backend/kernels.js';
import type { RNNMode } from './types.js';

export interface Cell {
  readonly mode: RNNMode;
  /** Kernel code of the sequence kernels (CELL_CODES). */
  readonly code: number;
  /** Gate blocks G: W_ih is [G·H, I], W_hh [G·H, H]. */
  readonly gates: number;
  /** Floats per batch row of one step's tape, in units of H (what the *StepTrain kernels record). */
  readonly tapeWidth: number;
  /** Whether the cell carries a cell state c beside h (the LSTM). */
  readonly hasCellState: boolean;
  /**
   * Whether the gradient w.r.t. the recurrent product differs from the one w.r.t. the input
   * projection (GRU: r multiplies the n block of h·W_hhᵀ), so backward keeps a second buffer.
   */
  readonly separateRecurrentGrad: boolean;
}

export const CELLS: Readonly<Record<RNNMode, Cell>> = {
  RNN_TANH: { mode: 'RNN_TANH', code: CELL_CODES.RNN_TANH, gates: 1, tapeWidth: 1, hasCellState: false, separateRecurrentGrad: false },
  RNN_RELU: { mode: 'RNN_RELU', code: CELL_CODES.RNN_RELU, gates: 1, tapeWidth: 1, hasCellState: false, separateRecurrentGrad: false },
  LSTM: { mode: 'LSTM', code: CELL_CODES.LSTM, gates: 4, tapeWidth: 5, hasCellState: true, separateRecurrentGrad: false },
  GRU: { mode: 'GRU', code: CELL_CODES.GRU, gates: 3, tapeWidth: 4, hasCellState: false, separateRecurrentGrad: true },
};

/**
 * The table of recurrent cells: what the layer, planner and backward loop need to know about a
 * cell, so that none of them branches on the cell's kind or options. The kernels behind a cell
 * are chosen by its code (the sequence kernels switch on it once per step, never per element).
 *
 * PyTorch's cells have a row each (CELLS). A cell with variant options (ONNX's and Keras's:
 * activations, clip, peepholes, coupled input and forget gates, the GRU's reset before the
 * recurrent product) is the row of its kind's variant kernels plus its options record, which
 * the layer writes to the kernels' parameter block (writeCellParams). Options equal to
 * PyTorch's give PyTorch's row, so a default layer always runs the fast default kernels.
 */
import type { Arena } from '../../backend/arena.js';
import { ACT_CODES, CELL_CODES, CELL_PARAMS } from '../../backend/kernels.js';
import type { CellActivation, RNNMode } from './types.js';

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
  /**
   * Gate blocks whose recurrent input is h_{t−1}. The blocks after them (the GRU's n with the
   * reset before the product) take r ⊙ h_{t−1}: W_hh is packed in two pieces and backward keeps
   * r ⊙ h_{t−1} as a second history.
   */
  readonly hBlocks: number;
  /** Histories of the recurrent inputs kept for backward: 1 (h_{t−1}) or 2 (and r ⊙ h_{t−1}). */
  readonly histories: number;
  /** Scratch floats per batch row, in units of H (s = h·W_hhᵀ + b_hh, and r ⊙ h_{t−1}). */
  readonly scratchWidth: number;
  /** Whether each (layer, direction) has peephole weights weight_peephole_l{k} [3, H]. */
  readonly peepholes: boolean;
  /** The variant's options (the kernels' parameter block), or null for PyTorch's cells. */
  readonly variant: CellVariant | null;
  /** The option whose backward is not implemented (training refuses the layer), or null. */
  readonly untrainable: string | null;
}

/** A cell's variant options, resolved (defaults filled in). */
export interface CellVariant {
  readonly gate: CellActivation;
  readonly cell: CellActivation;
  readonly hidden: CellActivation;
  /** > 0, or null for none. */
  readonly clip: number | null;
  readonly peepholes: boolean;
  readonly inputForget: boolean;
  readonly resetAfter: boolean;
}

type Kind = 'RNN' | 'LSTM' | 'GRU';

const plain = { histories: 1, peepholes: false, variant: null, untrainable: null } as const;

export const CELLS: Readonly<Record<RNNMode, Cell>> = {
  RNN_TANH: { ...plain, mode: 'RNN_TANH', code: CELL_CODES.RNN_TANH, gates: 1, tapeWidth: 1, hasCellState: false, separateRecurrentGrad: false, hBlocks: 1, scratchWidth: 1 },
  RNN_RELU: { ...plain, mode: 'RNN_RELU', code: CELL_CODES.RNN_RELU, gates: 1, tapeWidth: 1, hasCellState: false, separateRecurrentGrad: false, hBlocks: 1, scratchWidth: 1 },
  LSTM: { ...plain, mode: 'LSTM', code: CELL_CODES.LSTM, gates: 4, tapeWidth: 5, hasCellState: true, separateRecurrentGrad: false, hBlocks: 4, scratchWidth: 4 },
  GRU: { ...plain, mode: 'GRU', code: CELL_CODES.GRU, gates: 3, tapeWidth: 4, hasCellState: false, separateRecurrentGrad: true, hBlocks: 3, scratchWidth: 3 },
};

/** The variant kernels' rows (cellFor adds the mode and the options). */
const VARIANT_ROWS = {
  RNN: { code: CELL_CODES.RNN_EX, gates: 1, tapeWidth: 1, hasCellState: false, separateRecurrentGrad: false, hBlocks: 1, histories: 1, scratchWidth: 1 },
  LSTM: { code: CELL_CODES.LSTM_EX, gates: 4, tapeWidth: 5, hasCellState: true, separateRecurrentGrad: false, hBlocks: 4, histories: 1, scratchWidth: 4 },
  GRU: { code: CELL_CODES.GRU_EX, gates: 3, tapeWidth: 4, hasCellState: false, separateRecurrentGrad: true, hBlocks: 3, histories: 1, scratchWidth: 3 },
  /** The reset before the product: n's recurrent input is r ⊙ h_{t−1} (tape r, z, n; dS = dG). */
  GRU_RESET_BEFORE: { code: CELL_CODES.GRU_EX, gates: 3, tapeWidth: 3, hasCellState: false, separateRecurrentGrad: false, hBlocks: 2, histories: 2, scratchWidth: 4 },
} as const;

/** PyTorch's activations of each kind (the RNN's hidden one comes from its nonlinearity). */
export const DEFAULT_ACTIVATIONS: Readonly<Record<Kind, { gate: CellActivation; cell: CellActivation; hidden: CellActivation }>> = {
  RNN: { gate: 'sigmoid', cell: 'tanh', hidden: 'tanh' },
  LSTM: { gate: 'sigmoid', cell: 'tanh', hidden: 'tanh' },
  GRU: { gate: 'sigmoid', cell: 'tanh', hidden: 'tanh' },
};

export function kindOf(mode: RNNMode): Kind {
  return mode === 'LSTM' ? 'LSTM' : mode === 'GRU' ? 'GRU' : 'RNN';
}

/** The cell for a kind and its options: PyTorch's row when they are PyTorch's, else a variant row. */
export function cellFor(mode: RNNMode, v: CellVariant): Cell {
  const kind = kindOf(mode);
  const d = DEFAULT_ACTIVATIONS[kind];
  const pytorch = v.clip === null && !v.peepholes && !v.inputForget && v.resetAfter &&
    (kind === 'RNN' ? v.hidden === 'tanh' || v.hidden === 'relu' : v.gate === d.gate && v.cell === d.cell && (kind === 'GRU' || v.hidden === d.hidden));
  // An RNN's mode names its activation as PyTorch does (relu, else tanh).
  const m: RNNMode = kind === 'RNN' ? (v.hidden === 'relu' ? 'RNN_RELU' : 'RNN_TANH') : mode;
  if (pytorch) return CELLS[m];
  const row = kind === 'GRU' && !v.resetAfter ? VARIANT_ROWS.GRU_RESET_BEFORE : VARIANT_ROWS[kind];
  return { ...row, mode: m, peepholes: v.peepholes, variant: v, untrainable: v.clip !== null ? 'clip' : null };
}

/**
 * Writes a variant cell's parameter block (CELL_PARAMS) at byte address `at` with the peephole
 * weights and their gradient at `peep` and `dPeep` (0: none); returns `at`, or 0 (no block) for
 * PyTorch's cells or when `at` is 0.
 */
export function writeCellParams(arena: Arena, at: number, cell: Cell, peep: number, dPeep: number): number {
  const v = cell.variant;
  if (at === 0 || v === null) return 0;
  const P = CELL_PARAMS, w = at >>> 2, i32 = arena.i32;
  i32[w + P.GATE] = ACT_CODES[v.gate];
  i32[w + P.CELL] = ACT_CODES[v.cell];
  i32[w + P.HIDDEN] = ACT_CODES[v.hidden];
  arena.f32[w + P.CLIP] = v.clip ?? 0;
  i32[w + P.FLAGS] = (v.peepholes ? P.PEEPHOLES : 0) | (v.inputForget ? P.INPUT_FORGET : 0) | (v.resetAfter ? 0 : P.RESET_BEFORE);
  i32[w + P.PEEP] = peep;
  i32[w + P.DPEEP] = dPeep;
  i32[w + 7] = 0;
  return at;
}

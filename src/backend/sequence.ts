/**
 * The recurrent time loop as a backend operation: one layer direction over a whole sequence,
 * input projection included. The backend decides how it runs — the one-thread `sequence`
 * kernel after one hoisted GEMM, or, on the threads build, the parallel kernels when the
 * per-step work is worth splitting — so layers never see thread pools or kernel ABIs.
 */
import type { Kernels } from './kernels.js';
import type { ThreadPool } from './threads.js';

/** One layer direction over T steps (byte addresses into the backend's memory; 0 = absent). */
export interface SequenceRun {
  /** Kernel cell code (CELL_CODES) and its gate count G. */
  cell: number;
  gates: number;
  T: number;
  B: number;
  H: number;
  /** Input features of this layer. */
  I: number;
  /** Run from t = T−1 down to 0 (the reverse direction). */
  reverse: boolean;
  /** x [T, B, I] time-major. */
  x: number;
  /** W_ih packed (packWeights) and b_ih (0: no bias). */
  wih: number;
  bih: number;
  /** [T, B, G·H]: receives x·W_ihᵀ + b_ih. */
  gx: number;
  /** State [B, H], initial in, final out (c only for the LSTM). */
  h: number;
  c: number;
  whh: number;
  bhh: number;
  /** [B, G·H] scratch. */
  scratch: number;
  /** Output rows: out + (t·B + b)·ldOut floats; 0: none. */
  out: number;
  ldOut: number;
  /** int32 [B] valid lengths, 0: every row runs all T steps. */
  lengths: number;
  /** Training: the tape [T, B, tapeWidth·H] and h history [T, B, H] (0 for inference). */
  tape: number;
  hist: number;
  /** The cell parameter block of a variant cell (kernels.ts CELL_PARAMS), 0 for PyTorch's cells. */
  params: number;
}

/** Recurrent multiply-adds per step below which a layer stays on one thread. */
let PARALLEL_MIN_MACS = 32768;

/** Internal (tests): the size threshold for the thread pool; returns the previous value. */
export function setParallelMinMacs(n: number): number {
  const prev = PARALLEL_MIN_MACS;
  PARALLEL_MIN_MACS = n;
  return prev;
}

/**
 * Runs one SequenceRun. Inference on a pool runs the parallel kernels when the per-step work
 * is at least PARALLEL_MIN_MACS (below that the two barriers per step cost more than the halved
 * product) and the pool is available (not closed by a failure, not paused by its
 * ContentionGuard); their bits equal the one-thread loop's. Training and the cell variants
 * (params ≠ 0: the threads' `seq` kernel runs PyTorch's cells only) run on the caller's thread.
 */
export function runSequence(ks: Kernels, pool: ThreadPool | undefined, r: SequenceRun): void {
  const GH = r.gates * r.H;
  const rev = r.reverse ? 1 : 0;
  if (pool && r.tape === 0 && r.params === 0 && r.B * GH * r.H >= PARALLEL_MIN_MACS && pool.available) {
    if (r.T === 1) {
      // A streaming step: the projection is fused into the step (one call, one dispatch).
      pool.run('seq', r.cell, 1, 0, r.h, r.c, r.out, r.ldOut, r.gx, r.whh, r.bhh, r.scratch, r.B, r.H, r.lengths, r.x, r.wih, r.bih, r.I);
    } else {
      pool.run('gemmPart', r.gx, r.x, r.wih, r.bih, r.T * r.B, GH, r.I);
      pool.run('seq', r.cell, r.T, rev, r.h, r.c, r.out, r.ldOut, r.gx, r.whh, r.bhh, r.scratch, r.B, r.H, r.lengths, 0, 0, 0, 0);
    }
    return;
  }
  ks.gemm(r.gx, r.x, r.wih, r.bih, r.T * r.B, GH, r.I);
  ks.sequence(r.cell, r.T, rev, r.h, r.c, r.out, r.ldOut, r.gx, r.whh, r.bhh, r.scratch, r.B, r.H, r.lengths, r.tape, r.hist, r.params);
}

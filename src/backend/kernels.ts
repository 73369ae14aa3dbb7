/**
 * The kernel contract shared by every backend.
 *
 * Every pointer is a byte offset into the backend's linear memory (float32 data is 4-byte
 * aligned; the arena hands out 64-byte aligned blocks). A pointer of 0 means "absent" (the
 * arena never hands out offset 0). Sizes are element counts. Kernels allocate nothing.
 *
 * Layout conventions (PyTorch's):
 * - A weight W is row-major [n, k] (`weight_ih_l0` is [G·H, I]).
 * - Packed weights are backend-private; their size is `packedSize(n, k)` floats.
 * - Recurrent gate rows are ordered LSTM i, f, g, o; GRU r, z, n; RNN has one block.
 *
 * Aliasing in the step kernels: hOut may equal hPrev and cOut may equal cPrev; out may equal
 * hOut. hOut is also used as a temporary, so it must not overlap gx, scratch or cPrev. After a
 * step, scratch holds s = hPrev·W_hhᵀ + b_hh (the backward pass may rely on it).
 */
export interface Kernels {
  /** Floats needed to hold W[n, k] in this backend's packed form (the Wasm builds: 16-row panels). */
  packedSize(n: number, k: number): number;
  /** Packs row-major W[n, k] at `w` into `dst` (packedSize(n, k) floats). */
  packWeights(dst: number, w: number, n: number, k: number): void;
  /**
   * C[m, n] = A[m, k] · Wᵀ (+ bias[n] when bias ≠ 0). A and C are row-major and contiguous
   * (row strides k and n); `wp` holds W[n, k] as packed by packWeights. C must not overlap A.
   */
  gemm(c: number, a: number, wp: number, bias: number, m: number, n: number, k: number): void;
  /**
   * One time step of an Elman RNN for a batch of B rows:
   *   s = hPrev · W_hhᵀ + b_hh            (s is `scratch`, [B, H])
   *   h = act(gx + s), act = relu ? relu : tanh
   * gx is [B, H] (the hoisted input projection x·W_ihᵀ + b_ih for this step).
   * Rows b with lengths ≠ 0 and t ≥ lengths[b] (int32) are inactive: hOut row = hPrev row,
   * out row = 0. Active rows write h to hOut and to out (row stride ldOut); out = 0 skips it.
   * hOut may equal hPrev.
   */
  rnnStep(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    relu: number, lengths: number, t: number,
  ): void;
  /**
   * One LSTM step: s = hPrev · W_hhᵀ + b_hh ([B, 4H] in scratch); a = gx + s;
   *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o);  c = f·cPrev + i·g;  h = o·tanh(c).
   * Inactive rows (see rnnStep) keep hPrev/cPrev and write 0 to out. hOut may equal hPrev and
   * cOut may equal cPrev.
   */
  lstmStep(
    hOut: number, cOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    cPrev: number, whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number,
  ): void;
  /**
   * One GRU step (PyTorch's formula): s = hPrev · W_hhᵀ + b_hh ([B, 3H] in scratch);
   *   r = σ(gx_r + s_r), z = σ(gx_z + s_z), n = tanh(gx_n + r·s_n), h = (1 − z)·n + z·hPrev.
   * Inactive rows as in rnnStep. hOut may equal hPrev.
   */
  gruStep(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number,
  ): void;
  /**
   * T steps of one recurrent layer direction: step i runs time t = reverse ? T−1−i : i with
   *   gx_t = gx + t·B·G·H floats, out_t = out + t·B·ldOut floats (out = 0: no output rows),
   * updating h [B, H] (and c for the LSTM) in place — exactly the cell's step kernel (cell:
   * CELL_CODES). With tape ≠ 0 (training) each step runs the *StepTrain kernel on
   * tape_t = tape + t·B·W floats (W = 1, 5, 4 times H for the RNN, LSTM and GRU: their *StepTrain tapes), first copies h_{t−1} to
   * hist + t·B·H floats, and (LSTM) writes the held c of inactive rows into their tape row, so
   * the tape always holds every row's c_t. s (scratch, [B, G·H]) as in the step kernels.
   *
   * The variant codes (RNN_EX, LSTM_EX, GRU_EX) run the *StepEx kernels with `params`, a cell
   * parameter block (CELL_PARAMS; 0 for the other codes), and their tapes (see the *StepEx
   * kernels). A GRU_EX with RESET_BEFORE needs scratch [B, 4H] and, in training, hist
   * [2, T, B, H]: h_{t−1} at hist + t·B·H floats, r_t ⊙ h_{t−1} at hist + (T + t)·B·H floats.
   */
  sequence(
    cell: number, T: number, reverse: number, h: number, c: number, out: number, ldOut: number,
    gx: number, whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, tape: number, hist: number, params: number,
  ): void;
  /**
   * The backward time loop of one layer direction recorded by `sequence` (tape, hist): for step
   * i = T−1 … 0 at time t (as in sequence), first dh += dY_t (dY_t = dY + t·B·ldY floats, a
   * [B, H] slice with row stride ldY; dY = 0: none), then the cell's *StepBackward kernel writes
   * dG_t = dG + t·B·G·H (and for the GRU dS_t = dS + t·B·G·H; other cells use dS = dG) and
   * updates dh (and dc), then dh += dS_t · W_hh with whhT = W_hhᵀ packed by packRows. On
   * return dh (and dc) hold the gradient w.r.t. the initial state. c0 is the LSTM's initial
   * c [B, H] (cPrev of the first step).
   *
   * Variant codes run the *StepBackwardEx kernels with `params` (its DPEEP slot: where the
   * peephole gradient [3, H] is accumulated). A GRU_EX with RESET_BEFORE takes dS = dG, uses dc
   * as [B, H] scratch, and whhT packed in two pieces (packRows of W_hh's rows [0, 2H), then of
   * rows [2H, 3H) at whhT + packedSize(H, 2H) floats).
   */
  sequenceBackward(
    cell: number, T: number, reverse: number, dG: number, dS: number, dh: number, dc: number,
    dY: number, ldY: number, tape: number, hist: number, c0: number, whhT: number,
    B: number, H: number, lengths: number, params: number,
  ): void;
  /** out[i, :] = table[ids[i], :] for i < n; ids are int32 and already validated. */
  embedding(out: number, table: number, ids: number, n: number, dim: number): void;
  /**
   * dst[i] = tanh(src[i]); dst may equal src. Test-only: it exposes the SIMD approximation the
   * fused step kernels inline, so the tests can check its documented error bound directly.
   */
  tanh(dst: number, src: number, n: number): void;
  /** dst[i] = 1 / (1 + exp(−src[i])); dst may equal src. Test-only, like tanh. */
  sigmoid(dst: number, src: number, n: number): void;

  // ------------------------------------------------------------------------------- training
  /**
   * General GEMM: C[m, n] (+)= A·Wᵀ (+ bias) where A's element (i, kk) is at byte
   * a + 4·(i·sAi + kk·sAk): sAi = k, sAk = 1 for a row-major A[m, k]; sAi = 1, sAk = m for Aᵀ
   * of an A stored [k, m]. `wp` is packed by packWeights (W[n, k]) or packRows (W = Bᵀ).
   * accumulate ≠ 0 adds the product (and bias) to C instead of overwriting it.
   */
  gemmEx(
    c: number, a: number, wp: number, bias: number, m: number, n: number, k: number,
    sAi: number, sAk: number, accumulate: number,
  ): void;
  /** Packs a row-major B[k, n] as W = Bᵀ [n, k] would be packed (packedSize(n, k) floats). */
  packRows(dst: number, b: number, k: number, n: number): void;
  /** dst[c, r] = src[r, c] for a row-major src[rows, cols] (dst must not overlap src). */
  transpose(dst: number, src: number, rows: number, cols: number): void;
  /** dst[j] (+)= Σ_i a[i, j] over a row-major a[m, n] (accumulate ≠ 0 adds). */
  colSum(dst: number, a: number, m: number, n: number, accumulate: number): void;
  /**
   * lstmStep that also records the tape for backward: tape is [B, 5H] for this step and
   * receives per row the activated gates i, f, g, o and the new cell state c. Rows that are
   * inactive leave their tape row unspecified.
   */
  lstmStepTrain(
    hOut: number, cOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    cPrev: number, whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number, tape: number,
  ): void;
  /** gruStep recording tape [B, 4H]: r, z, n and s_n = (hPrev·W_hnᵀ + b_hn) per row. */
  gruStepTrain(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number, tape: number,
  ): void;
  /** rnnStep recording tape [B, H]: the new h per row. */
  rnnStepTrain(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    relu: number, lengths: number, t: number, tape: number,
  ): void;
  /**
   * Backward of one LSTM step. In: dh [B, H] (total gradient w.r.t. this step's h), dc [B, H]
   * (gradient w.r.t. this step's c), the step's tape [B, 5H], cPrev (the previous cell state,
   * row stride ldcPrev floats). Out, for active rows: dG [B, 4H] = gradients w.r.t. the
   * pre-activations (i, f, g, o), dc ← dc·f (gradient w.r.t. cPrev), dh ← 0 (so that the caller
   * can accumulate dG·W_hh into it). Inactive rows: dG row ← 0, dh and dc unchanged (the state
   * passed through unchanged in forward).
   */
  lstmStepBackward(
    dG: number, dh: number, dc: number, tape: number, cPrev: number, ldcPrev: number,
    B: number, H: number, lengths: number, t: number,
  ): void;
  /**
   * Backward of one GRU step. In: dh [B, H], the tape [B, 4H] (r, z, n, s_n), hPrev [B, H].
   * Out, active rows: dGx [B, 3H] = gradients w.r.t. the input-side pre-activations
   * (a_r, a_z, gx_n), dS [B, 3H] = gradients w.r.t. s = hPrev·W_hhᵀ + b_hh (dS_r = dGx_r,
   * dS_z = dGx_z, dS_n = dGx_n·r), dh ← dh·z (the direct part of dhPrev). Inactive rows: dGx and
   * dS rows ← 0, dh unchanged.
   */
  gruStepBackward(
    dGx: number, dS: number, dh: number, tape: number, hPrev: number,
    B: number, H: number, lengths: number, t: number,
  ): void;
  /** Backward of one RNN step: active rows dG = dh·act'(h) (tape holds h), dh ← 0; inactive rows dG ← 0. */
  rnnStepBackward(
    dG: number, dh: number, tape: number, B: number, H: number, relu: number,
    lengths: number, t: number,
  ): void;
  // ------------------------------------------------------------------- cell variants
  /**
   * The variant cells read a parameter block at `params` (CELL_PARAMS: activation codes,
   * clip, flags, peephole weights). Every gate's pre-activation a (bias and peephole terms
   * included) is clipped to [−clip, clip] when clip > 0 (ONNX's cell clip as ONNX Runtime
   * applies it: the LSTM's c is not clipped before the output activation), then activated with
   * the block's function (ACT_CODES). The activated gates are left in `scratch`, not s.
   *
   * RNN: h = hidden(clip(gx + s)). Tape [B, H]: h. Otherwise as rnnStep.
   */
  rnnStepEx(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number, tape: number, params: number,
  ): void;
  /**
   * LSTM (rows i, f, g, o; p = peephole weights [3, H], rows i, f, o, or 0 without PEEPHOLES):
   *   i = gate(clip(a_i + p_i·cPrev)), f = INPUT_FORGET ? 1 − i : gate(clip(a_f + p_f·cPrev)),
   *   g = cell(clip(a_g)), c = f·cPrev + i·g, o = gate(clip(a_o + p_o·c)), h = o·hidden(c).
   * Tape [B, 5H]: i, f, g, o, c (as lstmStepTrain). Aliasing as in lstmStep.
   */
  lstmStepEx(
    hOut: number, cOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    cPrev: number, whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number, tape: number, params: number,
  ): void;
  /**
   * GRU (rows r, z, n): r = gate(clip(a_r)), z = gate(clip(a_z)), h = (1 − z)·n + z·hPrev with
   *   reset after (default): n = cell(clip(gx_n + r·s_n)); tape [B, 4H]: r, z, n, s_n;
   *   RESET_BEFORE: n = cell(clip(gx_n + (r ⊙ hPrev)·W_hnᵀ + b_hn)); tape [B, 3H]: r, z, n.
   * With RESET_BEFORE, whh holds W_hh packed in two pieces (rows [0, 2H), then rows [2H, 3H)
   * at whh + packedSize(2H, H) floats), scratch is [B, 4H], and r ⊙ hPrev [B, H] is written to
   * `rh` (zero rows for inactive rows); rh is unused otherwise. hOut may equal hPrev.
   */
  gruStepEx(
    hOut: number, out: number, ldOut: number, gx: number, hPrev: number,
    whh: number, bhh: number, scratch: number, B: number, H: number,
    lengths: number, t: number, tape: number, rh: number, params: number,
  ): void;
  /** Backward of rnnStepEx: active rows dG = dh·hidden'(h) (from the tape's h), dh ← 0. */
  rnnStepBackwardEx(
    dG: number, dh: number, tape: number, B: number, H: number, lengths: number, t: number,
    params: number,
  ): void;
  /**
   * Backward of lstmStepEx (as lstmStepBackward, with the block's activations' derivatives
   * taken from their outputs, the peephole paths, and f = 1 − i with INPUT_FORGET: dG_f = 0).
   * With peepholes and DPEEP ≠ 0, the peephole gradient [3, H] at DPEEP is accumulated.
   */
  lstmStepBackwardEx(
    dG: number, dh: number, dc: number, tape: number, cPrev: number, ldcPrev: number,
    B: number, H: number, lengths: number, t: number, params: number,
  ): void;
  /**
   * Backward of gruStepEx. Reset after: as gruStepBackward. RESET_BEFORE: dGx = dS = (dA_r, dA_z,
   * dA_n), with d(r ⊙ hPrev) = dA_n · W_hn (whnT: W_hn packed by packRows) in drh [B, H];
   * dh ← dh·z + d(r ⊙ hPrev) ⊙ r (the caller adds (dA_r, dA_z) · W_h(r,z)).
   */
  gruStepBackwardEx(
    dGx: number, dS: number, dh: number, tape: number, hPrev: number, whnT: number, drh: number,
    B: number, H: number, lengths: number, t: number, params: number,
  ): void;
  /**
   * Softmax cross-entropy over logits [n, c] and int32 targets [n], fused with its gradient.
   * Per row (target ≠ ignoreIndex): lse = log Σ exp(x); loss[i] = (1 − ε)(lse − x_t) + ε(lse − mean(x));
   * grad[i, :] = gradScale · (softmax(x) − (1 − ε)·onehot(t) − ε/c). Ignored rows: loss 0, grad 0.
   * Returns the number of rows not ignored. grad may be 0 (loss only).
   */
  crossEntropy(
    loss: number, grad: number, logits: number, targets: number, n: number, c: number,
    ignoreIndex: number, smoothing: number, gradScale: number,
  ): number;
  /** Σ (p − y)² over n values (accumulated in float64); grad (if ≠ 0) = gradScale · 2(p − y). */
  mseSum(grad: number, pred: number, target: number, n: number, gradScale: number): number;
  /**
   * Σ max(x, 0) − x·y + log(1 + exp(−|x|)) over n logits (float64 accumulation);
   * grad (if ≠ 0) = gradScale · (σ(x) − y).
   */
  bceWithLogitsSum(grad: number, logits: number, target: number, n: number, gradScale: number): number;
  /**
   * PyTorch's SGD over n values: d = g + wd·p; with momentum: buf = first ? d : μ·buf + (1 − τ)·d,
   * d = nesterov ? d + μ·buf : buf; p −= lr·d. (g is not modified.)
   */
  sgdStep(
    p: number, g: number, buf: number, n: number, lr: number, momentum: number,
    dampening: number, weightDecay: number, nesterov: number, first: number,
  ): void;
  /**
   * PyTorch's Adam/AdamW over n values. decoupled = 0 (Adam): g' = g + wd·p; = 1 (AdamW):
   * p ← p·(1 − lr·wd), g' = g. m = β1·m + (1 − β1)·g'; v = β2·v + (1 − β2)·g'²;
   * p −= (lr / bc1) · m / (sqrt(v) / bc2sqrt + eps), with bc1 = 1 − β1^t, bc2sqrt = sqrt(1 − β2^t).
   */
  adamStep(
    p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, bc1: number, bc2sqrt: number, decoupled: number,
  ): void;
  /**
   * PyTorch's RMSprop: g' = g + wd·p; sq = α·sq + (1 − α)·g'²; if centered (gAvg ≠ 0):
   * gAvg = α·gAvg + (1 − α)·g', avg = sqrt(sq − gAvg²) + eps, else avg = sqrt(sq) + eps;
   * with momentum (buf ≠ 0): buf = μ·buf + g'/avg, p −= lr·buf; else p −= lr·g'/avg.
   */
  rmspropStep(
    p: number, g: number, sq: number, gAvg: number, buf: number, n: number, lr: number,
    alpha: number, eps: number, weightDecay: number, momentum: number,
  ): void;
  /** Σ x² over n values, accumulated in float64. */
  sumSquares(x: number, n: number): number;
  /** x ← x·s over n values. */
  scale(x: number, n: number, s: number): void;
  /** x ← min(max(x, lo), hi) over n values. */
  clampValues(x: number, n: number, lo: number, hi: number): void;
  /** x ← x·y elementwise over n values (dropout masks). */
  mulInPlace(x: number, y: number, n: number): void;
}

/**
 * Cell codes of the sequence kernels (assembly/sequence.ts; assembly/threads.ts runs 0–3 only):
 * PyTorch's cells, then the variants that read a cell parameter block.
 */
export const CELL_CODES = { RNN_TANH: 0, RNN_RELU: 1, LSTM: 2, GRU: 3, RNN_EX: 4, LSTM_EX: 5, GRU_EX: 6 } as const;

/** Activation codes in a cell parameter block (assembly/activations.ts). */
export const ACT_CODES = { sigmoid: 0, tanh: 1, relu: 2, hardSigmoid: 3 } as const;

/**
 * The cell parameter block of the variant kernels: 8 four-byte words at a 4-byte aligned
 * address. GATE, CELL, HIDDEN: activation codes (ACT_CODES) of the gates (LSTM i, f, o; GRU r,
 * z), of the candidate (LSTM g, GRU n) and of the RNN's h or the LSTM's output (applied to c).
 * CLIP: float32, > 0 clips every pre-activation to [−CLIP, CLIP], 0 = none. FLAGS: PEEPHOLES,
 * INPUT_FORGET (LSTM), RESET_BEFORE (GRU: the reset gate before the recurrent product).
 * PEEP: byte address of the LSTM peephole weights [3, H] (rows i, f, o); DPEEP: of their
 * gradient, accumulated by the backward kernels (0: none).
 */
export const CELL_PARAMS = {
  words: 8, GATE: 0, CELL: 1, HIDDEN: 2, CLIP: 3, FLAGS: 4, PEEP: 5, DPEEP: 6,
  PEEPHOLES: 1, INPUT_FORGET: 2, RESET_BEFORE: 4,
} as const;

/** Every kernel a Wasm module exports and the JS backend implements: exactly the keys of Kernels. */
export const KERNEL_NAMES = [
  'packedSize', 'packWeights', 'gemm', 'rnnStep', 'lstmStep', 'gruStep', 'sequence', 'sequenceBackward',
  'embedding', 'tanh', 'sigmoid',
  'gemmEx', 'packRows', 'transpose', 'colSum', 'lstmStepTrain', 'gruStepTrain', 'rnnStepTrain',
  'lstmStepBackward', 'gruStepBackward', 'rnnStepBackward',
  'rnnStepEx', 'lstmStepEx', 'gruStepEx', 'rnnStepBackwardEx', 'lstmStepBackwardEx', 'gruStepBackwardEx',
  'crossEntropy', 'mseSum', 'bceWithLogitsSum', 'sgdStep', 'adamStep', 'rmspropStep',
  'sumSquares', 'scale', 'clampValues', 'mulInPlace',
] as const satisfies ReadonlyArray<keyof Kernels>;

/** Compile-time check of the other direction: every key of Kernels is in KERNEL_NAMES. */
type Unlisted = Exclude<keyof Kernels, (typeof KERNEL_NAMES)[number]>;
export const KERNELS_ALL_LISTED: [Unlisted] extends [never] ? true : Unlisted = true;

/** Exports of the Wasm modules that are not kernels: the static-data end and the threads' kernels. */
export const NON_KERNEL_EXPORTS = ['heapBase', 'gemmPart', 'seq'] as const;

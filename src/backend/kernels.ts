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
  /** Floats needed to hold W[n, k] in this backend's packed form. */
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
  /** out[i, :] = table[ids[i], :] for i < n; ids are int32 and already validated. */
  embedding(out: number, table: number, ids: number, n: number, dim: number): void;
  /** x[i, j] += bias[j] for an [m, n] row-major x. */
  addBias(x: number, bias: number, m: number, n: number): void;
  /** dst[i] = tanh(src[i]); dst may equal src. */
  tanh(dst: number, src: number, n: number): void;
  /** dst[i] = 1 / (1 + exp(−src[i])); dst may equal src. */
  sigmoid(dst: number, src: number, n: number): void;
}

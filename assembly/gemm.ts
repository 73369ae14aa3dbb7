/**
 * GEMM C[m, n] = A[m, k] · Wᵀ (+ bias) on W packed in panels of 16 rows:
 *   packed[p][kk][r] = W[p·16 + r][kk]  (r < 16, zero for rows ≥ n), i.e. ceil(n/16)·16·k floats.
 *
 * SIMD: pairs of A rows use a 2×16 register tile (8 f32x4 accumulators, 4 B vectors, 2 splats);
 * a single (or the last odd) row uses a 1×16 tile with the k loop unrolled by 2 into two
 * accumulator sets (8 independent chains, summed at the end) — the batch-1 matvec is bandwidth
 * bound and this hides the add latency. Every tile has 8 independent accumulator chains.
 *
 * Multiply-add: every tile accumulates through `madd4` — mul + add (two roundings) in the simd
 * build, `f32x4.relaxed_madd` (FMA where the host has it: one rounding, one register fewer) in
 * the relaxed build (build/wasm-rnn.relaxed.wasm, `--enable relaxed-simd`). The relaxed build
 * is therefore NOT bit-identical to the simd/scalar builds (and may even differ between hosts
 * with and without FMA hardware); it stays within the same float32 error bound. Its summation
 * order is the same as the simd build's, so gemm/gemmEx/gemmT agree with each other within it.
 *
 * Scalar: the same tiles split into column quads, summing in exactly the same order as the SIMD
 * lanes, so the simd and scalar builds give bit-identical results.
 *
 * Loop order: panel outer, rows inner, so a panel (64·k bytes) stays in L1/L2 while A streams.
 *
 * Note: an odd last row is summed even/odd-split (1×16 tile), the other rows sequentially (2×16
 * tile), so a row's result can differ in the last bits depending on its position in the batch
 * (both are within the same float32 error bound).
 */

/** Rows per packed panel of W (the register tile's width). */
// @ts-ignore: decorator
@inline export const PANEL: i32 = 16;

/** Floats that W[n, k] takes once packed: ceil(n/16)·16·k (TypeScript plans buffers with it). */
export function packedSize(n: i32, k: i32): i32 {
  return (n + PANEL - 1) / PANEL * PANEL * k;
}

/** Packs row-major W[n, k] at `w` into 16-row panels at `dst` (ceil(n/16)·16·k floats). */
export function packWeights(dst: usize, w: usize, n: i32, k: i32): void {
  const panels = (n + PANEL - 1) / PANEL;
  const rowBytes = <usize>k << 2;
  for (let p = 0; p < panels; p++) {
    const pd = dst + (<usize>p * <usize>k << 6);
    for (let r = 0; r < PANEL; r++) {
      const row = p * PANEL + r;
      let d = pd + (<usize>r << 2);
      if (row < n) {
        let s = w + <usize>row * rowBytes;
        const end = s + rowBytes;
        while (s < end) {
          store<f32>(d, load<f32>(s));
          s += 4;
          d += 64;
        }
      } else {
        for (let kk = 0; kk < k; kk++) {
          store<f32>(d, 0);
          d += 64;
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------ SIMD helpers

/**
 * c + a·b per lane: the ONE place that chooses FMA. ASC_FEATURE_RELAXED_SIMD is a compile-time
 * constant, so the simd build compiles exactly `f32x4.add(c, f32x4.mul(a, b))` (the code it had
 * before the relaxed build existed) and never sees the relaxed instruction.
 */
// @ts-ignore: decorator
@inline function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * Stores `cnt` (≤ 0: none, ≥ 4: all) lanes of v (+ bias) at c; with `acc` the old C is added
 * last: c ← c + (v + bias).
 */
// @ts-ignore: decorator
@inline function storeVec(c: usize, v: v128, hasBias: bool, bias: usize, cnt: i32, acc: bool): void {
  if (cnt >= 4) {
    if (hasBias) v = f32x4.add(v, v128.load(bias));
    if (acc) v = f32x4.add(v128.load(c), v);
    v128.store(c, v);
  } else if (cnt > 0) {
    let x0 = f32x4.extract_lane(v, 0);
    if (hasBias) x0 += load<f32>(bias);
    if (acc) x0 = load<f32>(c) + x0;
    store<f32>(c, x0);
    if (cnt > 1) {
      let x1 = f32x4.extract_lane(v, 1);
      if (hasBias) x1 += load<f32>(bias, 4);
      if (acc) x1 = load<f32>(c, 4) + x1;
      store<f32>(c, x1, 4);
      if (cnt > 2) {
        let x2 = f32x4.extract_lane(v, 2);
        if (hasBias) x2 += load<f32>(bias, 8);
        if (acc) x2 = load<f32>(c, 8) + x2;
        store<f32>(c, x2, 8);
      }
    }
  }
}

/** Stores a 1×16 row segment with nn ≤ 16 valid columns. */
// @ts-ignore: decorator
@inline function store16(
  c: usize, v0: v128, v1: v128, v2: v128, v3: v128, hasBias: bool, bias: usize, nn: i32,
  acc: bool,
): void {
  if (nn == 16) {
    if (hasBias) {
      v0 = f32x4.add(v0, v128.load(bias));
      v1 = f32x4.add(v1, v128.load(bias, 16));
      v2 = f32x4.add(v2, v128.load(bias, 32));
      v3 = f32x4.add(v3, v128.load(bias, 48));
    }
    if (acc) {
      v0 = f32x4.add(v128.load(c), v0);
      v1 = f32x4.add(v128.load(c, 16), v1);
      v2 = f32x4.add(v128.load(c, 32), v2);
      v3 = f32x4.add(v128.load(c, 48), v3);
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
    v128.store(c, v2, 32);
    v128.store(c, v3, 48);
  } else {
    storeVec(c, v0, hasBias, bias, nn, acc);
    storeVec(c + 16, v1, hasBias, bias + 16, nn - 4, acc);
    storeVec(c + 32, v2, hasBias, bias + 32, nn - 8, acc);
    storeVec(c + 48, v3, hasBias, bias + 48, nn - 12, acc);
  }
}

/**
 * Two rows of A (a, a + lda) times one panel w → C rows c, c + ldc (nn valid columns). A's
 * element kk of a row is `sa` bytes after element kk − 1 (4 for row-major A).
 */
// @ts-ignore: decorator
@inline function tile2x16(
  c: usize, ldc: usize, a: usize, lda: usize, sa: usize, w: usize, k: i32,
  hasBias: bool, bias: usize, nn: i32, acc: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  let pa = a;
  const end = a + <usize>k * sa;
  let pw = w;
  while (pa < end) {
    const x0 = v128.load32_splat(pa);
    const x1 = v128.load32_splat(pa + lda);
    const b0 = v128.load(pw);
    const b1 = v128.load(pw, 16);
    const b2 = v128.load(pw, 32);
    const b3 = v128.load(pw, 48);
    c00 = madd4(x0, b0, c00);
    c01 = madd4(x0, b1, c01);
    c02 = madd4(x0, b2, c02);
    c03 = madd4(x0, b3, c03);
    c10 = madd4(x1, b0, c10);
    c11 = madd4(x1, b1, c11);
    c12 = madd4(x1, b2, c12);
    c13 = madd4(x1, b3, c13);
    pa += sa;
    pw += 64;
  }
  store16(c, c00, c01, c02, c03, hasBias, bias, nn, acc);
  store16(c + ldc, c10, c11, c12, c13, hasBias, bias, nn, acc);
}

/**
 * One row of A times one panel (matvec): even kk accumulate into s0..s3, odd kk into t0..t3
 * (8 independent chains), summed at the end. The loop exits between the two halves: that keeps
 * V8 from hoisting all eight B loads of an unrolled iteration above the first half (which would
 * need 18 xmm registers and spill accumulators to the stack), and handles odd k for free.
 */
// @ts-ignore: decorator
@inline function tile1x16(
  c: usize, a: usize, sa: usize, w: usize, k: i32, hasBias: bool, bias: usize, nn: i32,
  acc: bool,
): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  let pa = a;
  const end = a + <usize>k * sa;
  let pw = w;
  if (k > 0) {
    while (true) {
      const x0 = v128.load32_splat(pa);
      s0 = madd4(x0, v128.load(pw), s0);
      s1 = madd4(x0, v128.load(pw, 16), s1);
      s2 = madd4(x0, v128.load(pw, 32), s2);
      s3 = madd4(x0, v128.load(pw, 48), s3);
      pa += sa;
      pw += 64;
      if (pa >= end) break;
      const x1 = v128.load32_splat(pa);
      t0 = madd4(x1, v128.load(pw), t0);
      t1 = madd4(x1, v128.load(pw, 16), t1);
      t2 = madd4(x1, v128.load(pw, 32), t2);
      t3 = madd4(x1, v128.load(pw, 48), t3);
      pa += sa;
      pw += 64;
      if (pa >= end) break;
    }
  }
  store16(
    c, f32x4.add(s0, t0), f32x4.add(s1, t1), f32x4.add(s2, t2), f32x4.add(s3, t3),
    hasBias, bias, nn, acc,
  );
}

// ---------------------------------------------------------------------------- scalar helpers

/** Stores `cnt` (≤ 0: none, ≥ 4: all) of the four values (+ bias) at c. */
// @ts-ignore: decorator
@inline function store4s(
  c: usize, v0: f32, v1: f32, v2: f32, v3: f32, hasBias: bool, bias: usize, cnt: i32,
  acc: bool,
): void {
  if (cnt <= 0) return;
  if (hasBias) v0 += load<f32>(bias);
  if (acc) v0 = load<f32>(c) + v0;
  store<f32>(c, v0);
  if (cnt > 1) {
    if (hasBias) v1 += load<f32>(bias, 4);
    if (acc) v1 = load<f32>(c, 4) + v1;
    store<f32>(c, v1, 4);
    if (cnt > 2) {
      if (hasBias) v2 += load<f32>(bias, 8);
      if (acc) v2 = load<f32>(c, 8) + v2;
      store<f32>(c, v2, 8);
      if (cnt > 3) {
        if (hasBias) v3 += load<f32>(bias, 12);
        if (acc) v3 = load<f32>(c, 12) + v3;
        store<f32>(c, v3, 12);
      }
    }
  }
}

/** Scalar 2×16 tile: four column quads of 2×4 accumulators (same order as the SIMD lanes). */
// @ts-ignore: decorator
@inline function tile2x16s(
  c: usize, ldc: usize, a: usize, lda: usize, sa: usize, w: usize, k: i32,
  hasBias: bool, bias: usize, nn: i32, acc: bool,
): void {
  const end = a + <usize>k * sa;
  for (let q = 0; q < nn; q += 4) {
    let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
    let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
    let pa = a;
    let pw = w + (<usize>q << 2);
    while (pa < end) {
      const x0 = load<f32>(pa);
      const x1 = load<f32>(pa + lda);
      const b0 = load<f32>(pw);
      const b1 = load<f32>(pw, 4);
      const b2 = load<f32>(pw, 8);
      const b3 = load<f32>(pw, 12);
      c00 += x0 * b0;
      c01 += x0 * b1;
      c02 += x0 * b2;
      c03 += x0 * b3;
      c10 += x1 * b0;
      c11 += x1 * b1;
      c12 += x1 * b2;
      c13 += x1 * b3;
      pa += sa;
      pw += 64;
    }
    const off = <usize>q << 2;
    store4s(c + off, c00, c01, c02, c03, hasBias, bias + off, nn - q, acc);
    store4s(c + ldc + off, c10, c11, c12, c13, hasBias, bias + off, nn - q, acc);
  }
}

/** Scalar matvec tile: per column quad, even/odd kk split exactly as in the SIMD version. */
// @ts-ignore: decorator
@inline function tile1x16s(
  c: usize, a: usize, sa: usize, w: usize, k: i32, hasBias: bool, bias: usize, nn: i32,
  acc: bool,
): void {
  const end = a + <usize>k * sa;
  for (let q = 0; q < nn; q += 4) {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    let pa = a;
    let pw = w + (<usize>q << 2);
    if (k > 0) {
      while (true) {
        const x0 = load<f32>(pa);
        s0 += x0 * load<f32>(pw);
        s1 += x0 * load<f32>(pw, 4);
        s2 += x0 * load<f32>(pw, 8);
        s3 += x0 * load<f32>(pw, 12);
        pa += sa;
        pw += 64;
        if (pa >= end) break;
        const x1 = load<f32>(pa);
        t0 += x1 * load<f32>(pw);
        t1 += x1 * load<f32>(pw, 4);
        t2 += x1 * load<f32>(pw, 8);
        t3 += x1 * load<f32>(pw, 12);
        pa += sa;
        pw += 64;
        if (pa >= end) break;
      }
    }
    const off = <usize>q << 2;
    store4s(c + off, s0 + t0, s1 + t1, s2 + t2, s3 + t3, hasBias, bias + off, nn - q, acc);
  }
}

/**
 * The shared GEMM driver: C[m, n] (+)= A·Wᵀ (+ bias) with A's element (i, kk) at
 * a + i·lda + kk·sa bytes. Inlined into `gemm` with the constants sa = 4, acc = false (so the
 * inference GEMM compiles to exactly the code it had) and into `gemmEx` with runtime values.
 */
// @ts-ignore: decorator
@inline function gemmDriver(
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: usize, sa: usize, acc: bool,
): void {
  gemmPanels(c, a, wp, bias, m, n, k, lda, sa, acc, 0, (n + PANEL - 1) / PANEL);
}

/**
 * gemmDriver restricted to the panels [p0, p1) — the output columns [16·p0, min(16·p1, n)).
 * Each column is computed exactly as by the full GEMM, so splitting the panels between threads
 * gives the bits of the one-thread GEMM.
 */
// @ts-ignore: decorator
@inline export function gemmPanels(
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32,
  lda: usize, sa: usize, acc: bool, p0: i32, p1: i32,
): void {
  const hasBias = bias != 0;
  const ldc = <usize>n << 2;
  const panelBytes = <usize>k << 6;
  const m2 = m & ~1;
  for (let p = p0; p < p1; p++) {
    const w = wp + <usize>p * panelBytes;
    const col = <usize>p << 6;
    const nn = min(PANEL, n - p * PANEL);
    const bp = bias + col;
    let cr = c + col;
    let ar = a;
    if (ASC_FEATURE_SIMD) {
      for (let i = 0; i < m2; i += 2) {
        tile2x16(cr, ldc, ar, lda, sa, w, k, hasBias, bp, nn, acc);
        cr += ldc << 1;
        ar += lda << 1;
      }
      if (m & 1) tile1x16(cr, ar, sa, w, k, hasBias, bp, nn, acc);
    } else {
      for (let i = 0; i < m2; i += 2) {
        tile2x16s(cr, ldc, ar, lda, sa, w, k, hasBias, bp, nn, acc);
        cr += ldc << 1;
        ar += lda << 1;
      }
      if (m & 1) tile1x16s(cr, ar, sa, w, k, hasBias, bp, nn, acc);
    }
  }
}

/** C[m, n] = A[m, k] · Wᵀ (+ bias[n] when bias ≠ 0); wp = packed W. C must not overlap A. */
export function gemm(c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32): void {
  if (m <= 0 || n <= 0) return;
  gemmDriver(c, a, wp, bias, m, n, k, <usize>k << 2, 4, false);
}

/**
 * General GEMM: C[m, n] (+)= A·Wᵀ (+ bias) with A's element (i, kk) at a + 4·(i·sAi + kk·sAk)
 * (row-major A: sAi = k, sAk = 1; Aᵀ of an A stored [k, m]: sAi = 1, sAk = m); wp is packed by
 * packWeights or packRows. accumulate ≠ 0: C ← C + (A·Wᵀ + bias). C must not overlap A.
 * For a given A row the sum runs in the same order as in `gemm`, so gemmEx with sAi = k,
 * sAk = 1, accumulate = 0 gives the bits of gemm.
 */
export function gemmEx(
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32,
  sAi: i32, sAk: i32, accumulate: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const acc = accumulate != 0;
  if (ASC_FEATURE_SIMD && sAi == 1 && sAk >= 8 && m >= 8) {
    gemmT(c, a, wp, bias, m, n, k, <usize>sAk << 2, acc);
  } else if (sAk == 1 && sAi >= 0) {
    gemmDriver(c, a, wp, bias, m, n, k, <usize>sAi << 2, 4, acc);
  } else if (sAk > 0 && sAi >= 0) {
    gemmDriver(c, a, wp, bias, m, n, k, <usize>sAi << 2, <usize>sAk << 2, acc);
  } else {
    gemmGeneric(c, a, wp, bias, m, n, k, sAi, sAk, acc);
  }
}

/**
 * Transposed A (sAi = 1): rows i..i+7 of A at one kk are 8 contiguous floats, so the tile is
 * 8 rows × 4 columns with A loaded as two vectors and W splatted from the panel (8 accumulators,
 * each a column of C over 4 rows), transposed in registers on store. Each C element is a plain
 * sequential sum over kk (as in the 2×16 tile); rows beyond the last multiple of 8 go through
 * the general driver. SIMD only: the scalar build runs the general driver on all rows, which
 * sums every row sequentially too except an odd last row (even/odd split) — the same row that
 * lands in gemmT's driver tail — so the builds agree bit for bit.
 */
function gemmT(
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32, sa: usize, acc: bool,
): void {
  const hasBias = bias != 0;
  const ldc = <usize>n << 2;
  const panelBytes = <usize>k << 6;
  const panels = (n + PANEL - 1) / PANEL;
  const m8 = m & ~7;
  for (let p = 0; p < panels; p++) {
    const w = wp + <usize>p * panelBytes;
    const col = <usize>p << 6;
    const nn = min(PANEL, n - p * PANEL);
    for (let i = 0; i < m8; i += 8) {
      const ai = a + (<usize>i << 2);
      const ci = c + <usize>i * ldc + col;
      for (let q = 0; q < nn; q += 4) {
        const qb = <usize>q << 2;
        tile8x4T(ci + qb, ldc, ai, sa, w + qb, k, hasBias, bias + col + qb, nn - q, acc);
      }
    }
  }
  if (m8 < m) {
    gemmDriver(c + <usize>m8 * ldc, a + (<usize>m8 << 2), wp, bias, m - m8, n, k, 4, sa, acc);
  }
}

/** Transposes X0..X3 (columns of a 4×4 block) and stores the 4 rows at c, c + ldc, … */
// @ts-ignore: decorator
@inline function storeT4(
  c: usize, ldc: usize, x0: v128, x1: v128, x2: v128, x3: v128,
  hasBias: bool, bias: usize, cnt: i32, acc: bool,
): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  storeVec(c, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), hasBias, bias, cnt, acc);
  storeVec(c + ldc, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), hasBias, bias, cnt, acc);
  storeVec(c + (ldc << 1), v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), hasBias, bias, cnt, acc);
  storeVec(c + ldc * 3, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), hasBias, bias, cnt, acc);
}

// @ts-ignore: decorator
@inline function tile8x4T(
  c: usize, ldc: usize, a: usize, sa: usize, w: usize, k: i32,
  hasBias: bool, bias: usize, cnt: i32, acc: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  let pa = a;
  const end = a + <usize>k * sa;
  let pw = w;
  while (pa < end) {
    const a0 = v128.load(pa);
    const a1 = v128.load(pa, 16);
    let x = v128.load32_splat(pw);
    c00 = madd4(a0, x, c00);
    c10 = madd4(a1, x, c10);
    x = v128.load32_splat(pw, 4);
    c01 = madd4(a0, x, c01);
    c11 = madd4(a1, x, c11);
    x = v128.load32_splat(pw, 8);
    c02 = madd4(a0, x, c02);
    c12 = madd4(a1, x, c12);
    x = v128.load32_splat(pw, 12);
    c03 = madd4(a0, x, c03);
    c13 = madd4(a1, x, c13);
    pa += sa;
    pw += 64;
  }
  storeT4(c, ldc, c00, c01, c02, c03, hasBias, bias, cnt, acc);
  storeT4(c + (ldc << 2), ldc, c10, c11, c12, c13, hasBias, bias, cnt, acc);
}

/** Plain scalar fallback for strides the tiles do not walk (zero or negative sAk, negative sAi). */
function gemmGeneric(
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32,
  sAi: i32, sAk: i32, acc: bool,
): void {
  for (let i = 0; i < m; i++) {
    const ai = a + (<usize>(<isize>i * <isize>sAi) << 2);
    const ci = c + (<usize>i * <usize>n << 2);
    for (let j = 0; j < n; j++) {
      const w = wp + ((<usize>(j >> 4) * <usize>k << 6) + (<usize>(j & 15) << 2));
      let s: f32 = 0;
      for (let kk = 0; kk < k; kk++) {
        s += load<f32>(ai + (<usize>(<isize>kk * <isize>sAk) << 2)) * load<f32>(w + (<usize>kk << 6));
      }
      if (bias != 0) s += load<f32>(bias + (<usize>j << 2));
      const cj = ci + (<usize>j << 2);
      if (acc) s = load<f32>(cj) + s;
      store<f32>(cj, s);
    }
  }
}

/**
 * Packs a row-major B[k, n] as W = Bᵀ [n, k] would be packed by packWeights:
 *   packed[p][kk][r] = B[kk][p·16 + r] (zero for columns ≥ n) — 16 contiguous floats per (p, kk).
 */
export function packRows(dst: usize, b: usize, k: i32, n: i32): void {
  const panels = (n + PANEL - 1) / PANEL;
  const rowBytes = <usize>n << 2;
  for (let p = 0; p < panels; p++) {
    const nn = min(PANEL, n - p * PANEL);
    let d = dst + (<usize>p * <usize>k << 6);
    let s = b + (<usize>p << 6);
    if (nn == PANEL) {
      for (let kk = 0; kk < k; kk++) {
        if (ASC_FEATURE_SIMD) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          v128.store(d, v128.load(s, 32), 32);
          v128.store(d, v128.load(s, 48), 48);
        } else {
          memory.copy(d, s, 64);
        }
        d += 64;
        s += rowBytes;
      }
    } else {
      const used = <usize>nn << 2;
      for (let kk = 0; kk < k; kk++) {
        memory.copy(d, s, used);
        memory.fill(d + used, 0, 64 - used);
        d += 64;
        s += rowBytes;
      }
    }
  }
}

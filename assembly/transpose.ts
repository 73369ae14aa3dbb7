/**
 * dst[c, r] = src[r, c]. Used to turn dG[T·B, G·H] into dGᵀ so the weight-gradient GEMMs run on
 * the fast row-major path (a transposed-A GEMM reads A with a large stride and runs at a third
 * of the speed). SIMD: 4 × 4 blocks transposed in registers with two rounds of shuffles; the
 * ragged edges (rows or cols not multiples of 4) are copied one element at a time.
 */
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2, colBytes = <usize>rows << 2;
  let r4 = 0, c4 = 0;
  if (ASC_FEATURE_SIMD) {
    r4 = rows & ~3;
    c4 = cols & ~3;
    for (let r = 0; r < r4; r += 4) {
      const s = src + <usize>r * rowBytes;
      const d = dst + (<usize>r << 2);
      for (let c = 0; c < c4; c += 4) {
        const sc = s + (<usize>c << 2);
        const x0 = v128.load(sc), x1 = v128.load(sc + rowBytes);
        const x2 = v128.load(sc + 2 * rowBytes), x3 = v128.load(sc + 3 * rowBytes);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const dc = d + <usize>c * colBytes;
        v128.store(dc, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(dc + colBytes, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
        v128.store(dc + 2 * colBytes, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(dc + 3 * colBytes, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      }
    }
  }
  // Scalar: everything without SIMD; with SIMD, the right edge of the 4-row blocks and the bottom rows.
  for (let r = 0; r < rows; r++) {
    const c0 = r < r4 ? c4 : 0;
    let s = src + <usize>r * rowBytes + (<usize>c0 << 2);
    let d = dst + <usize>c0 * colBytes + (<usize>r << 2);
    for (let c = c0; c < cols; c++) {
      store<f32>(d, load<f32>(s));
      s += 4;
      d += colBytes;
    }
  }
}

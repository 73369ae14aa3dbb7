/**
 * dst[c, r] = src[r, c]. Blocks of 8 × 8 keep both the rows read and the rows written in L1.
 * Used to turn dG[T·B, G·H] into dGᵀ so the weight-gradient GEMMs run on the fast row-major
 * path (a transposed-A GEMM reads A with a large stride and runs at a third of the speed).
 */
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2, colBytes = <usize>rows << 2;
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = min(r0 + 8, rows);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = min(c0 + 8, cols);
      for (let r = r0; r < r1; r++) {
        let s = src + <usize>r * rowBytes + (<usize>c0 << 2);
        let d = dst + <usize>c0 * colBytes + (<usize>r << 2);
        for (let c = c0; c < c1; c++) {
          store<f32>(d, load<f32>(s));
          s += 4;
          d += colBytes;
        }
      }
    }
  }
}

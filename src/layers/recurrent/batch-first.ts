/** Batch-first ↔ time-major copies at the layer boundary (the kernels run time-major). */

/** [B, T, F] (src) → [T, B, F] at dst[at…]. */
export function transposeBT(src: Float32Array, dst: Float32Array, at: number, B: number, T: number, F: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = (b * T + t) * F, d = at + (t * B + b) * F;
      for (let i = 0; i < F; i++) dst[d + i] = src[s + i];
    }
  }
}

/** [T, B, F] at src[at…] → [B, T, F] (dst). */
export function transposeTB(src: Float32Array, at: number, dst: Float32Array, B: number, T: number, F: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = at + (t * B + b) * F, d = (b * T + t) * F;
      for (let i = 0; i < F; i++) dst[d + i] = src[s + i];
    }
  }
}

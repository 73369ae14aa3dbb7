/**
 * Elementwise helpers over one row of n floats, shared by the step kernels and the time loops
 * (SIMD lanes, then a scalar tail doing the same float32 operation per element), and the row
 * bookkeeping of packed-sequence lengths. All @inline: Node 20's V8 does not inline Wasm calls.
 */

/** Whether batch row b is past its length at time t (lengths = 0: every row runs all steps). */
// @ts-ignore: decorator
@inline export function inactive(lengths: usize, b: i32, t: i32): bool {
  return lengths != 0 && t >= load<i32>(lengths + (<usize>b << 2));
}

/** dst ← src (bytes) unless they are the same row (the step kernels' in-place state). */
// @ts-ignore: decorator
@inline export function keepRow(dst: usize, src: usize, bytes: usize): void {
  if (dst != src) memory.copy(dst, src, bytes);
}

/** d[j] += s[j] for j < n. */
// @ts-ignore: decorator
@inline export function addRow(d: usize, s: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(d + jb, f32x4.add(v128.load(d + jb), v128.load(s + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(d + jb, load<f32>(d + jb) + load<f32>(s + jb));
  }
}

/** d[j] = a[j] · b[j] for j < n. */
// @ts-ignore: decorator
@inline export function mulRow(d: usize, a: usize, b: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(d + jb, f32x4.mul(v128.load(a + jb), v128.load(b + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(d + jb, load<f32>(a + jb) * load<f32>(b + jb));
  }
}

/** d[j] += a[j] · b[j] for j < n. */
// @ts-ignore: decorator
@inline export function addMulRow(d: usize, a: usize, b: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(d + jb, f32x4.add(v128.load(d + jb), f32x4.mul(v128.load(a + jb), v128.load(b + jb))));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(d + jb, load<f32>(d + jb) + load<f32>(a + jb) * load<f32>(b + jb));
  }
}

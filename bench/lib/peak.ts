// The machine's Wasm SIMD mul+add ceiling: eight independent f32x4 accumulator chains, fed by four
// splats reloaded every iteration (so no multiply can be hoisted or merged) and two constants —
// ≤ 13 live vectors, under V8's 15 on x64. Built by `npm run bench` into build/peak.wasm; not shipped.
export function peakMulAdd(n: i32, buf: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  const c0 = f32x4.splat(1.0001), c1 = f32x4.splat(0.9999);
  for (let i = 0; i < n; i++) {
    const p = buf + (<usize>(i & 63) << 4);
    const x = v128.load32_splat(p), y = v128.load32_splat(p, 4);
    a0 = f32x4.add(a0, f32x4.mul(x, c0));
    a1 = f32x4.add(a1, f32x4.mul(x, c1));
    a2 = f32x4.add(a2, f32x4.mul(y, c0));
    a3 = f32x4.add(a3, f32x4.mul(y, c1));
    const z = v128.load32_splat(p, 8), w = v128.load32_splat(p, 12);
    a4 = f32x4.add(a4, f32x4.mul(z, c0));
    a5 = f32x4.add(a5, f32x4.mul(z, c1));
    a6 = f32x4.add(a6, f32x4.mul(w, c0));
    a7 = f32x4.add(a7, f32x4.mul(w, c1));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** An empty call, for the bare JS→Wasm call cost. */
export function nothing(): void {}

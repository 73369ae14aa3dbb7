// The machine's Wasm SIMD mul+add ceiling for the instruction mix a GEMM tile has: eight independent
// f32x4 accumulator chains, each fed per step by a splat and a vector load from L1-resident data
// (2 splats + 4 vector loads + 8 mul + 8 add), so nothing can be hoisted and memory is never the
// limit. A kernel's fraction of this says what its edges, cache misses and bookkeeping cost.
// Built by `npm run bench` into build/peak.wasm; not shipped.
export function peakMulAdd(reps: i32, buf: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    let pa = buf, pw = buf + 1024;
    const end = buf + 256;
    while (pa < end) {
      const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 512);
      const b0 = v128.load(pw), b1 = v128.load(pw, 16), b2 = v128.load(pw, 32), b3 = v128.load(pw, 48);
      a0 = f32x4.add(a0, f32x4.mul(x0, b0));
      a1 = f32x4.add(a1, f32x4.mul(x0, b1));
      a2 = f32x4.add(a2, f32x4.mul(x0, b2));
      a3 = f32x4.add(a3, f32x4.mul(x0, b3));
      a4 = f32x4.add(a4, f32x4.mul(x1, b0));
      a5 = f32x4.add(a5, f32x4.mul(x1, b1));
      a6 = f32x4.add(a6, f32x4.mul(x1, b2));
      a7 = f32x4.add(a7, f32x4.mul(x1, b3));
      pa += 4;
      pw += 64;
    }
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** An empty call, for the bare JS→Wasm call cost. */
export function nothing(): void {}

/**
 * SIMD (f32x4) and scalar approximations of tanh, exp and the logistic sigmoid.
 *
 * The scalar versions perform exactly the same float32 operations in the same order as the
 * SIMD versions, so the `wasm` (scalar) and `wasm-simd` builds give bit-identical results.
 * Clamps use pmin/pmax semantics (`b < a ? b : a`), which keep a NaN x as NaN.
 *
 * The SIMD constants are broadcast from a small read-only table in static data
 * (`v128.load32_splat` → one `vbroadcastss`): V8 (Node 20) rebuilds every `v128.const` inside
 * the loop with three instructions (movq r64, imm; vmovq; vpunpcklqdq), which made tanh ≈ 30 %
 * slower. The table is never written, so it is safe to share between threads.
 *
 * Measured max relative errors (float64 Math.tanh and 1/(1 + Math.exp(−x)) as reference):
 *   tanh     1.43e-7  exhaustive over every float32 in [0.25, 20] (odd function), plus a dense
 *                    grid over [−20, 20] and every 256th float32 bit pattern (≤ 1.34e-7 there);
 *                    tiny |x| returns x exactly, ±0 → ±0, |x| ≥ 9.1 → ±1 exactly, ±Inf → ±1.
 *   sigmoid  1.48e-7  exhaustive over every float32 in [−87, −0.5], and ≤ 1.47e-7 over every
 *                    256th float32 in [−87, 88]; x ≥ 17.4 → exactly 1; x < −87 → result below
 *                    1.7e-38 with absolute error < 1e-38.
 * test/kernels.test.ts asserts both at ≤ 2e-7 (ACT) on grids and special values.
 *
 * hardSigmoid(x) = min(max(0.2·x + 0.5, 0), 1) (ONNX's default HardSigmoid, TF.js's
 * hard_sigmoid) is a float32 multiply and add, then the clamps: correctly rounded twice.
 *
 * The cell variants choose an activation by code (ACT_* below, src/backend/kernels.ts
 * ACT_CODES) once per gate block: act1/act4 and actDerivMul1/4 take that code as a constant
 * (their callers are inlined with a literal code, so the choice folds away at compile time).
 */

// ---------------------------------------------------------------------------------------------
// exp(u), u clamped to [−87, 88]:
//   u = n·ln2 + r, n = round(u·log2 e) via the 1.5·2²³ trick (t = u·log2e + 1.5·2²³ rounds to an
//   integer, ties to even; n = t − 1.5·2²³; the low bits of t hold n), r = (u − n·C1) − n·C2
//   (C1 + C2 = ln 2, C1 exact in 9 bits so n·C1 and u − n·C1 are exact),
//   exp(r) ≈ 1 + r + r²·P(r) (Cephes expf, degree-5 P), 2ⁿ from exponent bits (bits(t) + 127) << 23
//   (n ∈ [−126, 127]: never overflows nor goes subnormal).
// sigmoid(x) = 1 / (1 + exp(−x)): large positive x → exp(−x) tiny → exactly 1.
// tanh (Cephes tanhf scheme, branch-free), on a = |x|:
//   a < 0.625:  a + a·s·T(s), s = a², T of degree 4 (Cephes minimax coefficients);
//   a ≥ 0.625:  1 − 2 / (exp(2a) + 1)  (exp clamps at 88, so huge/infinite a give exactly 1);
//   both are computed and selected, then x's sign bit is OR-ed in (±0 → ±0).
// (The cheaper Eigen-style rational p13/q6 clamped at ±7.9053 measured 3.9e-7: too inaccurate.)
// ---------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline const TANH_SPLIT: f32 = 0.625;
// @ts-ignore: decorator
@inline const T0: f32 = -5.70498872745e-3;
// @ts-ignore: decorator
@inline const T1: f32 = 2.06390887954e-2;
// @ts-ignore: decorator
@inline const T2: f32 = -5.37397155531e-2;
// @ts-ignore: decorator
@inline const T3: f32 = 1.33314422036e-1;
// @ts-ignore: decorator
@inline const T4: f32 = -3.33332819422e-1;
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.0;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.0;
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const ROUND: f32 = 12582912.0; // 1.5·2²³
// @ts-ignore: decorator
@inline const C1: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const C2: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const P0: f32 = 1.9875691500e-4;
// @ts-ignore: decorator
@inline const P1: f32 = 1.3981999507e-3;
// @ts-ignore: decorator
@inline const P2: f32 = 8.3334519073e-3;
// @ts-ignore: decorator
@inline const P3: f32 = 4.1665795894e-2;
// @ts-ignore: decorator
@inline const P4: f32 = 1.6666665459e-1;
// @ts-ignore: decorator
@inline const P5: f32 = 5.0000001201e-1;

// @ts-ignore: decorator
@inline const HS_ALPHA: f32 = 0.2;
// @ts-ignore: decorator
@inline const HS_BETA: f32 = 0.5;

/** Read-only constant table for the SIMD code (indices below). Keep in sync. */
const KTAB: usize = memory.data<f32>([
  TANH_SPLIT, T0, T1, T2, T3, T4,
  EXP_HI, EXP_LO, LOG2E, ROUND, C1, C2,
  P0, P1, P2, P3, P4, P5,
  1.0, 2.0, -0.0, 0.0, HS_ALPHA, HS_BETA,
], 16);
// @ts-ignore: decorator
@inline const K_SPLIT = 0;
// @ts-ignore: decorator
@inline const K_T0 = 1;
// @ts-ignore: decorator
@inline const K_T1 = 2;
// @ts-ignore: decorator
@inline const K_T2 = 3;
// @ts-ignore: decorator
@inline const K_T3 = 4;
// @ts-ignore: decorator
@inline const K_T4 = 5;
// @ts-ignore: decorator
@inline const K_HI = 6;
// @ts-ignore: decorator
@inline const K_LO = 7;
// @ts-ignore: decorator
@inline const K_LOG2E = 8;
// @ts-ignore: decorator
@inline const K_ROUND = 9;
// @ts-ignore: decorator
@inline const K_C1 = 10;
// @ts-ignore: decorator
@inline const K_C2 = 11;
// @ts-ignore: decorator
@inline const K_P0 = 12;
// @ts-ignore: decorator
@inline const K_P1 = 13;
// @ts-ignore: decorator
@inline const K_P2 = 14;
// @ts-ignore: decorator
@inline const K_P3 = 15;
// @ts-ignore: decorator
@inline const K_P4 = 16;
// @ts-ignore: decorator
@inline const K_P5 = 17;
// @ts-ignore: decorator
@inline const K_ONE = 18;
// @ts-ignore: decorator
@inline const K_TWO = 19;
// @ts-ignore: decorator
@inline const K_SIGN = 20;
// @ts-ignore: decorator
@inline const K_ZERO = 21;
// @ts-ignore: decorator
@inline const K_HS_A = 22;
// @ts-ignore: decorator
@inline const K_HS_B = 23;

/** Broadcast of table constant i. */
// @ts-ignore: decorator
@inline function kc(i: i32): v128 {
  return v128.load32_splat(KTAB + (<usize>i << 2));
}

// ------------------------------------------------------------------------------------ scalar

/** pmin semantics: b < a ? b : a. */
// @ts-ignore: decorator
@inline function pminf(a: f32, b: f32): f32 {
  return select<f32>(b, a, b < a);
}
/** pmax semantics: a < b ? b : a. */
// @ts-ignore: decorator
@inline function pmaxf(a: f32, b: f32): f32 {
  return select<f32>(b, a, a < b);
}

// @ts-ignore: decorator
@inline export function exp1(v: f32): f32 {
  const u = pmaxf(pminf(v, EXP_HI), EXP_LO);
  const t = u * LOG2E + ROUND;
  const n = t - ROUND;
  let r = u - n * C1;
  r = r - n * C2;
  const z = r * r;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  const y = (p * z + r) + <f32>1.0;
  const s = reinterpret<f32>((reinterpret<i32>(t) + 127) << 23);
  return y * s;
}

// @ts-ignore: decorator
@inline export function tanh1(x: f32): f32 {
  const a = Mathf.abs(x);
  const s = a * a;
  let p = T0 * s + T1;
  p = p * s + T2;
  p = p * s + T3;
  p = p * s + T4;
  const small = p * s * a + a;
  const big = <f32>1.0 - <f32>2.0 / (exp1(a + a) + <f32>1.0);
  return copysign<f32>(select<f32>(small, big, a < TANH_SPLIT), x);
}

// @ts-ignore: decorator
@inline export function sigmoid1(x: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + exp1(-x));
}

// @ts-ignore: decorator
@inline export function relu1(x: f32): f32 {
  return select<f32>(x, 0, x > 0);
}

// @ts-ignore: decorator
@inline export function hardSigmoid1(x: f32): f32 {
  return pmaxf(pminf(x * HS_ALPHA + HS_BETA, 1), 0);
}

/** x clamped to [lo, hi] (pmin/pmax semantics: NaN stays NaN; lo = −∞, hi = ∞ is the identity). */
// @ts-ignore: decorator
@inline export function clamp1(x: f32, lo: f32, hi: f32): f32 {
  return pmaxf(pminf(x, hi), lo);
}

// -------------------------------------------------------------------------------------- SIMD

// @ts-ignore: decorator
@inline export function exp4(v: v128): v128 {
  const u = f32x4.pmax(f32x4.pmin(v, kc(K_HI)), kc(K_LO));
  const t = f32x4.add(f32x4.mul(u, kc(K_LOG2E)), kc(K_ROUND));
  const n = f32x4.sub(t, kc(K_ROUND));
  let r = f32x4.sub(u, f32x4.mul(n, kc(K_C1)));
  r = f32x4.sub(r, f32x4.mul(n, kc(K_C2)));
  const z = f32x4.mul(r, r);
  let p = f32x4.add(f32x4.mul(kc(K_P0), r), kc(K_P1));
  p = f32x4.add(f32x4.mul(p, r), kc(K_P2));
  p = f32x4.add(f32x4.mul(p, r), kc(K_P3));
  p = f32x4.add(f32x4.mul(p, r), kc(K_P4));
  p = f32x4.add(f32x4.mul(p, r), kc(K_P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, z), r), kc(K_ONE));
  const s = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return f32x4.mul(y, s);
}

// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const sign = kc(K_SIGN);
  const a = v128.andnot(x, sign);
  const s = f32x4.mul(a, a);
  let p = f32x4.add(f32x4.mul(kc(K_T0), s), kc(K_T1));
  p = f32x4.add(f32x4.mul(p, s), kc(K_T2));
  p = f32x4.add(f32x4.mul(p, s), kc(K_T3));
  p = f32x4.add(f32x4.mul(p, s), kc(K_T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, s), a), a);
  const one = kc(K_ONE);
  const big = f32x4.sub(one, f32x4.div(kc(K_TWO), f32x4.add(exp4(f32x4.add(a, a)), one)));
  const y = v128.bitselect(small, big, f32x4.lt(a, kc(K_SPLIT)));
  return v128.or(y, v128.and(x, sign));
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = kc(K_ONE);
  return f32x4.div(one, f32x4.add(one, exp4(v128.xor(x, kc(K_SIGN)))));
}

// @ts-ignore: decorator
@inline export function relu4(x: v128): v128 {
  return v128.and(x, f32x4.gt(x, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline export function hardSigmoid4(x: v128): v128 {
  const y = f32x4.add(f32x4.mul(x, kc(K_HS_A)), kc(K_HS_B));
  return f32x4.pmax(f32x4.pmin(y, kc(K_ONE)), kc(K_ZERO));
}

// @ts-ignore: decorator
@inline export function clamp4(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmax(f32x4.pmin(x, hi), lo);
}

// ------------------------------------------------------------------- activations by code

// @ts-ignore: decorator
@inline export const ACT_SIGMOID: i32 = 0;
// @ts-ignore: decorator
@inline export const ACT_TANH: i32 = 1;
// @ts-ignore: decorator
@inline export const ACT_RELU: i32 = 2;
// @ts-ignore: decorator
@inline export const ACT_HARD_SIGMOID: i32 = 3;

/** The activation `code` (a compile-time constant at every use). */
// @ts-ignore: decorator
@inline export function act1(code: i32, x: f32): f32 {
  if (code == ACT_SIGMOID) return sigmoid1(x);
  if (code == ACT_TANH) return tanh1(x);
  if (code == ACT_RELU) return relu1(x);
  return hardSigmoid1(x);
}

// @ts-ignore: decorator
@inline export function act4(code: i32, x: v128): v128 {
  if (code == ACT_SIGMOID) return sigmoid4(x);
  if (code == ACT_TANH) return tanh4(x);
  if (code == ACT_RELU) return relu4(x);
  return hardSigmoid4(x);
}

/**
 * d · act'(a) from the activation's output y = act(a): sigmoid y(1 − y), tanh 1 − y², relu
 * [y > 0], hardSigmoid 0.2·[0 < y < 1] (0 at the kinks, like the clamps it is made of).
 */
// @ts-ignore: decorator
@inline export function actDerivMul1(code: i32, d: f32, y: f32): f32 {
  if (code == ACT_SIGMOID) return d * (y * (<f32>1 - y));
  if (code == ACT_TANH) return d * (<f32>1 - y * y);
  if (code == ACT_RELU) return select<f32>(d, 0, y > 0);
  return select<f32>(d * HS_ALPHA, 0, y > 0 && y < 1);
}

// @ts-ignore: decorator
@inline export function actDerivMul4(code: i32, d: v128, y: v128): v128 {
  const one = kc(K_ONE);
  if (code == ACT_SIGMOID) return f32x4.mul(d, f32x4.mul(y, f32x4.sub(one, y)));
  if (code == ACT_TANH) return f32x4.mul(d, f32x4.sub(one, f32x4.mul(y, y)));
  const zero = kc(K_ZERO);
  if (code == ACT_RELU) return v128.and(d, f32x4.gt(y, zero));
  return v128.and(f32x4.mul(d, kc(K_HS_A)), v128.and(f32x4.gt(y, zero), f32x4.lt(y, one)));
}

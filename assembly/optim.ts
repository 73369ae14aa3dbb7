/**
 * Loss, optimizer and reduction kernels (the contract is src/backend/kernels.ts, the oracle
 * src/backend/js-optim-kernels.ts).
 *
 * Bit-identical builds: every SIMD loop is mirrored by scalar code doing the same IEEE
 * operations per lane. Float64 sums keep four lane accumulators (elements 4j + l) combined as
 * (l0 + l2) + (l1 + l3), then the tail in order — in both builds.
 *
 * Precision choices:
 * - Sums (losses, Σx²) accumulate in float64; losses are computed in float64 per element.
 * - crossEntropy: exp(x − max) uses the float32 exp of activations.ts (exp1/exp4, ≈ 1 ulp); the
 *   row's Σexp, log (Math.log, compiled into the module), loss and gradient are float64, and the
 *   loss is formed as log S + (1 − ε)(max − x_t) + ε(max − mean x): three non-negative terms, so
 *   no cancellation even for confident predictions.
 * - bceWithLogits: e = exp(−|x|) in float32 (exp1/exp4), then log1p(e) in float64 via
 *   2·atanh(s), s = e/(2 + e) ∈ [0, 1/3] (series to s¹⁵, truncation < 2e-9 relative), so the
 *   softplus term is as accurate as e itself for any |x|; σ(x) − y is formed without
 *   cancellation ((1 − y) − e/(1+e) for x ≥ 0, e/(1+e) − y otherwise).
 * - Optimizers run in float32 like PyTorch's. Their hyperparameters are float64 parameters so
 *   that derived scalars (1 − β, lr/bc1, 1 − lr·wd, 1 − dampening, 1 − α) are formed in float64
 *   and rounded once to float32 — exactly what PyTorch does with Python-float hyperparameters.
 *   (With float32 parameters, 1 − f32(0.999) would be off by 1.3e-5 relative.)
 */
import { exp1, exp4 } from './activations';

// ------------------------------------------------------------------------------ constants
// log1p(e) = 2s·(1 + s²/3 + s⁴/5 + … + s¹⁴/15), s = e/(2 + e).
const L1P: usize = memory.data<f64>([
  1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0, 2.0, 0.0,
], 16);
// @ts-ignore: decorator
@inline const K_ONE = 7;
// @ts-ignore: decorator
@inline const K_TWO = 8;
// @ts-ignore: decorator
@inline const K_ZERO = 9;

// @ts-ignore: decorator
@inline function kd(i: i32): v128 {
  return v128.load64_splat(L1P + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function kd1(i: i32): f64 {
  return load<f64>(L1P + (<usize>i << 3));
}

/** log1p(e) for e ∈ [0, 1] (float64). */
// @ts-ignore: decorator
@inline function log1pSmall1(e: f64): f64 {
  const s = e / (kd1(K_TWO) + e);
  const z = s * s;
  let p = kd1(0) * z + kd1(1);
  p = p * z + kd1(2);
  p = p * z + kd1(3);
  p = p * z + kd1(4);
  p = p * z + kd1(5);
  p = p * z + kd1(6);
  p = p * z + kd1(K_ONE);
  return (s + s) * p;
}

// @ts-ignore: decorator
@inline function log1pSmall2(e: v128): v128 {
  const s = f64x2.div(e, f64x2.add(kd(K_TWO), e));
  const z = f64x2.mul(s, s);
  let p = f64x2.add(f64x2.mul(kd(0), z), kd(1));
  p = f64x2.add(f64x2.mul(p, z), kd(2));
  p = f64x2.add(f64x2.mul(p, z), kd(3));
  p = f64x2.add(f64x2.mul(p, z), kd(4));
  p = f64x2.add(f64x2.mul(p, z), kd(5));
  p = f64x2.add(f64x2.mul(p, z), kd(6));
  p = f64x2.add(f64x2.mul(p, z), kd(K_ONE));
  return f64x2.mul(f64x2.add(s, s), p);
}

/** Lanes 2, 3 of an f32x4 promoted to f64x2. */
// @ts-ignore: decorator
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3));
}

/** Two f64x2 demoted and packed into one f32x4 (a0, a1, b0, b1). */
// @ts-ignore: decorator
@inline function demote2(a: v128, b: v128): v128 {
  return f32x4.shuffle(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

/** (lane0 + lane2) + (lane1 + lane3) of two f64x2 accumulators (lanes 0, 1 | 2, 3). */
// @ts-ignore: decorator
@inline function hsum4(lo: v128, hi: v128): f64 {
  const s = f64x2.add(lo, hi);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

// ---------------------------------------------------------------------------- losses

/**
 * Softmax cross-entropy fused with its gradient (see kernels.ts). Returns the number of rows
 * whose target is not ignoreIndex.
 */
export function crossEntropy(
  loss: usize, grad: usize, logits: usize, targets: usize, n: i32, c: i32,
  ignoreIndex: i32, smoothing: f64, gradScale: f64,
): i32 {
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  const oneMinus = 1.0 - smoothing;
  const epsc = smoothing / <f64>c;
  const bias = gradScale * epsc;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const x = logits + <usize>i * rowBytes;
    const g = grad + <usize>i * rowBytes;
    const t = load<i32>(targets + (<usize>i << 2));
    if (t == ignoreIndex) {
      if (loss != 0) store<f32>(loss + (<usize>i << 2), 0);
      if (grad != 0) memory.fill(g, 0, rowBytes);
      continue;
    }
    count++;
    // Row max (order-independent).
    let mx = load<f32>(x);
    let j = 1;
    if (ASC_FEATURE_SIMD) {
      if (c4 >= 4) {
        let vm = v128.load(x);
        for (j = 4; j < c4; j += 4) vm = f32x4.max(vm, v128.load(x + (<usize>j << 2)));
        mx = Mathf.max(
          Mathf.max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)),
          Mathf.max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)),
        );
        j = c4;
      }
    }
    for (; j < c; j++) mx = Mathf.max(mx, load<f32>(x + (<usize>j << 2)));

    // Σ exp(x − max) and Σ x in float64 (e stored to the grad row when there is one).
    let se: f64 = 0, sx: f64 = 0;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vmx = f32x4.splat(mx);
      let e0 = f64x2.splat(0), e1 = f64x2.splat(0), x0 = f64x2.splat(0), x1 = f64x2.splat(0);
      for (; j < c4; j += 4) {
        const jb = <usize>j << 2;
        const xv = v128.load(x + jb);
        const e = exp4(f32x4.sub(xv, vmx));
        if (grad != 0) v128.store(g + jb, e);
        e0 = f64x2.add(e0, f64x2.promote_low_f32x4(e));
        e1 = f64x2.add(e1, promoteHigh(e));
        x0 = f64x2.add(x0, f64x2.promote_low_f32x4(xv));
        x1 = f64x2.add(x1, promoteHigh(xv));
      }
      se = hsum4(e0, e1);
      sx = hsum4(x0, x1);
    } else {
      let e0: f64 = 0, e1: f64 = 0, e2: f64 = 0, e3: f64 = 0;
      let x0: f64 = 0, x1: f64 = 0, x2: f64 = 0, x3: f64 = 0;
      for (; j < c4; j += 4) {
        const p = x + (<usize>j << 2);
        const a0 = load<f32>(p), a1 = load<f32>(p, 4), a2 = load<f32>(p, 8), a3 = load<f32>(p, 12);
        const b0 = exp1(a0 - mx), b1 = exp1(a1 - mx), b2 = exp1(a2 - mx), b3 = exp1(a3 - mx);
        if (grad != 0) {
          const q = g + (<usize>j << 2);
          store<f32>(q, b0); store<f32>(q, b1, 4); store<f32>(q, b2, 8); store<f32>(q, b3, 12);
        }
        e0 += <f64>b0; e1 += <f64>b1; e2 += <f64>b2; e3 += <f64>b3;
        x0 += <f64>a0; x1 += <f64>a1; x2 += <f64>a2; x3 += <f64>a3;
      }
      se = (e0 + e2) + (e1 + e3);
      sx = (x0 + x2) + (x1 + x3);
    }
    for (; j < c; j++) {
      const jb = <usize>j << 2;
      const xv = load<f32>(x + jb);
      const e = exp1(xv - mx);
      if (grad != 0) store<f32>(g + jb, e);
      se += <f64>e;
      sx += <f64>xv;
    }

    const xt = load<f32>(x + (<usize>t << 2));
    const mx64 = <f64>mx;
    let l = Math.log(se) + oneMinus * (mx64 - <f64>xt);
    if (smoothing != 0) l += smoothing * (mx64 - sx / <f64>c);
    if (loss != 0) store<f32>(loss + (<usize>i << 2), <f32>l);

    if (grad != 0) {
      // grad = gradScale·e/S − gradScale·ε/c (float64), then the target's −gradScale·(1 − ε).
      const a = gradScale / se;
      j = 0;
      if (ASC_FEATURE_SIMD) {
        const va = f64x2.splat(a), vb = f64x2.splat(bias);
        for (; j < c4; j += 4) {
          const jb = <usize>j << 2;
          const e = v128.load(g + jb);
          const lo = f64x2.sub(f64x2.mul(f64x2.promote_low_f32x4(e), va), vb);
          const hi = f64x2.sub(f64x2.mul(promoteHigh(e), va), vb);
          v128.store(g + jb, demote2(lo, hi));
        }
      }
      for (; j < c; j++) {
        const jb = <usize>j << 2;
        store<f32>(g + jb, <f32>(<f64>load<f32>(g + jb) * a - bias));
      }
      const et = <f64>exp1(xt - mx);
      store<f32>(g + (<usize>t << 2), <f32>(gradScale * ((et / se - oneMinus) - epsc)));
    }
  }
  return count;
}

/** Σ (p − y)² (float64); grad (if ≠ 0) = gradScale · 2(p − y), formed in float64. */
export function mseSum(grad: usize, pred: usize, target: usize, n: i32, gradScale: f64): f64 {
  const s2 = 2.0 * gradScale;
  const n4 = n & ~3;
  let sum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f64x2.splat(s2);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const p = v128.load(pred + ib), y = v128.load(target + ib);
      const dl = f64x2.sub(f64x2.promote_low_f32x4(p), f64x2.promote_low_f32x4(y));
      const dh = f64x2.sub(promoteHigh(p), promoteHigh(y));
      a0 = f64x2.add(a0, f64x2.mul(dl, dl));
      a1 = f64x2.add(a1, f64x2.mul(dh, dh));
      if (grad != 0) v128.store(grad + ib, demote2(f64x2.mul(dl, vs), f64x2.mul(dh, vs)));
    }
    sum = hsum4(a0, a1);
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const d0 = <f64>load<f32>(pred + ib) - <f64>load<f32>(target + ib);
      const d1 = <f64>load<f32>(pred + ib, 4) - <f64>load<f32>(target + ib, 4);
      const d2 = <f64>load<f32>(pred + ib, 8) - <f64>load<f32>(target + ib, 8);
      const d3 = <f64>load<f32>(pred + ib, 12) - <f64>load<f32>(target + ib, 12);
      a0 += d0 * d0; a1 += d1 * d1; a2 += d2 * d2; a3 += d3 * d3;
      if (grad != 0) {
        store<f32>(grad + ib, <f32>(d0 * s2));
        store<f32>(grad + ib, <f32>(d1 * s2), 4);
        store<f32>(grad + ib, <f32>(d2 * s2), 8);
        store<f32>(grad + ib, <f32>(d3 * s2), 12);
      }
    }
    sum = (a0 + a2) + (a1 + a3);
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    const d = <f64>load<f32>(pred + ib) - <f64>load<f32>(target + ib);
    sum += d * d;
    if (grad != 0) store<f32>(grad + ib, <f32>(d * s2));
  }
  return sum;
}

/** BCE-with-logits term and σ(x) − y for one float64 lane set (see the file comment). */
// @ts-ignore: decorator
@inline function bceTerm1(x: f64, y: f64, e: f64): f64 {
  return (Math.max(x, 0) - x * y) + log1pSmall1(e);
}
// @ts-ignore: decorator
@inline function bceGrad1(x: f64, y: f64, e: f64, gradScale: f64): f64 {
  const er = e / (1.0 + e);
  return gradScale * select<f64>((1.0 - y) - er, er - y, x >= 0);
}

/**
 * Σ max(x, 0) − x·y + log(1 + exp(−|x|)) (float64); grad (if ≠ 0) = gradScale · (σ(x) − y).
 */
export function bceWithLogitsSum(grad: usize, logits: usize, target: usize, n: i32, gradScale: f64): f64 {
  const n4 = n & ~3;
  let sum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sign = f32x4.splat(-0.0);
    const vs = f64x2.splat(gradScale);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const xv = v128.load(logits + ib), yv = v128.load(target + ib);
      const ev = exp4(v128.or(xv, sign)); // exp(−|x|)
      const xl = f64x2.promote_low_f32x4(xv), xh = promoteHigh(xv);
      const yl = f64x2.promote_low_f32x4(yv), yh = promoteHigh(yv);
      const el = f64x2.promote_low_f32x4(ev), eh = promoteHigh(ev);
      const zero = kd(K_ZERO);
      a0 = f64x2.add(a0, f64x2.add(f64x2.sub(f64x2.max(xl, zero), f64x2.mul(xl, yl)), log1pSmall2(el)));
      a1 = f64x2.add(a1, f64x2.add(f64x2.sub(f64x2.max(xh, zero), f64x2.mul(xh, yh)), log1pSmall2(eh)));
      if (grad != 0) {
        const one = kd(K_ONE);
        const rl = f64x2.div(el, f64x2.add(one, el));
        const rh = f64x2.div(eh, f64x2.add(one, eh));
        const gl = v128.bitselect(
          f64x2.sub(f64x2.sub(one, yl), rl), f64x2.sub(rl, yl), f64x2.ge(xl, zero));
        const gh = v128.bitselect(
          f64x2.sub(f64x2.sub(one, yh), rh), f64x2.sub(rh, yh), f64x2.ge(xh, zero));
        v128.store(grad + ib, demote2(f64x2.mul(vs, gl), f64x2.mul(vs, gh)));
      }
    }
    sum = hsum4(a0, a1);
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const x0 = load<f32>(logits + ib), x1 = load<f32>(logits + ib, 4);
      const x2 = load<f32>(logits + ib, 8), x3 = load<f32>(logits + ib, 12);
      const y0 = <f64>load<f32>(target + ib), y1 = <f64>load<f32>(target + ib, 4);
      const y2 = <f64>load<f32>(target + ib, 8), y3 = <f64>load<f32>(target + ib, 12);
      const e0 = <f64>exp1(-Mathf.abs(x0)), e1 = <f64>exp1(-Mathf.abs(x1));
      const e2 = <f64>exp1(-Mathf.abs(x2)), e3 = <f64>exp1(-Mathf.abs(x3));
      a0 += bceTerm1(<f64>x0, y0, e0);
      a1 += bceTerm1(<f64>x1, y1, e1);
      a2 += bceTerm1(<f64>x2, y2, e2);
      a3 += bceTerm1(<f64>x3, y3, e3);
      if (grad != 0) {
        store<f32>(grad + ib, <f32>bceGrad1(<f64>x0, y0, e0, gradScale));
        store<f32>(grad + ib, <f32>bceGrad1(<f64>x1, y1, e1, gradScale), 4);
        store<f32>(grad + ib, <f32>bceGrad1(<f64>x2, y2, e2, gradScale), 8);
        store<f32>(grad + ib, <f32>bceGrad1(<f64>x3, y3, e3, gradScale), 12);
      }
    }
    sum = (a0 + a2) + (a1 + a3);
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    const x = load<f32>(logits + ib);
    const y = <f64>load<f32>(target + ib);
    const e = <f64>exp1(-Mathf.abs(x));
    sum += bceTerm1(<f64>x, y, e);
    if (grad != 0) store<f32>(grad + ib, <f32>bceGrad1(<f64>x, y, e, gradScale));
  }
  return sum;
}

// ------------------------------------------------------------------------------- optimizers

/**
 * PyTorch's SGD (float32 arithmetic): d = g + wd·p; with momentum (≠ 0, buf ≠ 0):
 * buf = first ? d : μ·buf + (1 − τ)·d, d = nesterov ? d + μ·buf : buf; p −= lr·d.
 */
export function sgdStep(
  p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64,
  dampening: f64, weightDecay: f64, nesterov: i32, first: i32,
): void {
  const lrf = <f32>lr, mu = <f32>momentum, omt = <f32>(1.0 - dampening), wd = <f32>weightDecay;
  const useWd = weightDecay != 0;
  const useMom = momentum != 0 && buf != 0;
  const nest = nesterov != 0, init = first != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lrf), vmu = f32x4.splat(mu), vomt = f32x4.splat(omt), vwd = f32x4.splat(wd);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const pv = v128.load(p + ib);
      let d = v128.load(g + ib);
      if (useWd) d = f32x4.add(d, f32x4.mul(vwd, pv));
      if (useMom) {
        let b = d;
        if (!init) b = f32x4.add(f32x4.mul(vmu, v128.load(buf + ib)), f32x4.mul(vomt, d));
        v128.store(buf + ib, b);
        d = nest ? f32x4.add(d, f32x4.mul(vmu, b)) : b;
      }
      v128.store(p + ib, f32x4.sub(pv, f32x4.mul(vlr, d)));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    const pv = load<f32>(p + ib);
    let d = load<f32>(g + ib);
    if (useWd) d = d + wd * pv;
    if (useMom) {
      let b = d;
      if (!init) b = mu * load<f32>(buf + ib) + omt * d;
      store<f32>(buf + ib, b);
      d = nest ? d + mu * b : b;
    }
    store<f32>(p + ib, pv - lrf * d);
  }
}

/**
 * PyTorch's Adam / AdamW (float32 arithmetic): decoupled = 0: g' = g + wd·p; = 1:
 * p ← p·(1 − lr·wd), g' = g. m = β1·m + (1 − β1)·g'; v = β2·v + (1 − β2)·g'²;
 * p −= (lr/bc1)·m / (sqrt(v)/bc2sqrt + eps).
 */
export function adamStep(
  p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64,
  beta2: f64, eps: f64, weightDecay: f64, bc1: f64, bc2sqrt: f64, decoupled: i32,
): void {
  const b1 = <f32>beta1, ob1 = <f32>(1.0 - beta1), b2 = <f32>beta2, ob2 = <f32>(1.0 - beta2);
  const ss = <f32>(lr / bc1), bc2 = <f32>bc2sqrt, ep = <f32>eps;
  const useWd = weightDecay != 0;
  const dec = decoupled != 0;
  const wd = <f32>weightDecay, shrink = <f32>(1.0 - lr * weightDecay);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vob1 = f32x4.splat(ob1), vb2 = f32x4.splat(b2), vob2 = f32x4.splat(ob2);
    const vss = f32x4.splat(ss), vbc2 = f32x4.splat(bc2), vep = f32x4.splat(ep);
    const vwd = f32x4.splat(wd), vshrink = f32x4.splat(shrink);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      let pv = v128.load(p + ib);
      let gv = v128.load(g + ib);
      if (useWd) {
        if (dec) pv = f32x4.mul(pv, vshrink);
        else gv = f32x4.add(gv, f32x4.mul(vwd, pv));
      }
      const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + ib)), f32x4.mul(vob1, gv));
      const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + ib)), f32x4.mul(vob2, f32x4.mul(gv, gv)));
      v128.store(m + ib, mv);
      v128.store(v + ib, vv);
      const den = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc2), vep);
      v128.store(p + ib, f32x4.sub(pv, f32x4.div(f32x4.mul(vss, mv), den)));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    let pv = load<f32>(p + ib);
    let gv = load<f32>(g + ib);
    if (useWd) {
      if (dec) pv = pv * shrink;
      else gv = gv + wd * pv;
    }
    const mv = b1 * load<f32>(m + ib) + ob1 * gv;
    const vv = b2 * load<f32>(v + ib) + ob2 * (gv * gv);
    store<f32>(m + ib, mv);
    store<f32>(v + ib, vv);
    const den = Mathf.sqrt(vv) / bc2 + ep;
    store<f32>(p + ib, pv - (ss * mv) / den);
  }
}

/**
 * PyTorch's RMSprop (float32 arithmetic): g' = g + wd·p; sq = α·sq + (1 − α)·g'²; centered
 * (gAvg ≠ 0): gAvg = α·gAvg + (1 − α)·g', avg = sqrt(sq − gAvg²) + eps, else sqrt(sq) + eps;
 * momentum (buf ≠ 0): buf = μ·buf + g'/avg, p −= lr·buf; else p −= lr·g'/avg.
 */
export function rmspropStep(
  p: usize, g: usize, sq: usize, gAvg: usize, buf: usize, n: i32, lr: f64,
  alpha: f64, eps: f64, weightDecay: f64, momentum: f64,
): void {
  const lrf = <f32>lr, al = <f32>alpha, oal = <f32>(1.0 - alpha), ep = <f32>eps;
  const wd = <f32>weightDecay, mu = <f32>momentum;
  const useWd = weightDecay != 0, centered = gAvg != 0, useMom = buf != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lrf), val = f32x4.splat(al), voal = f32x4.splat(oal), vep = f32x4.splat(ep);
    const vwd = f32x4.splat(wd), vmu = f32x4.splat(mu);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      const pv = v128.load(p + ib);
      let gv = v128.load(g + ib);
      if (useWd) gv = f32x4.add(gv, f32x4.mul(vwd, pv));
      const s = f32x4.add(f32x4.mul(val, v128.load(sq + ib)), f32x4.mul(voal, f32x4.mul(gv, gv)));
      v128.store(sq + ib, s);
      let avg: v128;
      if (centered) {
        const ga = f32x4.add(f32x4.mul(val, v128.load(gAvg + ib)), f32x4.mul(voal, gv));
        v128.store(gAvg + ib, ga);
        avg = f32x4.add(f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga))), vep);
      } else {
        avg = f32x4.add(f32x4.sqrt(s), vep);
      }
      if (useMom) {
        const b = f32x4.add(f32x4.mul(vmu, v128.load(buf + ib)), f32x4.div(gv, avg));
        v128.store(buf + ib, b);
        v128.store(p + ib, f32x4.sub(pv, f32x4.mul(vlr, b)));
      } else {
        v128.store(p + ib, f32x4.sub(pv, f32x4.div(f32x4.mul(vlr, gv), avg)));
      }
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    const pv = load<f32>(p + ib);
    let gv = load<f32>(g + ib);
    if (useWd) gv = gv + wd * pv;
    const s = al * load<f32>(sq + ib) + oal * (gv * gv);
    store<f32>(sq + ib, s);
    let avg: f32;
    if (centered) {
      const ga = al * load<f32>(gAvg + ib) + oal * gv;
      store<f32>(gAvg + ib, ga);
      avg = Mathf.sqrt(s - ga * ga) + ep;
    } else {
      avg = Mathf.sqrt(s) + ep;
    }
    if (useMom) {
      const b = mu * load<f32>(buf + ib) + gv / avg;
      store<f32>(buf + ib, b);
      store<f32>(p + ib, pv - lrf * b);
    } else {
      store<f32>(p + ib, pv - (lrf * gv) / avg);
    }
  }
}

// ------------------------------------------------------------------------------ reductions

/** Σ x² over n values, accumulated in float64. */
export function sumSquares(x: usize, n: i32): f64 {
  const n4 = n & ~3;
  let sum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i < n4; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const l = f64x2.promote_low_f32x4(v), h = promoteHigh(v);
      a0 = f64x2.add(a0, f64x2.mul(l, l));
      a1 = f64x2.add(a1, f64x2.mul(h, h));
    }
    sum = hsum4(a0, a1);
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0;
    for (; i < n4; i += 4) {
      const q = x + (<usize>i << 2);
      const v0 = <f64>load<f32>(q), v1 = <f64>load<f32>(q, 4);
      const v2 = <f64>load<f32>(q, 8), v3 = <f64>load<f32>(q, 12);
      a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
    }
    sum = (a0 + a2) + (a1 + a3);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}

/** x ← x·s over n values. */
export function scale(x: usize, n: i32, s: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      v128.store(x + ib, f32x4.mul(v128.load(x + ib), vs));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    store<f32>(x + ib, load<f32>(x + ib) * s);
  }
}

/** x ← min(max(x, lo), hi) over n values (NaN stays NaN). */
export function clampValues(x: usize, n: i32, lo: f32, hi: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      // pmax(x, lo) = x < lo ? lo : x and pmin(a, hi) = hi < a ? hi : a: a NaN x stays NaN.
      v128.store(x + ib, f32x4.pmin(f32x4.pmax(v128.load(x + ib), vlo), vhi));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    const v = load<f32>(x + ib);
    const a = select<f32>(lo, v, v < lo);
    store<f32>(x + ib, select<f32>(hi, a, hi < a));
  }
}

/** x ← x·y elementwise over n values. */
export function mulInPlace(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      v128.store(x + ib, f32x4.mul(v128.load(x + ib), v128.load(y + ib)));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    store<f32>(x + ib, load<f32>(x + ib) * load<f32>(y + ib));
  }
}

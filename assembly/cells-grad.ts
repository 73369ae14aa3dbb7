/**
 * Backward kernels of the recurrent steps (one fused pass per batch row, f32x4 over j with a
 * scalar tail doing the identical float32 operations, so the SIMD and scalar builds agree bit
 * for bit) and the column sum used for bias gradients. Contract: src/backend/kernels.ts.
 *
 * Inactive rows (lengths ≠ 0 and t ≥ lengths[b]) passed their state through unchanged in the
 * forward step: their pre-activation gradients are 0 and dh (and dc) are left as they are.
 *
 * A state pointer of 0 (cPrev for LSTM, hPrev for GRU) is read as an all-zero state.
 */
import { tanh1, tanh4 } from './activations';
import { inactive } from './rows';


// ------------------------------------------------------------------------------------ colSum

/** dst[j] (+)= Σ_i a[i, j] over a row-major a[m, n]; rows are added in order i = 0, 1, … */
export function colSum(dst: usize, a: usize, m: i32, n: i32, accumulate: i32): void {
  const acc = accumulate != 0;
  const ld = <usize>n << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n32 = n & ~31;
    for (; j < n32; j += 32) {
      const d = dst + (<usize>j << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
      if (acc) {
        s0 = v128.load(d); s1 = v128.load(d, 16); s2 = v128.load(d, 32); s3 = v128.load(d, 48);
        s4 = v128.load(d, 64); s5 = v128.load(d, 80); s6 = v128.load(d, 96); s7 = v128.load(d, 112);
      }
      let p = a + (<usize>j << 2);
      for (let i = 0; i < m; i++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32));
        s3 = f32x4.add(s3, v128.load(p, 48));
        s4 = f32x4.add(s4, v128.load(p, 64));
        s5 = f32x4.add(s5, v128.load(p, 80));
        s6 = f32x4.add(s6, v128.load(p, 96));
        s7 = f32x4.add(s7, v128.load(p, 112));
        p += ld;
      }
      v128.store(d, s0); v128.store(d, s1, 16); v128.store(d, s2, 32); v128.store(d, s3, 48);
      v128.store(d, s4, 64); v128.store(d, s5, 80); v128.store(d, s6, 96); v128.store(d, s7, 112);
    }
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const d = dst + (<usize>j << 2);
      let s = acc ? v128.load(d) : f32x4.splat(0);
      let p = a + (<usize>j << 2);
      for (let i = 0; i < m; i++) {
        s = f32x4.add(s, v128.load(p));
        p += ld;
      }
      v128.store(d, s);
    }
  }
  for (; j < n; j++) {
    const d = dst + (<usize>j << 2);
    let s: f32 = acc ? load<f32>(d) : 0;
    let p = a + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      s += load<f32>(p);
      p += ld;
    }
    store<f32>(d, s);
  }
}

// ------------------------------------------------------------------------------------- LSTM

/**
 * One active LSTM row. tape row = i, f, g, o, c. With tc = tanh(c) (the forward approximation):
 *   do = dh·tc;  dc' = dc + (dh·o)·(1 − tc²);  di = dc'·g;  df = dc'·cPrev;  dg = dc'·i;
 *   dG = (di·(i(1 − i)), df·(f(1 − f)), dg·(1 − g²), do·(o(1 − o)));  dc ← dc'·f;  dh ← 0.
 */
// @ts-ignore: decorator
@inline function lstmBackRow(
  dg: usize, dh: usize, dc: usize, tp: usize, cp: usize, H: i32, hasC: bool,
): void {
  const rowBytes = <usize>H << 2;
  const dgf = dg + rowBytes, dgg = dgf + rowBytes, dgo = dgg + rowBytes;
  const tf = tp + rowBytes, tg = tf + rowBytes, to = tg + rowBytes, tc = to + rowBytes;
  const H4 = H & ~3;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    const zero = f32x4.splat(0);
    for (; j < H4; j += 4) {
      const jb = <usize>j << 2;
      const dhv = v128.load(dh + jb);
      const o = v128.load(to + jb);
      const th = tanh4(v128.load(tc + jb));
      const dov = f32x4.mul(dhv, th);
      v128.store(dgo + jb, f32x4.mul(dov, f32x4.mul(o, f32x4.sub(one, o))));
      const dcv = f32x4.add(
        v128.load(dc + jb), f32x4.mul(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(th, th))),
      );
      v128.store(dh + jb, zero);
      const i = v128.load(tp + jb);
      const g = v128.load(tg + jb);
      v128.store(dg + jb, f32x4.mul(f32x4.mul(dcv, g), f32x4.mul(i, f32x4.sub(one, i))));
      v128.store(dgg + jb, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(g, g))));
      const f = v128.load(tf + jb);
      const cpv = hasC ? v128.load(cp + jb) : zero;
      v128.store(dgf + jb, f32x4.mul(f32x4.mul(dcv, cpv), f32x4.mul(f, f32x4.sub(one, f))));
      v128.store(dc + jb, f32x4.mul(dcv, f));
    }
  }
  for (; j < H; j++) {
    const jb = <usize>j << 2;
    const dhv = load<f32>(dh + jb);
    const o = load<f32>(to + jb);
    const th = tanh1(load<f32>(tc + jb));
    const dov = dhv * th;
    store<f32>(dgo + jb, dov * (o * (<f32>1 - o)));
    const dcv = load<f32>(dc + jb) + (dhv * o) * (<f32>1 - th * th);
    store<f32>(dh + jb, 0);
    const i = load<f32>(tp + jb);
    const g = load<f32>(tg + jb);
    store<f32>(dg + jb, (dcv * g) * (i * (<f32>1 - i)));
    store<f32>(dgg + jb, (dcv * i) * (<f32>1 - g * g));
    const f = load<f32>(tf + jb);
    const cpv: f32 = hasC ? load<f32>(cp + jb) : 0;
    store<f32>(dgf + jb, (dcv * cpv) * (f * (<f32>1 - f)));
    store<f32>(dc + jb, dcv * f);
  }
}

export function lstmStepBackward(
  dG: usize, dh: usize, dc: usize, tape: usize, cPrev: usize, ldcPrev: i32,
  B: i32, H: i32, lengths: usize, t: i32,
): void {
  const rowBytes = <usize>H << 2;
  for (let b = 0; b < B; b++) {
    const dgr = dG + <usize>b * (rowBytes << 2);
    if (inactive(lengths, b, t)) {
      memory.fill(dgr, 0, rowBytes << 2);
      continue;
    }
    const off = <usize>b * rowBytes;
    const tp = tape + <usize>b * (rowBytes * 5);
    if (cPrev != 0) {
      const cp = cPrev + (<usize>b * <usize>ldcPrev << 2);
      lstmBackRow(dgr, dh + off, dc + off, tp, cp, H, true);
    } else {
      lstmBackRow(dgr, dh + off, dc + off, tp, 0, H, false);
    }
  }
}

// -------------------------------------------------------------------------------------- GRU

/**
 * One active GRU row. tape row = r, z, n, s_n. h = (1 − z)·n + z·hPrev:
 *   dn = dh·(1 − z);  dz = dh·(hPrev − n);  dan = dn·(1 − n²);  dar = (dan·s_n)·(r(1 − r));
 *   daz = dz·(z(1 − z));  dGx = (dar, daz, dan);  dS = (dar, daz, dan·r);  dh ← dh·z.
 */
// @ts-ignore: decorator
@inline function gruBackRow(
  dgx: usize, ds: usize, dh: usize, tp: usize, hp: usize, H: i32, hasH: bool,
): void {
  const rowBytes = <usize>H << 2;
  const dgz = dgx + rowBytes, dgn = dgz + rowBytes;
  const dsz = ds + rowBytes, dsn = dsz + rowBytes;
  const tz = tp + rowBytes, tn = tz + rowBytes, ts = tn + rowBytes;
  const H4 = H & ~3;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; j < H4; j += 4) {
      const jb = <usize>j << 2;
      const dhv = v128.load(dh + jb);
      const z = v128.load(tz + jb);
      const nv = v128.load(tn + jb);
      const hpv = hasH ? v128.load(hp + jb) : f32x4.splat(0);
      const daz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(hpv, nv)), f32x4.mul(z, f32x4.sub(one, z)));
      v128.store(dgz + jb, daz);
      v128.store(dsz + jb, daz);
      const dan = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(nv, nv)));
      v128.store(dh + jb, f32x4.mul(dhv, z));
      const r = v128.load(tp + jb);
      const dar = f32x4.mul(f32x4.mul(dan, v128.load(ts + jb)), f32x4.mul(r, f32x4.sub(one, r)));
      v128.store(dgx + jb, dar);
      v128.store(ds + jb, dar);
      v128.store(dgn + jb, dan);
      v128.store(dsn + jb, f32x4.mul(dan, r));
    }
  }
  for (; j < H; j++) {
    const jb = <usize>j << 2;
    const dhv = load<f32>(dh + jb);
    const z = load<f32>(tz + jb);
    const nv = load<f32>(tn + jb);
    const hpv: f32 = hasH ? load<f32>(hp + jb) : 0;
    const daz = (dhv * (hpv - nv)) * (z * (<f32>1 - z));
    store<f32>(dgz + jb, daz);
    store<f32>(dsz + jb, daz);
    const dan = (dhv * (<f32>1 - z)) * (<f32>1 - nv * nv);
    store<f32>(dh + jb, dhv * z);
    const r = load<f32>(tp + jb);
    const dar = (dan * load<f32>(ts + jb)) * (r * (<f32>1 - r));
    store<f32>(dgx + jb, dar);
    store<f32>(ds + jb, dar);
    store<f32>(dgn + jb, dan);
    store<f32>(dsn + jb, dan * r);
  }
}

export function gruStepBackward(
  dGx: usize, dS: usize, dh: usize, tape: usize, hPrev: usize,
  B: i32, H: i32, lengths: usize, t: i32,
): void {
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes * 3;
  for (let b = 0; b < B; b++) {
    const dgx = dGx + <usize>b * gateBytes;
    const ds = dS + <usize>b * gateBytes;
    if (inactive(lengths, b, t)) {
      memory.fill(dgx, 0, gateBytes);
      memory.fill(ds, 0, gateBytes);
      continue;
    }
    const off = <usize>b * rowBytes;
    const tp = tape + <usize>b * (rowBytes << 2);
    if (hPrev != 0) gruBackRow(dgx, ds, dh + off, tp, hPrev + off, H, true);
    else gruBackRow(dgx, ds, dh + off, tp, 0, H, false);
  }
}

// -------------------------------------------------------------------------------------- RNN

/** Active rows: dG = dh·act'(h) (tanh: dh·(1 − h²); relu: h > 0 ? dh : 0), dh ← 0. */
export function rnnStepBackward(
  dG: usize, dh: usize, tape: usize, B: i32, H: i32, relu: i32,
  lengths: usize, t: i32,
): void {
  const rowBytes = <usize>H << 2;
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const dg = dG + off, d = dh + off, tp = tape + off;
    if (inactive(lengths, b, t)) {
      memory.fill(dg, 0, rowBytes);
      continue;
    }
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1);
      const zero = f32x4.splat(0);
      for (; j < H4; j += 4) {
        const jb = <usize>j << 2;
        const dhv = v128.load(d + jb);
        const h = v128.load(tp + jb);
        const g = relu
          ? v128.and(dhv, f32x4.gt(h, zero))
          : f32x4.mul(dhv, f32x4.sub(one, f32x4.mul(h, h)));
        v128.store(dg + jb, g);
        v128.store(d + jb, zero);
      }
    }
    for (; j < H; j++) {
      const jb = <usize>j << 2;
      const dhv = load<f32>(d + jb);
      const h = load<f32>(tp + jb);
      const g: f32 = relu ? select<f32>(dhv, 0, h > 0) : dhv * (<f32>1 - h * h);
      store<f32>(dg + jb, g);
      store<f32>(d + jb, 0);
    }
  }
}

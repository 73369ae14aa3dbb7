/**
 * Fused recurrent steps: the recurrent product s = hPrev · W_hhᵀ + b_hh goes to `scratch` via
 * the packed GEMM, then ONE pass per batch row computes the gate nonlinearities and the state
 * update (f32x4 over j, scalar tail for H % 4 with the identical scalar approximations).
 *
 * Inactive rows (lengths ≠ 0 and t ≥ lengths[b]) copy hPrev → hOut (and cPrev → cOut) unless
 * aliased and write zeros to the out row (unless out = 0). hOut may equal hPrev, cOut may equal
 * cPrev: every element is read before the same element is written, and the GEMM reads all of
 * hPrev before the fused pass starts. The LSTM and GRU passes park an intermediate (i·g, n) in
 * the hOut element they are about to overwrite: the store acts as a scheduling barrier for V8
 * (see lstmStep). So hOut must not alias gx, scratch or cPrev (nor does the contract allow it).
 */
import { gemm } from './gemm';
import { relu1, relu4, sigmoid1, sigmoid4, tanh1, tanh4 } from './activations';
import { inactive, keepRow } from './rows';



// The step bodies are @inline and take a `tape` pointer: the inference exports pass the
// constant 0, so the tape stores fold away and the inference code is unchanged; the *Train
// exports pass the caller's tape. Both run the same float32 operations, so h, c and out are
// bit-identical between rnnStep and rnnStepTrain (and likewise for LSTM and GRU).

export function rnnStep(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  relu: i32, lengths: usize, t: i32,
): void {
  rnnStepImpl(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t, 0);
}

/** rnnStep that also records the new h of every active row in tape [B, H]. */
export function rnnStepTrain(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  relu: i32, lengths: usize, t: i32, tape: usize,
): void {
  rnnStepImpl(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, relu, lengths, t, tape);
}

// @ts-ignore: decorator
@inline function rnnStepImpl(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  relu: i32, lengths: usize, t: i32, tape: usize,
): void {
  gemm(scratch, hPrev, whh, bhh, B, H, H);
  rnnGates(hOut, out, ldOut, gx, hPrev, scratch, B, H, relu, lengths, t, tape, 0, H);
}

/**
 * The elementwise half of rnnStep for the hidden units [j0, j1) (j0 a multiple of 4), given
 * s = hPrev·W_hhᵀ + b_hh in scratch. Unit j reads and writes only column j, so threads can take
 * disjoint unit ranges (once every thread's share of the GEMM is done).
 */
// @ts-ignore: decorator
@inline export function rnnGates(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize, scratch: usize, B: i32, H: i32,
  relu: i32, lengths: usize, t: i32, tape: usize, j0: i32, j1: i32,
): void {
  const rowBytes = <usize>H << 2;
  const jb0 = <usize>j0 << 2, sliceBytes = <usize>(j1 - j0) << 2;
  const H4 = j0 + ((j1 - j0) & ~3);
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const hp = hPrev + off, ho = hOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho + jb0, hp + jb0, sliceBytes);
      if (o != 0) memory.fill(o + jb0, 0, sliceBytes);
      continue;
    }
    const g = gx + off, s = scratch + off;
    const tp = tape + off;
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      for (; j < H4; j += 4) {
        const jb = <usize>j << 2;
        const x = f32x4.add(v128.load(g + jb), v128.load(s + jb));
        const h = relu ? relu4(x) : tanh4(x);
        v128.store(ho + jb, h);
        if (o != 0) v128.store(o + jb, h);
        if (tape != 0) v128.store(tp + jb, h);
      }
    }
    for (; j < j1; j++) {
      const jb = <usize>j << 2;
      const x = load<f32>(g + jb) + load<f32>(s + jb);
      const h = relu ? relu1(x) : tanh1(x);
      store<f32>(ho + jb, h);
      if (o != 0) store<f32>(o + jb, h);
      if (tape != 0) store<f32>(tp + jb, h);
    }
  }
}

export function lstmStep(
  hOut: usize, cOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  cPrev: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32,
): void {
  lstmStepImpl(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, 0);
}

/** lstmStep that also records per active row i, f, g, o, c in tape [B, 5H]. */
export function lstmStepTrain(
  hOut: usize, cOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  cPrev: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize,
): void {
  lstmStepImpl(hOut, cOut, out, ldOut, gx, hPrev, cPrev, whh, bhh, scratch, B, H, lengths, t, tape);
}

// @ts-ignore: decorator
@inline function lstmStepImpl(
  hOut: usize, cOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  cPrev: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize,
): void {
  gemm(scratch, hPrev, whh, bhh, B, 4 * H, H);
  lstmGates(hOut, cOut, out, ldOut, gx, hPrev, cPrev, scratch, B, H, lengths, t, tape, 0, H);
}

/** The elementwise half of lstmStep for the hidden units [j0, j1) (see rnnGates). */
// @ts-ignore: decorator
@inline export function lstmGates(
  hOut: usize, cOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize, cPrev: usize,
  scratch: usize, B: i32, H: i32, lengths: usize, t: i32, tape: usize, j0: i32, j1: i32,
): void {
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes << 2;
  const jb0 = <usize>j0 << 2, sliceBytes = <usize>(j1 - j0) << 2;
  const H4 = j0 + ((j1 - j0) & ~3);
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const hp = hPrev + off, ho = hOut + off;
    const cp = cPrev + off, co = cOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho + jb0, hp + jb0, sliceBytes);
      keepRow(co + jb0, cp + jb0, sliceBytes);
      if (o != 0) memory.fill(o + jb0, 0, sliceBytes);
      continue;
    }
    const gi = gx + <usize>b * gateBytes, si = scratch + <usize>b * gateBytes;
    const gf = gi + rowBytes, sf = si + rowBytes;
    const gg = gf + rowBytes, sg = sf + rowBytes;
    const go = gg + rowBytes, so = sg + rowBytes;
    // Tape row: i, f, g, o, c (5H floats).
    const ti = tape + <usize>b * (rowBytes * 5);
    const tf = ti + rowBytes, tg = tf + rowBytes, to = tg + rowBytes, tc = to + rowBytes;
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      for (; j < H4; j += 4) {
        const jb = <usize>j << 2;
        // Three phases separated by stores: V8 keeps loads after earlier stores, so each
        // phase's loads cannot be hoisted into the previous one (five interleaved activations
        // spilled ~40 xmm values per iteration). i·g is parked in hOut, which this pass owns
        // (hPrev was fully consumed by the GEMM). Same float32 operations as the scalar tail.
        const i = sigmoid4(f32x4.add(v128.load(gi + jb), v128.load(si + jb)));
        const gv = tanh4(f32x4.add(v128.load(gg + jb), v128.load(sg + jb)));
        if (tape != 0) {
          v128.store(ti + jb, i);
          v128.store(tg + jb, gv);
        }
        v128.store(ho + jb, f32x4.mul(i, gv));
        const f = sigmoid4(f32x4.add(v128.load(gf + jb), v128.load(sf + jb)));
        const c = f32x4.add(f32x4.mul(f, v128.load(cp + jb)), v128.load(ho + jb));
        v128.store(co + jb, c);
        if (tape != 0) {
          v128.store(tf + jb, f);
          v128.store(tc + jb, c);
        }
        const og = sigmoid4(f32x4.add(v128.load(go + jb), v128.load(so + jb)));
        const h = f32x4.mul(og, tanh4(c));
        v128.store(ho + jb, h);
        if (o != 0) v128.store(o + jb, h);
        if (tape != 0) v128.store(to + jb, og);
      }
    }
    for (; j < j1; j++) {
      const jb = <usize>j << 2;
      const i = sigmoid1(load<f32>(gi + jb) + load<f32>(si + jb));
      const f = sigmoid1(load<f32>(gf + jb) + load<f32>(sf + jb));
      const gv = tanh1(load<f32>(gg + jb) + load<f32>(sg + jb));
      const og = sigmoid1(load<f32>(go + jb) + load<f32>(so + jb));
      const c = f * load<f32>(cp + jb) + i * gv;
      const h = og * tanh1(c);
      store<f32>(co + jb, c);
      store<f32>(ho + jb, h);
      if (o != 0) store<f32>(o + jb, h);
      if (tape != 0) {
        store<f32>(ti + jb, i);
        store<f32>(tf + jb, f);
        store<f32>(tg + jb, gv);
        store<f32>(to + jb, og);
        store<f32>(tc + jb, c);
      }
    }
  }
}

export function gruStep(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32,
): void {
  gruStepImpl(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, 0);
}

/** gruStep that also records per active row r, z, n and s_n in tape [B, 4H]. */
export function gruStepTrain(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize,
): void {
  gruStepImpl(hOut, out, ldOut, gx, hPrev, whh, bhh, scratch, B, H, lengths, t, tape);
}

// @ts-ignore: decorator
@inline function gruStepImpl(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize,
): void {
  gemm(scratch, hPrev, whh, bhh, B, 3 * H, H);
  gruGates(hOut, out, ldOut, gx, hPrev, scratch, B, H, lengths, t, tape, 0, H);
}

/** The elementwise half of gruStep for the hidden units [j0, j1) (see rnnGates). */
// @ts-ignore: decorator
@inline export function gruGates(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize, j0: i32, j1: i32,
): void {
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes * 3;
  const jb0 = <usize>j0 << 2, sliceBytes = <usize>(j1 - j0) << 2;
  const H4 = j0 + ((j1 - j0) & ~3);
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const hp = hPrev + off, ho = hOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho + jb0, hp + jb0, sliceBytes);
      if (o != 0) memory.fill(o + jb0, 0, sliceBytes);
      continue;
    }
    const gr = gx + <usize>b * gateBytes, sr = scratch + <usize>b * gateBytes;
    const gz = gr + rowBytes, sz = sr + rowBytes;
    const gn = gz + rowBytes, sn = sz + rowBytes;
    // Tape row: r, z, n, s_n (4H floats).
    const tr = tape + <usize>b * (rowBytes << 2);
    const tz = tr + rowBytes, tn = tz + rowBytes, ts = tn + rowBytes;
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      for (; j < H4; j += 4) {
        const jb = <usize>j << 2;
        // Two phases separated by a store (see lstmStep): hPrev is loaded first because hOut
        // may alias it; the store of n into hOut keeps z's loads out of the first phase.
        const hpv = v128.load(hp + jb);
        const r = sigmoid4(f32x4.add(v128.load(gr + jb), v128.load(sr + jb)));
        const snv = v128.load(sn + jb);
        const nv = tanh4(f32x4.add(v128.load(gn + jb), f32x4.mul(r, snv)));
        if (tape != 0) {
          v128.store(tr + jb, r);
          v128.store(ts + jb, snv);
          v128.store(tn + jb, nv);
        }
        v128.store(ho + jb, nv);
        const z = sigmoid4(f32x4.add(v128.load(gz + jb), v128.load(sz + jb)));
        // h = (1 − z)·n + z·hPrev
        const h = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), nv), f32x4.mul(z, hpv));
        v128.store(ho + jb, h);
        if (o != 0) v128.store(o + jb, h);
        if (tape != 0) v128.store(tz + jb, z);
      }
    }
    for (; j < j1; j++) {
      const jb = <usize>j << 2;
      const r = sigmoid1(load<f32>(gr + jb) + load<f32>(sr + jb));
      const z = sigmoid1(load<f32>(gz + jb) + load<f32>(sz + jb));
      const snv = load<f32>(sn + jb);
      const nv = tanh1(load<f32>(gn + jb) + r * snv);
      const h = (<f32>1 - z) * nv + z * load<f32>(hp + jb);
      store<f32>(ho + jb, h);
      if (o != 0) store<f32>(o + jb, h);
      if (tape != 0) {
        store<f32>(tr + jb, r);
        store<f32>(tz + jb, z);
        store<f32>(tn + jb, nv);
        store<f32>(ts + jb, snv);
      }
    }
  }
}

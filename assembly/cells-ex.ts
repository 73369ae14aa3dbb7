/**
 * The cell variants (ONNX's and Keras's options beyond PyTorch's cells): per-gate activations
 * (sigmoid, tanh, relu, hardSigmoid), ONNX's cell clip, LSTM peepholes and coupled input and
 * forget gates, and the GRU with the reset gate before the recurrent product. The contract
 * (parameter block, tapes, aliasing) is src/backend/kernels.ts; the JS twin is
 * src/backend/js/cells-ex.ts.
 *
 * Structure: the recurrent product goes to `scratch` via the packed GEMM (as in cells.ts), then
 * per batch row one pass per gate block: each pass is a loop chosen once for the block's
 * activation (a `switch` on its code around loops inlined with a literal code), f32x4 over j
 * with a scalar tail doing the identical float32 operations, so the SIMD and scalar builds agree
 * bit for bit. Clip is a clamp to [−clip, clip], or to [−∞, ∞] (the identity) without clip, so
 * no pass branches on it. With PyTorch's activations, no clip and no peepholes every value is
 * computed by exactly the operations of cells.ts: the same bits.
 *
 * The activated gates are left in scratch (in place of s); its content after a step is not s.
 */
import { gemm, packedSize } from './gemm';
import {
  ACT_HARD_SIGMOID, ACT_RELU, ACT_SIGMOID, ACT_TANH, act1, act4, clamp1, clamp4,
} from './activations';
import { inactive, keepRow, mulRow } from './rows';

// Parameter block (src/backend/kernels.ts CELL_PARAMS), byte offsets of its words.
// @ts-ignore: decorator
@inline export const P_GATE: usize = 0;
// @ts-ignore: decorator
@inline export const P_CELL: usize = 4;
// @ts-ignore: decorator
@inline export const P_HIDDEN: usize = 8;
// @ts-ignore: decorator
@inline export const P_CLIP: usize = 12;
// @ts-ignore: decorator
@inline export const P_FLAGS: usize = 16;
// @ts-ignore: decorator
@inline export const P_PEEP: usize = 20;
// @ts-ignore: decorator
@inline export const P_DPEEP: usize = 24;
// @ts-ignore: decorator
@inline export const F_PEEPHOLES: i32 = 1;
// @ts-ignore: decorator
@inline export const F_INPUT_FORGET: i32 = 2;
// @ts-ignore: decorator
@inline export const F_RESET_BEFORE: i32 = 4;

// @ts-ignore: decorator
@inline export function flagsOf(params: usize): i32 {
  return load<i32>(params + P_FLAGS);
}

/** The clip bound: the block's clip, or +∞ without one (clamping to ±∞ changes nothing). */
// @ts-ignore: decorator
@inline export function clipOf(params: usize): f32 {
  const c = load<f32>(params + P_CLIP);
  return c > 0 ? c : <f32>Infinity;
}



// ------------------------------------------------------------------------------- gate pass

/**
 * dst[j] = act(clip(g[j] + s[j] (+ p[j]·c[j] when p ≠ 0))) for j < n, also stored to d2 and
 * tp when they are ≠ 0. dst may equal s. `code` is a literal at every call site.
 */
// @ts-ignore: decorator
@inline function gateLoop(
  code: i32, dst: usize, g: usize, s: usize, p: usize, c: usize, clip: f32, d2: usize, tp: usize, n: i32,
): void {
  let j = 0;
  const hasP = p != 0;
  if (ASC_FEATURE_SIMD) {
    const hi = f32x4.splat(clip), lo = f32x4.neg(hi);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      let x = f32x4.add(v128.load(g + jb), v128.load(s + jb));
      if (hasP) x = f32x4.add(x, f32x4.mul(v128.load(p + jb), v128.load(c + jb)));
      const y = act4(code, clamp4(x, lo, hi));
      v128.store(dst + jb, y);
      if (d2 != 0) v128.store(d2 + jb, y);
      if (tp != 0) v128.store(tp + jb, y);
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    let x = load<f32>(g + jb) + load<f32>(s + jb);
    if (hasP) x = x + load<f32>(p + jb) * load<f32>(c + jb);
    const y = act1(code, clamp1(x, -clip, clip));
    store<f32>(dst + jb, y);
    if (d2 != 0) store<f32>(d2 + jb, y);
    if (tp != 0) store<f32>(tp + jb, y);
  }
}

/** gateLoop with the activation chosen once, by its code. */
function gatePass(
  code: i32, dst: usize, g: usize, s: usize, p: usize, c: usize, clip: f32, d2: usize, tp: usize, n: i32,
): void {
  switch (code) {
    case ACT_SIGMOID: gateLoop(ACT_SIGMOID, dst, g, s, p, c, clip, d2, tp, n); break;
    case ACT_TANH: gateLoop(ACT_TANH, dst, g, s, p, c, clip, d2, tp, n); break;
    case ACT_RELU: gateLoop(ACT_RELU, dst, g, s, p, c, clip, d2, tp, n); break;
    default: gateLoop(ACT_HARD_SIGMOID, dst, g, s, p, c, clip, d2, tp, n);
  }
}

/** dst[j] = act(src[j]) for j < n (dst may equal src). */
// @ts-ignore: decorator
@inline function actLoop(code: i32, dst: usize, src: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(dst + jb, act4(code, v128.load(src + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(dst + jb, act1(code, load<f32>(src + jb)));
  }
}

/** actLoop with the activation chosen once (the LSTM backward recomputes hidden(c) with it). */
export function actPass(code: i32, dst: usize, src: usize, n: i32): void {
  switch (code) {
    case ACT_SIGMOID: actLoop(ACT_SIGMOID, dst, src, n); break;
    case ACT_TANH: actLoop(ACT_TANH, dst, src, n); break;
    case ACT_RELU: actLoop(ACT_RELU, dst, src, n); break;
    default: actLoop(ACT_HARD_SIGMOID, dst, src, n);
  }
}

// --------------------------------------------------------------------------------------- RNN

export function rnnStepEx(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize, params: usize,
): void {
  gemm(scratch, hPrev, whh, bhh, B, H, H);
  const code = load<i32>(params + P_HIDDEN);
  const clip = clipOf(params);
  const rowBytes = <usize>H << 2;
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const ho = hOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho, hPrev + off, rowBytes);
      if (o != 0) memory.fill(o, 0, rowBytes);
      continue;
    }
    gatePass(code, ho, gx + off, scratch + off, 0, 0, clip, o, tape != 0 ? tape + off : 0, H);
  }
}

// -------------------------------------------------------------------------------------- LSTM

/** dst = 1 − src (the input-forget coupling), also to tp when ≠ 0. */
// @ts-ignore: decorator
@inline function oneMinusPass(dst: usize, src: usize, tp: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const y = f32x4.sub(one, v128.load(src + jb));
      v128.store(dst + jb, y);
      if (tp != 0) v128.store(tp + jb, y);
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const y = <f32>1 - load<f32>(src + jb);
    store<f32>(dst + jb, y);
    if (tp != 0) store<f32>(tp + jb, y);
  }
}

/** c = f·cPrev + i·g → co (and tp); cPrev is read before co is written (co may equal cp). */
// @ts-ignore: decorator
@inline function cellStatePass(co: usize, f: usize, cp: usize, i: usize, g: usize, tp: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const c = f32x4.add(
        f32x4.mul(v128.load(f + jb), v128.load(cp + jb)), f32x4.mul(v128.load(i + jb), v128.load(g + jb)),
      );
      v128.store(co + jb, c);
      if (tp != 0) v128.store(tp + jb, c);
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const c = load<f32>(f + jb) * load<f32>(cp + jb) + load<f32>(i + jb) * load<f32>(g + jb);
    store<f32>(co + jb, c);
    if (tp != 0) store<f32>(tp + jb, c);
  }
}

/** h = o·act(c) → ho (and o2 when ≠ 0). */
// @ts-ignore: decorator
@inline function outputLoop(code: i32, ho: usize, o2: usize, og: usize, c: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const h = f32x4.mul(v128.load(og + jb), act4(code, v128.load(c + jb)));
      v128.store(ho + jb, h);
      if (o2 != 0) v128.store(o2 + jb, h);
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const h = load<f32>(og + jb) * act1(code, load<f32>(c + jb));
    store<f32>(ho + jb, h);
    if (o2 != 0) store<f32>(o2 + jb, h);
  }
}

function outputPass(code: i32, ho: usize, o2: usize, og: usize, c: usize, n: i32): void {
  switch (code) {
    case ACT_SIGMOID: outputLoop(ACT_SIGMOID, ho, o2, og, c, n); break;
    case ACT_TANH: outputLoop(ACT_TANH, ho, o2, og, c, n); break;
    case ACT_RELU: outputLoop(ACT_RELU, ho, o2, og, c, n); break;
    default: outputLoop(ACT_HARD_SIGMOID, ho, o2, og, c, n);
  }
}

export function lstmStepEx(
  hOut: usize, cOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  cPrev: usize, whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize, params: usize,
): void {
  gemm(scratch, hPrev, whh, bhh, B, 4 * H, H);
  const gate = load<i32>(params + P_GATE), cell = load<i32>(params + P_CELL);
  const hidden = load<i32>(params + P_HIDDEN);
  const clip = clipOf(params);
  const flags = flagsOf(params);
  const coupled = (flags & F_INPUT_FORGET) != 0;
  const peep: usize = (flags & F_PEEPHOLES) != 0 ? <usize>load<u32>(params + P_PEEP) : 0;
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes << 2;
  const pi: usize = peep, pf: usize = peep != 0 ? peep + rowBytes : 0, po: usize = peep != 0 ? peep + (rowBytes << 1) : 0;
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const ho = hOut + off, cp = cPrev + off, co = cOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho, hPrev + off, rowBytes);
      keepRow(co, cp, rowBytes);
      if (o != 0) memory.fill(o, 0, rowBytes);
      continue;
    }
    const gi = gx + <usize>b * gateBytes, si = scratch + <usize>b * gateBytes;
    const gf = gi + rowBytes, sf = si + rowBytes;
    const gg = gf + rowBytes, sg = sf + rowBytes;
    const go = gg + rowBytes, so = sg + rowBytes;
    const ti: usize = tape != 0 ? tape + <usize>b * (rowBytes * 5) : 0;
    const tf: usize = ti != 0 ? ti + rowBytes : 0, tg: usize = ti != 0 ? ti + 2 * rowBytes : 0;
    const to: usize = ti != 0 ? ti + 3 * rowBytes : 0, tc: usize = ti != 0 ? ti + 4 * rowBytes : 0;
    gatePass(gate, si, gi, si, pi, cp, clip, 0, ti, H);
    if (coupled) oneMinusPass(sf, si, tf, H);
    else gatePass(gate, sf, gf, sf, pf, cp, clip, 0, tf, H);
    gatePass(cell, sg, gg, sg, 0, 0, clip, 0, tg, H);
    cellStatePass(co, sf, cp, si, sg, tc, H);
    gatePass(gate, so, go, so, po, co, clip, 0, to, H);
    outputPass(hidden, ho, o, so, co, H);
  }
}

// --------------------------------------------------------------------------------------- GRU

/**
 * n = act(clip(gn + (r ? r·sn : sn))), h = (1 − z)·n + z·hPrev → ho (and o2); tape s_n (ts) and
 * n (tn) when ≠ 0. hPrev is read before ho is written (ho may equal hp).
 */
// @ts-ignore: decorator
@inline function candidateLoop(
  code: i32, ho: usize, o2: usize, gn: usize, sn: usize, r: usize, z: usize, hp: usize, clip: f32,
  tn: usize, ts: usize, n: i32,
): void {
  let j = 0;
  const hasR = r != 0;
  if (ASC_FEATURE_SIMD) {
    const hi = f32x4.splat(clip), lo = f32x4.neg(hi);
    const one = f32x4.splat(1);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const snv = v128.load(sn + jb);
      const x = hasR ? f32x4.add(v128.load(gn + jb), f32x4.mul(v128.load(r + jb), snv)) : f32x4.add(v128.load(gn + jb), snv);
      const nv = act4(code, clamp4(x, lo, hi));
      if (ts != 0) v128.store(ts + jb, snv);
      if (tn != 0) v128.store(tn + jb, nv);
      const zv = v128.load(z + jb);
      const h = f32x4.add(f32x4.mul(f32x4.sub(one, zv), nv), f32x4.mul(zv, v128.load(hp + jb)));
      v128.store(ho + jb, h);
      if (o2 != 0) v128.store(o2 + jb, h);
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const snv = load<f32>(sn + jb);
    const x = hasR ? load<f32>(gn + jb) + load<f32>(r + jb) * snv : load<f32>(gn + jb) + snv;
    const nv = act1(code, clamp1(x, -clip, clip));
    if (ts != 0) store<f32>(ts + jb, snv);
    if (tn != 0) store<f32>(tn + jb, nv);
    const zv = load<f32>(z + jb);
    const h = (<f32>1 - zv) * nv + zv * load<f32>(hp + jb);
    store<f32>(ho + jb, h);
    if (o2 != 0) store<f32>(o2 + jb, h);
  }
}

function candidatePass(
  code: i32, ho: usize, o2: usize, gn: usize, sn: usize, r: usize, z: usize, hp: usize, clip: f32,
  tn: usize, ts: usize, n: i32,
): void {
  switch (code) {
    case ACT_SIGMOID: candidateLoop(ACT_SIGMOID, ho, o2, gn, sn, r, z, hp, clip, tn, ts, n); break;
    case ACT_TANH: candidateLoop(ACT_TANH, ho, o2, gn, sn, r, z, hp, clip, tn, ts, n); break;
    case ACT_RELU: candidateLoop(ACT_RELU, ho, o2, gn, sn, r, z, hp, clip, tn, ts, n); break;
    default: candidateLoop(ACT_HARD_SIGMOID, ho, o2, gn, sn, r, z, hp, clip, tn, ts, n);
  }
}


export function gruStepEx(
  hOut: usize, out: usize, ldOut: i32, gx: usize, hPrev: usize,
  whh: usize, bhh: usize, scratch: usize, B: i32, H: i32,
  lengths: usize, t: i32, tape: usize, rh: usize, params: usize,
): void {
  const gate = load<i32>(params + P_GATE), cell = load<i32>(params + P_CELL);
  const clip = clipOf(params);
  const before = (flagsOf(params) & F_RESET_BEFORE) != 0;
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes * 3;
  // Reset after: s [B, 3H] as in gruStep. Reset before: s_rz [B, 2H], then s_n [B, H].
  const sRow = before ? rowBytes << 1 : gateBytes;
  const tapeRow = before ? gateBytes : rowBytes << 2;
  gemm(scratch, hPrev, whh, bhh, B, (before ? 2 : 3) * H, H);
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    if (inactive(lengths, b, t)) {
      if (before) memory.fill(rh + off, 0, rowBytes);
      continue;
    }
    const gr = gx + <usize>b * gateBytes, sr = scratch + <usize>b * sRow;
    const tr: usize = tape != 0 ? tape + <usize>b * tapeRow : 0;
    gatePass(gate, sr, gr, sr, 0, 0, clip, 0, tr, H);
    gatePass(gate, sr + rowBytes, gr + rowBytes, sr + rowBytes, 0, 0, clip, 0, tr != 0 ? tr + rowBytes : 0, H);
    if (before) mulRow(rh + off, sr, hPrev + off, H);
  }
  const sN = scratch + <usize>B * (rowBytes << 1);
  if (before) gemm(sN, rh, whh + (<usize>packedSize(2 * H, H) << 2), bhh != 0 ? bhh + (rowBytes << 1) : 0, B, H, H);
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    const hp = hPrev + off, ho = hOut + off;
    const o = out != 0 ? out + (<usize>b * <usize>ldOut << 2) : 0;
    if (inactive(lengths, b, t)) {
      keepRow(ho, hp, rowBytes);
      if (o != 0) memory.fill(o, 0, rowBytes);
      continue;
    }
    const gn = gx + <usize>b * gateBytes + (rowBytes << 1);
    const sr = scratch + <usize>b * sRow, sz = sr + rowBytes;
    const tr: usize = tape != 0 ? tape + <usize>b * tapeRow : 0;
    const tn: usize = tr != 0 ? tr + (rowBytes << 1) : 0;
    if (before) candidatePass(cell, ho, o, gn, sN + off, 0, sz, hp, clip, tn, 0, H);
    else candidatePass(cell, ho, o, gn, sr + (rowBytes << 1), sr, sz, hp, clip, tn, tr != 0 ? tr + 3 * rowBytes : 0, H);
  }
}

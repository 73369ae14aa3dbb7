/**
 * Backward kernels of the cell variants (assembly/cells-ex.ts), per batch row one pass per gate
 * block, the activation's derivative chosen once per block from its code and taken from the
 * activation's output (the tape): σ' = y(1 − y), tanh' = 1 − y², relu' = [y > 0],
 * hardSigmoid' = 0.2·[0 < y < 1]. f32x4 over j with scalar tails doing the identical float32
 * operations. With PyTorch's activations and no peepholes every value is computed by exactly
 * the operations of cells-grad.ts: the same bits. Clip has no backward (the layers refuse to
 * train with it). Contract: src/backend/kernels.ts; JS twin: src/backend/js/cells-ex-grad.ts.
 *
 * Inactive rows (lengths ≠ 0 and t ≥ lengths[b]): dG (and dS) rows ← 0, dh and dc unchanged.
 * A state pointer of 0 (cPrev, hPrev) is read as an all-zero state.
 */
import { gemmEx } from './gemm';
import { ACT_HARD_SIGMOID, ACT_RELU, ACT_SIGMOID, ACT_TANH, actDerivMul1, actDerivMul4 } from './activations';
import { F_INPUT_FORGET, F_PEEPHOLES, F_RESET_BEFORE, P_CELL, P_DPEEP, P_GATE, P_HIDDEN, P_PEEP, actPass, flagsOf } from './cells-ex';
import { addMulRow, inactive, mulRow } from './rows';


/** dst[j] = d[j]·act'(a_j), from y[j] = act(a_j) (dst may equal d). */
// @ts-ignore: decorator
@inline function derivLoop(code: i32, dst: usize, d: usize, y: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(dst + jb, actDerivMul4(code, v128.load(d + jb), v128.load(y + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(dst + jb, actDerivMul1(code, load<f32>(d + jb), load<f32>(y + jb)));
  }
}

function derivPass(code: i32, dst: usize, d: usize, y: usize, n: i32): void {
  switch (code) {
    case ACT_SIGMOID: derivLoop(ACT_SIGMOID, dst, d, y, n); break;
    case ACT_TANH: derivLoop(ACT_TANH, dst, d, y, n); break;
    case ACT_RELU: derivLoop(ACT_RELU, dst, d, y, n); break;
    default: derivLoop(ACT_HARD_SIGMOID, dst, d, y, n);
  }
}



// --------------------------------------------------------------------------------------- RNN

export function rnnStepBackwardEx(
  dG: usize, dh: usize, tape: usize, B: i32, H: i32, lengths: usize, t: i32, params: usize,
): void {
  const code = load<i32>(params + P_HIDDEN);
  const rowBytes = <usize>H << 2;
  for (let b = 0; b < B; b++) {
    const off = <usize>b * rowBytes;
    if (inactive(lengths, b, t)) {
      memory.fill(dG + off, 0, rowBytes);
      continue;
    }
    derivPass(code, dG + off, dh + off, tape + off, H);
    memory.fill(dh + off, 0, rowBytes);
  }
}

// -------------------------------------------------------------------------------------- LSTM

/** dc ← dc + dgg; dgo ← dh·y (y = hidden(c), held in dgo). */
// @ts-ignore: decorator
@inline function lstmPass2(dc: usize, dgg: usize, dgo: usize, dh: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      v128.store(dc + jb, f32x4.add(v128.load(dc + jb), v128.load(dgg + jb)));
      v128.store(dgo + jb, f32x4.mul(v128.load(dh + jb), v128.load(dgo + jb)));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    store<f32>(dc + jb, load<f32>(dc + jb) + load<f32>(dgg + jb));
    store<f32>(dgo + jb, load<f32>(dh + jb) * load<f32>(dgo + jb));
  }
}

/** dgi ← dc'·(coupled ? g − cPrev : g), dgg ← dc'·i, dgf ← coupled ? 0 : dc'·cPrev. */
// @ts-ignore: decorator
@inline function lstmPass4(
  dgi: usize, dgf: usize, dgg: usize, dc: usize, ti: usize, tg: usize, cp: usize, hasC: bool,
  coupled: bool, n: i32,
): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const dcv = v128.load(dc + jb);
      const g = v128.load(tg + jb);
      const cpv = hasC ? v128.load(cp + jb) : zero;
      v128.store(dgi + jb, f32x4.mul(dcv, coupled ? f32x4.sub(g, cpv) : g));
      v128.store(dgg + jb, f32x4.mul(dcv, v128.load(ti + jb)));
      v128.store(dgf + jb, coupled ? zero : f32x4.mul(dcv, cpv));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const dcv = load<f32>(dc + jb);
    const g = load<f32>(tg + jb);
    const cpv: f32 = hasC ? load<f32>(cp + jb) : 0;
    store<f32>(dgi + jb, dcv * (coupled ? g - cpv : g));
    store<f32>(dgg + jb, dcv * load<f32>(ti + jb));
    store<f32>(dgf + jb, coupled ? 0 : dcv * cpv);
  }
}

/**
 * dc ← dc'·f (+ dA_i·p_i + dA_f·p_f), dh ← 0, and the peephole gradients dp_i += dA_i·cPrev,
 * dp_f += dA_f·cPrev (p, dp = 0: none).
 */
// @ts-ignore: decorator
@inline function lstmPass5(
  dc: usize, dh: usize, tf: usize, dgi: usize, dgf: usize, cp: usize, hasC: bool,
  pi: usize, pf: usize, dpi: usize, dpf: usize, n: i32,
): void {
  let j = 0;
  const hasP = pi != 0, hasD = dpi != 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      let d = f32x4.mul(v128.load(dc + jb), v128.load(tf + jb));
      const ai = v128.load(dgi + jb), af = v128.load(dgf + jb);
      if (hasP) d = f32x4.add(f32x4.add(d, f32x4.mul(ai, v128.load(pi + jb))), f32x4.mul(af, v128.load(pf + jb)));
      v128.store(dc + jb, d);
      v128.store(dh + jb, zero);
      if (hasD) {
        const cpv = hasC ? v128.load(cp + jb) : zero;
        v128.store(dpi + jb, f32x4.add(v128.load(dpi + jb), f32x4.mul(ai, cpv)));
        v128.store(dpf + jb, f32x4.add(v128.load(dpf + jb), f32x4.mul(af, cpv)));
      }
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    let d = load<f32>(dc + jb) * load<f32>(tf + jb);
    const ai = load<f32>(dgi + jb), af = load<f32>(dgf + jb);
    if (hasP) d = (d + ai * load<f32>(pi + jb)) + af * load<f32>(pf + jb);
    store<f32>(dc + jb, d);
    store<f32>(dh + jb, 0);
    if (hasD) {
      const cpv: f32 = hasC ? load<f32>(cp + jb) : 0;
      store<f32>(dpi + jb, load<f32>(dpi + jb) + ai * cpv);
      store<f32>(dpf + jb, load<f32>(dpf + jb) + af * cpv);
    }
  }
}

export function lstmStepBackwardEx(
  dG: usize, dh: usize, dc: usize, tape: usize, cPrev: usize, ldcPrev: i32,
  B: i32, H: i32, lengths: usize, t: i32, params: usize,
): void {
  const gate = load<i32>(params + P_GATE), cell = load<i32>(params + P_CELL);
  const hidden = load<i32>(params + P_HIDDEN);
  const flags = flagsOf(params);
  const coupled = (flags & F_INPUT_FORGET) != 0;
  const peep: usize = (flags & F_PEEPHOLES) != 0 ? <usize>load<u32>(params + P_PEEP) : 0;
  const dpeep: usize = peep != 0 ? <usize>load<u32>(params + P_DPEEP) : 0;
  const rowBytes = <usize>H << 2;
  const pi = peep, pf: usize = peep != 0 ? peep + rowBytes : 0, po: usize = peep != 0 ? peep + (rowBytes << 1) : 0;
  const dpi = dpeep, dpf: usize = dpeep != 0 ? dpeep + rowBytes : 0, dpo: usize = dpeep != 0 ? dpeep + (rowBytes << 1) : 0;
  for (let b = 0; b < B; b++) {
    const dgi = dG + <usize>b * (rowBytes << 2);
    if (inactive(lengths, b, t)) {
      memory.fill(dgi, 0, rowBytes << 2);
      continue;
    }
    const dgf = dgi + rowBytes, dgg = dgf + rowBytes, dgo = dgg + rowBytes;
    const off = <usize>b * rowBytes;
    const dhr = dh + off, dcr = dc + off;
    const ti = tape + <usize>b * (rowBytes * 5);
    const tf = ti + rowBytes, tg = tf + rowBytes, to = tg + rowBytes, tc = to + rowBytes;
    const hasC = cPrev != 0;
    const cp: usize = hasC ? cPrev + (<usize>b * <usize>ldcPrev << 2) : 0;
    // y = hidden(c) in dgo; dgg ← (dh·o)·hidden'(c); dc' = dc + that; dA_o = (dh·y)·gate'(o).
    actPass(hidden, dgo, tc, H);
    mulRow(dgg, dhr, to, H);
    derivPass(hidden, dgg, dgg, dgo, H);
    lstmPass2(dcr, dgg, dgo, dhr, H);
    derivPass(gate, dgo, dgo, to, H);
    if (peep != 0) {
      addMulRow(dcr, dgo, po, H);
      if (dpo != 0) addMulRow(dpo, dgo, tc, H);
    }
    lstmPass4(dgi, dgf, dgg, dcr, ti, tg, cp, hasC, coupled, H);
    derivPass(gate, dgi, dgi, ti, H);
    derivPass(cell, dgg, dgg, tg, H);
    if (!coupled) derivPass(gate, dgf, dgf, tf, H);
    lstmPass5(dcr, dhr, tf, dgi, dgf, cp, hasC, pi, pf, dpi, dpf, H);
  }
}

// --------------------------------------------------------------------------------------- GRU

/** dgz ← dh·(hPrev − n), dgn ← dh·(1 − z), dh ← dh·z. */
// @ts-ignore: decorator
@inline function gruPass1(dgz: usize, dgn: usize, dh: usize, tz: usize, tn: usize, hp: usize, hasH: bool, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), zero = f32x4.splat(0);
    const n4 = n & ~3;
    for (; j < n4; j += 4) {
      const jb = <usize>j << 2;
      const dhv = v128.load(dh + jb);
      const z = v128.load(tz + jb);
      const hpv = hasH ? v128.load(hp + jb) : zero;
      v128.store(dgz + jb, f32x4.mul(dhv, f32x4.sub(hpv, v128.load(tn + jb))));
      v128.store(dgn + jb, f32x4.mul(dhv, f32x4.sub(one, z)));
      v128.store(dh + jb, f32x4.mul(dhv, z));
    }
  }
  for (; j < n; j++) {
    const jb = <usize>j << 2;
    const dhv = load<f32>(dh + jb);
    const z = load<f32>(tz + jb);
    const hpv: f32 = hasH ? load<f32>(hp + jb) : 0;
    store<f32>(dgz + jb, dhv * (hpv - load<f32>(tn + jb)));
    store<f32>(dgn + jb, dhv * (<f32>1 - z));
    store<f32>(dh + jb, dhv * z);
  }
}

export function gruStepBackwardEx(
  dGx: usize, dS: usize, dh: usize, tape: usize, hPrev: usize, whnT: usize, drh: usize,
  B: i32, H: i32, lengths: usize, t: i32, params: usize,
): void {
  const gate = load<i32>(params + P_GATE), cell = load<i32>(params + P_CELL);
  const before = (flagsOf(params) & F_RESET_BEFORE) != 0;
  const rowBytes = <usize>H << 2;
  const gateBytes = rowBytes * 3;
  const tapeRow = before ? gateBytes : rowBytes << 2;
  const hasH = hPrev != 0;
  for (let b = 0; b < B; b++) {
    const dgr = dGx + <usize>b * gateBytes, dsr = dS + <usize>b * gateBytes;
    if (inactive(lengths, b, t)) {
      memory.fill(dgr, 0, gateBytes);
      if (!before) memory.fill(dsr, 0, gateBytes);
      continue;
    }
    const dgz = dgr + rowBytes, dgn = dgz + rowBytes;
    const off = <usize>b * rowBytes;
    const tr = tape + <usize>b * tapeRow, tz = tr + rowBytes, tn = tz + rowBytes;
    const hp: usize = hasH ? hPrev + off : 0;
    gruPass1(dgz, dgn, dh + off, tz, tn, hp, hasH, H);
    derivPass(gate, dgz, dgz, tz, H);
    derivPass(cell, dgn, dgn, tn, H);
    if (before) continue;
    // Reset after: dA_r = (dA_n·s_n)·gate'(r); dS = (dA_r, dA_z, dA_n·r).
    const ts = tn + rowBytes;
    mulRow(dgr, dgn, ts, H);
    derivPass(gate, dgr, dgr, tr, H);
    memory.copy(dsr, dgr, rowBytes);
    memory.copy(dsr + rowBytes, dgz, rowBytes);
    mulRow(dsr + (rowBytes << 1), dgn, tr, H);
  }
  if (!before) return;
  // d(r ⊙ hPrev) = dA_n · W_hn for every row (inactive rows: dA_n = 0), then per active row
  // dA_r = (d(r ⊙ hPrev) ⊙ hPrev)·gate'(r) and dh += d(r ⊙ hPrev) ⊙ r.
  gemmEx(drh, dGx + (rowBytes << 1), whnT, 0, B, H, H, 3 * H, 1, 0);
  for (let b = 0; b < B; b++) {
    if (inactive(lengths, b, t)) continue;
    const off = <usize>b * rowBytes;
    const dgr = dGx + <usize>b * gateBytes;
    const tr = tape + <usize>b * tapeRow;
    if (hasH) mulRow(dgr, drh + off, hPrev + off, H);
    else memory.fill(dgr, 0, rowBytes);
    derivPass(gate, dgr, dgr, tr, H);
    addMulRow(dh + off, drh + off, tr, H);
  }
}

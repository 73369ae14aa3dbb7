/**
 * Test helpers for the variant kernels (*StepEx, *StepBackwardEx): their parameter blocks in
 * several backends, the configurations the kernel tests sweep, and float64 references that
 * carry a rigorous bound of a float32 implementation's error (ErrNum): every operation adds the
 * propagated input errors and one rounding (u·|result|), an activation adds its Lipschitz
 * constant times the input error plus the documented relative error of our approximations
 * (ACT), a GEMM row adds the standard (k + 2)·u·Σ|a||w| bound. A kernel is correct when it is
 * within that bound (× 1.25 for second-order terms) of the float64 value.
 */
import { ACT_CODES, CELL_PARAMS } from '../src/backend/kernels.js';
import type { HasArena } from './buffers.js';

export const U = 2 ** -24;
/** The documented relative error bound of the Wasm tanh/sigmoid (assembly/activations.ts). */
export const ACT = 2e-7;

export type Act = keyof typeof ACT_CODES;
export const ACTS: readonly Act[] = ['sigmoid', 'tanh', 'relu', 'hardSigmoid'];

export interface ExConfig {
  gate: Act;
  cell: Act;
  hidden: Act;
  clip: number;
  peepholes: boolean;
  inputForget: boolean;
  resetBefore: boolean;
}

export const PYTORCH: ExConfig = { gate: 'sigmoid', cell: 'tanh', hidden: 'tanh', clip: 0, peepholes: false, inputForget: false, resetBefore: false };

/** The configurations swept per cell kind (every activation in every slot, each flag, clip). */
export function exConfigs(kind: 'rnn' | 'lstm' | 'gru'): ExConfig[] {
  const c = (o: Partial<ExConfig>): ExConfig => ({ ...PYTORCH, ...o });
  if (kind === 'rnn') return [...ACTS.map((hidden) => c({ hidden })), c({ hidden: 'tanh', clip: 0.5 }), c({ hidden: 'relu', clip: 0.3 })];
  if (kind === 'lstm') {
    return [
      c({ gate: 'hardSigmoid' }), c({ cell: 'relu', hidden: 'sigmoid' }), c({ gate: 'tanh', cell: 'hardSigmoid', hidden: 'relu' }),
      c({ peepholes: true }), c({ inputForget: true }), c({ peepholes: true, inputForget: true, gate: 'hardSigmoid' }),
      c({ clip: 0.6, peepholes: true }),
    ];
  }
  return [
    c({ gate: 'hardSigmoid' }), c({ cell: 'relu', gate: 'tanh' }), c({ resetBefore: true }),
    c({ resetBefore: true, gate: 'hardSigmoid', cell: 'sigmoid' }), c({ clip: 0.5 }), c({ clip: 0.4, resetBefore: true }),
  ];
}

export const label = (x: ExConfig): string =>
  `${x.gate}/${x.cell}/${x.hidden}${x.clip ? ` clip ${x.clip}` : ''}${x.peepholes ? ' peep' : ''}${x.inputForget ? ' if' : ''}${x.resetBefore ? ' before' : ''}`;

/** A parameter block per backend (8 words), with the peephole weights and gradient addresses per backend. */
export class ParamBlock {
  readonly ptr: number[];
  constructor(private readonly bs: readonly HasArena[], x: ExConfig, peep: readonly number[] | null = null, dpeep: readonly number[] | null = null) {
    this.ptr = bs.map((b, i) => {
      const p = b.arena.alloc(CELL_PARAMS.words * 4);
      const w = p >>> 2, P = CELL_PARAMS;
      b.arena.i32.fill(0, w, w + P.words);
      b.arena.i32[w + P.GATE] = ACT_CODES[x.gate];
      b.arena.i32[w + P.CELL] = ACT_CODES[x.cell];
      b.arena.i32[w + P.HIDDEN] = ACT_CODES[x.hidden];
      b.arena.f32[w + P.CLIP] = x.clip;
      b.arena.i32[w + P.FLAGS] = (x.peepholes ? P.PEEPHOLES : 0) | (x.inputForget ? P.INPUT_FORGET : 0) | (x.resetBefore ? P.RESET_BEFORE : 0);
      b.arena.i32[w + P.PEEP] = peep ? peep[i] : 0;
      b.arena.i32[w + P.DPEEP] = dpeep ? dpeep[i] : 0;
      return p;
    });
  }
  free(): void {
    this.bs.forEach((b, i) => b.arena.free(this.ptr[i]));
  }
}

// ------------------------------------------------------------------------ error-tracked numbers

export interface E {
  v: number;
  e: number;
}
export const exact = (v: number): E => ({ v, e: 0 });
export const add = (a: E, b: E): E => {
  const v = a.v + b.v;
  return { v, e: a.e + b.e + U * Math.abs(v) };
};
export const sub = (a: E, b: E): E => {
  const v = a.v - b.v;
  return { v, e: a.e + b.e + U * Math.abs(v) };
};
export const mul = (a: E, b: E): E => {
  const v = a.v * b.v;
  return { v, e: Math.abs(a.v) * b.e + Math.abs(b.v) * a.e + a.e * b.e + U * Math.abs(v) };
};
export const clampE = (a: E, c: number): E => (c > 0 ? { v: Math.min(Math.max(a.v, -c), c), e: a.e } : a);

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
export const ACT_FN: Record<Act, (x: number) => number> = {
  sigmoid: sig, tanh: Math.tanh, relu: (x) => Math.max(x, 0), hardSigmoid: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
};
const LIPSCHITZ: Record<Act, number> = { sigmoid: 0.25, tanh: 1, relu: 1, hardSigmoid: 0.2 };

/** act(a): the propagated error, our approximation's (ACT relative; hardSigmoid: 0.2f ≠ 0.2 and two roundings). */
export function actE(name: Act, a: E): E {
  const v = ACT_FN[name](a.v);
  const own = name === 'hardSigmoid' ? 2 * U * Math.abs(v) + 1e-8 * Math.abs(a.v) : name === 'relu' ? 0 : (ACT + U) * Math.abs(v);
  return { v, e: LIPSCHITZ[name] * a.e + own };
}

/** act'(a)·d from y = act(a) (the tape's value, exact input): the backward kernels' formula. */
export function derivMulE(name: Act, d: E, y: E): E {
  if (name === 'sigmoid') return mul(d, mul(y, sub(exact(1), y)));
  if (name === 'tanh') return mul(d, sub(exact(1), mul(y, y)));
  if (name === 'relu') return y.v > 0 ? d : exact(0);
  return y.v > 0 && y.v < 1 ? mul(d, exact(0.2)) : exact(0);
}

/** Row b of C = A·Wᵀ + bias over k, A's entries error-tracked: the GEMM bound. */
export function gemmRowE(a: readonly E[], w: ArrayLike<number>, rowW: number, k: number, bias: number): E {
  let v = bias, mag = Math.abs(bias), prop = 0;
  for (let kk = 0; kk < k; kk++) {
    const ww = w[rowW * k + kk];
    v += a[kk].v * ww;
    mag += Math.abs(a[kk].v * ww);
    prop += Math.abs(ww) * a[kk].e;
  }
  return { v, e: (k + 2) * U * mag + prop };
}

export function expectWithin(label: string, got: ArrayLike<number>, want: readonly E[], skip: (i: number) => boolean = () => false): void {
  for (let i = 0; i < want.length; i++) {
    if (skip(i)) continue;
    const d = Math.abs(got[i] - want[i].v), tol = 1.25 * want[i].e + 1e-38;
    if (!(d <= tol)) throw new Error(`${label}: element ${i}: got ${got[i]}, want ${want[i].v}, |diff| ${d} > tol ${tol}`);
  }
}

// --------------------------------------------------------------------------- forward reference

export interface StepInputs {
  B: number;
  H: number;
  gx: Float32Array;
  hp: Float32Array;
  cp: Float32Array;
  whh: Float32Array;
  bhh: Float32Array;
  peep: Float32Array;
}

/** The step of a variant cell in float64 with error bounds: h, c (LSTM) and r ⊙ hPrev (GRU reset before), per [b, j]. */
export function refStepEx(kind: 'rnn' | 'lstm' | 'gru', x: ExConfig, s: StepInputs): { h: E[]; c: E[]; rh: E[] } {
  const { B, H } = s;
  const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1, GH = G * H;
  const h: E[] = [], c: E[] = [], rh: E[] = [];
  const cl = (a: E): E => clampE(a, x.clip);
  for (let b = 0; b < B; b++) {
    const hpRow = Array.from(s.hp.subarray(b * H, (b + 1) * H), exact);
    const sRows = x.resetBefore ? 2 * H : GH;
    const sv: E[] = [];
    for (let q = 0; q < sRows; q++) sv.push(gemmRowE(hpRow, s.whh, q, H, s.bhh[q]));
    const g = (q: number): E => exact(s.gx[b * GH + q]);
    if (kind === 'rnn') {
      for (let j = 0; j < H; j++) h.push(actE(x.hidden, cl(add(g(j), sv[j]))));
      continue;
    }
    if (kind === 'lstm') {
      for (let j = 0; j < H; j++) {
        const cpv = exact(s.cp[b * H + j]);
        const pe = (row: number, cv: E): E => (x.peepholes ? mul(exact(s.peep[row * H + j]), cv) : exact(0));
        const pre = (q: number): E => add(g(q * H + j), sv[q * H + j]);
        const i = actE(x.gate, cl(x.peepholes ? add(pre(0), pe(0, cpv)) : pre(0)));
        const f = x.inputForget ? sub(exact(1), i) : actE(x.gate, cl(x.peepholes ? add(pre(1), pe(1, cpv)) : pre(1)));
        const gg = actE(x.cell, cl(pre(2)));
        const cv = add(mul(f, cpv), mul(i, gg));
        const o = actE(x.gate, cl(x.peepholes ? add(pre(3), pe(2, cv)) : pre(3)));
        h.push(mul(o, actE(x.hidden, cv)));
        c.push(cv);
      }
      continue;
    }
    const r: E[] = [], z: E[] = [];
    for (let j = 0; j < H; j++) {
      r.push(actE(x.gate, cl(add(g(j), sv[j]))));
      z.push(actE(x.gate, cl(add(g(H + j), sv[H + j]))));
    }
    let sn: E[];
    if (x.resetBefore) {
      const rhRow = r.map((rv, j) => mul(rv, hpRow[j]));
      rh.push(...rhRow);
      sn = Array.from({ length: H }, (_, j) => gemmRowE(rhRow, s.whh.subarray(2 * H * H), j, H, s.bhh[2 * H + j]));
    } else sn = sv.slice(2 * H);
    for (let j = 0; j < H; j++) {
      const n = actE(x.cell, cl(add(g(2 * H + j), x.resetBefore ? sn[j] : mul(r[j], sn[j]))));
      h.push(add(mul(sub(exact(1), z[j]), n), mul(z[j], hpRow[j])));
    }
  }
  return { h, c, rh };
}

// -------------------------------------------------------------------------- backward reference

/** A random tape value of an activation's output (with its exact saturated values sometimes). */
export function actOutput(r: () => number, name: Act): number {
  if (name === 'sigmoid') return r();
  if (name === 'tanh') return r() * 2 - 1;
  if (name === 'relu') return r() < 0.3 ? 0 : r() * 3;
  const u = r();
  return u < 0.15 ? 0 : u > 0.85 ? 1 : r();
}

export interface BackInputs {
  B: number;
  H: number;
  /** [B, W·H] */
  tape: Float32Array;
  dh: Float32Array;
  dc: Float32Array;
  /** cPrev (LSTM, row stride ldc) or hPrev (GRU, [B, H]); null: the zero state. */
  state: Float32Array | null;
  ldc: number;
  peep: Float32Array;
  dpeep: Float32Array;
  /** GRU reset before: W_hh's rows [2H, 3H) ([H, H]). */
  whn: Float32Array;
}

/** The backward step of a variant cell: dG, dS (GRU reset after), dh, dc, dpeep after the kernel. */
export function refBackEx(kind: 'rnn' | 'lstm' | 'gru', x: ExConfig, s: BackInputs): { dG: E[]; dS: E[]; dh: E[]; dc: E[]; dpeep: E[] } {
  const { B, H } = s;
  const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  const W = kind === 'lstm' ? 5 : kind === 'gru' ? (x.resetBefore ? 3 : 4) : 1;
  const dG: E[] = new Array(B * G * H), dS: E[] = new Array(B * G * H);
  const dh: E[] = Array.from(s.dh, exact), dc: E[] = Array.from(s.dc, exact), dpeep: E[] = Array.from(s.dpeep, exact);
  const tp = (b: number, q: number, j: number): E => exact(s.tape[b * W * H + q * H + j]);
  const st = (b: number, j: number): E => exact(s.state ? s.state[b * (kind === 'lstm' ? s.ldc : H) + j] : 0);
  for (let b = 0; b < B; b++) {
    const gq = (q: number, j: number): number => b * G * H + q * H + j;
    if (kind === 'rnn') {
      for (let j = 0; j < H; j++) {
        dG[gq(0, j)] = derivMulE(x.hidden, dh[b * H + j], tp(b, 0, j));
        dh[b * H + j] = exact(0);
      }
      continue;
    }
    if (kind === 'lstm') {
      for (let j = 0; j < H; j++) {
        const [i, f, g, o, c] = [0, 1, 2, 3, 4].map((q) => tp(b, q, j));
        const d = dh[b * H + j], cp = st(b, j);
        const y = actE(x.hidden, c);
        let dcv = add(dc[b * H + j], derivMulE(x.hidden, mul(d, o), y));
        const dao = derivMulE(x.gate, mul(d, y), o);
        if (x.peepholes) dcv = add(dcv, mul(dao, exact(s.peep[2 * H + j])));
        const dai = derivMulE(x.gate, mul(dcv, x.inputForget ? sub(g, cp) : g), i);
        const dag = derivMulE(x.cell, mul(dcv, i), g);
        const daf = x.inputForget ? exact(0) : derivMulE(x.gate, mul(dcv, cp), f);
        let dcn = mul(dcv, f);
        if (x.peepholes) dcn = add(add(dcn, mul(dai, exact(s.peep[j]))), mul(daf, exact(s.peep[H + j])));
        [dai, daf, dag, dao].forEach((v, q) => (dG[gq(q, j)] = v));
        dc[b * H + j] = dcn;
        dh[b * H + j] = exact(0);
        if (x.peepholes) {
          dpeep[j] = add(dpeep[j], mul(dai, cp));
          dpeep[H + j] = add(dpeep[H + j], mul(daf, cp));
          dpeep[2 * H + j] = add(dpeep[2 * H + j], mul(dao, c));
        }
      }
      continue;
    }
    const dan: E[] = [];
    for (let j = 0; j < H; j++) {
      const [r, z, n] = [0, 1, 2].map((q) => tp(b, q, j));
      const d = dh[b * H + j], hp = st(b, j);
      const daz = derivMulE(x.gate, mul(d, sub(hp, n)), z);
      const an = derivMulE(x.cell, mul(d, sub(exact(1), z)), n);
      dan.push(an);
      dG[gq(1, j)] = daz;
      dG[gq(2, j)] = an;
      dh[b * H + j] = mul(d, z);
      if (x.resetBefore) continue;
      const dar = derivMulE(x.gate, mul(an, tp(b, 3, j)), r);
      dG[gq(0, j)] = dar;
      dS[gq(0, j)] = dar;
      dS[gq(1, j)] = daz;
      dS[gq(2, j)] = mul(an, r);
    }
    if (!x.resetBefore) continue;
    const whnT = new Float64Array(H * H);
    for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) whnT[k * H + j] = s.whn[j * H + k];
    for (let k = 0; k < H; k++) {
      const drh = gemmRowE(dan, whnT, k, H, 0);
      dG[gq(0, k)] = derivMulE(x.gate, mul(drh, st(b, k)), tp(b, 0, k));
      dh[b * H + k] = add(dh[b * H + k], mul(drh, tp(b, 0, k)));
    }
  }
  return { dG, dS, dh, dc, dpeep };
}

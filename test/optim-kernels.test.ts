/**
 * Loss, optimizer and reduction kernels (assembly/optim.ts, three builds) against the JS oracle
 * (src/backend/js-optim-kernels.ts), and the oracle against float64 closed forms / float64
 * re-implementations of PyTorch's optimizers.
 *
 * Each build runs on its own backend (own memory and arena) from the package's loader.
 *
 * Tolerances (u = 2⁻²⁴, the float32 unit roundoff):
 * - Optimizers run in float32 in Wasm and in float64 (rounded on store) in the oracle. Each
 *   comparison uses a first-order running error bound of the contract's formula, evaluated in
 *   float64 by the `Ar` class below in the Wasm's operation order: every float32 operation adds
 *   u·|result|, every hyperparameter (or derived scalar such as 1 − β2, lr/bc1) rounded to
 *   float32 carries u·|c|, and the oracle's own store adds u·|result|. Multi-step comparisons
 *   of the oracle with a float64 PyTorch re-implementation use the same bound with only the
 *   float32 stores of p and the state rounding (u each).
 * - crossEntropy: Wasm's exp(x − max) is the float32 exp of activations.ts; its relative error
 *   over every float32 in [−87, −2⁻²⁰] was measured at 8.13e-8 (EXP below, with headroom), and
 *   x − max is rounded to float32 (relative error u·|x − max| in exp). Per row the bound on the
 *   relative error of S = Σ exp is relS = Σ e_j (EXP + u|d_j|) / S; the loss (log S + non-negative
 *   float64 terms) differs by ≤ relS + 2u·|loss|, a gradient entry gradScale·(p_j − …) by
 *   ≤ |gradScale|·p_j·(EXP + u|d_j| + relS) + 2u·|g|.
 * - bceWithLogits: Wasm's only float32 step is e = exp(−|x|) (EXP relative), which moves
 *   log1p(e) by ≤ EXP·e and σ(x) − y by ≤ EXP·e/(1+e); its float64 log1p series is truncated at
 *   < 2e-9 relative; float64 sums are compared to n·2⁻⁵²·Σ|terms|.
 * - mseSum's gradient, clampValues and mulInPlace are computed identically (exactly) by both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Arena } from '../src/backend/arena.js';
import { createJsBackend } from '../src/backend/backend.js';
import type { Kernels } from '../src/backend/kernels.js';
import { WASM_FLAVORS, loadFlavor, rng } from './helpers.js';

const U = 2 ** -24;
const U64 = 2 ** -52;
/** Measured max relative error of assembly/activations.ts exp1/exp4 for x ≤ 0 (8.13e-8). */
const EXP = 9e-8;
/** exp clamps its argument at −87: results below exp(−87) ≈ 1.6e-38 are off by at most that. */
const EXP_FLOOR = 2e-38;
const SIZES = [1, 3, 4, 5, 7, 8, 13, 16, 17, 31, 33, 64, 65, 1000];
const FLAVORS = WASM_FLAVORS;
const PAD = 16;
const CANARY = 12345.5;

interface Env { name: string; arena: Arena; k: Kernels }

async function loadWasm(flavor: (typeof FLAVORS)[number]): Promise<Env> {
  const be = await loadFlavor(flavor);
  return { name: flavor, arena: be.arena, k: be.kernels };
}

function jsEnv(): Env {
  const be = createJsBackend();
  return { name: 'js', arena: be.arena, k: be.kernels };
}

function randomF32(r: () => number, n: number, scale = 1, offset = 0): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = offset + (r() * 2 - 1) * scale;
  return x;
}

/** Buffers with PAD canary floats on both sides; `done` checks the canaries and frees. */
class Bufs {
  private readonly blocks: Array<[number, number]> = [];
  constructor(private readonly env: Env) {}
  put(data: Float32Array | Int32Array): number {
    const { arena } = this.env;
    const n = data.length;
    const block = arena.alloc(4 * (n + 2 * PAD));
    const ptr = block + 4 * PAD;
    const f = arena.f32;
    f.fill(CANARY, block >> 2, ptr >> 2);
    f.fill(CANARY, (ptr >> 2) + n, (ptr >> 2) + n + PAD);
    if (data instanceof Int32Array) arena.i32.set(data, ptr >> 2);
    else f.set(data, ptr >> 2);
    this.blocks.push([block, n]);
    return ptr;
  }
  get(ptr: number, n: number): Float32Array {
    return this.env.arena.read(ptr, n);
  }
  done(): void {
    const f = this.env.arena.f32;
    for (const [block, n] of this.blocks) {
      for (let i = 0; i < PAD; i++) {
        if (f[(block >> 2) + i] !== CANARY || f[(block >> 2) + PAD + n + i] !== CANARY) {
          throw new Error(`${this.env.name}: canary overwritten around a buffer of ${n}`);
        }
      }
      this.env.arena.free(block);
    }
  }
}

/** Asserts |a[i] − b[i]| ≤ tol(i) (NaN must match NaN). */
function expectWithin(
  what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: (i: number) => number,
): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) {
      if (!(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
        throw new Error(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
      }
      continue;
    }
    if (a[i] === b[i]) continue; // also equal infinities
    const d = Math.abs(a[i] - b[i]);
    const t = tol(i);
    if (!(d <= t)) throw new Error(`${what}[${i}]: ${a[i]} vs ${b[i]} (|Δ| ${d} > ${t})`);
  }
}
function expectExact(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  expectWithin(what, a, b, () => 0);
}

// ------------------------------------------------------------------------ error-bound algebra

/** A float64 value and a bound on the absolute error of its floating-point evaluation. */
interface R { v: number; e: number }
const exact = (v: number): R => ({ v, e: 0 });

/**
 * First-order running error analysis: `uo` is the relative rounding of each operation (u for a
 * float32 evaluation), `uc` that of each constant (hyperparameters rounded to float32).
 */
class Ar {
  constructor(readonly uo: number, readonly uc: number) {}
  c(v: number): R { return { v, e: this.uc * Math.abs(v) }; }
  add(a: R, b: R): R { const v = a.v + b.v; return { v, e: a.e + b.e + this.uo * Math.abs(v) }; }
  sub(a: R, b: R): R { const v = a.v - b.v; return { v, e: a.e + b.e + this.uo * Math.abs(v) }; }
  mul(a: R, b: R): R {
    const v = a.v * b.v;
    return { v, e: Math.abs(a.v) * b.e + Math.abs(b.v) * a.e + a.e * b.e + this.uo * Math.abs(v) };
  }
  div(a: R, b: R): R {
    const v = a.v / b.v;
    const den = Math.abs(b.v) - b.e;
    const e = den > 0 ? (a.e + Math.abs(v) * b.e) / den : Infinity;
    return { v, e: e + this.uo * Math.abs(v) };
  }
  sqrt(a: R): R {
    const v = Math.sqrt(Math.max(a.v, 0));
    const e = Math.min(v > 0 ? a.e / (2 * v) : Infinity, Math.sqrt(a.e));
    return { v, e: e + this.uo * v };
  }
  /** A float32 store (the oracle's only rounding). */
  store(a: R): R { return { v: a.v, e: a.e + U * (Math.abs(a.v) + a.e) }; }
}

interface SgdHp { lr: number; momentum: number; dampening: number; wd: number; nesterov: number }
function sgdR(A: Ar, p: R, g: R, buf: R, h: SgdHp, first: boolean): { p: R; buf: R } {
  let d = g;
  if (h.wd !== 0) d = A.add(d, A.mul(A.c(h.wd), p));
  let b = buf;
  if (h.momentum !== 0) {
    b = first ? d : A.add(A.mul(A.c(h.momentum), buf), A.mul(A.c(1 - h.dampening), d));
    d = h.nesterov ? A.add(d, A.mul(A.c(h.momentum), b)) : b;
  }
  return { p: A.sub(p, A.mul(A.c(h.lr), d)), buf: b };
}

interface AdamHp { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: number }
function adamR(A: Ar, p: R, g: R, m: R, v: R, h: AdamHp, bc1: number, bc2sqrt: number) {
  if (h.wd !== 0) {
    if (h.decoupled) p = A.mul(p, A.c(1 - h.lr * h.wd));
    else g = A.add(g, A.mul(A.c(h.wd), p));
  }
  const m2 = A.add(A.mul(A.c(h.b1), m), A.mul(A.c(1 - h.b1), g));
  const v2 = A.add(A.mul(A.c(h.b2), v), A.mul(A.c(1 - h.b2), A.mul(g, g)));
  const den = A.add(A.div(A.sqrt(v2), A.c(bc2sqrt)), A.c(h.eps));
  return { p: A.sub(p, A.div(A.mul(A.c(h.lr / bc1), m2), den)), m: m2, v: v2 };
}

interface RmsHp { lr: number; alpha: number; eps: number; wd: number; momentum: number }
function rmsR(A: Ar, p: R, g: R, sq: R, ga: R | null, buf: R | null, h: RmsHp) {
  if (h.wd !== 0) g = A.add(g, A.mul(A.c(h.wd), p));
  const al = A.c(h.alpha), oal = A.c(1 - h.alpha);
  const s = A.add(A.mul(al, sq), A.mul(oal, A.mul(g, g)));
  let avg: R;
  let ga2: R | null = null;
  if (ga) {
    ga2 = A.add(A.mul(al, ga), A.mul(oal, g));
    avg = A.add(A.sqrt(A.sub(s, A.mul(ga2, ga2))), A.c(h.eps));
  } else {
    avg = A.add(A.sqrt(s), A.c(h.eps));
  }
  if (buf) {
    const b = A.add(A.mul(A.c(h.momentum), buf), A.div(g, avg));
    return { p: A.sub(p, A.mul(A.c(h.lr), b)), sq: s, ga: ga2, buf: b };
  }
  return { p: A.sub(p, A.div(A.mul(A.c(h.lr), g), avg)), sq: s, ga: ga2, buf: null };
}

/** Wasm (float32 ops, float32 constants) + oracle (float64 ops) in one bound. */
const WASM_AR = new Ar(U + U64, U);
/** The oracle alone: float64 operations, exact constants (its stores are added explicitly). */
const ORACLE_AR = new Ar(U64, 0);

// ------------------------------------------------------------------ float64 closed forms

/** Cross-entropy in float64 via the naive log Σ exp (no overflow for |x| ≤ 80 in float64). */
function ceRef(x: Float32Array, t: Int32Array, n: number, c: number, ignore: number, eps: number, gs: number) {
  const loss = new Float64Array(n), grad = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    if (t[i] === ignore) continue;
    let s = 0, mean = 0;
    for (let j = 0; j < c; j++) { s += Math.exp(x[i * c + j]); mean += x[i * c + j] / c; }
    const lse = Math.log(s);
    loss[i] = (1 - eps) * (lse - x[i * c + t[i]]) + eps * (lse - mean);
    for (let j = 0; j < c; j++) {
      grad[i * c + j] = gs * (Math.exp(x[i * c + j] - lse) - (j === t[i] ? 1 - eps : 0) - eps / c);
    }
  }
  return { loss, grad };
}

interface CeCase { n: number; c: number; scale: number; eps: number; ignore: number; gs: number }
function ceData(cs: CeCase, seed: number) {
  const r = rng(seed);
  const x = randomF32(r, cs.n * cs.c, cs.scale);
  const t = new Int32Array(cs.n);
  for (let i = 0; i < cs.n; i++) {
    t[i] = Math.floor(r() * cs.c);
    if (i % 3 === 1) t[i] = cs.ignore; // some ignored rows (cs.ignore may be a real class)
  }
  // A very confident row (loss ≈ 0) and the ±80 extremes.
  if (cs.n > 2 && cs.c > 1 && t[2] !== cs.ignore) {
    for (let j = 0; j < cs.c; j++) x[2 * cs.c + j] = j === t[2] ? 80 : -80;
  }
  return { x, t };
}

const CE_CASES: CeCase[] = [];
{
  const shapes: Array<[number, number]> = [
    [1, 1], [4, 1], [3, 2], [5, 2], [4, 3], [7, 4], [3, 5], [5, 7], [3, 8], [4, 13], [3, 16],
    [5, 17], [3, 31], [4, 33], [6, 64], [7, 65], [64, 65], [3, 1000],
  ];
  let k = 0;
  for (const [n, c] of shapes) {
    for (const eps of [0, 0.1]) {
      CE_CASES.push({
        n, c, eps,
        scale: [3, 80, 10][k % 3],
        ignore: k % 4 === 3 && c > 1 ? 1 : -100,
        gs: [1, 1 / n, -0.37][k % 3],
      });
      k++;
    }
  }
}

function runCe(env: Env, x: Float32Array, t: Int32Array, cs: CeCase, withGrad = true) {
  const b = new Bufs(env);
  const px = b.put(x), pt = b.put(t);
  const pl = b.put(new Float32Array(cs.n).fill(-7));
  const pg = withGrad ? b.put(new Float32Array(cs.n * cs.c).fill(-7)) : 0;
  const count = env.k.crossEntropy(pl, pg, px, pt, cs.n, cs.c, cs.ignore, cs.eps, cs.gs);
  const res = { count, loss: b.get(pl, cs.n), grad: withGrad ? b.get(pg, cs.n * cs.c) : null };
  expect(b.get(px, x.length)).toEqual(x);
  b.done();
  return res;
}

/** Per-row bound on the relative error of Wasm's S = Σ exp(x − max) (see the header). */
function ceRowBounds(x: Float32Array, i: number, c: number) {
  let mx = -Infinity;
  for (let j = 0; j < c; j++) mx = Math.max(mx, x[i * c + j]);
  let s = 0, err = 0;
  for (let j = 0; j < c; j++) {
    const d = x[i * c + j] - mx;
    const e = Math.exp(d);
    s += e;
    err += e * (EXP + U * Math.abs(d)) + EXP_FLOOR;
  }
  return { mx, s, relS: err / s + c * U64 };
}

// ============================================================================== tests

describe('JS oracle vs float64 closed forms', () => {
  const js = jsEnv();

  it('crossEntropy matches a float64 log-softmax (u on store, plus float64 cancellation)', () => {
    CE_CASES.forEach((cs, ci) => {
      const { x, t } = ceData(cs, 100 + ci);
      const o = runCe(js, x, t, cs);
      const ref = ceRef(x, t, cs.n, cs.c, cs.ignore, cs.eps, cs.gs);
      let count = 0;
      for (let i = 0; i < cs.n; i++) if (t[i] !== cs.ignore) count++;
      expect(o.count).toBe(count);
      // The naive reference's lse − x_t cancels in float64: ≤ 1e-13 absolute for |x| ≤ 80.
      expectWithin(`ce loss ${ci}`, o.loss, ref.loss, (i) => U * Math.abs(ref.loss[i]) + 1e-13);
      expectWithin(`ce grad ${ci}`, o.grad!, ref.grad, (i) => U * Math.abs(ref.grad[i]) + 1e-14);
      for (let i = 0; i < cs.n; i++) {
        if (t[i] !== cs.ignore) continue;
        expect(o.loss[i]).toBe(0);
        for (let j = 0; j < cs.c; j++) expect(o.grad![i * cs.c + j]).toBe(0);
      }
    });
  });

  it('crossEntropy with grad = 0 computes the same loss', () => {
    const cs = CE_CASES[20];
    const { x, t } = ceData(cs, 7);
    expect(runCe(js, x, t, cs, false).loss).toEqual(runCe(js, x, t, cs, true).loss);
  });

  it('mseSum, bceWithLogitsSum, sumSquares match float64 closed forms', () => {
    const r = rng(5);
    for (const n of SIZES) {
      const p = randomF32(r, n, 90), y = randomF32(r, n, 0.5, 0.5);
      const b = new Bufs(js);
      const pp = b.put(p), py = b.put(y), pg = b.put(new Float32Array(n));
      let mse = 0, bce = 0, ss = 0;
      const gm = new Float64Array(n), gb = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        mse += (p[i] - y[i]) ** 2;
        gm[i] = 0.25 * 2 * (p[i] - y[i]);
        // −[y log σ(x) + (1 − y) log(1 − σ(x))] with log σ(x) = −log1p(e^{−x}) (float64).
        const lsp = -Math.log1p(Math.exp(-p[i])), lsn = -Math.log1p(Math.exp(p[i]));
        bce += -(y[i] * lsp + (1 - y[i]) * lsn);
        gb[i] = -1.5 * (1 / (1 + Math.exp(-p[i])) - y[i]);
        ss += p[i] * p[i];
      }
      expect(Math.abs(js.k.mseSum(pg, pp, py, n, 0.25) - mse)).toBeLessThanOrEqual(1e-14 * mse);
      expectWithin(`mse grad ${n}`, b.get(pg, n), gm, (i) => U * Math.abs(gm[i]));
      expect(Math.abs(js.k.bceWithLogitsSum(pg, pp, py, n, -1.5) - bce)).toBeLessThanOrEqual(1e-13 * (1 + bce));
      expectWithin(`bce grad ${n}`, b.get(pg, n), gb, (i) => U * Math.abs(gb[i]) + 1e-16);
      expect(Math.abs(js.k.sumSquares(pp, n) - ss)).toBeLessThanOrEqual(1e-14 * ss);
      b.done();
    }
  });

  /** Runs `steps` oracle steps and a float64 PyTorch re-implementation side by side. */
  function multiStep(
    n: number, seed: number, steps: number, state: string[],
    oracleStep: (ptr: Record<string, number>, t: number) => void,
    refStep: (st: Record<string, Float64Array>, g: Float32Array, t: number) => void,
    boundStep: (st: Record<string, R[]>, g: Float32Array, t: number) => void,
  ): void {
    const r = rng(seed);
    const p0 = randomF32(r, n, 1);
    const b = new Bufs(js);
    const ptr: Record<string, number> = { p: b.put(p0), g: b.put(new Float32Array(n)) };
    const ref: Record<string, Float64Array> = { p: Float64Array.from(p0) };
    const bnd: Record<string, R[]> = { p: Array.from(p0, exact) };
    for (const s of state) {
      ptr[s] = b.put(new Float32Array(n));
      ref[s] = new Float64Array(n);
      bnd[s] = Array.from({ length: n }, () => exact(0));
    }
    for (let t = 1; t <= steps; t++) {
      const g = randomF32(r, n, 1);
      js.arena.write(ptr.g, g);
      oracleStep(ptr, t);
      refStep(ref, g, t);
      boundStep(bnd, g, t);
      for (const s of Object.keys(bnd)) bnd[s] = bnd[s].map((x) => ORACLE_AR.store(x));
    }
    for (const s of ['p', ...state]) {
      const got = b.get(ptr[s], n);
      expectWithin(`${s}`, got, ref[s], (i) => 1.01 * bnd[s][i].e + 1e-13 * (1 + Math.abs(ref[s][i])));
    }
    b.done();
  }

  for (const h of [
    { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: 0 },
    { lr: 3e-2, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: 0 },
    { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: 1 },
  ]) {
    it(`Adam${h.decoupled ? 'W' : ''} (wd ${h.wd}) matches PyTorch's algorithm in float64 over 3 steps`, () => {
      multiStep(
        33, 11, 3, ['m', 'v'],
        (q, t) => js.k.adamStep(q.p, q.g, q.m, q.v, 33, h.lr, h.b1, h.b2, h.eps, h.wd,
          1 - h.b1 ** t, Math.sqrt(1 - h.b2 ** t), h.decoupled),
        (st, g, t) => {
          // torch.optim.Adam (single tensor): lerp for m, step_size = lr/bc1, bc2 ** 0.5.
          for (let i = 0; i < g.length; i++) {
            let gi = g[i];
            if (h.wd && h.decoupled) st.p[i] *= 1 - h.lr * h.wd;
            else if (h.wd) gi += h.wd * st.p[i];
            st.m[i] += (gi - st.m[i]) * (1 - h.b1);
            st.v[i] = st.v[i] * h.b2 + (1 - h.b2) * gi * gi;
            const stepSize = h.lr / (1 - h.b1 ** t);
            const denom = Math.sqrt(st.v[i]) / (1 - h.b2 ** t) ** 0.5 + h.eps;
            st.p[i] += -stepSize * (st.m[i] / denom);
          }
        },
        (st, g, t) => {
          for (let i = 0; i < g.length; i++) {
            const o = adamR(ORACLE_AR, st.p[i], exact(g[i]), st.m[i], st.v[i], h,
              1 - h.b1 ** t, Math.sqrt(1 - h.b2 ** t));
            st.p[i] = o.p; st.m[i] = o.m; st.v[i] = o.v;
          }
        },
      );
    });
  }

  for (const h of [
    { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: 0 },
    { lr: 0.1, momentum: 0.9, dampening: 0, wd: 1e-2, nesterov: 1 },
    { lr: 0.05, momentum: 0.8, dampening: 0.3, wd: 0.1, nesterov: 0 },
  ]) {
    it(`SGD (momentum ${h.momentum}, dampening ${h.dampening}, nesterov ${h.nesterov}, wd ${h.wd}) over 3 steps`, () => {
      multiStep(
        17, 12, 3, ['buf'],
        (q, t) => js.k.sgdStep(q.p, q.g, h.momentum ? q.buf : 0, 17, h.lr, h.momentum, h.dampening,
          h.wd, h.nesterov, t === 1 ? 1 : 0),
        (st, g, t) => {
          for (let i = 0; i < g.length; i++) {
            let d = g[i] + h.wd * st.p[i];
            if (h.momentum !== 0) {
              st.buf[i] = t === 1 ? d : st.buf[i] * h.momentum + (1 - h.dampening) * d;
              d = h.nesterov ? d + h.momentum * st.buf[i] : st.buf[i];
            }
            st.p[i] += -h.lr * d;
          }
        },
        (st, g, t) => {
          for (let i = 0; i < g.length; i++) {
            const o = sgdR(ORACLE_AR, st.p[i], exact(g[i]), st.buf[i], h, t === 1);
            st.p[i] = o.p; st.buf[i] = o.buf;
          }
        },
      );
    });
  }

  for (const [centered, h] of [
    [true, { lr: 1e-2, alpha: 0.99, eps: 1e-8, wd: 0.05, momentum: 0.9 }],
    [false, { lr: 1e-2, alpha: 0.9, eps: 1e-6, wd: 0, momentum: 0 }],
    [true, { lr: 1e-3, alpha: 0.99, eps: 1e-8, wd: 0, momentum: 0 }],
  ] as Array<[boolean, RmsHp]>) {
    it(`RMSprop (centered ${centered}, momentum ${h.momentum}, wd ${h.wd}) over 3 steps`, () => {
      multiStep(
        16, 13, 3, ['sq', 'ga', 'buf'],
        (q) => js.k.rmspropStep(q.p, q.g, q.sq, centered ? q.ga : 0, h.momentum ? q.buf : 0, 16,
          h.lr, h.alpha, h.eps, h.wd, h.momentum),
        (st, g) => {
          // torch.optim.RMSprop: square_avg.mul_(α).addcmul_(g, g, 1 − α); grad_avg.lerp_(g, 1 − α);
          // avg = square_avg.addcmul(grad_avg, grad_avg, −1).sqrt_().add_(eps); buf.mul_(μ).addcdiv_(g, avg).
          for (let i = 0; i < g.length; i++) {
            const gi = g[i] + h.wd * st.p[i];
            st.sq[i] = st.sq[i] * h.alpha + (1 - h.alpha) * gi * gi;
            let avg: number;
            if (centered) {
              st.ga[i] += (gi - st.ga[i]) * (1 - h.alpha);
              avg = Math.sqrt(st.sq[i] - st.ga[i] * st.ga[i]) + h.eps;
            } else avg = Math.sqrt(st.sq[i]) + h.eps;
            if (h.momentum > 0) {
              st.buf[i] = st.buf[i] * h.momentum + gi / avg;
              st.p[i] += -h.lr * st.buf[i];
            } else st.p[i] += -h.lr * (gi / avg);
          }
        },
        (st, g) => {
          for (let i = 0; i < g.length; i++) {
            const o = rmsR(ORACLE_AR, st.p[i], exact(g[i]), st.sq[i], centered ? st.ga[i] : null,
              h.momentum ? st.buf[i] : null, h);
            st.p[i] = o.p; st.sq[i] = o.sq;
            if (o.ga) st.ga[i] = o.ga;
            if (o.buf) st.buf[i] = o.buf;
          }
        },
      );
    });
  }
});

describe.each(FLAVORS)('%s optim kernels vs the JS oracle', (flavor) => {
  let w: Env;
  const js = jsEnv();
  beforeAll(async () => {
    w = await loadWasm(flavor);
  });

  it('crossEntropy (loss, grad, count; ignoreIndex, smoothing, ±80 logits)', () => {
    let maxLoss = 0, maxGrad = 0, maxLossRel = 0;
    CE_CASES.forEach((cs, ci) => {
      const { x, t } = ceData(cs, 100 + ci);
      const a = runCe(w, x, t, cs), o = runCe(js, x, t, cs);
      expect(a.count, `count ${ci}`).toBe(o.count);
      const rows = Array.from({ length: cs.n }, (_, i) => ceRowBounds(x, i, cs.c));
      expectWithin(`ce loss ${ci}`, a.loss, o.loss, (i) =>
        t[i] === cs.ignore ? 0 : 1.01 * rows[i].relS + 2 * U * Math.abs(o.loss[i]) + 1e-14 * (1 + Math.abs(rows[i].mx)));
      expectWithin(`ce grad ${ci}`, a.grad!, o.grad!, (k) => {
        const i = Math.floor(k / cs.c);
        if (t[i] === cs.ignore) return 0;
        const { mx, s, relS } = rows[i];
        const d = x[k] - mx;
        const p = Math.exp(d) / s;
        return 1.01 * Math.abs(cs.gs) * (p * (EXP + U * Math.abs(d) + relS) + EXP_FLOOR) +
          2 * U * Math.abs(o.grad![k]) + 1e-16 * Math.abs(cs.gs);
      });
      expect(runCe(w, x, t, cs, false).loss, `loss-only ${ci}`).toEqual(a.loss);
      // Measured error against the float64 log-softmax (reported by the helper that wrote this).
      const ref = ceRef(x, t, cs.n, cs.c, cs.ignore, cs.eps, cs.gs);
      for (let i = 0; i < cs.n; i++) {
        const dl = Math.abs(a.loss[i] - ref.loss[i]);
        maxLoss = Math.max(maxLoss, dl);
        if (ref.loss[i] > 1e-3) maxLossRel = Math.max(maxLossRel, dl / ref.loss[i]);
      }
      for (let k = 0; k < ref.grad.length; k++) {
        maxGrad = Math.max(maxGrad, Math.abs(a.grad![k] - ref.grad[k]) / Math.abs(cs.gs));
      }
    });
    console.log(`${flavor} crossEntropy vs float64: max |Δloss| ${maxLoss.toExponential(3)} ` +
      `(max rel ${maxLossRel.toExponential(3)} where loss > 1e-3), max |Δgrad|/|gradScale| ${maxGrad.toExponential(3)}`);
    expect(maxGrad).toBeLessThan(1e-6);
  });

  it('mseSum and sumSquares (float64 sums; identical gradients)', () => {
    const r = rng(21);
    for (const n of SIZES) {
      const p = randomF32(r, n, 5), y = randomF32(r, n, 5);
      const res = [w, js].map((env) => {
        const b = new Bufs(env);
        const pp = b.put(p), py = b.put(y), pg = b.put(new Float32Array(n).fill(-7));
        const s = env.k.mseSum(pg, pp, py, n, 0.3);
        const s0 = env.k.mseSum(0, pp, py, n, 0.3);
        const q = env.k.sumSquares(pp, n);
        const g = b.get(pg, n);
        b.done();
        return { s, s0, q, g };
      });
      const [a, o] = res;
      expect(a.s0).toBe(a.s);
      expect(Math.abs(a.s - o.s)).toBeLessThanOrEqual(n * U64 * o.s);
      expect(Math.abs(a.q - o.q)).toBeLessThanOrEqual(n * U64 * o.q);
      expectExact(`mse grad ${n}`, a.g, o.g);
    }
  });

  it('bceWithLogitsSum (stable for |x| up to 100; σ(x) − y without cancellation)', () => {
    const r = rng(22);
    for (const n of SIZES) {
      for (const sc of [4, 30, 100]) {
        const x = randomF32(r, n, sc), y = randomF32(r, n, 0.5, 0.5);
        if (n > 3) { y[0] = 1; y[1] = 0; x[2] = 0; y[3] = 1; x[3] = 90; }
        const [a, o] = [w, js].map((env) => {
          const b = new Bufs(env);
          const px = b.put(x), py = b.put(y), pg = b.put(new Float32Array(n).fill(-7));
          const s = env.k.bceWithLogitsSum(pg, px, py, n, -0.7);
          const s0 = env.k.bceWithLogitsSum(0, px, py, n, -0.7);
          const g = b.get(pg, n);
          b.done();
          return { s, s0, g };
        });
        expect(a.s0).toBe(a.s);
        let bound = 0, mag = 0;
        for (let i = 0; i < n; i++) {
          const e = Math.exp(-Math.abs(x[i])), sp = Math.log1p(e);
          bound += EXP * e + 3e-9 * sp + EXP_FLOOR;
          mag += Math.max(x[i], 0) + Math.abs(x[i] * y[i]) + sp;
        }
        expect(Math.abs(a.s - o.s), `bce sum ${n}`).toBeLessThanOrEqual(1.01 * bound + 4 * n * U64 * mag);
        expectWithin(`bce grad ${n}`, a.g, o.g, (i) => {
          const e = Math.exp(-Math.abs(x[i]));
          return 0.7 * 1.01 * (EXP * e / (1 + e) + EXP_FLOOR) + 2 * U * Math.abs(o.g[i]) + 1e-16;
        });
      }
    }
  });

  /** Runs one step of `step` in both envs from the same buffers; returns [wasm, oracle] outputs. */
  function both(
    n: number, inputs: Record<string, Float32Array>, step: (env: Env, q: Record<string, number>) => void,
  ): Array<Record<string, Float32Array>> {
    return [w, js].map((env) => {
      const b = new Bufs(env);
      const q: Record<string, number> = {};
      for (const [k, v] of Object.entries(inputs)) q[k] = b.put(v);
      step(env, q);
      const out: Record<string, Float32Array> = {};
      for (const k of Object.keys(inputs)) out[k] = b.get(q[k], n);
      b.done();
      return out;
    });
  }

  function checkAgainst(
    what: string, a: Record<string, Float32Array>, o: Record<string, Float32Array>,
    bounds: Record<string, R[]>,
  ): void {
    for (const [k, rs] of Object.entries(bounds)) {
      expectWithin(`${what} ${k}`, a[k], o[k], (i) => 1.01 * (rs[i].e + U * Math.abs(rs[i].v)) + 1e-40);
    }
    for (const k of Object.keys(a)) if (!(k in bounds)) expectExact(`${what} ${k}`, a[k], o[k]);
  }

  it('sgdStep (plain, momentum first/next, nesterov, dampening, weight decay)', () => {
    const r = rng(23);
    const hs: SgdHp[] = [
      { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: 0 },
      { lr: 0.1, momentum: 0.9, dampening: 0, wd: 0, nesterov: 0 },
      { lr: 0.03, momentum: 0.9, dampening: 0, wd: 1e-2, nesterov: 1 },
      { lr: 0.05, momentum: 0.8, dampening: 0.3, wd: 0.1, nesterov: 0 },
    ];
    for (const n of SIZES) {
      for (const h of hs) {
        for (const first of [1, 0]) {
          const p = randomF32(r, n), g = randomF32(r, n), buf = randomF32(r, n, 0.5);
          const [a, o] = both(n, { p, g, buf }, (env, q) =>
            env.k.sgdStep(q.p, q.g, h.momentum ? q.buf : 0, n, h.lr, h.momentum, h.dampening, h.wd,
              h.nesterov, first));
          const rs = Array.from({ length: n }, (_, i) =>
            sgdR(WASM_AR, exact(p[i]), exact(g[i]), exact(buf[i]), h, first === 1));
          const bounds: Record<string, R[]> = { p: rs.map((x) => x.p) };
          if (h.momentum) bounds.buf = rs.map((x) => x.buf);
          checkAgainst(`sgd ${n} ${JSON.stringify(h)} first=${first}`, a, o, bounds);
        }
      }
    }
  });

  it('adamStep (Adam, Adam + L2, AdamW; bias corrections as passed)', () => {
    const r = rng(24);
    const hs: AdamHp[] = [
      { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: 0 },
      { lr: 3e-2, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: 0 },
      { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: 1 },
    ];
    for (const n of SIZES) {
      for (const h of hs) {
        const t = 1 + Math.floor(r() * 50);
        const bc1 = 1 - h.b1 ** t, bc2sqrt = Math.sqrt(1 - h.b2 ** t);
        const p = randomF32(r, n), g = randomF32(r, n), m = randomF32(r, n, 0.3);
        const v = Float32Array.from(randomF32(r, n, 0.1), (x) => x * x);
        const [a, o] = both(n, { p, g, m, v }, (env, q) =>
          env.k.adamStep(q.p, q.g, q.m, q.v, n, h.lr, h.b1, h.b2, h.eps, h.wd, bc1, bc2sqrt, h.decoupled));
        const rs = Array.from({ length: n }, (_, i) =>
          adamR(WASM_AR, exact(p[i]), exact(g[i]), exact(m[i]), exact(v[i]), h, bc1, bc2sqrt));
        checkAgainst(`adam ${n} ${JSON.stringify(h)}`, a, o,
          { p: rs.map((x) => x.p), m: rs.map((x) => x.m), v: rs.map((x) => x.v) });
      }
    }
  });

  it('rmspropStep (plain, centered, momentum, weight decay)', () => {
    const r = rng(25);
    const cases: Array<[boolean, RmsHp]> = [
      [false, { lr: 1e-2, alpha: 0.99, eps: 1e-8, wd: 0, momentum: 0 }],
      [true, { lr: 1e-2, alpha: 0.99, eps: 1e-8, wd: 0.05, momentum: 0.9 }],
      [false, { lr: 1e-3, alpha: 0.9, eps: 1e-6, wd: 0.01, momentum: 0.5 }],
      [true, { lr: 1e-3, alpha: 0.9, eps: 1e-6, wd: 0, momentum: 0 }],
    ];
    for (const n of SIZES) {
      for (const [centered, h] of cases) {
        const p = randomF32(r, n), g = randomF32(r, n), ga = randomF32(r, n, 0.2);
        // A reachable state: sq ≥ gAvg² (as after any sequence of PyTorch steps).
        const sq = Float32Array.from(ga, (x) => x * x + 0.05 + 0.1 * r());
        const buf = randomF32(r, n, 2);
        const [a, o] = both(n, { p, g, sq, ga, buf }, (env, q) =>
          env.k.rmspropStep(q.p, q.g, q.sq, centered ? q.ga : 0, h.momentum ? q.buf : 0, n,
            h.lr, h.alpha, h.eps, h.wd, h.momentum));
        const rs = Array.from({ length: n }, (_, i) =>
          rmsR(WASM_AR, exact(p[i]), exact(g[i]), exact(sq[i]), centered ? exact(ga[i]) : null,
            h.momentum ? exact(buf[i]) : null, h));
        const bounds: Record<string, R[]> = { p: rs.map((x) => x.p), sq: rs.map((x) => x.sq) };
        if (centered) bounds.ga = rs.map((x) => x.ga!);
        if (h.momentum) bounds.buf = rs.map((x) => x.buf!);
        checkAgainst(`rmsprop ${n} c=${centered} ${JSON.stringify(h)}`, a, o, bounds);
      }
    }
  });

  it('scale, clampValues, mulInPlace', () => {
    const r = rng(26);
    for (const n of SIZES) {
      const x = randomF32(r, n, 3), y = randomF32(r, n, 2);
      if (n > 2) { x[1] = NaN; x[2] = -Infinity; }
      // scale by a float32 factor: both compute the correctly rounded product.
      let [a, o] = both(n, { x }, (env, q) => env.k.scale(q.x, n, 0.75));
      expectExact(`scale ${n}`, a.x, o.x);
      // A float64 factor is rounded to float32 by the kernel: ≤ 2u relative.
      [a, o] = both(n, { x }, (env, q) => env.k.scale(q.x, n, 1 / 3));
      expectWithin(`scale 1/3 ${n}`, a.x, o.x, (i) => 2 * U * Math.abs(o.x[i]));
      for (const [lo, hi] of [[-1, 1], [-0.1, 2.5], [0.5, -0.5]]) {
        [a, o] = both(n, { x }, (env, q) => env.k.clampValues(q.x, n, lo, hi));
        expectExact(`clamp ${n} [${lo}, ${hi}]`, a.x, o.x);
      }
      [a, o] = both(n, { x, y }, (env, q) => env.k.mulInPlace(q.x, q.y, n));
      expectExact(`mul ${n}`, a.x, o.x);
      expectExact(`mul y ${n}`, a.y, y);
    }
  });
});

describe('scalar and SIMD builds agree bit for bit', () => {
  it('crossEntropy, bceWithLogitsSum, sumSquares, adamStep', async () => {
    const [s, v] = await Promise.all([loadWasm('wasm-simd'), loadWasm('wasm')]);
    CE_CASES.forEach((cs, ci) => {
      const { x, t } = ceData(cs, 300 + ci);
      const a = runCe(s, x, t, cs), b = runCe(v, x, t, cs);
      expectExact(`ce loss ${ci}`, a.loss, b.loss);
      expectExact(`ce grad ${ci}`, a.grad!, b.grad!);
    });
    const r = rng(31);
    for (const n of SIZES) {
      const x = randomF32(r, n, 40), y = randomF32(r, n, 0.5, 0.5);
      const out = [s, v].map((env) => {
        const b = new Bufs(env);
        const px = b.put(x), py = b.put(y), pg = b.put(new Float32Array(n)), pm = b.put(y), pv = b.put(y);
        const bce = env.k.bceWithLogitsSum(pg, px, py, n, 0.5);
        const g = b.get(pg, n);
        const ss = env.k.sumSquares(px, n);
        env.k.adamStep(px, py, pm, pv, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.03, 1);
        const res = { bce, g, ss, p: b.get(px, n) };
        b.done();
        return res;
      });
      expect(out[0].bce).toBe(out[1].bce);
      expect(out[0].ss).toBe(out[1].ss);
      expectExact(`bce grad ${n}`, out[0].g, out[1].g);
      expectExact(`adam p ${n}`, out[0].p, out[1].p);
    }
  });
});

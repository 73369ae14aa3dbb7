/**
 * The AssemblyScript kernels (SIMD, scalar and debug builds) against the pure-JS oracle.
 *
 * Tolerances come from float32 rounding (u = 2⁻²⁴ is the unit roundoff):
 * - GEMM: a float32 sum of k products (in any order, any split into partial sums) plus a bias
 *   differs from the exact value by at most γ·(Σ|a||w| + |bias|), γ = (k + 2)·u (the standard
 *   (k·u)/(1 − k·u) bound, rounded up); the oracle sums in float64 and rounds once (≤ u·|c|).
 * - Steps: the recurrent product left in `scratch` is checked against the oracle's with the GEMM
 *   bound; the fused gate pass is then checked against a float64 reference computed from the
 *   Wasm's own scratch, so its bound only covers the rounding of gx + s (u·|a|) propagated with
 *   σ' ≤ 1/4 and tanh' ≤ 1, the documented relative error of our activations (ACT) and a few
 *   roundings (u) per operation (an injected 3e-6 relative slip in the LSTM h fails it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend, type Backend } from '../src/backend/backend.js';
import { WASM_FLAVORS, loadFlavor, rng } from './helpers.js';
import { Buf, IBuf } from './buffers.js';
import { ACT_FN, ParamBlock, PYTORCH, exConfigs, expectWithin, label, refStepEx, type ExConfig, type StepInputs } from './cell-ex.js';
import {
  compileWasm,
  defaultWasmUrl,
  instantiateWasmBackend,
  type WasmFlavor,
} from '../src/backend/wasm-loader.js';

const U = 2 ** -24;
/**
 * Documented bound on the relative error of the Wasm tanh and sigmoid (assembly/activations.ts).
 * Measured: tanh 1.43e-7 (exhaustive over [0.25, 20] and every 256th float32), sigmoid 1.48e-7
 * (exhaustive over [−87, −0.5]); asserted here with a little headroom.
 */
const ACT = 2e-7;

const FLAVORS = WASM_FLAVORS;
const SIZES = [1, 3, 4, 5, 7, 8, 13, 16, 17, 31, 33, 64, 65];
const BATCHES = [1, 2, 3, 5, 8];



function randomF32(r: () => number, n: number, scale = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() * 2 - 1) * scale;
  return x;
}


/** Packed copy of W[n, k] in each backend. */
function packed(bs: Backend[], w: Buf, n: number, k: number): Buf {
  const maxSize = Math.max(...bs.map((b) => b.kernels.packedSize(n, k)));
  const wp = new Buf(bs, maxSize);
  bs.forEach((b, i) => b.kernels.packWeights(wp.ptr[i], w.ptr[i], n, k));
  return wp;
}

/** Σ_kk |a[i, kk]|·|w[j, kk]| + |bias[j]| for an [m, n] result (float64). */
function absProducts(
  a: Float32Array, w: Float32Array, bias: Float32Array | null, m: number, n: number, k: number,
): Float64Array {
  const s = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias ? Math.abs(bias[j]) : 0;
      for (let kk = 0; kk < k; kk++) acc += Math.abs(a[i * k + kk] * w[j * k + kk]);
      s[i * n + j] = acc;
    }
  }
  return s;
}

function expectClose(
  label: string, got: Float32Array, want: Float32Array, tol: (i: number) => number,
): void {
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol(i))) {
      throw new Error(
        `${label}: element ${i}: got ${got[i]}, want ${want[i]}, |diff| ${d} > tol ${tol(i)}`,
      );
    }
  }
}

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

describe.each(FLAVORS)('%s kernels vs the JS oracle', (flavor) => {
  let wb: Backend;
  let js: Backend;
  let bs: Backend[];
  beforeAll(async () => {
    wb = await loadFlavor(flavor);
    js = createJsBackend();
    bs = [wb, js];
  });

  it('heapBase is below the arena base and the module imports only env.memory', async () => {
    const module = await compileWasm(defaultWasmUrl(flavor));
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'env', name: 'memory', kind: 'memory' },
    ]);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = await WebAssembly.instantiate(module, { env: { memory } });
    const heapBase = (inst.exports as { heapBase(): number }).heapBase();
    expect(heapBase).toBeGreaterThan(0);
    expect(heapBase).toBeLessThan(65536);
  });

  it('packWeights lays out 16-row panels, zero padded', () => {
    const r = rng(1);
    for (const n of SIZES) {
      for (const k of [1, 3, 5, 16]) {
        const w = new Buf([wb], n * k, randomF32(r, n * k));
        const size = wb.kernels.packedSize(n, k);
        expect(size).toBe(Math.ceil(n / 16) * 16 * k);
        const wp = new Buf([wb], size, new Float32Array(size).fill(7));
        wb.kernels.packWeights(wp.ptr[0], w.ptr[0], n, k);
        wp.checkCanaries();
        const W = w.read(0), P = wp.read(0);
        for (let p = 0; p < Math.ceil(n / 16); p++) {
          for (let kk = 0; kk < k; kk++) {
            for (let rr = 0; rr < 16; rr++) {
              const row = p * 16 + rr;
              const want = row < n ? W[row * k + kk] : 0;
              expect(P[(p * k + kk) * 16 + rr]).toBe(want);
            }
          }
        }
        w.free();
        wp.free();
      }
    }
  });

  it('gemm matches over m × n × k, with and without bias, and writes only C', () => {
    const r = rng(2);
    for (const m of BATCHES) {
      for (const n of SIZES) {
        for (const k of SIZES) {
          const A = randomF32(r, m * k), W = randomF32(r, n * k), bias = randomF32(r, n);
          const a = new Buf(bs, m * k, A), w = new Buf(bs, n * k, W), b = new Buf(bs, n, bias);
          const wp = packed(bs, w, n, k);
          for (const withBias of [false, true]) {
            const c = new Buf(bs, m * n);
            bs.forEach((be, i) =>
              be.kernels.gemm(c.ptr[i], a.ptr[i], wp.ptr[i], withBias ? b.ptr[i] : 0, m, n, k),
            );
            c.checkCanaries();
            const S = absProducts(A, W, withBias ? bias : null, m, n, k);
            const want = c.read(1);
            expectClose(`gemm m=${m} n=${n} k=${k} bias=${withBias}`, c.read(0), want, (i) =>
              (k + 2) * U * S[i] + U * Math.abs(want[i]),
            );
            c.free();
          }
          [a, w, b, wp].forEach((x) => x.free());
        }
      }
    }
  });

  it('gemm handles m = 1 matvec at larger k (odd and even) and n tails', () => {
    const r = rng(3);
    for (const n of [1, 15, 17, 48, 100]) {
      for (const k of [127, 128, 255]) {
        const A = randomF32(r, k), W = randomF32(r, n * k), bias = randomF32(r, n);
        const a = new Buf(bs, k, A), w = new Buf(bs, n * k, W), b = new Buf(bs, n, bias);
        const wp = packed(bs, w, n, k);
        const c = new Buf(bs, n);
        bs.forEach((be, i) => be.kernels.gemm(c.ptr[i], a.ptr[i], wp.ptr[i], b.ptr[i], 1, n, k));
        c.checkCanaries();
        const S = absProducts(A, W, bias, 1, n, k);
        const want = c.read(1);
        expectClose(`matvec n=${n} k=${k}`, c.read(0), want, (i) =>
          (k + 2) * U * S[i] + U * Math.abs(want[i]),
        );
        [a, w, b, wp, c].forEach((x) => x.free());
      }
    }
  });

  type Cell = 'rnn-tanh' | 'rnn-relu' | 'lstm' | 'gru';
  const CELLS: Cell[] = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'];

  it.each(CELLS)('%s step: lengths, out = 0, strided out, hOut aliasing hPrev', (cell) => {
    const r = rng(100 + CELLS.indexOf(cell));
    const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
    for (const H of SIZES) {
      for (const B of BATCHES) {
        for (let variant = 0; variant < 8; variant++) {
          const useLengths = (variant & 1) !== 0;
          const noOut = (variant & 2) !== 0;
          const alias = (variant & 4) !== 0;
          runStep(cell, G, H, B, useLengths, noOut, alias, r);
        }
      }
    }
  });

  function runStep(
    cell: Cell, G: number, H: number, B: number,
    useLengths: boolean, noOut: boolean, alias: boolean, r: () => number,
  ): void {
    const GH = G * H;
    const ldOut = H + 3;
    const t = 2;
    const Whh = randomF32(r, GH * H, 0.5);
    const bhh = randomF32(r, GH, 0.5);
    const Gx = randomF32(r, B * GH, 2);
    const Hp = randomF32(r, B * H);
    const Cp = randomF32(r, B * H, 2);
    // Rows b % 3 == 1 inactive (lengths[b] ≤ t), the others active.
    const lens = Array.from({ length: B }, (_, b) => (b % 3 === 1 ? t - (b % 2) : t + 1 + b));
    const whh = new Buf(bs, GH * H, Whh);
    const wp = packed(bs, whh, GH, H);
    const bb = new Buf(bs, GH, bhh);
    const gx = new Buf(bs, B * GH, Gx);
    const hPrev = new Buf(bs, B * H, Hp);
    const cPrev = new Buf(bs, B * H, Cp);
    const hOutB = alias ? hPrev : new Buf(bs, B * H, new Float32Array(B * H).fill(-9));
    const cOutB = alias ? cPrev : new Buf(bs, B * H, new Float32Array(B * H).fill(-9));
    const outInit = new Float32Array(B * ldOut).fill(-7);
    const outB = new Buf(bs, B * ldOut, outInit);
    const scratch = new Buf(bs, B * GH);
    const lengths = new IBuf(bs, lens);
    bs.forEach((be, i) => {
      const k = be.kernels;
      const out = noOut ? 0 : outB.ptr[i];
      const len = useLengths ? lengths.ptr[i] : 0;
      if (cell === 'lstm') {
        k.lstmStep(
          hOutB.ptr[i], cOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], cPrev.ptr[i],
          wp.ptr[i], bb.ptr[i], scratch.ptr[i], B, H, len, t,
        );
      } else if (cell === 'gru') {
        k.gruStep(
          hOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], wp.ptr[i], bb.ptr[i],
          scratch.ptr[i], B, H, len, t,
        );
      } else {
        k.rnnStep(
          hOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], wp.ptr[i], bb.ptr[i],
          scratch.ptr[i], B, H, cell === 'rnn-relu' ? 1 : 0, len, t,
        );
      }
    });
    for (const buf of [hOutB, cOutB, outB, scratch, hPrev, cPrev]) buf.checkCanaries();

    // (1) The recurrent product in scratch vs the oracle's, with the GEMM bound.
    const S = absProducts(Hp, Whh, bhh, B, GH, H);
    const sw = scratch.read(0);
    const sj = scratch.read(1);
    expectClose(`${cell} H=${H} B=${B} scratch`, sw, sj, (i) =>
      (H + 2) * U * S[i] + U * Math.abs(sj[i]),
    );
    // (2) The fused pass vs a float64 reference computed from the Wasm's own scratch, so the
    // bound only has to cover the activations (ACT relative, derivatives σ' ≤ 1/4, tanh' ≤ 1)
    // and a few float32 roundings per operation (u each): this catches ~1e-6 errors.
    const ACTU = ACT + U;
    const hTol = new Float64Array(B * H);
    const cTol = new Float64Array(B * H);
    const hRef = new Float64Array(B * H);
    const cRef = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const q = b * GH + j;
        const hp = Hp[b * H + j];
        /** Pre-activation of gate block `gate` and the rounding error of forming it. */
        const pre = (gate: number): number => Gx[q + gate * H] + sw[q + gate * H];
        const ea = (gate: number): number => U * Math.abs(pre(gate));
        let h = 0, c = 0, th = 0, tc = 0;
        if (cell === 'rnn-tanh') {
          h = Math.tanh(pre(0));
          th = ea(0) + ACTU * Math.abs(h);
        } else if (cell === 'rnn-relu') {
          h = Math.max(pre(0), 0);
          th = ea(0);
        } else if (cell === 'lstm') {
          const i = sig(pre(0)), f = sig(pre(1)), g = Math.tanh(pre(2)), o = sig(pre(3));
          const cp = Cp[b * H + j];
          c = f * cp + i * g;
          const tcv = Math.tanh(c);
          h = o * tcv;
          const di = ea(0) / 4 + ACTU * i;
          const df = ea(1) / 4 + ACTU * f;
          const dg = ea(2) + ACTU * Math.abs(g);
          const dO = ea(3) / 4 + ACTU * o;
          tc = Math.abs(cp) * df + Math.abs(g) * di + i * dg +
            2 * U * (Math.abs(f * cp) + Math.abs(i * g));
          th = Math.abs(tcv) * dO + o * (tc + ACTU * Math.abs(tcv)) + U * Math.abs(h);
        } else {
          const rg = sig(pre(0)), z = sig(pre(1));
          const gn = Gx[q + 2 * H], sn = sw[q + 2 * H];
          const n = Math.tanh(gn + rg * sn);
          h = (1 - z) * n + z * hp;
          const dr = ea(0) / 4 + ACTU * rg;
          const dz = ea(1) / 4 + ACTU * z;
          const darg = Math.abs(sn) * dr + 2 * U * (Math.abs(gn) + Math.abs(rg * sn));
          const dn = darg + ACTU * Math.abs(n);
          th = dz * (Math.abs(n) + Math.abs(hp)) + (1 - z) * dn +
            3 * U * (Math.abs((1 - z) * n) + Math.abs(z * hp));
        }
        hRef[b * H + j] = h;
        cRef[b * H + j] = c;
        // 1.25 covers second-order terms; 1e-38 absorbs denormal noise.
        hTol[b * H + j] = 1.25 * th + 1e-38;
        cTol[b * H + j] = 1.25 * tc + 1e-38;
      }
    }
    const label = `${cell} H=${H} B=${B} lengths=${useLengths} out=${!noOut} alias=${alias}`;
    const inactive = (b: number): boolean => useLengths && t >= lens[b];
    const hw = hOutB.read(0);
    const hj = hOutB.read(1);
    const hWant = Float32Array.from(hRef, (v, i) => (inactive(Math.floor(i / H)) ? hj[i] : v));
    expectClose(`${label} hOut`, hw, hWant, (i) => hTol[i]);
    for (let b = 0; b < B; b++) {
      if (!inactive(b)) continue;
      for (let j = 0; j < H; j++) {
        // Inactive rows keep hPrev (and cPrev) exactly.
        if (hw[b * H + j] !== Hp[b * H + j]) throw new Error(`${label}: inactive row ${b} h changed`);
      }
    }
    if (cell === 'lstm') {
      const cw = cOutB.read(0);
      const cj = cOutB.read(1);
      const cWant = Float32Array.from(cRef, (v, i) => (inactive(Math.floor(i / H)) ? cj[i] : v));
      expectClose(`${label} cOut`, cw, cWant, (i) => cTol[i]);
      for (let b = 0; b < B; b++) {
        if (!inactive(b)) continue;
        for (let j = 0; j < H; j++) {
          if (cw[b * H + j] !== Cp[b * H + j]) throw new Error(`${label}: inactive row ${b} c changed`);
        }
      }
    }
    const ow = outB.read(0), oj = outB.read(1);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < ldOut; j++) {
        const x = ow[b * ldOut + j];
        if (noOut || j >= H) {
          // out = 0 writes nothing; the row padding beyond H is never touched.
          if (x !== -7) throw new Error(`${label}: out[${b}, ${j}] written (${x})`);
        } else if (inactive(b)) {
          if (x !== 0) throw new Error(`${label}: inactive out row ${b} not zeroed`);
        } else {
          const i = b * H + j;
          // out carries exactly the new h (checked against the reference above).
          if (x !== hw[i]) throw new Error(`${label}: out[${b}, ${j}] ≠ hOut`);
          if (oj[b * ldOut + j] !== hj[i]) throw new Error(`oracle: out ≠ hOut`);
        }
      }
    }
    const bufs = [whh, wp, bb, gx, hPrev, cPrev, outB, scratch];
    if (!alias) bufs.push(hOutB, cOutB);
    bufs.forEach((x) => x.free());
    lengths.free();
  }

  it('embedding gathers rows', () => {
    const r = rng(5);
    for (const dim of SIZES) {
      const vocab = 11, n = 9;
      const table = new Buf(bs, vocab * dim, randomF32(r, vocab * dim));
      const ids = new IBuf(bs, Array.from({ length: n }, () => Math.floor(r() * vocab)));
      const out = new Buf(bs, n * dim);
      bs.forEach((be, i) => be.kernels.embedding(out.ptr[i], table.ptr[i], ids.ptr[i], n, dim));
      out.checkCanaries();
      expect(out.read(0)).toEqual(out.read(1));
      table.free();
      ids.free();
      out.free();
    }
  });

  it('tanh and sigmoid array kernels, in place and out of place, any n', () => {
    const r = rng(7);
    for (const n of SIZES) {
      for (const inPlace of [false, true]) {
        const src = new Buf(bs, n, randomF32(r, n, 12));
        const dst = inPlace ? src : new Buf(bs, n);
        for (const fn of ['tanh', 'sigmoid'] as const) {
          const copy = src.read(1);
          bs.forEach((be, i) => be.kernels[fn](dst.ptr[i], src.ptr[i], n));
          dst.checkCanaries();
          src.checkCanaries();
          const got = dst.read(0), want = dst.read(1);
          // Oracle: float64 result rounded once; ours: ACT relative.
          expectClose(`${fn} n=${n} inPlace=${inPlace}`, got, want, (i) =>
            (ACT + U) * Math.abs(want[i]),
          );
          if (inPlace) bs.forEach((be) => be.arena.write(src.ptr[bs.indexOf(be)], copy));
        }
        src.free();
        if (!inPlace) dst.free();
      }
    }
  });
});

describe('SIMD and scalar builds are bit-identical', () => {
  let simd: Backend;
  let scalar: Backend;
  let debug: Backend;
  beforeAll(async () => {
    simd = await loadFlavor('wasm-simd');
    scalar = await loadFlavor('wasm');
    debug = await loadFlavor('wasm-debug');
  });

  it('gemm, steps and activations give the same bits', () => {
    const bs = [simd, scalar, debug];
    const r = rng(9);
    for (const m of BATCHES) {
      for (const n of [1, 5, 16, 17, 33]) {
        for (const k of [1, 4, 7, 33]) {
          const a = new Buf(bs, m * k, randomF32(r, m * k));
          const w = new Buf(bs, n * k, randomF32(r, n * k));
          const b = new Buf(bs, n, randomF32(r, n));
          const wp = packed(bs, w, n, k);
          const c = new Buf(bs, m * n);
          bs.forEach((be, i) => be.kernels.gemm(c.ptr[i], a.ptr[i], wp.ptr[i], b.ptr[i], m, n, k));
          expect(c.read(1)).toEqual(c.read(0));
          expect(c.read(2)).toEqual(c.read(0));
          [a, w, b, wp, c].forEach((x) => x.free());
        }
      }
    }
    for (const H of [3, 8, 13]) {
      const B = 3;
      const whh = new Buf(bs, 4 * H * H, randomF32(r, 4 * H * H));
      const wp = packed(bs, whh, 4 * H, H);
      const gx = new Buf(bs, B * 4 * H, randomF32(r, B * 4 * H, 3));
      const h = new Buf(bs, B * H, randomF32(r, B * H));
      const c = new Buf(bs, B * H, randomF32(r, B * H));
      const s = new Buf(bs, B * 4 * H);
      for (let step = 0; step < 3; step++) {
        bs.forEach((be, i) => {
          be.kernels.lstmStep(h.ptr[i], c.ptr[i], 0, H, gx.ptr[i], h.ptr[i], c.ptr[i], wp.ptr[i], 0, s.ptr[i], B, H, 0, 0);
          be.kernels.gruStep(h.ptr[i], 0, H, gx.ptr[i], h.ptr[i], wp.ptr[i], 0, s.ptr[i], B, H, 0, 0);
          be.kernels.rnnStep(h.ptr[i], 0, H, gx.ptr[i], h.ptr[i], wp.ptr[i], 0, s.ptr[i], B, H, 0, 0, 0);
        });
      }
      for (const x of [h, c]) {
        expect(x.read(1)).toEqual(x.read(0));
        expect(x.read(2)).toEqual(x.read(0));
      }
      [whh, wp, gx, h, c, s].forEach((x) => x.free());
    }
  });
});

describe.each(FLAVORS)('%s activation accuracy', (flavor) => {
  let wb: Backend;
  beforeAll(async () => {
    wb = await loadFlavor(flavor);
  });

  /** Runs `fn` on xs in Wasm memory and returns the results. */
  function apply(fn: 'tanh' | 'sigmoid', xs: Float32Array): Float32Array {
    const p = wb.arena.allocF32(xs.length);
    wb.arena.write(p, xs);
    wb.kernels[fn](p, p, xs.length);
    const y = wb.arena.read(p, xs.length);
    wb.arena.free(p);
    return y;
  }

  function grid(lo: number, hi: number, n: number): Float32Array {
    const x = new Float32Array(n + 1);
    for (let i = 0; i <= n; i++) x[i] = lo + ((hi - lo) * i) / n;
    return x;
  }

  /** ±10^e for e in [lo, hi] in small steps. */
  function logGrid(lo: number, hi: number, perDecade: number): Float32Array {
    const v: number[] = [];
    for (let e = lo * perDecade; e <= hi * perDecade; e++) {
      const x = 10 ** (e / perDecade);
      v.push(x, -x);
    }
    return Float32Array.from(v);
  }

  function maxRelErr(xs: Float32Array, ys: Float32Array, ref: (x: number) => number): number {
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const want = ref(xs[i]);
      const e = want === 0 ? Math.abs(ys[i]) : Math.abs(ys[i] - want) / Math.abs(want);
      if (!(e <= worst)) worst = e; // NaN propagates as a failure
    }
    return worst;
  }

  const special = [0, 1, 5, 7.9, 7.9053, 9, 10, 20, 44, 88, 100, 1e10, 1e30, 3.4e38, 1e-30, 1e-40, 0.625];
  const specials = Float32Array.from(special.flatMap((x) => [x, -x, Math.fround(x * (1 + 1e-7))]));

  it(`tanh max relative error ≤ ${ACT} over all float scales`, () => {
    const xs = new Float32Array([
      ...grid(-20, 20, 1_000_000), ...grid(0.6, 0.65, 100_000), ...logGrid(-40, 38, 200), ...specials,
    ]);
    const err = maxRelErr(xs, apply('tanh', xs), Math.tanh);
    expect(err).toBeLessThanOrEqual(ACT);
  });

  it('tanh special values', () => {
    const y = apply('tanh', new Float32Array([0, -0, Infinity, -Infinity, 1e30, -1e30, NaN, 1e-30]));
    expect(Object.is(y[0], 0)).toBe(true);
    expect(Object.is(y[1], -0)).toBe(true);
    expect([y[2], y[3], y[4], y[5]]).toEqual([1, -1, 1, -1]);
    expect(Number.isNaN(y[6])).toBe(true);
    expect(y[7]).toBe(Math.fround(1e-30));
  });

  it(`sigmoid max relative error ≤ ${ACT} on [−87, 88], absolute ≤ 1e-37 below`, () => {
    const xs = new Float32Array([
      ...grid(-87, 88, 1_000_000), ...grid(-1, 1, 100_000), ...logGrid(-40, 1.94, 200),
      ...specials.filter((x) => x >= -87 && x <= 88),
    ]);
    expect(maxRelErr(xs, apply('sigmoid', xs), sig)).toBeLessThanOrEqual(ACT);
    const low = Float32Array.from([-87.5, -88, -88.7, -89, -100, -1e10, -3.4e38, -Infinity]);
    const yl = apply('sigmoid', low);
    for (let i = 0; i < low.length; i++) {
      expect(Math.abs(yl[i] - sig(low[i]))).toBeLessThanOrEqual(1e-37);
      expect(yl[i]).toBeGreaterThanOrEqual(0);
    }
  });

  it('sigmoid is exactly 1 for large x, 0.5 at 0, NaN for NaN', () => {
    const y = apply('sigmoid', new Float32Array([17.5, 30, 88, 100, 1e30, Infinity, 0, -0, NaN]));
    expect(Array.from(y.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, 1]);
    expect([y[6], y[7]]).toEqual([0.5, 0.5]);
    expect(Number.isNaN(y[8])).toBe(true);
  });
});

// ---------------------------------------------------------------------------- cell variants

/** W_hh [G·H, H] packed as the layers pack it: one piece, or (reset before) rows [0, 2H) then [2H, 3H). */
function packedHh(bs: Backend[], w: Buf, G: number, H: number, split: boolean): Buf {
  const size = (be: Backend) => (split ? be.kernels.packedSize(2 * H, H) + be.kernels.packedSize(H, H) : be.kernels.packedSize(G * H, H));
  const wp = new Buf(bs, Math.max(...bs.map(size)));
  bs.forEach((be, i) => {
    if (!split) return be.kernels.packWeights(wp.ptr[i], w.ptr[i], G * H, H);
    be.kernels.packWeights(wp.ptr[i], w.ptr[i], 2 * H, H);
    be.kernels.packWeights(wp.ptr[i] + be.kernels.packedSize(2 * H, H) * 4, w.ptr[i] + 2 * H * H * 4, H, H);
  });
  return wp;
}

describe.each(FLAVORS)('%s variant step kernels (*StepEx) vs a float64 reference and the JS oracle', (flavor) => {
  let wb: Backend;
  let js: Backend;
  let bs: Backend[];
  beforeAll(async () => {
    wb = await loadFlavor(flavor);
    js = createJsBackend();
    bs = [wb, js];
  });
  const EX_SIZES = [1, 3, 4, 5, 7, 13, 17, 33, 65];
  const KINDS = ['rnn', 'lstm', 'gru'] as const;

  it.each(KINDS)('%sStepEx: every configuration, lengths, out = 0, strided out, aliasing, tape', (kind) => {
    const r = rng(300 + KINDS.indexOf(kind));
    const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
    const configs = exConfigs(kind);
    let n = 0;
    for (const H of EX_SIZES) {
      for (const B of [1, 2, 3, 5]) {
        // Each (H, B) runs every configuration once, with one of the 16 combinations of the flags.
        for (const x of configs) runStepEx(kind, G, x, H, B, n++ % 16, r);
      }
    }
  });

  function runStepEx(kind: 'rnn' | 'lstm' | 'gru', G: number, x: ExConfig, H: number, B: number, flags: number, r: () => number): void {
    const useLengths = (flags & 1) !== 0, noOut = (flags & 2) !== 0, alias = (flags & 4) !== 0, withTape = (flags & 8) !== 0;
    const GH = G * H, ldOut = H + 3, t = 2;
    const W = kind === 'lstm' ? 5 : kind === 'gru' ? (x.resetBefore ? 3 : 4) : 1;
    const s: StepInputs = {
      B, H, gx: randomF32(r, B * GH, 2), hp: randomF32(r, B * H), cp: randomF32(r, B * H, 2),
      whh: randomF32(r, GH * H, 0.5), bhh: randomF32(r, GH, 0.5), peep: randomF32(r, 3 * H, 0.8),
    };
    const lens = Array.from({ length: B }, (_, b) => (b % 3 === 1 ? t - (b % 2) : t + 1 + b));
    const inactive = (b: number): boolean => useLengths && t >= lens[b];
    const whh = new Buf(bs, GH * H, s.whh);
    const wp = packedHh(bs, whh, G, H, x.resetBefore);
    const bb = new Buf(bs, GH, s.bhh), gx = new Buf(bs, B * GH, s.gx), peep = new Buf(bs, 3 * H, s.peep);
    const hPrev = new Buf(bs, B * H, s.hp), cPrev = new Buf(bs, B * H, s.cp);
    const hOutB = alias ? hPrev : new Buf(bs, B * H, new Float32Array(B * H).fill(-9));
    const cOutB = alias ? cPrev : new Buf(bs, B * H, new Float32Array(B * H).fill(-9));
    const outB = new Buf(bs, B * ldOut, new Float32Array(B * ldOut).fill(-7));
    const scratch = new Buf(bs, B * GH), rh = new Buf(bs, B * H, new Float32Array(B * H).fill(-5));
    const tape = new Buf(bs, B * W * H), lengths = new IBuf(bs, lens);
    const params = new ParamBlock(bs, x, peep.ptr);
    bs.forEach((be, i) => {
      const k = be.kernels, out = noOut ? 0 : outB.ptr[i], len = useLengths ? lengths.ptr[i] : 0, tp = withTape ? tape.ptr[i] : 0;
      if (kind === 'lstm') {
        k.lstmStepEx(hOutB.ptr[i], cOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], cPrev.ptr[i], wp.ptr[i], bb.ptr[i], scratch.ptr[i], B, H, len, t, tp, params.ptr[i]);
      } else if (kind === 'gru') {
        k.gruStepEx(hOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], wp.ptr[i], bb.ptr[i], scratch.ptr[i], B, H, len, t, tp, rh.ptr[i], params.ptr[i]);
      } else {
        k.rnnStepEx(hOutB.ptr[i], out, ldOut, gx.ptr[i], hPrev.ptr[i], wp.ptr[i], bb.ptr[i], scratch.ptr[i], B, H, len, t, tp, params.ptr[i]);
      }
    });
    for (const buf of [hOutB, cOutB, outB, scratch, rh, tape, hPrev, cPrev, peep]) buf.checkCanaries();
    const name = `${flavor} ${kind} ${label(x)} H=${H} B=${B} lengths=${useLengths} out=${!noOut} alias=${alias} tape=${withTape}`;
    const ref = refStepEx(kind, x, s);
    const rowOf = (i: number): number => Math.floor(i / H);
    for (let bi = 0; bi < 2; bi++) {
      const who = `${name} (${bs[bi].name})`;
      const hv = hOutB.read(bi), cv = cOutB.read(bi), ov = outB.read(bi);
      expectWithin(`${who} h`, hv, ref.h, (i) => inactive(rowOf(i)));
      if (kind === 'lstm') expectWithin(`${who} c`, cv, ref.c, (i) => inactive(rowOf(i)));
      if (kind === 'gru' && x.resetBefore) {
        expectWithin(`${who} r ⊙ hPrev`, rh.read(bi), ref.rh, (i) => inactive(rowOf(i)));
        for (let i = 0; i < B * H; i++) if (inactive(rowOf(i)) && rh.read(bi)[i] !== 0) throw new Error(`${who}: inactive rh row not zeroed`);
      }
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < ldOut; j++) {
          const o = ov[b * ldOut + j];
          if (noOut || j >= H) {
            if (o !== -7) throw new Error(`${who}: out[${b}, ${j}] written`);
          } else if (inactive(b)) {
            if (o !== 0) throw new Error(`${who}: inactive out row ${b} not zeroed`);
            if (hv[b * H + j] !== s.hp[b * H + j]) throw new Error(`${who}: inactive row ${b} h changed`);
            if (kind === 'lstm' && cv[b * H + j] !== s.cp[b * H + j]) throw new Error(`${who}: inactive row ${b} c changed`);
          } else if (o !== hv[b * H + j]) throw new Error(`${who}: out ≠ hOut`);
        }
      }
      if (!withTape) continue;
      // The tape of active rows: the state exactly (c; the RNN's h), the gates consistent with h.
      const tv = tape.read(bi);
      for (let b = 0; b < B; b++) {
        if (inactive(b)) continue;
        for (let j = 0; j < H; j++) {
          const tp = (q: number) => tv[b * W * H + q * H + j], h = hv[b * H + j];
          if (kind === 'rnn' && tp(0) !== h) throw new Error(`${who}: tape h`);
          if (kind === 'lstm') {
            if (tp(4) !== cv[b * H + j]) throw new Error(`${who}: tape c`);
            const want = tp(3) * ACT_FN[x.hidden](tp(4));
            if (!(Math.abs(want - h) <= 4 * (ACT + U) * Math.abs(h) + 1e-38)) throw new Error(`${who}: tape o·hidden(c) ${want} vs h ${h}`);
            if (x.inputForget && !(Math.abs(tp(1) - (1 - tp(0))) <= 2 * U)) throw new Error(`${who}: tape f ≠ 1 − i`);
          }
          if (kind === 'gru') {
            const want = (1 - tp(1)) * tp(2) + tp(1) * s.hp[b * H + j];
            if (!(Math.abs(want - h) <= 4 * U * (Math.abs(tp(2)) + Math.abs(s.hp[b * H + j])) + 1e-38)) throw new Error(`${who}: tape gates vs h`);
          }
        }
      }
    }
    const bufs = [whh, wp, bb, gx, peep, hPrev, cPrev, outB, scratch, rh, tape];
    if (!alias) bufs.push(hOutB, cOutB);
    bufs.forEach((b) => b.free());
    lengths.free();
    params.free();
  }

  it.runIf(flavor !== 'wasm-relaxed')("with PyTorch's options the *StepEx kernels give the default steps' bits", () => {
    const r = rng(310);
    const one = [wb];
    for (const H of EX_SIZES) {
      for (const B of [1, 2, 3]) {
        for (const kind of KINDS) {
          for (const relu of kind === 'rnn' ? [0, 1] : [0]) {
            const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1, GH = G * H;
            const whh = new Buf(one, GH * H, randomF32(r, GH * H, 0.5));
            const wp = packed(one, whh, GH, H);
            const bb = new Buf(one, GH, randomF32(r, GH, 0.5)), gx = new Buf(one, B * GH, randomF32(r, B * GH, 2));
            const Hp = randomF32(r, B * H), Cp = randomF32(r, B * H, 2);
            const lengths = new IBuf(one, Array.from({ length: B }, (_, b) => (b === 1 ? 1 : 4)));
            const params = new ParamBlock(one, { ...PYTORCH, hidden: relu ? 'relu' : 'tanh' });
            const run = (ex: boolean): Float32Array[] => {
              const h = new Buf(one, B * H, Hp), c = new Buf(one, B * H, Cp), out = new Buf(one, B * H), s = new Buf(one, B * GH);
              const tape = new Buf(one, B * (kind === 'lstm' ? 5 : kind === 'gru' ? 4 : 1) * H);
              const k = wb.kernels, L = lengths.ptr[0];
              if (kind === 'lstm') {
                if (ex) k.lstmStepEx(h.ptr[0], c.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], c.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, L, 2, tape.ptr[0], params.ptr[0]);
                else k.lstmStepTrain(h.ptr[0], c.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], c.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, L, 2, tape.ptr[0]);
              } else if (kind === 'gru') {
                if (ex) k.gruStepEx(h.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, L, 2, tape.ptr[0], 0, params.ptr[0]);
                else k.gruStepTrain(h.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, L, 2, tape.ptr[0]);
              } else if (ex) k.rnnStepEx(h.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, L, 2, tape.ptr[0], params.ptr[0]);
              else k.rnnStepTrain(h.ptr[0], out.ptr[0], H, gx.ptr[0], h.ptr[0], wp.ptr[0], bb.ptr[0], s.ptr[0], B, H, relu, L, 2, tape.ptr[0]);
              const res = [h.read(0), c.read(0), out.read(0)];
              // Active rows' tapes (row 1 is inactive: its tape row is unspecified).
              const tv = tape.read(0), w = tv.length / B;
              res.push(tv.filter((_, i) => Math.floor(i / w) !== 1));
              [h, c, out, s, tape].forEach((q) => q.free());
              return res;
            };
            const [a, b] = [run(true), run(false)];
            a.forEach((v, q) => expect(Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length)), `${kind} H=${H} B=${B} ${q}`).toEqual(Array.from(new Uint32Array(b[q].buffer, b[q].byteOffset, b[q].length))));
            [whh, wp, bb, gx].forEach((q) => q.free());
            lengths.free();
            params.free();
          }
        }
      }
    }
  });
});

describe('SIMD and scalar builds give the same bits for the variant steps', () => {
  it('every configuration of *StepEx, three steps, with tapes', async () => {
    const bs = await Promise.all((['wasm-simd', 'wasm', 'wasm-debug'] as const).map(loadFlavor));
    const r = rng(320);
    for (const kind of ['rnn', 'lstm', 'gru'] as const) {
      const G = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
      for (const x of exConfigs(kind)) {
        for (const H of [3, 8, 13, 33]) {
          const B = 3, GH = G * H, W = kind === 'lstm' ? 5 : kind === 'gru' ? (x.resetBefore ? 3 : 4) : 1;
          const whh = new Buf(bs, GH * H, randomF32(r, GH * H, 0.8));
          const wp = packedHh(bs, whh, G, H, x.resetBefore);
          const gx = new Buf(bs, B * GH, randomF32(r, B * GH, 3)), bb = new Buf(bs, GH, randomF32(r, GH));
          const h = new Buf(bs, B * H, randomF32(r, B * H)), c = new Buf(bs, B * H, randomF32(r, B * H, 2));
          const peep = new Buf(bs, 3 * H, randomF32(r, 3 * H)), s = new Buf(bs, B * GH), rh = new Buf(bs, B * H);
          const tape = new Buf(bs, B * W * H), lengths = new IBuf(bs, [3, 1, 3]);
          const params = new ParamBlock(bs, x, peep.ptr);
          for (let t = 0; t < 3; t++) {
            bs.forEach((be, i) => {
              const k = be.kernels;
              if (kind === 'lstm') k.lstmStepEx(h.ptr[i], c.ptr[i], 0, H, gx.ptr[i], h.ptr[i], c.ptr[i], wp.ptr[i], bb.ptr[i], s.ptr[i], B, H, lengths.ptr[i], t, tape.ptr[i], params.ptr[i]);
              else if (kind === 'gru') k.gruStepEx(h.ptr[i], 0, H, gx.ptr[i], h.ptr[i], wp.ptr[i], bb.ptr[i], s.ptr[i], B, H, lengths.ptr[i], t, tape.ptr[i], rh.ptr[i], params.ptr[i]);
              else k.rnnStepEx(h.ptr[i], 0, H, gx.ptr[i], h.ptr[i], wp.ptr[i], bb.ptr[i], s.ptr[i], B, H, lengths.ptr[i], t, tape.ptr[i], params.ptr[i]);
            });
            for (const q of [h, c, tape, rh]) {
              expect(q.read(1), `${kind} ${label(x)} H=${H} t=${t}`).toEqual(q.read(0));
              expect(q.read(2), `${kind} ${label(x)} H=${H} t=${t}`).toEqual(q.read(0));
            }
          }
          [whh, wp, gx, bb, h, c, peep, s, rh, tape].forEach((q) => q.free());
          lengths.free();
          params.free();
        }
      }
    }
  });
});

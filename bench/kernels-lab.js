// Kernel microbenchmark: GFLOP/s of the packed GEMM and the batch-1 matvec, and ns per fused
// LSTM step, for the SIMD, relaxed-SIMD (FMA) and scalar builds. Loads build/*.wasm directly
// (no dist/ needed).
//
//   npm run build:wasm && node --experimental-wasm-relaxed-simd bench/kernels-lab.js \
//     [--quick] [--only simd,relaxed] [--rounds 3]
//
// Node 20 needs --experimental-wasm-relaxed-simd for the relaxed build (it is skipped, with a
// note, when the engine rejects it). --rounds N repeats the whole set of builds N times,
// interleaved (simd, relaxed, scalar, simd, relaxed, …), and keeps each build's best batch and
// the median of its per-round medians: shared machines drift, interleaving spreads the drift.
//
// Ceilings measured on this machine class (shared/KERNEL-NOTES.md): f32x4 mul+add ≈ 51–57
// GFLOP/s, packed-panel matvec ≈ 39 GFLOP/s (Node 20), scalar f32 ≈ 13.
//
// Variants tried and rejected (timed against the kept kernel in one process, same data):
// - batch-1 matvec as a 1×32 tile (two adjacent panels, 8 accumulator chains, one A splat per 8
//   multiply-adds, kk summed in order): 15.6–16.3 GFLOP/s against 17.4–27.6 for the kept 1×16
//   tile with its even/odd kk split (N 512–2048, K 128–512; 2026-11-23, machine at about half the
//   ceiling above). The matvec rate is flat from 256 KiB to 4 MiB of W, so neither tile is limited
//   by the cache level here.
// - threads (assembly/threads.ts) split the panels and units instead: each core streams half of W.
// - one barrier per step instead of two (the mid-step barrier removed, results then wrong — an
//   upper bound of the gain): LSTM H256 batch 1 on 2 threads, B 3.52–3.94 ms and S 29–35 µs
//   against 3.26–3.63 ms and 29–35 µs with both barriers (same session). No gain: the step is
//   bound by each thread's half of the products, not by the barriers, so the two stay.
import { readFile } from 'node:fs/promises';

const quick = process.argv.includes('--quick');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(arg('--rounds') ?? 1);
const only = arg('--only')?.split(',');
const ALL_FLAVORS = [
  ['simd', 'wasm-rnn.simd.wasm'],
  ['relaxed', 'wasm-rnn.relaxed.wasm'],
  ['scalar', 'wasm-rnn.wasm'],
];
const BASE = 65536;
const PANEL = 16;
const packedSize = (n, k) => Math.ceil(n / PANEL) * PANEL * k;

async function load(file) {
  const bytes = await readFile(new URL(`../build/${file}`, import.meta.url));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  let top = BASE;
  const alloc = (floats) => {
    const off = top;
    top += Math.ceil((floats * 4) / 64) * 64;
    const need = top - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    return off;
  };
  const fill = (off, n, scale = 1) => {
    const f = new Float32Array(memory.buffer, off, n);
    for (let i = 0; i < n; i++) f[i] = (Math.random() * 2 - 1) * scale;
  };
  return { e: instance.exports, alloc, fill, memory };
}

/**
 * Seconds per call of fn, timing batches of ≈ 20 ms after a warm-up (tier-up): the best batch
 * (closest to what the machine can do; shared machines are noisy) and the median.
 */
function time(fn) {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < (quick ? 100 : 300)) {
    fn();
    n++;
  }
  const per = Math.max(1, Math.ceil(n / ((performance.now() - t0) / 20)));
  const samples = [];
  for (let r = 0; r < (quick ? 5 : 15); r++) {
    const s = performance.now();
    for (let i = 0; i < per; i++) fn();
    samples.push((performance.now() - s) / 1000 / per);
  }
  samples.sort((a, b) => a - b);
  return { best: samples[0], median: samples[samples.length >> 1] };
}

async function gemmCase(mod, M, N, K) {
  const { e, alloc, fill } = mod;
  const a = alloc(M * K), w = alloc(N * K), wp = alloc(packedSize(N, K)), b = alloc(N);
  const c = alloc(M * N);
  fill(a, M * K);
  fill(w, N * K);
  fill(b, N);
  e.packWeights(wp, w, N, K);
  const s = time(() => e.gemm(c, a, wp, b, M, N, K));
  return { s, gflops: { best: (2 * M * N * K) / s.best / 1e9, median: (2 * M * N * K) / s.median / 1e9 } };
}

async function lstmCase(mod, H, B) {
  const { e, alloc, fill } = mod;
  const G = 4 * H;
  const w = alloc(G * H), wp = alloc(packedSize(G, H)), b = alloc(G);
  const gx = alloc(B * G), h = alloc(B * H), c = alloc(B * H), s = alloc(B * G), out = alloc(B * H);
  fill(w, G * H, 0.1);
  fill(b, G, 0.1);
  fill(gx, B * G);
  fill(h, B * H);
  fill(c, B * H);
  e.packWeights(wp, w, G, H);
  const sec = time(() => e.lstmStep(h, c, out, H, gx, h, c, wp, b, s, B, H, 0, 0));
  return { ns: { best: sec.best * 1e9, median: sec.median * 1e9 } };
}

/**
 * dW = dGᵀ·X as the backward pass forms it: A = dG stored [K, M] (T·B rows of 4H gradients),
 * read transposed (sAi = 1, sAk = M); W = Xᵀ packed by packRows from X [K, N]; accumulate on.
 */
async function gemmExTCase(mod, M, N, K) {
  const { e, alloc, fill } = mod;
  const a = alloc(K * M), x = alloc(K * N), wp = alloc(packedSize(N, K)), c = alloc(M * N);
  fill(a, K * M);
  fill(x, K * N);
  fill(c, M * N);
  e.packRows(wp, x, K, N);
  const s = time(() => e.gemmEx(c, a, wp, 0, M, N, K, 1, M, 1));
  return { best: (2 * M * N * K) / s.best / 1e9, median: (2 * M * N * K) / s.median / 1e9 };
}

/** Backward of one LSTM step (the elementwise pass only; GEMMs are timed separately). */
async function lstmBackCase(mod, H, B) {
  const { e, alloc, fill } = mod;
  const tape = alloc(B * 5 * H), dG = alloc(B * 4 * H), dh = alloc(B * H), dc = alloc(B * H);
  const cp = alloc(B * H);
  const f = new Float32Array(mod.memory.buffer, tape, B * 5 * H);
  for (let i = 0; i < f.length; i++) f[i] = Math.random();
  fill(cp, B * H);
  // dh and dc are restored before every call (the kernel zeroes dh and scales dc, which would
  // drift into denormals); the two memmoves of B·H floats are included in the time.
  const dh0 = alloc(B * H), dc0 = alloc(B * H);
  fill(dh0, B * H);
  fill(dc0, B * H);
  const u8 = () => new Uint8Array(mod.memory.buffer);
  const sec = time(() => {
    const m = u8();
    m.copyWithin(dh, dh0, dh0 + 4 * B * H);
    m.copyWithin(dc, dc0, dc0 + 4 * B * H);
    e.lstmStepBackward(dG, dh, dc, tape, cp, H, B, H, 0, 0);
  });
  return { ns: { best: sec.best * 1e9, median: sec.median * 1e9 } };
}

async function actCase(mod, fn, n) {
  const { e, alloc, fill } = mod;
  const x = alloc(n), y = alloc(n);
  fill(x, n, 8);
  const sec = time(() => e[fn](y, x, n));
  return { nsPerElem: { best: (sec.best * 1e9) / n, median: (sec.median * 1e9) / n } };
}

const FLAVORS = [];
for (const [name, file] of ALL_FLAVORS) {
  if (only && !only.includes(name)) continue;
  const bytes = await readFile(new URL(`../build/${file}`, import.meta.url));
  if (!WebAssembly.validate(bytes)) {
    console.log(`(skipping ${name}: this engine rejects build/${file}; Node 20 needs --experimental-wasm-relaxed-simd)`);
    continue;
  }
  FLAVORS.push([name, file]);
}

const rows = [];
const results = new Map(); // build|case → { unit, best[], median[] }
for (let round = 0; round < ROUNDS; round++) for (const [name, file] of FLAVORS) {
  const mod = await load(file);
  const r = (label, v, unit) => {
    const key = `${name}|${label}`;
    let e = results.get(key);
    if (!e) {
      e = { build: name, case: label, unit, best: [], median: [] };
      results.set(key, e);
      rows.push(e);
    }
    e.best.push(v.best);
    e.median.push(v.median);
  };
  let g = await gemmCase(mod, 2048, 1024, 128);
  r('gemm M=2048 N=1024 K=128', g.gflops, 'GFLOP/s');
  g = await gemmCase(mod, 32, 1024, 128);
  r('gemm M=32 N=1024 K=128', g.gflops, 'GFLOP/s');
  g = await gemmCase(mod, 32, 1024, 512);
  r('gemm M=32 N=1024 K=512', g.gflops, 'GFLOP/s');
  g = await gemmCase(mod, 1, 1024, 256);
  r('matvec N=1024 K=256', g.gflops, 'GFLOP/s');
  g = await gemmCase(mod, 1, 1024, 128);
  r('matvec N=1024 K=128', g.gflops, 'GFLOP/s');
  r('lstmStep H=256 B=1', (await lstmCase(mod, 256, 1)).ns, 'ns/step');
  r('lstmStep H=256 B=8', (await lstmCase(mod, 256, 8)).ns, 'ns/step');
  r('gemmEx dW=dGᵀX acc M=1024 N=128 K=2048', await gemmExTCase(mod, 1024, 128, 2048), 'GFLOP/s');
  r('lstmStepBackward H=256 B=1', (await lstmBackCase(mod, 256, 1)).ns, 'ns/step');
  r('lstmStepBackward H=256 B=32', (await lstmBackCase(mod, 256, 32)).ns, 'ns/step');
  r('tanh n=4096', (await actCase(mod, 'tanh', 4096)).nsPerElem, 'ns/elem');
  r('sigmoid n=4096', (await actCase(mod, 'sigmoid', 4096)).nsPerElem, 'ns/elem');
}

const w = Math.max(...rows.map((x) => x.case.length));
const fmt = (v) => v.toFixed(v < 10 ? 2 : 1).padStart(9);
// Higher is better for GFLOP/s, lower for times.
const better = (unit) => (unit === 'GFLOP/s' ? Math.max : Math.min);
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`node ${process.version}   (best batch / median batch${ROUNDS > 1 ? ` of the per-round medians, ${ROUNDS} interleaved rounds` : ''})`);
rows.sort((a, b) => a.case.localeCompare(b.case) || FLAVORS.findIndex((f) => f[0] === a.build) - FLAVORS.findIndex((f) => f[0] === b.build));
let last = '';
for (const x of rows) {
  if (x.case !== last && last !== '') console.log('');
  last = x.case;
  console.log(`${x.build.padEnd(7)} ${x.case.padEnd(w)}  ${fmt(better(x.unit)(...x.best))} / ${fmt(med(x.median))} ${x.unit}`);
}

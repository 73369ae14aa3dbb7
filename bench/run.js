#!/usr/bin/env node
/**
 * First tinybench suite: forward (and streaming step) time of wasm-rnn's layers on each backend.
 *
 *   npm run bench                      # build, then every workload on every backend (~1–2 min)
 *   node bench/run.js --quick          # shorter time budgets, noisier
 *   node bench/run.js --only A,B       # a subset of the workloads
 *
 * Workloads (the ids of /work/shared/ANCHORS.md): A LSTM I32 H128 B1 T64 · B LSTM I128 H256 B1 T128 ·
 * C LSTM I128 H256 B32 T64 · E GRU I128 H256 B1 T128 · G RNN(tanh) I128 H256 B1 T128 ·
 * S one LSTM step() I128 H256 B1. Baseline: the bare JS→Wasm call (heapBase() on our own instance).
 *
 * Writes bench/results/<date>-first.json (raw) and bench/results/latest.md (table). Imports the
 * compiled package from ../dist, so build first (npm run bench does).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import {
  GRU, LSTM, RNN, Tensor, setBackend, BACKEND_NAMES, LanguageModel, Forecaster, Adam, clipGradNorm,
} from '../dist/index.js';
import { Random } from '../dist/random.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');

/** gates: FLOPs per step per batch row = 2·gates·H·(I+H) (a multiply-add = 2 FLOPs). */
const WORKLOADS = [
  { id: 'A', layer: 'LSTM', gates: 4, I: 32, H: 128, B: 1, T: 64 },
  { id: 'B', layer: 'LSTM', gates: 4, I: 128, H: 256, B: 1, T: 128 },
  { id: 'C', layer: 'LSTM', gates: 4, I: 128, H: 256, B: 32, T: 64 },
  { id: 'E', layer: 'GRU', gates: 3, I: 128, H: 256, B: 1, T: 128 },
  { id: 'G', layer: 'RNN', gates: 1, I: 128, H: 256, B: 1, T: 128 },
  { id: 'S', layer: 'LSTM', gates: 4, I: 128, H: 256, B: 1, T: 1, step: true },
  // Training steps (forward + backward + clipping + Adam); FLOPs ≈ 3 × forward.
  { id: 'T1', train: 'lm', layer: 'LSTM', gates: 4, V: 65, I: 64, H: 256, B: 32, T: 64 },
  { id: 'T2', train: 'lm', layer: 'GRU', gates: 3, V: 65, I: 64, H: 256, B: 32, T: 64 },
  { id: 'T3', train: 'forecast', layer: 'LSTM', gates: 4, I: 1, H: 64, B: 64, T: 50 },
];
const BACKENDS = [...BACKEND_NAMES]; // 'wasm-simd', 'wasm', 'js'
const SEED = 0;

const USAGE = `usage: node bench/run.js [--quick] [--only ${WORKLOADS.map((w) => w.id).join(',')}]
  --quick     shorter time budget per cell (≈ 0.3 s instead of 1 s), noisier
  --only L,…  run only these workloads (ids: ${WORKLOADS.map((w) => w.id).join(', ')})`;

function parseArgs(argv) {
  const cfg = { quick: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') cfg.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v) fail('--only needs a comma-separated list of workload ids');
      const ids = v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      const bad = ids.filter((id) => !WORKLOADS.some((w) => w.id === id));
      if (bad.length > 0) fail(`unknown workload id(s) ${bad.join(', ')}`);
      cfg.only = ids;
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument '${a}'`);
  }
  return cfg;
}

function fail(msg) {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

const flopsOf = (w) => {
  const rnn = 2 * w.gates * w.H * (w.I + w.H) * w.T * w.B;
  if (w.train === 'lm') return 3 * (rnn + 2 * w.H * w.V * w.T * w.B);
  if (w.train === 'forecast') return 3 * (rnn + 2 * w.H * w.B);
  return rnn;
};
const label = (w) =>
  w.train === 'lm'
    ? `${w.id} train char-LM Emb(${w.V},${w.I})→${w.layer}(${w.H})→Linear B${w.B} T${w.T}`
    : w.train === 'forecast'
    ? `${w.id} train ${w.layer}(${w.I}→${w.H})+Linear, MSE, B${w.B} T${w.T}`
    : w.step
    ? `${w.id} ${w.layer} step() I${w.I} H${w.H} B${w.B}`
    : `${w.id} ${w.layer}${w.layer === 'RNN' ? '(tanh)' : ''} I${w.I} H${w.H} B${w.B} T${w.T}`;

function makeLayer(w) {
  const opts = { inputSize: w.I, hiddenSize: w.H, seed: SEED };
  if (w.layer === 'LSTM') return new LSTM(opts);
  if (w.layer === 'GRU') return new GRU(opts);
  return new RNN({ ...opts, nonlinearity: 'tanh' });
}

/** Linear-interpolated quantile of an ascending array. */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = e;
  }
  return d;
}

/** Runs one tinybench task with its own budgets; returns stats in ms. */
async function runTask(name, fn, { time, iterations, warmupTime, warmupIterations }) {
  const bench = new Bench({
    name, time, iterations, warmupTime, warmupIterations, retainSamples: true, throws: true,
  });
  bench.add(name, fn, { async: false });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') {
    throw new Error(`${name}: task ended in state ${r.state}${r.error ? `: ${r.error.message}` : ''}`);
  }
  const lat = r.latency;
  const samples = [...lat.samples].sort((a, b) => a - b);
  return {
    medianMs: lat.p50,
    p25Ms: quantile(samples, 0.25),
    p75Ms: lat.p75,
    minMs: lat.min,
    meanMs: lat.mean,
    rme: lat.rme,
    samples: lat.samplesCount,
  };
}

/** Budgets for a cell from one untimed call's duration (the first call after creating the layer). */
function budgets(perCallMs, quick) {
  const time = quick ? 300 : 1000;
  const slow = perCallMs > 50;
  return {
    time,
    iterations: quick ? 3 : 5,
    warmupTime: slow ? 0 : quick ? 60 : 200,
    warmupIterations: slow ? 1 : quick ? 5 : 10,
  };
}

/** One training step (zeroGrad, forward + backward, clip, Adam) per call, on a fixed batch. */
async function trainCell(w, be, quick) {
  await setBackend(be);
  const rng = new Random(777);
  let model, batch;
  if (w.train === 'lm') {
    model = new LanguageModel({ vocabSize: w.V, embeddingDim: w.I, hiddenSize: w.H, cell: w.layer.toLowerCase(), seed: SEED });
    const x = new Int32Array(w.T * w.B), y = new Int32Array(w.T * w.B);
    for (let i = 0; i < x.length; i++) { x[i] = Math.floor(rng.next() * w.V); y[i] = Math.floor(rng.next() * w.V); }
    batch = { x, y, T: w.T, B: w.B, carry: false };
  } else {
    model = new Forecaster({ inputSize: w.I, hiddenSize: w.H, seed: SEED });
    const x = new Float32Array(w.T * w.B * w.I), y = new Float32Array(w.B);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.01) + rng.uniform(-0.1, 0.1);
    for (let i = 0; i < y.length; i++) y[i] = rng.uniform(-1, 1);
    batch = { x, y, T: w.T, B: w.B };
  }
  const opt = new Adam(model, { lr: 1e-3 });
  const step = () => {
    opt.zeroGrad();
    const r = model.trainBatch(batch);
    if (w.train === 'lm') clipGradNorm(model, 1);
    opt.step();
    return r.loss;
  };
  const t0 = performance.now();
  const firstLoss = step();
  const first = performance.now() - t0;
  const stats = await runTask(`${w.id}/${be}`, step, budgets(first, quick));
  opt.dispose();
  model.dispose();
  return { stats: { ...stats, tokensPerSecond: (w.T * w.B) / (stats.medianMs / 1000) }, check: { data: [firstLoss] } };
}

async function benchCell(w, be, quick) {
  if (w.train) return trainCell(w, be, quick);
  await setBackend(be);
  const layer = makeLayer(w);
  const rng = new Random(12345);
  const x = new Float32Array(w.T * w.B * w.I);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);

  if (w.step) {
    const state = layer.createState(w.B);
    const out = new Float32Array(w.B * w.H);
    // The first call migrates nothing (layer created on this backend) but packs the weights.
    for (let i = 0; i < 10; i++) layer.step(x, state, out);
    const check = { data: out.slice() };
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) layer.step(x, state, out);
    const perStep = (performance.now() - t0) / 10;
    // Batch steps per sample so each sample is ≥ ~2 ms: one step is ~20 µs on wasm-simd.
    const batch = Math.max(1, Math.min(1000, Math.round(2 / Math.max(perStep, 1e-4))));
    const fn = () => {
      const s = performance.now();
      for (let i = 0; i < batch; i++) layer.step(x, state, out);
      const ms = performance.now() - s;
      return { overriddenDuration: ms / batch, overriddenIterationCost: ms };
    };
    const stats = await runTask(`${w.id}/${be}`, fn, { ...budgets(perStep * batch, quick) });
    layer.dispose?.();
    return { stats: { ...stats, stepsPerSample: batch }, check };
  }

  const xt = new Tensor(x, [w.T, w.B, w.I]);
  const t0 = performance.now();
  const r = layer.forward(xt);
  const first = performance.now() - t0;
  const check = { data: r.output.data };
  const fn = () => {
    layer.forward(xt);
  };
  const stats = await runTask(`${w.id}/${be}`, fn, budgets(first, quick));
  layer.dispose?.();
  return { stats, check };
}

/** The bare JS→Wasm call: heapBase() on our own instance of the SIMD module, in a counted loop. */
async function callBaseline(quick) {
  const bytes = readFileSync(join(ROOT, 'build', 'wasm-rnn.simd.wasm'));
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  const heapBase = instance.exports.heapBase;
  const N = 100_000;
  let sink = 0;
  const loop = () => {
    const s = performance.now();
    let acc = 0; // a local Smi: a captured double would be boxed on every write
    for (let i = 0; i < N; i++) acc = (acc + heapBase()) | 0;
    const ms = performance.now() - s;
    sink ^= acc;
    return { overriddenDuration: ms / N, overriddenIterationCost: ms };
  };
  const b = { time: quick ? 150 : 500, iterations: 10, warmupTime: 100, warmupIterations: 10 };
  const wasmCall = await runTask('wasm call', loop, b);
  // The same loop around a JS function (V8 usually inlines it): the loop's own cost.
  const jsFn = () => 65536;
  const loopJs = () => {
    const s = performance.now();
    let acc = 0;
    for (let i = 0; i < N; i++) acc = (acc + jsFn()) | 0;
    const ms = performance.now() - s;
    sink ^= acc;
    return { overriddenDuration: ms / N, overriddenIterationCost: ms };
  };
  const jsCall = await runTask('js call', loopJs, b);
  if (sink === 42) console.log(''); // keep the loops observable
  return {
    wasmCallNs: wasmCall.medianMs * 1e6,
    wasmCallP25Ns: wasmCall.p25Ms * 1e6,
    wasmCallP75Ns: wasmCall.p75Ms * 1e6,
    jsLoopNs: jsCall.medianMs * 1e6,
    callsPerSample: N,
    samples: wasmCall.samples,
  };
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const fmtTime = (w, ms) => (w.step ? `${(ms * 1000).toFixed(1)} µs` : `${fmtMs(ms)} ms`);

function buildTables(run) {
  const rows = run.workloads.map((w) => {
    const cells = BACKENDS.map((be) => {
      const c = run.cells.find((q) => q.workload === w.id && q.backend === be);
      if (!c) return '—';
      const tok = c.tokensPerSecond ? ` · ${Math.round(c.tokensPerSecond)} tok/s` : '';
      return `${fmtTime(w, c.medianMs)} · ${c.gflops.toFixed(1)} GF/s${tok} · ${c.speedupVsJs.toFixed(1)}×`;
    });
    return [label(w), ...cells];
  });
  const header = ['workload', ...BACKENDS.map((b) => `${b} (median · GFLOP/s · vs js)`)];
  return { header, rows };
}

function markdown(run) {
  const { header, rows } = buildTables(run);
  const lines = [];
  lines.push(`# wasm-rnn benchmark — first tinybench suite`);
  lines.push('');
  lines.push(`${run.date} · Node ${run.machine.node} (V8 ${run.machine.v8}) · ${run.machine.cpu} · ` +
    `${run.machine.cpus} logical CPUs · ${run.machine.platform}${run.config.quick ? ' · **--quick**' : ''}`);
  lines.push('');
  lines.push('Median wall time per forward over the whole sequence (S: per `step()` call), one thread, after warm-up; ' +
    'GFLOP/s from the median with a multiply-add counted as 2 FLOPs (LSTM 2·4H·(I+H), GRU 2·3H·(I+H), RNN 2·H·(I+H) ' +
    'per step per batch row); vs js = plain-JS median ÷ this median. Seeded weights (seed 0), the same input on every backend. ' +
    'T1–T3: one training step (zeroGrad, forward + backward, T1/T2 clip to norm 1, Adam) on a fixed batch; FLOPs counted as 3× the forward; ' +
    'their agreement check compares the first step\'s loss.');
  lines.push('');
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  lines.push('');
  lines.push('Spread (p25–p75) and samples per cell:');
  lines.push('');
  lines.push('| cell | p25 | median | p75 | samples |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const c of run.cells) {
    const w = run.workloads.find((q) => q.id === c.workload);
    lines.push(`| ${c.workload} ${c.backend} | ${fmtTime(w, c.p25Ms)} | ${fmtTime(w, c.medianMs)} | ${fmtTime(w, c.p75Ms)} | ${c.samples}${w.step && c.stepsPerSample > 1 ? ` (each the mean of ${c.stepsPerSample} steps)` : ''} |`);
  }
  lines.push('');
  const agree = Object.entries(run.agreement)
    .map(([k, v]) => `${k} ${Object.entries(v).map(([b, d]) => `${b} ${d.toExponential(1)}`).join(', ')}`)
    .join('; ');
  lines.push(`Agreement with js (max |diff| of the output): ${agree}.`);
  if (run.baseline) {
    lines.push('');
    lines.push(`Baseline: empty JS→Wasm call (\`heapBase()\`, own instance of wasm-rnn.simd.wasm) ` +
      `${run.baseline.wasmCallNs.toFixed(1)} ns per call in a counted loop (p25–p75 ${run.baseline.wasmCallP25Ns.toFixed(1)}–` +
      `${run.baseline.wasmCallP75Ns.toFixed(1)}); the same loop around an inlinable JS function ${run.baseline.jsLoopNs.toFixed(2)} ns.`);
  }
  lines.push('');
  lines.push(`Raw data: \`${run.rawFile}\`. Shared 2-core VMs are noisy: compare cells from the same run only.`);
  lines.push('');
  return lines.join('\n');
}

function consoleTable(run) {
  const { header, rows } = buildTables(run);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main() {
  const cfg = parseArgs(process.argv.slice(2));
  const workloads = cfg.only ? WORKLOADS.filter((w) => cfg.only.includes(w.id)) : WORKLOADS;
  const started = performance.now();
  const date = new Date();
  const machine = {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cpus: os.cpus().length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
  console.log(`wasm-rnn bench · Node ${machine.node} · ${machine.cpu} · ${machine.cpus} CPUs · ${date.toISOString()}` +
    `${cfg.quick ? ' · --quick' : ''}`);

  const cells = [];
  const agreement = {};
  for (const w of workloads) {
    const outs = {};
    for (const be of BACKENDS) {
      const { stats, check } = await benchCell(w, be, cfg.quick);
      outs[be] = check.data;
      cells.push({ workload: w.id, backend: be, ...stats, gflops: flopsOf(w) / (stats.medianMs * 1e6) });
      const shown = w.step ? `${(stats.medianMs * 1000).toFixed(1)} µs` : `${fmtMs(stats.medianMs)} ms`;
      if (stats.tokensPerSecond) console.log(`     ${Math.round(stats.tokensPerSecond)} tokens/s`);
      console.log(`  ${w.id} ${be.padEnd(9)} ${shown.padStart(10)}  (${stats.samples} samples)`);
    }
    agreement[w.id] = {};
    for (const be of BACKENDS) if (be !== 'js') agreement[w.id][be] = maxAbsDiff(outs[be], outs.js);
  }
  for (const c of cells) {
    const js = cells.find((q) => q.workload === c.workload && q.backend === 'js');
    c.speedupVsJs = js.medianMs / c.medianMs;
  }

  let baseline = null;
  if (!cfg.only) baseline = await callBaseline(cfg.quick);

  const day = date.toISOString().slice(0, 10);
  const suffix = `${cfg.quick ? '-quick' : ''}${cfg.only ? `-only-${workloads.map((w) => w.id).join('')}` : ''}`;
  const rawFile = `bench/results/${day}-first${suffix}.json`;
  const run = {
    suite: 'first',
    date: date.toISOString(),
    durationS: +((performance.now() - started) / 1000).toFixed(1),
    machine,
    tinybench: JSON.parse(readFileSync(join(ROOT, 'node_modules', 'tinybench', 'package.json'), 'utf8')).version,
    config: { quick: cfg.quick, only: cfg.only, seed: SEED, backends: BACKENDS },
    units: { time: 'ms per forward (S: ms per step)', gflops: 'multiply-add = 2 FLOPs', baseline: 'ns per call' },
    workloads: workloads.map((w) => ({ ...w, flops: flopsOf(w) })),
    agreement,
    cells,
    baseline,
    rawFile,
  };

  console.log('');
  consoleTable(run);
  if (baseline) {
    console.log('');
    console.log(`Baseline: JS→Wasm call (heapBase) ${baseline.wasmCallNs.toFixed(1)} ns/call; ` +
      `same loop, inlinable JS function ${baseline.jsLoopNs.toFixed(2)} ns`);
  }
  const worst = Math.max(...Object.values(agreement).flatMap((v) => Object.values(v)));
  console.log(`Agreement with js: max |diff| ${worst.toExponential(2)}${worst <= 1e-4 ? '' : '  ← above 1e-4!'}`);

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(ROOT, rawFile), JSON.stringify(run, null, 2) + '\n');
  // Only a full run replaces the committed summary; partial and quick runs write their JSON only.
  const full = !cfg.quick && !cfg.only;
  if (full) writeFileSync(join(RESULTS, 'latest.md'), markdown(run));
  console.log(`\nwrote ${rawFile}${full ? ' and bench/results/latest.md' : ''} (${run.durationS} s)`);
  if (!(worst <= 1e-4)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});

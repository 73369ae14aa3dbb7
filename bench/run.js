#!/usr/bin/env node
/**
 * The benchmark suite: the workload matrix (bench/lib/workloads.js) on our backends and on the
 * peers users would otherwise pick (bench/peers), each checked for the same outputs before it is
 * timed with tinybench; plus this machine's Wasm SIMD peak, the kernels' fraction of it, the bare
 * call cost, cold start and package size. Writes bench/results/<date>.json, and on a full run
 * bench/RESULTS.md and bench/results/chart.svg.
 *
 *   npm run bench                                   # everything (several minutes)
 *   node bench/run.js --quick                       # shorter budgets, noisier
 *   node bench/run.js --only B,S,T1 --runners wasm-simd,ort-web-1t
 *   node bench/run.js --json                        # JSON on stdout, nothing else
 *   node bench/run.js --cold-start                  # only cold start, in Node and Chromium
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInstanceForBench, ready, setBackend } from './lib/backend.js';
import { coldStartBrowser, coldStartNode, describeColdStart } from './lib/cold-start.js';
import { browserThreads, describeBrowserThreads } from './lib/browser-threads.js';
import { measurePeak, packageSize } from './lib/machine.js';
import { time } from './lib/timing.js';
import { makeLayer, ourRunner } from './lib/ours.js';
import { maxAbsDiff } from './peers/onnx-model.js';
import { markdown, svgChart, targets } from './lib/report.js';
import { WORKLOADS, flopsOf, label } from './lib/workloads.js';
import { Random } from '../dist/random.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const OURS = ['wasm-simd', 'wasm-simd-2t', 'wasm', 'js'];

const USAGE = `usage: node bench/run.js [--quick] [--json] [--only A,B,…] [--runners wasm-simd,ort-web-1t,…] [--cold-start] [--browser-threads]
  workloads: ${WORKLOADS.map((w) => w.id).join(', ')}
  runners:   ${OURS.join(', ')} and the peers in bench/peers (ort-web-1t, ort-web, ort-web-2t, ort-node, tfjs-wasm, tfjs-cpu)
  --cold-start: only import + ready() + a small LSTM's first forward, in Node and in Chromium
  --browser-threads: only workloads B and S in Chromium on one thread and after ready({ threads: 2 })`;

function parseArgs(argv) {
  const cfg = { quick: false, json: false, only: null, runners: null, coldStart: false, browserThreads: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const list = () => (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (a === '--quick') cfg.quick = true;
    else if (a === '--json') cfg.json = true;
    else if (a === '--only') cfg.only = list().map((s) => s.toUpperCase());
    else if (a === '--runners') cfg.runners = list();
    else if (a === '--cold-start') cfg.coldStart = true;
    else if (a === '--browser-threads') cfg.browserThreads = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument '${a}'`);
  }
  const bad = (cfg.only ?? []).filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (bad.length) fail(`unknown workload(s) ${bad.join(', ')}`);
  return cfg;
}

function fail(msg) {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

async function loadPeers() {
  const file = join(HERE, 'peers', 'index.js');
  if (!existsSync(file)) return [];
  const { PEERS } = await import(file);
  const { childPeer } = await import(join(HERE, 'peers', 'child.js'));
  // After 'ort-web' so that the parent's ORT-Web (1 thread here) is timed first.
  const at = PEERS.findIndex((p) => p.name === 'ort-web') + 1;
  return [...PEERS.slice(0, at), childPeer({ name: 'ort-web-2t', description: 'onnxruntime-web (Wasm SIMD, 2 threads, in a child process)' }), ...PEERS.slice(at)];
}


/** GEMM and matvec kernel throughput on wasm-simd, straight on the kernels. */
async function kernelRates(peak, quick) {
  await setBackend('wasm-simd');
  await ready({ threads: 1 });
  const be = backendInstanceForBench('wasm-simd');
  const k = be.kernels, a = be.arena;
  const one = async (m, n, kk) => {
    const A = a.allocF32(m * kk), W = a.allocF32(n * kk), P = a.allocF32(k.packedSize(n, kk)), C = a.allocF32(m * n);
    const f = a.f32, r = new Random(1);
    for (let i = 0; i < m * kk; i++) f[(A >> 2) + i] = r.uniform(-1, 1);
    for (let i = 0; i < n * kk; i++) f[(W >> 2) + i] = r.uniform(-1, 1);
    k.packWeights(P, W, n, kk);
    const fn = () => k.gemm(C, A, P, 0, m, n, kk);
    fn();
    const t = await time(`gemm ${m}x${n}x${kk}`, fn, 1, quick, false);
    for (const p of [A, W, P, C]) a.free(p);
    const gflops = (2 * m * n * kk) / (t.medianMs * 1e6);
    return { m, n, k: kk, gflops, fractionOfPeak: gflops / peak };
  };
  return { gemm: await one(2048, 1024, 128), matvec: await one(1, 1024, 256) };
}

/** Cold start in Node and in Chromium (null where Chromium is missing). */
async function coldStart(quick) {
  const runs = quick ? 5 : 11;
  return { node: coldStartNode(ROOT, runs), browser: await coldStartBrowser(ROOT, runs) };
}

const machineInfo = () => ({ cpu: os.cpus()[0]?.model?.trim() ?? 'unknown', cpus: os.cpus().length, node: process.version, loadavg: os.loadavg().map((x) => +x.toFixed(2)) });

/** --cold-start / --browser-threads: just that, written to bench/results/<day>-<what>.json. */
async function oneRow(cfg, log, what, key, measure, describe) {
  const date = new Date();
  const run = { suite: 'wasm-rnn', date: date.toISOString(), machine: machineInfo(), [key]: await measure() };
  run.rawFile = `bench/results/${date.toISOString().slice(0, 10)}-${what}.json`;
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(ROOT, run.rawFile), JSON.stringify(run, null, 2) + '\n');
  if (cfg.json) return console.log(JSON.stringify(run));
  log(`load average ${run.machine.loadavg.join(' ')}`);
  for (const line of describe(run[key])) log(line);
  log(`wrote ${run.rawFile}`);
}

async function main() {
  const cfg = parseArgs(process.argv.slice(2));
  const log = cfg.json ? () => {} : (s) => console.log(s);
  if (cfg.coldStart) {
    return oneRow(cfg, log, 'cold-start', 'coldStart', () => coldStart(cfg.quick), (c) => [
      'cold start (import + ready() + new LSTM(8→32) and its first forward)',
      describeColdStart('  Node', c.node), describeColdStart('  Chromium', c.browser)]);
  }
  if (cfg.browserThreads) return oneRow(cfg, log, 'browser-threads', 'browserThreads', () => browserThreads(ROOT, cfg.quick), (t) => [describeBrowserThreads(t)]);
  const workloads = cfg.only ? WORKLOADS.filter((w) => cfg.only.includes(w.id)) : WORKLOADS;
  const peers = await loadPeers();
  const all = [...OURS.map(ourRunner), ...peers];
  const runners = cfg.runners ? all.filter((r) => cfg.runners.includes(r.name)) : all;
  if (cfg.runners) {
    const missing = cfg.runners.filter((n) => !all.some((r) => r.name === n));
    if (missing.length) fail(`unknown runner(s) ${missing.join(', ')}`);
  }
  const started = performance.now(), date = new Date();
  const machine = {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown', cpus: os.cpus().length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version, v8: process.versions.v8, loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
  const peak = await measurePeak(ROOT, cfg.quick);
  Object.assign(machine, { peakGflops: peak.peakGflops, medianPeakGflops: peak.medianGflops, callNs: peak.callNs });
  log(`wasm-rnn bench · Node ${machine.node} · ${machine.cpu} · ${machine.cpus} CPUs · ${date.toISOString()}${cfg.quick ? ' · --quick' : ''}`);
  log(`Wasm SIMD mul+add peak ${peak.peakGflops.toFixed(1)} GFLOP/s (median ${peak.medianGflops.toFixed(1)}); JS→Wasm call ${peak.callNs.toFixed(1)} ns`);

  const cells = [], skipped = [];
  for (const w of workloads) {
    // Same seeded weights and input for everyone; the js backend's output is the reference.
    const stateDict = w.train ? null : makeLayer(w, 0).stateDict();
    const rng = new Random(12345);
    const input = new Float32Array(w.T * w.B * w.I);
    for (let i = 0; i < input.length; i++) input[i] = rng.uniform(-1, 1);
    let reference = null;
    const order = [...runners].sort((a, b) => (a.name === 'js' ? -1 : b.name === 'js' ? 1 : 0));
    for (const r of order) {
      const sup = w.train && !r.ours
        ? { ok: false, reason: r.name.startsWith('ort') ? "ONNX Runtime's npm packages cannot train" : 'no tfjs training runner yet (ANCHORS.md: tfjs-wasm T1 ≈ 2.2 s per step)' }
        : await r.supports(w);
      if (!sup.ok) {
        skipped.push({ workload: w.id, runner: r.name, reason: sup.reason });
        continue;
      }
      let p;
      try {
        let out, stats, first = 0;
        if (r.inChild) {
          // Prepared, checked-run and timed in a process of its own (see bench/peers/child.js).
          ({ output: out, stats } = await r.measure(w, stateDict, input, cfg.quick));
        } else {
          p = await r.prepare(w, stateDict, input);
          const t0 = performance.now();
          await p.run();
          first = performance.now() - t0;
          out = await p.lastOutput();
        }
        if (r.name === 'js') reference = out;
        const diff = reference ? maxAbsDiff(out, reference) : undefined;
        const tol = w.train ? 1e-3 : 1e-4;
        if (diff !== undefined && !(diff <= tol) && !sup.approximate) {
          skipped.push({ workload: w.id, runner: r.name, reason: `output differs from ours (max |diff| ${diff}); not timed` });
          log(`  ${w.id} ${r.name}: output differs (${diff}) — not timed`);
          continue;
        }
        stats ??= await time(`${w.id}/${r.name}`, () => p.run(), first, cfg.quick, !!w.step);
        const c = { workload: w.id, runner: r.name, ...stats, gflops: flopsOf(w) / (stats.medianMs * 1e6), maxAbsDiff: diff, approximate: !!sup.approximate };
        if (w.train) c.tokensPerSecond = (w.T * w.B) / (stats.medianMs / 1000);
        cells.push(c);
        const shown = w.step ? `${(stats.medianMs * 1000).toFixed(1)} µs` : `${stats.medianMs.toFixed(stats.medianMs < 10 ? 2 : 1)} ms`;
        log(`  ${label(w).padEnd(58)} ${r.name.padEnd(11)} ${shown.padStart(10)}  ${c.gflops.toFixed(1).padStart(6)} GFLOP/s`);
      } catch (err) {
        skipped.push({ workload: w.id, runner: r.name, reason: `failed: ${err?.message ?? err}` });
        log(`  ${w.id} ${r.name}: failed — ${err?.message ?? err}`);
      } finally {
        await p?.dispose();
      }
    }
  }

  const full = !cfg.quick && !cfg.only && !cfg.runners;
  const run = {
    suite: 'wasm-rnn', date: date.toISOString(), machine,
    config: { quick: cfg.quick, only: cfg.only, runners: cfg.runners },
    workloads: workloads.map((w) => ({ ...w, flops: flopsOf(w) })),
    runners: runners.map((r) => r.name).filter((n) => cells.some((c) => c.runner === n)),
    runnerInfo: runners.map((r) => ({ name: r.name, description: r.description })),
    cells, skipped,
    // The machine's speed drifts over a long run: measure the ceiling again right before the kernel
    // cells and keep the higher, so a kernel's fraction is not flattered by a slow moment.
    kernels: await (async () => {
      const again = await measurePeak(ROOT, cfg.quick);
      machine.peakGflops = Math.max(machine.peakGflops, again.peakGflops);
      machine.medianPeakGflops = Math.max(machine.medianPeakGflops, again.medianGflops);
      return kernelRates(machine.peakGflops, cfg.quick);
    })(),
    coldStart: await coldStart(cfg.quick),
    browserThreads: await browserThreads(ROOT, cfg.quick),
    size: packageSize(ROOT),
  };
  run.targets = targets(run);
  run.durationS = +((performance.now() - started) / 1000).toFixed(1);
  const day = date.toISOString().slice(0, 10);
  run.rawFile = `bench/results/${day}${full ? '' : '-partial'}.json`;
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(ROOT, run.rawFile), JSON.stringify(run, null, 2) + '\n');
  if (full) {
    writeFileSync(join(HERE, 'results', 'chart.svg'), svgChart(run) + '\n');
    writeFileSync(join(HERE, 'RESULTS.md'), markdown(run));
  }
  if (cfg.json) {
    console.log(JSON.stringify(run));
    return;
  }
  log('');
  for (const t of run.targets) log(`${t.ok === undefined ? '    ' : t.ok === null ? 'n/a ' : t.ok ? 'met ' : 'MISS'}  ${t.what}: ${t.value}`);
  log(`\nwrote ${run.rawFile}${full ? ', bench/RESULTS.md and bench/results/chart.svg' : ''} (${run.durationS} s)`);
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});

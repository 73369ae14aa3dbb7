#!/usr/bin/env node
/**
 * Checks and times the peer runners of ./index.js against wasm-rnn's wasm-simd backend on the same
 * seeded weights and inputs:
 *
 *   npm run build && node bench/peers/check.js            # workloads A E G H I S, every peer
 *   node bench/peers/check.js --only A,S --peers ort-node,tfjs-wasm --runs 50
 *
 * Per workload: builds our model (seed 0), runs our forward (or one step() for S) on wasm-simd, then
 * for each peer prepare() → run() once → compare lastOutput() with our output (max |Δ|, ≤ 1e-4
 * expected; cells that supports() marks approximate are timed but not compared) → warm up → time
 * `--runs` single runs (default 20; fewer when a peer takes more than ~15 s in all) and report the
 * median. Our wasm-simd forward is timed interleaved with each peer (bursts of each, alternating),
 * and that median is printed next to the peer's, with the ratio; the 'ours' row of each workload is
 * ours timed alone. Exits 1 when a compared output is off or a peer fails.
 *
 * Step workload S: every run advances the state by one step with the same x, from a zero state; the
 * output check is on the first step (ours: step() from createState()).
 */
import { performance } from 'node:perf_hooks';
import { GRU, LSTM, RNN, setBackend } from '../../dist/index.js';
import { Random } from '../../dist/random.js';
import { WORKLOADS as ALL_WORKLOADS } from '../lib/workloads.js';
import { PEERS } from './index.js';
import { maxAbsDiff } from './onnx-model.js';

const WORKLOADS = ALL_WORKLOADS.filter((w) => ['A', 'E', 'G', 'H', 'I', 'S'].includes(w.id));
const TOLERANCE = 1e-4;
const SEED = 0;
const OURS = 'wasm-simd';

const USAGE = `usage: node bench/peers/check.js [--only A,E,G,H,I,S] [--peers ${PEERS.map((p) => p.name).join(',')}] [--runs N]`;

function parseArgs(argv) {
  const cfg = { only: null, peers: null, runs: 20 };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (key === '--only') cfg.only = value().split(',').map((s) => s.trim().toUpperCase());
    else if (key === '--peers') cfg.peers = value().split(',').map((s) => s.trim());
    else if (key === '--runs') cfg.runs = Number(value());
    else if (key === '--help' || key === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`check: unknown argument '${argv[i]}'\n${USAGE}`);
      process.exit(2);
    }
  }
  const badW = (cfg.only ?? []).filter((id) => !WORKLOADS.some((w) => w.id === id));
  const badP = (cfg.peers ?? []).filter((n) => !PEERS.some((p) => p.name === n));
  if (badW.length || badP.length || !(Number.isInteger(cfg.runs) && cfg.runs >= 1)) {
    console.error(`check: bad arguments ${[...badW, ...badP].join(', ')}${cfg.runs >= 1 ? '' : ` --runs ${cfg.runs}`}\n${USAGE}`);
    process.exit(2);
  }
  return cfg;
}

function makeModel(w) {
  const opts = { inputSize: w.I, hiddenSize: w.H, numLayers: w.numLayers ?? 1, bidirectional: w.bidirectional ?? false, seed: SEED };
  if (w.layer === 'LSTM') return new LSTM(opts);
  if (w.layer === 'GRU') return new GRU(opts);
  return new RNN({ ...opts, nonlinearity: 'tanh' });
}

function makeInput(w) {
  const rng = new Random(SEED + 1);
  const x = new Float32Array(w.T * w.B * w.I);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  return x;
}


const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** Warm-up: ≥ 5 runs and ≥ 0.2 s, but at most ~3 s (one run for very slow peers). Returns the last run's ms. */
async function warm(run) {
  const w0 = performance.now();
  let last = 0;
  for (let i = 0; ; i++) {
    const s = performance.now();
    await run();
    last = performance.now() - s;
    const spent = performance.now() - w0;
    if (spent > 3000 || (i >= 4 && spent > 200) || i >= 10000) return last;
  }
}

/** Warm-up, then up to `runs` timed single runs (at least 3; stops early past a 15 s budget). */
async function time(run, runs) {
  await warm(run);
  const ms = [];
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await run();
    ms.push(performance.now() - s);
    if (i >= 2 && performance.now() - t0 > 15000) break;
  }
  return { median: median(ms), n: ms.length };
}

/**
 * Times ours and a peer interleaved, so that both see the same machine (these VMs are shared and
 * noisy): up to 5 rounds of [a burst of ours, a burst of the peer], `runs` timed single runs each
 * in all. Each burst starts with one untimed run (caches hold the other model's weights after a
 * switch), skipped for peers slower than 100 ms a run. Stops early past a 15 s budget once the
 * peer has 3 timed runs. Returns the medians of both.
 */
async function timePair(oursRun, peerRun, runs) {
  const est = { ours: await warm(oursRun), peer: await warm(peerRun) };
  const rounds = Math.min(5, runs), per = Math.ceil(runs / rounds);
  const ms = { ours: [], peer: [] };
  const t0 = performance.now();
  const over = () => performance.now() - t0 > 15000 && ms.peer.length >= 3;
  for (let r = 0; r < rounds && !over(); r++) {
    for (const [key, run] of [['ours', oursRun], ['peer', peerRun]]) {
      if (est[key] < 100) await run();
      for (let k = 0; k < per && ms[key].length < runs; k++) {
        const s = performance.now();
        await run();
        ms[key].push(performance.now() - s);
        if (key === 'peer' && over()) break;
      }
    }
  }
  return { ours: median(ms.ours), peer: median(ms.peer), n: ms.peer.length };
}

/** Our wasm-simd forward (or one step for S): { output (first run), run }. */
function ours(model, w, input) {
  if (w.step) {
    const state = model.createState(w.B);
    const out = new Float32Array(w.B * w.H);
    const run = () => model.step(input, state, out);
    run();
    const output = out.slice();
    return { output, run };
  }
  const x = { data: input, shape: [w.T, w.B, w.I] };
  const run = () => model.forward(x);
  return { output: run().output.data, run };
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const desc = (w) =>
  `${w.id} ${w.numLayers > 1 ? `${w.numLayers}-layer ` : ''}${w.bidirectional ? 'Bi' : ''}${w.layer} I${w.I} H${w.H} B${w.B} ${w.step ? 'step' : `T${w.T}`}`;

async function main() {
  const cfg = parseArgs(process.argv.slice(2));
  const workloads = WORKLOADS.filter((w) => !cfg.only || cfg.only.includes(w.id));
  const peers = PEERS.filter((p) => !cfg.peers || cfg.peers.includes(p.name));
  await setBackend(OURS);

  console.log(`node ${process.version}, ${process.platform}/${process.arch}; ours: wasm-rnn '${OURS}'`);
  for (const p of peers) console.log(`  ${p.name.padEnd(10)} ${p.description}`);
  console.log('');

  const rows = [];
  let bad = 0;
  for (const w of workloads) {
    const model = makeModel(w);
    const input = makeInput(w);
    const stateDict = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, { data: t.data, shape: t.shape }]));
    const me = ours(model, w, input);
    const mine = await time(me.run, cfg.runs);
    rows.push({ w, peer: `ours (${OURS})`, diff: '—', median: mine.median, n: mine.n, ours: mine.median });
    console.log(`${desc(w)}: ours ${fmtMs(mine.median)} ms`);

    for (const peer of peers) {
      const row = { w, peer: peer.name, diff: '', median: NaN, n: 0, ours: mine.median, note: '' };
      rows.push(row);
      let s;
      try {
        s = await peer.supports(w);
      } catch (e) {
        s = { ok: false, reason: `supports() threw: ${e.message}` };
      }
      if (!s.ok) {
        row.diff = '✘';
        row.note = s.reason ?? 'unsupported';
        console.log(`  ${peer.name}: skipped — ${row.note}`);
        continue;
      }
      let r;
      try {
        r = await peer.prepare(w, stateDict, input);
        await r.run();
        const out = await r.lastOutput();
        const d = maxAbsDiff(out, me.output);
        if (s.approximate) {
          row.diff = `(${d.toExponential(1)})`;
          row.note = s.reason ?? 'approximate';
        } else {
          row.diff = d.toExponential(1);
          if (!(d <= TOLERANCE)) {
            bad++;
            row.note = `OUTPUT MISMATCH (> ${TOLERANCE})`;
          }
        }
        const t = await timePair(me.run, () => r.run(), cfg.runs);
        row.median = t.peer;
        row.ours = t.ours;
        row.n = t.n;
        console.log(`  ${peer.name}: max |Δ| ${row.diff}, ${fmtMs(t.peer)} ms (n = ${t.n}; ours interleaved ${fmtMs(t.ours)} ms)${row.note ? ` — ${row.note}` : ''}`);
      } catch (e) {
        row.diff = 'error';
        row.note = e.message.split('\n')[0];
        bad++;
        console.log(`  ${peer.name}: ERROR ${e.stack}`);
      } finally {
        await r?.dispose();
      }
    }
    model.dispose?.();
  }

  console.log('\n| workload | runner | max abs diff vs ours | median ms | n | ours (wasm-simd) ms, interleaved | peer / ours | note |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = Number.isFinite(r.median) && r.peer.startsWith('ours') === false ? `${(r.median / r.ours).toFixed(2)}×` : '';
    console.log(
      `| ${desc(r.w)} | ${r.peer} | ${r.diff} | ${Number.isFinite(r.median) ? fmtMs(r.median) : '—'} | ${r.n || ''} | ${fmtMs(r.ours)} | ${ratio} | ${r.note ?? ''} |`,
    );
  }
  console.log(`\n${bad === 0 ? 'all compared outputs within' : `${bad} cell(s) failed; tolerance`} ${TOLERANCE}`);
  return bad ? 1 : 0;
}

// Exit explicitly: a multi-threaded onnxruntime-web keeps worker threads alive.
process.exit(await main());

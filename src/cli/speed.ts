/**
 * `wasm-rnn bench` (and the start of `npm start`): how much faster the Wasm kernels are than
 * plain JS, on representative workloads.
 *
 * Workload B: one LSTM layer, inputSize 128, hiddenSize 256, batch 1, 128 steps, forward over the
 * whole sequence. Workload S: one streaming `step()` of the same layer (batch 1). Workload T1: one
 * training step of a char language model (Embedding 65→64, LSTM 64→256, Linear 256→65, batch 32,
 * 64 steps, cross-entropy, clipping, Adam). The same seeded weights and inputs run on every
 * backend; the results are compared before anything is timed.
 *
 * `wasm-rnn bench [--quick] [--json]`; the fuller suite is `npm run bench`.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  Adam, BACKEND_NAMES, LSTM, LanguageModel, Tensor, clipGradNorm, ready, setBackend, threadsSupported,
  type BackendName, type StepState,
} from '../index.js';
import { Random } from '../random.js';
import type { CommandSpec } from './args.js';

const I = 128, H = 256, B = 1, T = 128;
const SEED = 0;
const TOLERANCE = 1e-4;
/** LSTM forward FLOPs, a multiply-add counted as 2: 2·4H·(I+H) per step per batch row. */
const FLOPS_PER_STEP = 2 * 4 * H * (I + H);
const FLOPS_FORWARD = FLOPS_PER_STEP * T * B;
/** T1: vocabulary, embedding, hidden, batch, steps; FLOPs ≈ 3 × forward (LSTM + Linear). */
const LM = { V: 65, E: 64, H: 256, B: 32, T: 64 };
const FLOPS_TRAIN = 3 * (2 * 4 * LM.H * (LM.E + LM.H) + 2 * LM.H * LM.V) * LM.B * LM.T;

export interface Config {
  quick: boolean;
  json: boolean;
}

/** Our backends, plus 'wasm-simd ×2': wasm-simd after ready({ threads: 2 }) (inference only). */
type Runner = BackendName | 'wasm-simd ×2';
const TWO = 'wasm-simd ×2' as const;

/** Selects a runner: its backend, and 2 threads or 1 for wasm-simd. */
async function use(r: Runner): Promise<void> {
  const be: BackendName = r === TWO ? 'wasm-simd' : r;
  await setBackend(be);
  if (be === 'wasm-simd') await ready({ threads: r === TWO ? 2 : 1 });
}

interface Row {
  workload: 'B' | 'S' | 'T1';
  backend: Runner;
  /** Milliseconds per forward (B) or per step (S). */
  medianMs: number;
  minMs: number;
  gflops: number;
  /** js median / this median. */
  speedupVsJs: number;
  reps: number;
}

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'How much faster the Wasm kernels are than plain JS: LSTM inference (B), one streaming step (S) and a char-LM training step (T1) on wasm-simd, wasm and js. The full suite is `npm run bench` in the repository.',
  positionals: [],
  options: [
    { name: 'quick', type: 'flag', help: 'fewer repetitions (≈ 4× faster, noisier)' },
    { name: 'json', type: 'flag', help: 'print one JSON object and nothing else' },
  ],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = e; // NaN propagates as NaN > anything is false: keep it visible
  }
  return d;
}

/** Untimed calls until `minMs` and `minCalls` are both reached (V8 tier-up); returns ms per call. */
function warmUp(fn: () => void, minCalls: number, minMs: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (n < minCalls || t - t0 < minMs) {
    fn();
    n++;
    t = performance.now();
  }
  return (t - t0) / n;
}

/** Times single calls until `targetMs` of samples (at least `minReps`, at most `maxReps`). */
function timeCalls(fn: () => void, perCallMs: number, targetMs: number, minReps: number, maxReps: number): number[] {
  const reps = Math.min(maxReps, Math.max(minReps, Math.ceil(targetMs / Math.max(perCallMs, 1e-6))));
  const samples: number[] = new Array(reps);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    samples[r] = performance.now() - t0;
  }
  return samples;
}

/** Runs the table (`wasm-rnn bench`); sets process.exitCode = 1 when the backends disagree. */
export async function speed(cfg: Config): Promise<void> {
  const log = cfg.json ? (_s: string) => {} : (s: string) => console.log(s);
  const backends = [...BACKEND_NAMES] as BackendName[]; // 'wasm-simd', 'wasm', 'js'
  // Inference also on two threads where the machine has them (bit-identical to one thread).
  const inference: Runner[] = threadsSupported() && os.cpus().length >= 2 ? ['wasm-simd', TWO, 'wasm', 'js'] : backends;

  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const date = new Date();
  log('wasm-rnn speed: Wasm vs plain JS');
  log(`Node ${process.version} · ${cpu} · ${os.cpus().length} logical CPUs · ${date.toISOString()}`);
  log(`Workload B: LSTM inputSize ${I}, hiddenSize ${H}, batch ${B}, ${T} steps, forward over the sequence`);
  log(`            (${(FLOPS_FORWARD / 1e6).toFixed(1)} MFLOP per forward, multiply-add = 2 FLOPs)`);
  log(`Workload S: one step() of the same LSTM, batch 1 (${(FLOPS_PER_STEP / 1e6).toFixed(3)} MFLOP per step)`);
  log(`Workload T1: one training step, char LM Emb(${LM.V},${LM.E})→LSTM(${LM.H})→Linear, batch ${LM.B}, ${LM.T} steps,`);
  log(`            cross-entropy, clip 1, Adam (≈ ${(FLOPS_TRAIN / 1e9).toFixed(2)} GFLOP, 3× forward)`);
  log('');

  // One layer, seeded weights; it migrates to each backend when that backend is selected.
  const lstm = new LSTM({ inputSize: I, hiddenSize: H, seed: SEED });
  const rng = new Random(12345);
  const xData = new Float32Array(T * B * I);
  for (let i = 0; i < xData.length; i++) xData[i] = rng.uniform(-1, 1);
  const x = new Tensor(xData, [T, B, I]);
  const xStep = xData.subarray(0, B * I);

  // 1. Agreement check.
  const outs: Partial<Record<Runner, { y: Float32Array; h: Float32Array; c: Float32Array }>> = {};
  for (const be of inference) {
    await use(be);
    const r = lstm.forward(x);
    outs[be] = { y: r.output.data, h: r.h.data, c: r.c.data };
  }
  const ref = outs.js!;
  const agreement: Record<string, number> = {};
  let worst = 0;
  for (const be of inference) {
    if (be === 'js') continue;
    const o = outs[be]!;
    const d = Math.max(maxAbsDiff(o.y, ref.y), maxAbsDiff(o.h, ref.h), maxAbsDiff(o.c, ref.c));
    agreement[be] = d;
    worst = Number.isNaN(d) || Number.isNaN(worst) ? NaN : Math.max(worst, d);
  }
  const agree = worst <= TOLERANCE;
  log(
    `Agreement (output, h_n, c_n; max |diff| vs js): ` +
      Object.entries(agreement).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ') +
      `  ${agree ? 'OK' : 'FAIL'} (tolerance ${TOLERANCE.toExponential(0)})`,
  );
  if (!agree) process.exitCode = 1;
  log('');

  // 2. Timing.
  const targetMs = cfg.quick ? 250 : 1000;
  const warmMs = cfg.quick ? 60 : 250;
  const rows: Row[] = [];
  for (const be of inference) {
    await use(be);
    const isJs = be === 'js';
    const fwd = (): void => {
      lstm.forward(x);
    };
    const per = warmUp(fwd, isJs ? 2 : 5, warmMs);
    const samples = timeCalls(fwd, per, targetMs, cfg.quick ? 3 : 5, 100000);
    rows.push({
      workload: 'B', backend: be, medianMs: median(samples), minMs: Math.min(...samples),
      gflops: 0, speedupVsJs: 0, reps: samples.length,
    });
  }
  for (const be of inference) {
    await use(be);
    const state: StepState = lstm.createState(B);
    const out = new Float32Array(B * H);
    // Batches of steps per sample: a single step is ~20 µs on wasm-simd, close to the timer's grain.
    const batch = be === 'js' ? 10 : 100;
    const stepBatch = (): void => {
      for (let i = 0; i < batch; i++) lstm.step(xStep, state, out);
    };
    const per = warmUp(stepBatch, 3, warmMs);
    const samples = timeCalls(stepBatch, per, cfg.quick ? targetMs / 2 : targetMs / 2, cfg.quick ? 5 : 10, 100000)
      .map((ms) => ms / batch);
    rows.push({
      workload: 'S', backend: be, medianMs: median(samples), minMs: Math.min(...samples),
      gflops: 0, speedupVsJs: 0, reps: samples.length * batch,
    });
  }
  // T1: a training step per backend, each from the same seeded model and batch.
  const lmRng = new Random(777);
  const lmBatch = {
    x: Int32Array.from({ length: LM.T * LM.B }, () => Math.floor(lmRng.next() * LM.V)),
    y: Int32Array.from({ length: LM.T * LM.B }, () => Math.floor(lmRng.next() * LM.V)),
    T: LM.T, B: LM.B, carry: false,
  };
  const firstLoss: Partial<Record<BackendName, number>> = {};
  for (const be of backends) {
    await use(be);
    const lm = new LanguageModel({ vocabSize: LM.V, embeddingDim: LM.E, hiddenSize: LM.H, seed: SEED });
    const opt = new Adam(lm, { lr: 1e-3 });
    let loss = NaN;
    const trainStep = (): void => {
      opt.zeroGrad();
      loss = lm.trainBatch(lmBatch).loss;
      clipGradNorm(lm, 1);
      opt.step();
    };
    const t0 = performance.now();
    trainStep();
    firstLoss[be] = loss;
    const per = be === 'js' ? performance.now() - t0 : warmUp(trainStep, 2, 0);
    const samples = timeCalls(trainStep, per, cfg.quick ? 1000 : 3000, cfg.quick ? 2 : 3, 1000);
    rows.push({
      workload: 'T1', backend: be, medianMs: median(samples), minMs: Math.min(...samples),
      gflops: 0, speedupVsJs: 0, reps: samples.length,
    });
    opt.dispose();
    lm.dispose();
  }
  for (const be of backends) {
    const d = Math.abs((firstLoss[be] as number) - (firstLoss.js as number));
    if (!(d <= TOLERANCE)) {
      log(`T1 first-step loss disagrees: ${be} ${firstLoss[be]} vs js ${firstLoss.js}`);
      process.exitCode = 1;
    }
  }
  for (const r of rows) {
    const flops = r.workload === 'B' ? FLOPS_FORWARD : r.workload === 'S' ? FLOPS_PER_STEP : FLOPS_TRAIN;
    r.gflops = flops / (r.medianMs * 1e6);
    const js = rows.find((q) => q.workload === r.workload && q.backend === 'js')!;
    r.speedupVsJs = js.medianMs / r.medianMs;
  }

  if (cfg.json) {
    console.log(JSON.stringify({
      tool: 'wasm-rnn speed',
      date: date.toISOString(),
      node: process.version,
      v8: process.versions.v8,
      cpu,
      cpus: os.cpus().length,
      platform: `${os.platform()} ${os.arch()}`,
      quick: cfg.quick,
      workloads: {
        B: { layer: 'LSTM', inputSize: I, hiddenSize: H, batch: B, steps: T, flops: FLOPS_FORWARD, unit: 'ms per forward' },
        S: { layer: 'LSTM', inputSize: I, hiddenSize: H, batch: B, call: 'step()', flops: FLOPS_PER_STEP, unit: 'ms per step' },
        T1: { model: 'Embedding→LSTM→Linear', ...LM, flops: FLOPS_TRAIN, unit: 'ms per training step (CE, clip 1, Adam)' },
      },
      agreement: { maxAbsDiffVsJs: agreement, tolerance: TOLERANCE, ok: agree },
      results: rows,
    }, null, 2));
    return;
  }

  const header = ['workload', 'backend', 'median', 'min', 'GFLOP/s', 'vs js', 'reps'];
  const fmtTime = (r: Row, ms: number): string =>
    r.workload === 'S' ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`;
  const name = { B: `B LSTM forward ×${T}`, S: 'S LSTM step()', T1: 'T1 char-LM train step' };
  const table = rows.map((r) => [
    name[r.workload], r.backend, fmtTime(r, r.medianMs), fmtTime(r, r.minMs),
    r.gflops.toFixed(2), `${r.speedupVsJs.toFixed(1)}×`, String(r.reps),
  ]);
  const right = [false, false, true, true, true, true, true];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  log(line(header));
  log(widths.map((w) => '─'.repeat(w)).join('  '));
  let prev = '';
  for (let i = 0; i < table.length; i++) {
    if (prev && rows[i].workload !== prev) log('');
    prev = rows[i].workload;
    log(line(table[i]));
  }
  log('');
  log('median/min: wall time per forward (B), per step (S) or per training step (T1, tokens/s = B·T / median),');
  log(`after warm-up; GFLOP/s from the median. T1 tokens/s: ${rows.filter((r) => r.workload === 'T1').map((r) => `${r.backend} ${Math.round((LM.B * LM.T) / (r.medianMs / 1000))}`).join(', ')}.`);
  log('vs js: plain-JS median ÷ this median. One thread, except wasm-simd ×2: ready({ threads: 2 }), which splits');
  log('inference (not training) over a worker and the caller, bit-identical. Shared machines are noisy: re-run before quoting.');
}

/**
 * Peer runners for the benchmark suite: the same workloads, weights and inputs as wasm-rnn's own
 * backends, run by the libraries a user would otherwise pick.
 *
 *   import { PEERS } from './peers/index.js';
 *   for (const peer of PEERS) {
 *     const s = await peer.supports(workload);             // { ok, reason?, approximate? }
 *     if (!s.ok) continue;
 *     const r = await peer.prepare(workload, model.stateDict(), input);
 *     await r.run();                                       // one forward (or one step, carrying the state)
 *     const y = await r.lastOutput();                      // Float32Array [T·B·D·H], time-major
 *     await r.dispose();
 *   }
 *
 * workload: { id, layer: 'LSTM'|'GRU'|'RNN', I, H, B, T, numLayers = 1, bidirectional = false,
 *             step = false, nonlinearity = 'tanh' }. input: Float32Array [T·B·I], time-major.
 *
 * Peers (all packages are optional devDependencies: a missing one makes supports() say so):
 *   ort-web-1t  onnxruntime-web in Node, Wasm SIMD, env.wasm.numThreads = 1
 *   ort-web     onnxruntime-web with its default thread count (min(4, ceil(cores / 2)); 1 on 2 cores)
 *   ort-web-2t  onnxruntime-web with numThreads = 2, in a child process (./child.js), timed there
 *   ort-node    onnxruntime-node (native CPU EP), intraOpNumThreads = interOpNumThreads = 1
 *   tfjs-wasm   @tensorflow/tfjs layers on @tensorflow/tfjs-backend-wasm
 *   tfjs-cpu    @tensorflow/tfjs layers on its pure-JS cpu backend
 *
 * ONNX Runtime runs a model built from our state dict by ./onnx-model.js (exactly PyTorch's
 * formulas, GRU included). tfjs runs tf.sequential() of tf.layers.lstm / gru / simpleRNN (with
 * tf.layers.bidirectional when asked), weights converted from ours; tfjs's GRU has no reset_after
 * (PyTorch's formula), so GRU workloads run with reset_after = false and supports() marks them
 * `approximate: true`: time them, but do not compare their outputs.
 *
 * Process-wide limits, both checked by supports():
 *   - onnxruntime-web initialises its Wasm module once per process, with the thread count set at
 *     that moment: 'ort-web-1t' and 'ort-web' can share a process only when both mean the same
 *     count (true on a 2-core machine). Otherwise run them in separate processes.
 *   - tfjs has one active backend per process: each tfjs runner switches to its backend in
 *     prepare() and, when needed, at the start of run() (the weights then move once). Run all
 *     tfjs-wasm cells before the tfjs-cpu ones to avoid paying the move in the timings.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The folder of an installed package (walking up node_modules from here), or null. */
function packageDir(name) {
  for (let dir = HERE; ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (dirname(dir) === dir) return null;
  }
}

function packageVersion(name) {
  const dir = packageDir(name);
  if (!dir) return null;
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };

function normalize(w) {
  const layer = w.layer;
  if (!GATES[layer]) throw new TypeError(`peers: workload.layer must be 'LSTM', 'GRU' or 'RNN', got ${layer}`);
  return {
    ...w,
    numLayers: w.numLayers ?? 1,
    bidirectional: w.bidirectional ?? false,
    step: w.step ?? false,
    nonlinearity: w.nonlinearity ?? 'tanh',
    T: w.step ? 1 : w.T,
  };
}

/** Reasons every peer shares. */
function commonUnsupported(w) {
  if (w.step && w.bidirectional) return 'a bidirectional layer has no step (needs the whole sequence)';
  return null;
}

/** Loads a package lazily, caching the promise; resolves null (with the error) when missing. */
function lazy(loader) {
  let p;
  return () => (p ??= loader().then((m) => ({ m }), (error) => ({ m: null, error })));
}

// ---------------------------------------------------------------------------------------------
// ONNX Runtime (web and node)
// ---------------------------------------------------------------------------------------------

const loadOnnxModel = lazy(() => import('./onnx-model.js'));
const loadOrtWeb = lazy(() => import('onnxruntime-web'));
const loadOrtNode = lazy(async () => {
  const mod = await import('onnxruntime-node');
  return mod.InferenceSession ? mod : mod.default;
});

/** ORT-web's documented default: min(4, ceil(logical cores / 2)) in Node. */
const ORT_WEB_DEFAULT_THREADS = Math.min(4, Math.ceil((os.cpus().length || 1) / 2));
/** The thread count onnxruntime-web was initialised with in this process (undefined: not yet). */
let ortWebThreads;

/**
 * threads: the intra-op thread count this runner stands for; setThreads: false leaves
 * onnxruntime-web's env.wasm.numThreads unset (its default, which is `threads`).
 */
function ortPeer({ name, pkg, threads, setThreads = true, describe, load }) {
  const version = packageVersion(pkg);
  return {
    name,
    description: version ? `${pkg} ${version} (${describe})` : `${pkg} (not installed)`,
    async supports(workload) {
      const w = normalize(workload);
      const common = commonUnsupported(w);
      if (common) return { ok: false, reason: common };
      const [{ m, error }, model] = await Promise.all([load(), loadOnnxModel()]);
      if (!m) return { ok: false, reason: `${pkg} is not installed or cannot load: ${firstLine(error)}` };
      if (!model.m) return { ok: false, reason: `cannot build ONNX models (onnx-proto): ${firstLine(model.error)}` };
      if (pkg === 'onnxruntime-web' && ortWebThreads !== undefined && ortWebThreads !== threads) {
        return {
          ok: false,
          reason: `onnxruntime-web was already initialised with ${ortWebThreads} thread(s) in this process ` +
            `(its Wasm module is set up once per process); run '${name}' (${threads} threads) in its own process`,
        };
      }
      return { ok: true };
    },
    async prepare(workload, stateDict, input) {
      const w = normalize(workload);
      const { m: ort, error } = await load();
      if (!ort) throw new Error(`${name}: ${pkg} is not available: ${firstLine(error)}`);
      const { buildOnnxModel } = (await loadOnnxModel()).m;
      const { layer, I, H, B, T, numLayers: L, bidirectional, step } = w;
      const D = bidirectional ? 2 : 1;
      if (input.length !== T * B * I) throw new RangeError(`${name}: input must hold T·B·I = ${T * B * I} floats, got ${input.length}`);

      const bytes = buildOnnxModel(w, stateDict, { state: step });
      let options;
      if (pkg === 'onnxruntime-web') {
        if (ortWebThreads === undefined) {
          if (setThreads) ort.env.wasm.numThreads = threads;
          ort.env.wasm.proxy = false;
        }
        options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
      } else {
        options = {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        };
      }
      const session = await ort.InferenceSession.create(bytes, options);
      if (pkg === 'onnxruntime-web') ortWebThreads ??= ort.env.wasm.numThreads;

      const feeds = { X: new ort.Tensor('float32', input, [T, B, I]) };
      if (step) {
        for (let l = 0; l < L; l++) {
          feeds[`h0_l${l}`] = new ort.Tensor('float32', new Float32Array(D * B * H), [D, B, H]);
          if (layer === 'LSTM') feeds[`c0_l${l}`] = new ort.Tensor('float32', new Float32Array(D * B * H), [D, B, H]);
        }
      }
      let last = null;
      return {
        async run() {
          const out = await session.run(feeds);
          last = out.Y;
          if (step) {
            // Carry the state: this step's outputs are the next step's initial state.
            for (let l = 0; l < L; l++) {
              feeds[`h0_l${l}`] = out[`hn_l${l}`];
              if (layer === 'LSTM') feeds[`c0_l${l}`] = out[`cn_l${l}`];
            }
          }
        },
        async lastOutput() {
          if (!last) throw new Error(`${name}: run() first`);
          return Float32Array.from(await last.getData());
        },
        async dispose() {
          await session.release();
          last = null;
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js (wasm and cpu backends)
// ---------------------------------------------------------------------------------------------

const loadTf = lazy(async () => {
  const tf = await import('@tensorflow/tfjs');
  // Production mode: skips tfjs's debug checks (and its "install tfjs-node" console banner).
  tf.enableProdMode();
  return tf;
});
let wasmPathsSet = false;
const loadTfWasm = lazy(async () => {
  const dir = packageDir('@tensorflow/tfjs-backend-wasm');
  if (!dir) throw new Error('@tensorflow/tfjs-backend-wasm is not installed');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    // In Node the backend reads its .wasm files from a file path prefix (must end with '/').
    wasm.setWasmPaths(join(dir, 'dist') + '/');
    wasmPathsSet = true;
  }
  return wasm;
});

async function useTfBackend(tf, backend) {
  if (tf.getBackend() === backend) return;
  if (backend === 'wasm') {
    const { m, error } = await loadTfWasm();
    if (!m) throw error;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: setBackend('${backend}') failed`);
}

/** Keras gate order for each Keras gate block: the PyTorch block it comes from (GRU z, r, h ← r, z, n). */
const KERAS_FROM_TORCH = { LSTM: [0, 1, 2, 3], GRU: [1, 0, 2], RNN: [0] };

/** PyTorch W [G·H, in] → Keras kernel [in, G·H] in Keras's gate order. */
function kerasKernel(W, layer, H, inSize) {
  const from = KERAS_FROM_TORCH[layer];
  const G = from.length, GH = G * H;
  const K = new Float32Array(inSize * GH);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < H; j++) {
      const row = (from[g] * H + j) * inSize, col = g * H + j;
      for (let i = 0; i < inSize; i++) K[i * GH + col] = W[row + i];
    }
  }
  return K;
}

function kerasBias(bih, bhh, layer, H) {
  const from = KERAS_FROM_TORCH[layer];
  const out = new Float32Array(from.length * H);
  for (let g = 0; g < from.length; g++) {
    for (let j = 0; j < H; j++) out[g * H + j] = bih[from[g] * H + j] + bhh[from[g] * H + j];
  }
  return out;
}

/** Keras weights of one (layer, direction): [kernel, recurrentKernel(, bias)] as tf tensors. */
function kerasWeights(tf, stateDict, sfx, layer, H, inSize) {
  const G = GATES[layer];
  const get = (k) => {
    const t = stateDict[k];
    if (!t) throw new RangeError(`tfjs peer: stateDict has no '${k}'`);
    return t.data;
  };
  const ws = [
    tf.tensor2d(kerasKernel(get(`weight_ih_${sfx}`), layer, H, inSize), [inSize, G * H]),
    tf.tensor2d(kerasKernel(get(`weight_hh_${sfx}`), layer, H, H), [H, G * H]),
  ];
  if (`bias_ih_${sfx}` in stateDict) ws.push(tf.tensor1d(kerasBias(get(`bias_ih_${sfx}`), get(`bias_hh_${sfx}`), layer, H)));
  return ws;
}

function tfCell(tf, w, extra) {
  const opts = {
    units: w.H,
    returnSequences: true,
    useBias: extra.useBias,
    // The weights are overwritten: skip the (slow, warning) orthogonal initialisation.
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
    ...extra.layerOpts,
  };
  // tfjs's default recurrentActivation is hardSigmoid (Keras 1); PyTorch's gates use the sigmoid.
  if (w.layer === 'LSTM') return tf.layers.lstm({ ...opts, recurrentActivation: 'sigmoid' });
  if (w.layer === 'GRU') return tf.layers.gru({ ...opts, recurrentActivation: 'sigmoid', resetAfter: false });
  return tf.layers.simpleRNN({ ...opts, activation: w.nonlinearity === 'relu' ? 'relu' : 'tanh' });
}

/** [T, B, F] ↔ [B, T, F]. */
function swap01(src, A, Bn, F) {
  const out = new Float32Array(src.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < Bn; b++) {
      const s = (a * Bn + b) * F, d = (b * A + a) * F;
      for (let i = 0; i < F; i++) out[d + i] = src[s + i];
    }
  }
  return out;
}

function tfPeer({ name, backend }) {
  const version = packageVersion('@tensorflow/tfjs');
  const wasmVersion = packageVersion('@tensorflow/tfjs-backend-wasm');
  const what = backend === 'wasm'
    ? `@tensorflow/tfjs-backend-wasm ${wasmVersion ?? '(not installed)'}, 1 thread in Node`
    : 'cpu backend, plain JS';
  return {
    name,
    description: version ? `@tensorflow/tfjs ${version} layers (${what})` : '@tensorflow/tfjs (not installed)',
    async supports(workload) {
      const w = normalize(workload);
      const common = commonUnsupported(w);
      if (common) return { ok: false, reason: common };
      const { m, error } = await loadTf();
      if (!m) return { ok: false, reason: `@tensorflow/tfjs is not installed or cannot load: ${firstLine(error)}` };
      if (backend === 'wasm') {
        const r = await loadTfWasm();
        if (!r.m) return { ok: false, reason: `@tensorflow/tfjs-backend-wasm is not installed or cannot load: ${firstLine(r.error)}` };
      }
      if (w.layer === 'GRU') {
        return {
          ok: true,
          approximate: true,
          reason: 'tfjs GRU has no reset_after (PyTorch formula); measured with reset_after=false, outputs differ',
        };
      }
      return { ok: true };
    },
    async prepare(workload, stateDict, input) {
      const w = normalize(workload);
      const { m: tf, error } = await loadTf();
      if (!tf) throw new Error(`${name}: @tensorflow/tfjs is not available: ${firstLine(error)}`);
      await useTfBackend(tf, backend);
      const { layer, I, H, B, T, numLayers: L, bidirectional, step } = w;
      const D = bidirectional ? 2 : 1;
      if (input.length !== T * B * I) throw new RangeError(`${name}: input must hold T·B·I = ${T * B * I} floats, got ${input.length}`);
      const useBias = `bias_ih_l0` in stateDict;
      const isLSTM = layer === 'LSTM';

      // Weights in model order: per layer, the forward direction's then the backward one's.
      const weights = [];
      for (let l = 0; l < L; l++) {
        const inSize = l === 0 ? I : D * H;
        for (let d = 0; d < D; d++) weights.push(...kerasWeights(tf, stateDict, `l${l}${d ? '_reverse' : ''}`, layer, H, inSize));
      }

      let model;
      const stateInputs = [];
      if (!step) {
        model = tf.sequential();
        for (let l = 0; l < L; l++) {
          const first = l === 0 ? { batchInputShape: [B, T, I] } : {};
          if (bidirectional) {
            model.add(tf.layers.bidirectional({ layer: tfCell(tf, w, { useBias }), mergeMode: 'concat', ...first }));
          } else model.add(tfCell(tf, w, { useBias, layerOpts: first }));
        }
      } else {
        // One step (T = 1) from an explicit initial state; returnState gives the new state.
        const x = tf.input({ batchShape: [B, 1, I] });
        const outputs = [];
        let cur = x;
        for (let l = 0; l < L; l++) {
          const h0 = tf.input({ batchShape: [B, H] });
          const c0 = isLSTM ? tf.input({ batchShape: [B, H] }) : null;
          stateInputs.push(h0);
          if (c0) stateInputs.push(c0);
          const res = tfCell(tf, w, { useBias, layerOpts: { returnState: true } }).apply(cur, { initialState: c0 ? [h0, c0] : [h0] });
          cur = res[0];
          outputs.push(...res.slice(1));
        }
        model = tf.model({ inputs: [x, ...stateInputs], outputs: [cur, ...outputs] });
      }
      const shapes = model.getWeights().map((t) => t.shape.join('×')).join(', ');
      const given = weights.map((t) => t.shape.join('×')).join(', ');
      if (shapes !== given) throw new Error(`${name}: weight shapes differ: model ${shapes}, converted ${given}`);
      model.setWeights(weights);
      weights.forEach((t) => t.dispose());

      const x = tf.tensor3d(swap01(input, T, B, I), [B, T, I]);
      let state = stateInputs.map(() => tf.zeros([B, H]));
      let last = null;
      return {
        async run() {
          if (tf.getBackend() !== backend) await useTfBackend(tf, backend);
          if (!step) {
            const y = model.predict(x, { batchSize: B });
            last?.dispose();
            last = y;
          } else {
            const [y, ...next] = model.predict([x, ...state], { batchSize: B });
            state.forEach((t) => t.dispose());
            state = next;
            last?.dispose();
            last = y;
          }
          // Read the result, as a user would (our forward and ORT also return JS arrays).
          last.dataSync();
        },
        async lastOutput() {
          if (!last) throw new Error(`${name}: run() first`);
          // [B, T, D·H] → [T, B, D·H].
          return swap01(await last.data(), B, T, D * H);
        },
        async dispose() {
          last?.dispose();
          last = null;
          state.forEach((t) => t.dispose());
          state = [];
          x.dispose();
          model.dispose();
        },
      };
    },
  };
}

function firstLine(e) {
  return String(e?.message ?? e).split('\n')[0];
}

/** The runner factories, in the order a suite should run them (tfjs-wasm before tfjs-cpu). */
export const PEERS = [
  ortPeer({ name: 'ort-web-1t', pkg: 'onnxruntime-web', threads: 1, describe: 'Wasm SIMD, 1 thread', load: loadOrtWeb }),
  ortPeer({
    name: 'ort-web',
    pkg: 'onnxruntime-web',
    threads: ORT_WEB_DEFAULT_THREADS,
    setThreads: false,
    describe: `Wasm SIMD, default threads = ${ORT_WEB_DEFAULT_THREADS} here`,
    load: loadOrtWeb,
  }),
  ortPeer({ name: 'ort-node', pkg: 'onnxruntime-node', threads: 1, describe: 'native CPU, 1 thread', load: loadOrtNode }),
  tfPeer({ name: 'tfjs-wasm', backend: 'wasm' }),
  tfPeer({ name: 'tfjs-cpu', backend: 'cpu' }),
];

/**
 * onnxruntime-web with an explicit thread count, for a process of its own (bench/peers/child.js:
 * the count is fixed when its Wasm module initialises, once per process).
 */
export function ortWebPeer(threads) {
  return ortPeer({ name: `ort-web-${threads}t`, pkg: 'onnxruntime-web', threads, describe: `Wasm SIMD, ${threads} threads`, load: loadOrtWeb });
}

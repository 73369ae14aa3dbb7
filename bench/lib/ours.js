/**
 * Our backends as benchmark runners, with the same interface as the peers (bench/peers):
 * supports(w), prepare(w, stateDict, input) → { run, lastOutput, dispose }.
 */
import {
  Adam, Forecaster, GRU, LSTM, LanguageModel, RNN, Tensor, clipGradNorm, ready, setBackend,
} from '../../dist/index.js';
import { Random } from '../../dist/random.js';

export function makeLayer(w, seed = 0) {
  const opts = { inputSize: w.I, hiddenSize: w.H, numLayers: w.numLayers ?? 1, bidirectional: !!w.bidirectional, seed };
  if (w.layer === 'LSTM') return new LSTM(opts);
  if (w.layer === 'GRU') return new GRU(opts);
  return new RNN({ ...opts, nonlinearity: 'tanh' });
}

function trainer(w, seed) {
  const rng = new Random(777);
  if (w.train === 'lm') {
    const model = new LanguageModel({ vocabSize: w.V, embeddingDim: w.I, hiddenSize: w.H, cell: w.layer.toLowerCase(), seed });
    const x = new Int32Array(w.T * w.B), y = new Int32Array(w.T * w.B);
    for (let i = 0; i < x.length; i++) { x[i] = Math.floor(rng.next() * w.V); y[i] = Math.floor(rng.next() * w.V); }
    return { model, batch: { x, y, T: w.T, B: w.B, carry: false } };
  }
  const model = new Forecaster({ inputSize: w.I, hiddenSize: w.H, seed });
  const x = new Float32Array(w.T * w.B * w.I), y = new Float32Array(w.B);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.01) + rng.uniform(-0.1, 0.1);
  for (let i = 0; i < y.length; i++) y[i] = rng.uniform(-1, 1);
  return { model, batch: { x, y, T: w.T, B: w.B } };
}

/**
 * A runner for one of our backends; 'wasm-simd-2t' is wasm-simd after ready({ threads: 2 })
 * (inference only: training runs on the caller's thread whatever the pool).
 */
export function ourRunner(name) {
  const threads = Number(/-(\d+)t$/.exec(name)?.[1] ?? 1);
  const backend = name.replace(/-\d+t$/, '');
  return {
    name,
    ours: true,
    description: threads > 1 ? `wasm-rnn ${backend}, ready({ threads: ${threads} })` : `wasm-rnn ${backend}`,
    async supports(w) {
      if (threads > 1 && w.train) return { ok: false, reason: 'training runs on one thread (threads split inference)' };
      return { ok: true };
    },
    async prepare(w, stateDict, input) {
      await setBackend(backend);
      if (backend === 'wasm-simd') await ready({ threads });
      if (w.train) {
        const { model, batch } = trainer(w, 0);
        const opt = new Adam(model, { lr: 1e-3 });
        let loss = NaN;
        return {
          run() {
            opt.zeroGrad();
            loss = model.trainBatch(batch).loss;
            if (w.train === 'lm') clipGradNorm(model, 1);
            opt.step();
          },
          async lastOutput() {
            return Float32Array.of(loss);
          },
          async dispose() {
            opt.dispose();
            model.dispose();
          },
        };
      }
      const layer = makeLayer(w);
      layer.loadStateDict(stateDict);
      if (w.step) {
        const state = layer.createState(w.B);
        const out = new Float32Array(w.B * w.H);
        const x = input.subarray(0, w.B * w.I);
        return {
          run() {
            layer.step(x, state, out);
          },
          async lastOutput() {
            return out.slice();
          },
          async dispose() {
            layer.dispose();
          },
        };
      }
      const x = new Tensor(input, [w.T, w.B, w.I]);
      let y = null;
      return {
        run() {
          y = layer.forward(x).output.data;
        },
        async lastOutput() {
          return y;
        },
        async dispose() {
          layer.dispose();
        },
      };
    },
  };
}

// Run with: npm run build && node examples/node.mjs
import { LSTM, Linear, ready, getBackend } from '../dist/index.js';

await ready(); // instantiates the SIMD Wasm kernels once ('wasm' where SIMD is missing)

// A 2-layer LSTM over sequences of 8 features, PyTorch's defaults (time-major: [T, B, F]).
const lstm = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, seed: 0 });
const head = new Linear(32, 1, { seed: 0 });

const T = 20, B = 4;
const x = { data: Float32Array.from({ length: T * B * 8 }, (_, i) => Math.sin(i / 7)), shape: [T, B, 8] };

// Whole sequences, with per-row lengths (PyTorch's packed-sequence semantics).
const { output, h, c } = lstm.forward(x, undefined, { lengths: [20, 15, 20, 3] });
console.log(getBackend(), 'output', output.shape, 'h', h.shape, 'c', c.shape);

// A dense head on the last layer's final hidden state: h[-1] is [B, 32].
const last = { data: h.data.subarray((h.shape[0] - 1) * B * 32), shape: [B, 32] };
console.log('prediction', Array.from(head.forward(last).data, (v) => v.toFixed(4)));

// Streaming: one step at a time with explicit state, allocation-free after the first call.
const state = lstm.createState(1);
const y = new Float32Array(32);
for (let t = 0; t < 5; t++) lstm.step(new Float32Array(8).fill(t / 5), state, y);
console.log('streamed h[0..3]', Array.from(y.subarray(0, 3), (v) => v.toFixed(4)));

lstm.dispose();
head.dispose();

// Run with: npm run build && node examples/threads.mjs
import { LSTM, backendInfo, ready } from '../dist/index.js';

await ready({ threads: 2 }); // the SIMD kernels on a shared memory, plus one worker
console.log(backendInfo()); // { name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: 2 }

const lstm = new LSTM({ inputSize: 128, hiddenSize: 256, seed: 0 });
const x = { data: Float32Array.from({ length: 64 * 128 }, (_, i) => Math.sin(i / 9)), shape: [64, 128] }; // unbatched [T, F]
const { output } = lstm.forward(x); // split over both threads, bit-identical to one thread
console.log('output', output.shape);

const state = lstm.createState(1);
const h = lstm.step(x.data.subarray(0, 128), state); // streaming steps are split too
console.log('step h[0..3]', Array.from(h.subarray(0, 3), (v) => v.toFixed(4)));

await ready({ threads: 1 }); // stops the worker; the model moves back on its next call
console.log(backendInfo().threads, lstm.forward(x).output.shape);

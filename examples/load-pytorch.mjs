// Load weights dumped by examples/from-pytorch.py:  node examples/load-pytorch.mjs examples/lstm.json
import { readFileSync } from 'node:fs';
import { LSTM, ready } from '../dist/index.js';

await ready();
const lstm = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
lstm.loadStateDict(JSON.parse(readFileSync(process.argv[2] ?? 'examples/lstm.json', 'utf8')));
const { output } = lstm.forward({ data: new Float32Array(5 * 8).fill(0.5), shape: [5, 8] });
console.log('output', output.shape, 'first values', Array.from(output.data.subarray(0, 4), (v) => v.toFixed(6)));

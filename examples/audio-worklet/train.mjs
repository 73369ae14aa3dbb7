#!/usr/bin/env node
/**
 * Trains the example's noise gate in Node and saves it beside this file:
 *
 *   npm run build && node examples/audio-worklet/train.mjs [out.safetensors]
 *
 * The data is 60 s of the seeded test signal (signal.js: tone bursts in white noise) cut into
 * 128-sample blocks; the model, Sequential(GRU(1 → 16), Linear(16 → 1)), reads each block's
 * level and learns the block's ideal gain (noise-gate.js). Seeded throughout: the same file
 * every run (a few seconds on one core). Prints the SNR before and after the gate on a held-out signal.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Adam, GRU, Linear, Sequential, mse, ready, save } from '../../dist/esm/index.js';
import { NoiseGate, blockLevel, idealGain } from './noise-gate.js';
import { snrDb, testSignal } from './signal.js';

const BLOCK = 128, RATE = 48000, HIDDEN = 16;
const T = 256; // blocks per training sequence (0.68 s: longer than a burst or a gap)
const BATCH = 16, STEPS = 300;

await ready();
const { noisy, clean } = testSignal({ seconds: 60, sampleRate: RATE, seed: 1 });
const blocks = Math.floor(noisy.length / BLOCK);
const level = new Float32Array(blocks), gain = new Float32Array(blocks);
for (let b = 0; b < blocks; b++) {
  level[b] = blockLevel(noisy, b * BLOCK, BLOCK);
  gain[b] = idealGain(noisy, clean, b * BLOCK, BLOCK);
}

const model = new Sequential(new GRU({ inputSize: 1, hiddenSize: HIDDEN, seed: 1 }), new Linear(HIDDEN, 1, { seed: 2 })).train();
const optimizer = new Adam(model, { lr: 0.01 });
// Sequences start at evenly spread offsets that shift every step: [T, BATCH, 1] time-major.
const x = new Float32Array(T * BATCH), y = new Float32Array(T * BATCH);
const started = Date.now();
for (let step = 1; step <= STEPS; step++) {
  for (let s = 0; s < BATCH; s++) {
    const from = (s * 997 + step * 131) % (blocks - T);
    for (let t = 0; t < T; t++) {
      x[t * BATCH + s] = level[from + t];
      y[t * BATCH + s] = gain[from + t];
    }
  }
  optimizer.zeroGrad();
  const loss = mse(model.forward({ data: x, shape: [T, BATCH, 1] }), { data: y, shape: [T, BATCH, 1] });
  loss.backward();
  optimizer.step();
  if (step % 50 === 0) console.log(`step ${step}: loss ${(loss.loss).toFixed(5)}`);
}
model.eval();
console.log(`trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const held = testSignal({ seconds: 10, sampleRate: RATE, seed: 2 });
const out = new NoiseGate(model).run(held.noisy, BLOCK);
console.log(`held-out SNR: ${snrDb(held.noisy, held.clean).toFixed(2)} dB in, ${snrDb(out, held.clean).toFixed(2)} dB out`);

const file = process.argv[2] ?? fileURLToPath(new URL('./noise-gate.safetensors', import.meta.url));
writeFileSync(file, save(model, { metadata: { trained: 'examples/audio-worklet/train.mjs', blockSamples: String(BLOCK), sampleRate: String(RATE) } }));
console.log(`saved ${file}`);

// A sequence classifier trained with autograd: Embedding → bidirectional LSTM over padded
// batches with lengths → the final hidden states → Linear; crossEntropy(...).backward().
// Task: does a sequence of digits (length 3–12) contain a 7? Run: npm run build && node examples/classify.mjs
import { Adam, Embedding, FinalHidden, LSTM, Linear, Sequential, crossEntropy, padSequences, ready } from '../dist/index.js';

await ready();
let seed = 1;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
const sample = (n) => {
  const sequences = Array.from({ length: n }, () => Array.from({ length: 3 + rand(10) }, () => rand(10)));
  return { sequences, labels: sequences.map((s) => Number(s.includes(7))) };
};

const model = new Sequential(
  new Embedding(10, 8, { seed: 0 }),
  new LSTM({ inputSize: 8, hiddenSize: 16, bidirectional: true, seed: 0 }),
  new FinalHidden(), // the last layer's final h, both directions: [B, 32]
  new Linear(32, 2, { seed: 0 }),
).train();
const optimizer = new Adam(model, { lr: 0.02 });

for (let step = 1; step <= 150; step++) {
  const { sequences, labels } = sample(32);
  const { data, shape, lengths } = padSequences(sequences); // [T, B] ids, zero-padded
  optimizer.zeroGrad();
  const loss = crossEntropy(model.forward({ data, shape }, { lengths }), labels);
  loss.backward();
  optimizer.step();
  if (step % 50 === 0) console.log(`step ${step}: loss ${loss.loss.toFixed(3)}`);
}

model.eval();
const test = sample(500);
const { data, shape, lengths } = padSequences(test.sequences);
const logits = model.forward({ data, shape }, { lengths });
const correct = test.labels.filter((y, b) => Number(logits.data[2 * b + 1] > logits.data[2 * b]) === y).length;
console.log(`held-out accuracy ${(correct / test.labels.length).toFixed(3)}`);

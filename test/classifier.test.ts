/**
 * SequenceClassifier: real learning on small budgets (binary on strings through a tokenizer;
 * three classes on numeric sequences), padding and lengths never change a prediction, every
 * pooling, save/load with the tokenizer, divergence ends fit() with the last good weights, and
 * bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, CharTokenizer, NonFiniteError, SGD, SequenceClassifier, Tensor, fit, load, save, sequenceBatches, type ClassifierBatch,
} from '../src/index.js';
import { Random } from '../src/random.js';
import { use } from './helpers.js';

const accuracy = (m: SequenceClassifier, batches: readonly ClassifierBatch[]): number => {
  let c = 0, n = 0;
  for (const b of batches) {
    const r = m.evalBatch(b);
    c += r.correct;
    n += r.count;
  }
  return c / n;
};

/** Strings over 'abcd' and sometimes an 'x' (the class: whether it holds one), length 2–9. */
function strings(n: number, seed: number): Array<{ text: string; label: number }> {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const chars = Array.from({ length: 2 + Math.floor(rng.next() * 8) }, () => 'abcd'[Math.floor(rng.next() * 4)]);
    const label = rng.next() < 0.5 ? 1 : 0;
    if (label) chars[Math.floor(rng.next() * chars.length)] = 'x';
    return { text: chars.join(''), label };
  });
}

/** Sequences of 3 features, length 3–10, whose class is the feature with the largest mean (plus noise). */
function numeric(n: number, seed: number): Array<{ sequence: number[][]; label: number }> {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const label = Math.floor(rng.next() * 3);
    const sequence = Array.from({ length: 3 + Math.floor(rng.next() * 8) }, () =>
      [0, 1, 2].map((f) => (f === label ? 1 : 0) + rng.normal() * 0.8));
    return { sequence, label };
  });
}

describe('SequenceClassifier', () => {
  it('binary, on strings: a bidirectional LSTM learns whether a string holds an x (held out)', async () => {
    await use('wasm-simd');
    const train = strings(512, 1), test = strings(300, 2);
    const tokenizer = new CharTokenizer().fit(train.map((e) => e.text));
    const m = new SequenceClassifier({ tokenizer, classes: ['no', 'yes'], embeddingDim: 8, hiddenSize: 16, bidirectional: true, seed: 1 });
    const encode = (l: typeof train) => l.map((e) => ({ sequence: tokenizer.encode(e.text), label: e.label }));
    const testBatches = sequenceBatches(encode(test), { batchSize: 300, shuffle: false });
    const before = accuracy(m, testBatches);
    const opt = new Adam(m, { lr: 0.02 });
    const res = fit(m, { optimizer: opt, epochs: 4, train: (epoch) => sequenceBatches(encode(train), { batchSize: 32, seed: 1, epoch }) });
    const after = accuracy(m, testBatches);
    expect(before).toBeLessThan(0.65);
    expect(after).toBeGreaterThan(0.95);
    expect(res.epochs[3].loss).toBeLessThan(res.epochs[0].loss / 2);
    expect(Array.from(m.predict(['abxd', 'abcd']))).toEqual([1, 0]);
    const p = m.predictProba(['abxd', 'abcd']);
    expect(p.shape).toEqual([2, 2]);
    expect(p.data[0] + p.data[1]).toBeCloseTo(1, 6);
    expect(m.linear.outFeatures).toBe(1); // two classes: one logit, bceWithLogits
    m.dispose();
  });

  it('three classes, numeric input, mean pooling: a GRU learns which feature is largest (held out)', async () => {
    await use('wasm-simd');
    const m = new SequenceClassifier({ inputSize: 3, numClasses: 3, hiddenSize: 16, cell: 'gru', pooling: 'mean', seed: 2 });
    const test = sequenceBatches(numeric(300, 4), { batchSize: 300, shuffle: false });
    const before = accuracy(m, test);
    fit(m, { optimizer: new Adam(m, { lr: 0.02 }), epochs: 4, train: (epoch) => sequenceBatches(numeric(512, 3), { batchSize: 32, seed: 1, epoch }) });
    expect(before).toBeLessThan(0.45);
    expect(accuracy(m, test)).toBeGreaterThan(0.85);
    expect(m.linear.outFeatures).toBe(3);
    m.dispose();
  });

  it.each(['last', 'mean', 'max'] as const)('pooling %s: a sequence gets the same prediction alone and padded in a batch', async (pooling) => {
    await use('wasm-simd');
    const m = new SequenceClassifier({ vocabSize: 9, embeddingDim: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, numClasses: 4, pooling, seed: 3 });
    const seqs = [[1, 2, 3, 4, 5, 6], [7, 8], [3]];
    const together = m.predictProba(seqs).data;
    seqs.forEach((s, i) => {
      const alone = m.predictProba([s]).data;
      for (let j = 0; j < 4; j++) expect(alone[j]).toBeCloseTo(together[i * 4 + j], 6);
    });
    // Garbage in the padding changes nothing either.
    const padded = { x: { data: [1, 7, 3, 2, 8, 8, 3, 8, 8], shape: [3, 3] }, lengths: [3, 2, 1] };
    const clean = { x: { data: [1, 7, 3, 2, 8, 0, 3, 0, 0], shape: [3, 3] }, lengths: [3, 2, 1] };
    expect(Array.from(m.predictProba(padded).data)).toEqual(Array.from(m.predictProba(clean).data));
    m.dispose();
  });

  it('save/load round-trips the weights, the tokenizer and the class names', async () => {
    await use('wasm-simd');
    const tokenizer = new CharTokenizer().fit(['anna', 'bob']);
    const m = new SequenceClassifier({ tokenizer, classes: ['f', 'm'], hiddenSize: 6, embeddingDim: 5, pooling: 'max', dropout: 0.3, seed: 4 });
    const back = load(save(m)) as SequenceClassifier;
    expect(back).toBeInstanceOf(SequenceClassifier);
    expect(back.getConfig()).toEqual(m.getConfig());
    expect(back.classes).toEqual(['f', 'm']);
    expect(Array.from(back.predictProba(['anna', 'ob', 'zed']).data)).toEqual(Array.from(m.predictProba(['anna', 'ob', 'zed']).data));
    expect(save(back)).toEqual(save(m));
    m.dispose();
    back.dispose();
  });

  it('diverged weights (activations overflow): fit() stops with NonFiniteError and changes nothing', async () => {
    await use('wasm-simd');
    const m = new SequenceClassifier({ inputSize: 3, numClasses: 3, hiddenSize: 4, seed: 5 });
    // Weights at the edge of float32: the logits overflow, which no layer may be fed or return.
    m.linear.loadStateDict({ weight: Tensor.from(new Array(12).fill(3e38), [3, 4]), bias: Tensor.from([3e38, 3e38, 3e38], [3]) });
    const before = m.stateDict();
    const batches = sequenceBatches(numeric(16, 6), { batchSize: 16 });
    expect(Number.isNaN(m.trainBatch(batches[0]).loss)).toBe(true);
    expect(() => fit(m, { optimizer: new SGD(m, { lr: 0.1 }), epochs: 2, train: batches })).toThrow(NonFiniteError);
    for (const [k, v] of Object.entries(m.stateDict())) expect(Array.from(v.data), k).toEqual(Array.from(before[k].data));
    m.dispose();
  });

  it('refuses bad options and inputs, naming the argument', async () => {
    await use('js');
    const mk = (o: object) => () => new SequenceClassifier({ hiddenSize: 4, ...o } as never);
    expect(mk({})).toThrow(/SequenceClassifier: give vocabSize \(or a tokenizer\) for token input, or inputSize for numeric input, got neither/);
    expect(mk({ vocabSize: 5, inputSize: 2 })).toThrow(/got both/);
    expect(mk({ inputSize: 2, numClasses: 1 })).toThrow(/numClasses must be at least 2, got 1/);
    expect(mk({ inputSize: 2, pooling: 'sum' })).toThrow(/SequenceClassifier: pooling must be one of 'last', 'mean', 'max', got 'sum'/);
    expect(mk({ inputSize: 2, classes: ['a', 'b'], numClasses: 3 })).toThrow(/classes must name numClasses = 3 classes, got 2/);
    expect(mk({ inputSize: 2, dropout: 1 })).toThrow(/dropout must be a number in \[0, 1\), got 1/);
    expect(mk({ tokenizer: new CharTokenizer() })).toThrow(/tokenizer must be fitted/);
    expect(mk({ inputSize: 2, hidden_size: 3 })).toThrow(/unknown option 'hidden_size'/);
    const m = new SequenceClassifier({ vocabSize: 5, embeddingDim: 3, hiddenSize: 4 });
    expect(() => m.predict('abc')).toThrow(/SequenceClassifier\.predictProba: input\[0\] is a string, but this model has no tokenizer/);
    expect(() => m.predict([[1, 7]])).toThrow(/SequenceClassifier\.predictProba: input\[0\]\[1\] must be a token id in \[0, 4\], got 7/);
    expect(() => m.predict([[]])).toThrow(/input\[0\] is empty/);
    expect(() => m.trainBatch({ x: { data: [1, 2], shape: [1, 2] }, y: [0, 2] })).toThrow(/SequenceClassifier\.trainBatch: batch\.y\[1\] must be a class id in \[0, 1\], got 2/);
    expect(() => m.trainBatch({ x: { data: [1, 2], shape: [1, 2] }, y: [0] })).toThrow(/batch\.y must hold B = 2 class ids, got 1/);
    expect(() => m.forward({ data: [1, 2], shape: [2] })).toThrow(/SequenceClassifier\.forward: x must be \[T, B\] token ids, got shape \[2\]/);
    m.dispose();
    const n = new SequenceClassifier({ inputSize: 2, hiddenSize: 4 });
    expect(() => n.predict([[[1, 2, 3]]])).toThrow(/features/);
    n.dispose();
  });
});

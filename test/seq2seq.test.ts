/**
 * Seq2Seq and AdditiveAttention: gradients against finite differences (js backend: float64
 * arithmetic, float32 storage, the tolerance of test/autograd.test.ts), real learning of a task
 * whose output is shorter than its input, teacher forcing ratio 1 vs 0, beam search with
 * beamSize 1 equal to greedy decoding, save/load with the tokenizers, and bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, AdditiveAttention, CharTokenizer, Seq2Seq, Tensor, lengthMask, load, save, seq2seqBatches, tanhAdd, weightedSum, type Seq2SeqBatch,
} from '../src/index.js';
import { Random } from '../src/random.js';
import { randomData, use } from './helpers.js';
import { gradOk as ok, gradcheck } from './gradcheck-ops.js';

/** Parameter gradients of `loss` (one backward) against central differences, at a few entries of each parameter. */
function paramcheck(m: Seq2Seq | AdditiveAttention, lossOf: (train: boolean) => number): string[] {
  m.zeroGrad();
  lossOf(true);
  const ana = m.gradients();
  const bad: string[] = [];
  for (const [name, t] of Object.entries(m.stateDict())) {
    for (const i of new Set([0, Math.floor(t.size / 3), Math.floor((2 * t.size) / 3), t.size - 1])) {
      const v = t.data[i];
      const at = (x: number): number => {
        t.data[i] = x;
        m.loadStateDict({ [name]: t }, { strict: false });
        return lossOf(false);
      };
      const num = (at(v + 1e-2) - at(v - 1e-2)) / 2e-2;
      at(v);
      if (!ok(num, ana[name].data[i])) bad.push(`${name}[${i}]: numeric ${num} vs autograd ${ana[name].data[i]}`);
    }
  }
  return bad;
}

describe('attention ops and AdditiveAttention against finite differences (js)', () => {
  it('tanhAdd and weightedSum', async () => {
    await use('js');
    expect(gradcheck(([k, q]) => tanhAdd(k, q), [[3, 2, 4], [2, 4]])).toEqual([]);
    expect(gradcheck(([w, v]) => weightedSum(w, v), [[3, 2], [3, 2, 5]])).toEqual([]);
  });

  it('AdditiveAttention: inputs and parameters, with a length mask', async () => {
    await use('js');
    const att = new AdditiveAttention(3, 4, { attentionSize: 5, seed: 1 });
    const T = 4, B = 2, mask = lengthMask(T, [4, 2]);
    const f = ([q, k, v]: Tensor[]): Tensor => {
      const r = att.forward(q, att.projectKeys(k, { training: true }), v, mask, { training: true });
      return r.context;
    };
    expect(gradcheck(f, [[B, 3], [T, B, 4], [T, B, 2]])).toEqual([]);
    // The weights: zero past each row's length, each row of the softmax sums to 1.
    const q = new Tensor(randomData(B * 3, 5), [B, 3]), k = new Tensor(randomData(T * B * 4, 6), [T, B, 4]);
    const { weights } = att.forward(q, att.projectKeys(k), new Tensor(randomData(T * B * 2, 7), [T, B, 2]), mask);
    expect(weights.data[2 * B + 1]).toBe(0);
    expect(weights.data[3 * B + 1]).toBe(0);
    for (let b = 0; b < B; b++) expect(Array.from({ length: T }, (_, t) => weights.data[t * B + b]).reduce((a, c) => a + c)).toBeCloseTo(1, 6);
    const qv = randomData(B * 3, 5), kv = randomData(T * B * 4, 6), vv = randomData(T * B * 2, 7);
    const R = randomData(B * 2, 9);
    const lossOf = (train: boolean): number => {
      att.train(train);
      const r = att.forward(new Tensor(qv, [B, 3]), att.projectKeys(new Tensor(kv, [T, B, 4])), new Tensor(vv, [T, B, 2]), mask);
      if (train) r.context.backward(new Tensor(R, [B, 2]));
      return r.context.data.reduce((s, c, i) => s + c * R[i], 0);
    };
    expect(paramcheck(att, lossOf)).toEqual([]);
    att.dispose();
  });
});

const tiny = (o: Partial<ConstructorParameters<typeof Seq2Seq>[0]> = {}): Seq2Seq =>
  new Seq2Seq({ srcVocabSize: 6, tgtVocabSize: 5, bosId: 0, eosId: 1, embeddingDim: 3, hiddenSize: 3, seed: 3, ...o });

const tinyBatch: Seq2SeqBatch = {
  // Sources of lengths 3 and 2, targets of lengths 2 and 3 (padding is 0).
  src: { data: [2, 5, 3, 4, 1, 0], shape: [3, 2] }, srcLengths: [3, 2],
  tgt: { data: [2, 3, 4, 2, 0, 4], shape: [3, 2] }, tgtLengths: [2, 3],
};

describe('Seq2Seq gradients against finite differences (js)', () => {
  it.each([
    ['GRU with attention, bidirectional', { cell: 'gru' as const, bidirectional: true }],
    ['LSTM without attention, 2 layers', { cell: 'lstm' as const, attention: false, numLayers: 2 }],
  ])('%s: every parameter through the unrolled decoder', async (_name, o) => {
    await use('js');
    const m = tiny(o);
    expect(paramcheck(m, (train) => (train ? m.trainBatch(tinyBatch) : m.evalBatch(tinyBatch)).loss)).toEqual([]);
    m.dispose();
  });
});

/** Digits 2–6 with fillers (id 1) anywhere; the target is the digits in order: shorter than the source. */
function fillerTask(n: number, seed: number): Array<{ source: number[]; target: number[] }> {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const target = Array.from({ length: 2 + Math.floor(rng.next() * 4) }, () => 2 + Math.floor(rng.next() * 5));
    const source: number[] = [];
    for (const d of target) {
      while (rng.next() < 0.3) source.push(1);
      source.push(d);
    }
    if (rng.next() < 0.5) source.push(1);
    return { source, target };
  });
}

describe('Seq2Seq', () => {
  const learned = (async () => {
    await use('wasm-simd');
    const m = new Seq2Seq({ srcVocabSize: 7, tgtVocabSize: 7, bosId: 0, eosId: 1, embeddingDim: 16, hiddenSize: 32, attentionSize: 16, seed: 1 });
    const opt = new Adam(m, { lr: 0.01 });
    const pairs = fillerTask(640, 1);
    for (let epoch = 0; epoch < 6; epoch++) {
      for (const b of seq2seqBatches(pairs, { batchSize: 32, seed: 1, epoch })) {
        opt.zeroGrad();
        m.trainBatch(b);
        opt.step();
      }
    }
    return m;
  })();

  it('learns a task whose outputs are shorter than its inputs (held-out exact match)', async () => {
    const m = await learned;
    const test = fillerTask(200, 99);
    const out = m.translate(test.map((p) => p.source)) as Int32Array[];
    const exact = out.filter((o, i) => o.join() === test[i].target.join()).length / test.length;
    const untrained = new Seq2Seq({ srcVocabSize: 7, tgtVocabSize: 7, bosId: 0, eosId: 1, embeddingDim: 16, hiddenSize: 32, attentionSize: 16, seed: 1 });
    const before = (untrained.translate(test.map((p) => p.source)) as Int32Array[]).filter((o, i) => o.join() === test[i].target.join()).length;
    expect(before).toBe(0);
    expect(exact).toBeGreaterThan(0.9);
    untrained.dispose();
  });

  it('beam search with beamSize 1 is greedy decoding; wider beams are ranked and finish', async () => {
    const m = await learned;
    const fresh = tiny({ bidirectional: true });
    for (const model of [m, fresh]) {
      const sources = model === m ? fillerTask(20, 7).map((p) => p.source) : [[2, 5, 3], [4], [5, 5, 2, 3]];
      // The untrained model rarely ends: it decodes to each source's own default limit.
      const o = model === m ? { maxLen: 8 } : {};
      const greedy = model.translate(sources, o) as Int32Array[];
      sources.forEach((s, i) => {
        const [best] = model.beamSearch(s, { beamSize: 1, ...o });
        expect(Array.from(best.ids)).toEqual(Array.from(greedy[i]));
      });
    }
    const hyps = m.beamSearch(fillerTask(1, 5)[0].source, { beamSize: 4 });
    expect(hyps.length).toBe(4);
    for (let i = 1; i < hyps.length; i++) expect(hyps[i - 1].score).toBeGreaterThanOrEqual(hyps[i].score);
    expect(hyps[0].finished).toBe(true);
    fresh.dispose();
  });

  it('teacher forcing: ratio 1 feeds the true previous token, ratio 0 the model\'s own argmax (as greedy decoding)', async () => {
    await use('wasm-simd');
    const m = tiny({ bidirectional: true });
    const other: Seq2SeqBatch = { ...tinyBatch, tgt: { data: [3, 4, 2, 2, 0, 3], shape: [3, 2] } };
    const logits = (b: Seq2SeqBatch, ratio: number): Float32Array => m.forward(b, { teacherForcingRatio: ratio }).data;
    const V = 5, B = 2;
    // Ratio 1: the first step sees only <bos>; later steps see the targets, so they change with them.
    const a1 = logits(tinyBatch, 1), b1 = logits(other, 1);
    expect(Array.from(a1.subarray(0, B * V))).toEqual(Array.from(b1.subarray(0, B * V)));
    expect(Array.from(a1.subarray(B * V))).not.toEqual(Array.from(b1.subarray(B * V)));
    // Ratio 0: the targets are never read; each step's argmax is the next input, as greedy decoding does.
    const a0 = logits(tinyBatch, 0);
    expect(Array.from(a0)).toEqual(Array.from(logits(other, 0)));
    const greedy = m.translate([[2, 3, 1], [5, 4]], { maxLen: 4 }) as Int32Array[]; // tinyBatch's sources (time-major)
    for (let b = 0; b < B; b++) {
      const steps = Array.from({ length: 4 }, (_, t) => {
        const row = a0.subarray((t * B + b) * V, (t * B + b + 1) * V);
        return row.indexOf(Math.max(...row));
      });
      const end = steps.indexOf(1);
      expect(steps.slice(0, end < 0 ? 4 : end)).toEqual(Array.from(greedy[b]));
    }
    // trainBatch with ratio 1 computes the teacher-forced loss evalBatch reports.
    m.teacherForcingRatio = 1;
    expect(m.trainBatch(tinyBatch).loss).toBe(m.evalBatch(tinyBatch).loss);
    m.dispose();
  });

  it('save/load round-trips the weights, the tokenizers and the teacher-forcing generator', async () => {
    await use('wasm-simd');
    const src = new CharTokenizer().fit(['abc', 'cab']), tgt = new CharTokenizer().fit(['xyz']);
    const m = new Seq2Seq({ srcTokenizer: src, tgtTokenizer: tgt, embeddingDim: 4, hiddenSize: 5, cell: 'lstm', bidirectional: true, teacherForcingRatio: 0.5, seed: 2 });
    const batch = seq2seqBatches([{ source: src.encode('abc'), target: tgt.encode('zy') }], { batchSize: 1 })[0];
    m.trainBatch(batch); // draws from the teacher-forcing generator
    const back = load(save(m)) as Seq2Seq;
    expect(back).toBeInstanceOf(Seq2Seq);
    expect(back.getConfig()).toEqual(m.getConfig());
    expect(back.translate('cab', { maxLen: 5 })).toBe(m.translate('cab', { maxLen: 5 }));
    expect(typeof back.translate('cab')).toBe('string');
    expect(back.trainBatch(batch).loss).toBe(m.trainBatch(batch).loss);
    m.dispose();
    back.dispose();
  });

  it('refuses bad options and inputs, naming the argument', async () => {
    await use('js');
    expect(() => new Seq2Seq({ srcVocabSize: 5, tgtVocabSize: 5, hiddenSize: 4 })).toThrow(/Seq2Seq: bosId is required \(the target id of '<bos>'\)/);
    expect(() => tiny({ eosId: 5 })).toThrow(/Seq2Seq: eosId must be a target id in \[0, 4\], got 5/);
    expect(() => tiny({ cell: 'rnn' as never })).toThrow(/Seq2Seq: cell must be 'gru' or 'lstm', got 'rnn'/);
    expect(() => tiny({ teacherForcingRatio: 1.5 })).toThrow(/Seq2Seq: teacherForcingRatio must be a number in \[0, 1\], got 1.5/);
    expect(() => tiny({ attention: false, attentionSize: 3 })).toThrow(/attentionSize is given, but attention is false/);
    expect(() => tiny({ hidden: 3 } as never)).toThrow(/Seq2Seq: unknown option 'hidden'/);
    const m = tiny();
    expect(() => m.translate('abc')).toThrow(/Seq2Seq\.translate: src is a string, but this model has no srcTokenizer/);
    expect(() => m.translate([2, 9])).toThrow(/Seq2Seq\.translate: src\[1\] must be a source token id in \[0, 5\], got 9/);
    expect(() => m.translate([])).toThrow(/src is an empty array/);
    expect(() => m.translate([2], { beamSize: 0 })).toThrow(/Seq2Seq\.translate: beamSize must be a positive integer, got 0/);
    expect(() => m.translate([2], { width: 2 } as never)).toThrow(/unknown option 'width'/);
    expect(() => m.trainBatch({ ...tinyBatch, tgt: { data: [2, 3, 9, 2, 0, 4], shape: [3, 2] } })).toThrow(/Seq2Seq\.trainBatch: batch\.tgt\.data\[2\] must be a token id in \[0, 4\], got 9/);
    expect(() => m.trainBatch({ ...tinyBatch, srcLengths: [3, 0] })).toThrow(/batch\.srcLengths\[1\] must be an integer in \[1, 3\], got 0/);
    expect(() => m.trainBatch({ ...tinyBatch, tgt: { data: [2, 3], shape: [2, 1] } })).toThrow(/batch\.tgt must have B = 2 rows like batch\.src, got 1/);
    expect(() => seq2seqBatches([{ source: [1] }] as never, { batchSize: 2 })).toThrow(/seq2seqBatches: pairs\[0\] must be \{ source, target \}/);
    m.dispose();
  });
});

/**
 * LanguageModel: training through autograd (bit for bit the explicit backward chain it
 * replaced), generation (greedy, sampling, top-k, nucleus, stops, the prefix read once, no Wasm
 * growth), step(), perplexity, and the tokenizer kept by save()/load().
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Adam, CharTokenizer, LanguageModel, Tensor, WordTokenizer, clipGradNorm, crossEntropy, lmBatches, load, memoryInfo, reshape, save,
  type TokenBatch,
} from '../src/index.js';
import { selectedBackends, use } from './helpers.js';

const V = 11;
const tokens = Array.from({ length: 600 }, (_, i) => (i * 7 + (i >> 3)) % V);

/** The training step LanguageModel.trainBatch ran before autograd: each layer's backward by hand. */
function explicitStep(lm: LanguageModel, b: TokenBatch, carried: { state?: { h: Tensor; c?: Tensor } }): number {
  const H = lm.rnn.hiddenSize;
  const emb = lm.embedding.forward({ data: b.x, shape: [b.T, b.B] }, { training: true });
  const out = lm.rnn.forward(emb, b.carry ? carried.state : undefined, { training: true });
  carried.state = 'c' in out ? { h: out.h, c: (out as { c: Tensor }).c } : { h: out.h };
  const logits = lm.linear.forward(new Tensor(out.output.data, [b.T * b.B, H]), { training: true });
  const ce = crossEntropy(logits, b.y);
  const dOut = lm.linear.backward(ce.grad);
  const g = lm.rnn.backward(new Tensor(dOut.data, [b.T, b.B, H]));
  lm.embedding.backward(g.x);
  return ce.loss as number;
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** A model whose logits are `bias` whatever the input (zero output weights): known probabilities. */
function constantModel(bias: number[], extra: Partial<ConstructorParameters<typeof LanguageModel>[0]> = {}): LanguageModel {
  const lm = new LanguageModel({ vocabSize: bias.length, embeddingDim: 3, hiddenSize: 4, seed: 1, ...extra });
  const sd = lm.stateDict();
  sd['linear.weight'] = Tensor.zeros(sd['linear.weight'].shape);
  sd['linear.bias'] = new Tensor(Float32Array.from(bias), [bias.length]);
  lm.loadStateDict(sd);
  return lm;
}

const logOf = (p: number[]): number[] => p.map(Math.log);
const counts = (ids: Int32Array, n: number): number[] => {
  const c = new Array<number>(n).fill(0);
  for (const id of ids) c[id]++;
  return c;
};

afterEach(() => vi.restoreAllMocks());

for (const backend of selectedBackends()) {
  describe(`LanguageModel on ${backend}`, () => {
    it.each(['lstm', 'gru', 'rnn'] as const)('trainBatch through autograd equals the explicit backward chain bit for bit (%s, 2 layers, dropout, carried state)', async (cell) => {
      await use(backend);
      const make = (): { lm: LanguageModel; opt: Adam } => {
        const lm = new LanguageModel({ vocabSize: V, embeddingDim: 5, hiddenSize: 7, numLayers: 2, dropout: 0.3, cell, seed: 3 });
        return { lm, opt: new Adam(lm, { lr: 0.01 }) };
      };
      const a = make(), b = make();
      const batches = lmBatches(tokens, { batchSize: 3, seqLen: 9, mode: 'sequential', seed: 2 }).slice(0, 6);
      const carried = {};
      for (const batch of batches) {
        a.opt.zeroGrad();
        b.opt.zeroGrad();
        const la = a.lm.trainBatch(batch).loss;
        const lb = explicitStep(b.lm, batch, carried);
        expect(Object.is(la, lb)).toBe(true);
        const ga = a.lm.gradients(), gb = b.lm.gradients();
        for (const k of Object.keys(gb)) expect(same(ga[k].data, gb[k].data), `gradient ${k}`).toBe(true);
        expect(Object.is(clipGradNorm(a.lm, 0.5), clipGradNorm(b.lm, 0.5))).toBe(true);
        a.opt.step();
        b.opt.step();
      }
      const wa = a.lm.stateDict(), wb = b.lm.stateDict();
      for (const k of Object.keys(wb)) expect(same(wa[k].data, wb[k].data), `weight ${k}`).toBe(true);
      expect(a.lm.training).toBe(false); // trainBatch leaves the mode as it found it
      for (const m of [a, b]) {
        m.opt.dispose();
        m.lm.dispose();
      }
    });

    it('the model composes with autograd like any module: train(), forward, crossEntropy(...).backward()', async () => {
      await use(backend);
      const a = new LanguageModel({ vocabSize: V, embeddingDim: 4, hiddenSize: 6, seed: 9 });
      const b = new LanguageModel({ vocabSize: V, embeddingDim: 4, hiddenSize: 6, seed: 9 });
      const [batch] = lmBatches(tokens, { batchSize: 2, seqLen: 5 });
      a.train();
      const { logits } = a.forward({ data: batch.x, shape: [5, 2] });
      expect(logits.shape).toEqual([5, 2, V]);
      crossEntropy(reshape(logits, [10, V]), batch.y).backward();
      b.trainBatch(batch);
      const ga = a.gradients(), gb = b.gradients();
      for (const k of Object.keys(gb)) expect(same(ga[k].data, gb[k].data), k).toBe(true);
      a.dispose();
      b.dispose();
    });

    it('step() gives the logits forward() gives for the same tokens', async () => {
      await use(backend);
      for (const cell of ['lstm', 'gru', 'rnn'] as const) {
        const lm = new LanguageModel({ vocabSize: V, embeddingDim: 5, hiddenSize: 8, numLayers: 2, cell, seed: 4 });
        const seq = tokens.slice(0, 20);
        const whole = lm.forward(seq.map((t) => [t])).logits.data; // [20, 1, V]
        const state = lm.createState();
        const out = new Float32Array(V);
        let worst = 0;
        for (let t = 0; t < seq.length; t++) {
          expect(lm.step(seq[t], state, out)).toBe(out);
          for (let j = 0; j < V; j++) worst = Math.max(worst, Math.abs(out[j] - whole[t * V + j]));
        }
        expect(worst, cell).toBeLessThan(1e-5);
        // Batched streams: one token per stream.
        const st2 = lm.createState(2);
        const two = lm.step([seq[0], seq[1]], st2);
        expect(two).toHaveLength(2 * V);
        lm.dispose();
      }
    });

    it('greedy generation (temperature 0) takes the argmax of the logits of everything so far; topK = 1 does too', async () => {
      await use(backend);
      const lm = new LanguageModel({ vocabSize: V, embeddingDim: 6, hiddenSize: 10, seed: 5 });
      const prefix = [1, 2, 3];
      const got = lm.generate(prefix, { maxTokens: 12, temperature: 0 });
      expect(got).toBeInstanceOf(Int32Array);
      expect(got).toHaveLength(12);
      const seq = [...prefix];
      for (let i = 0; i < 12; i++) {
        const z = lm.forward(seq.map((t) => [t])).logits.data.subarray((seq.length - 1) * V);
        let best = 0;
        for (let j = 1; j < V; j++) if (z[j] > z[best]) best = j;
        seq.push(best);
      }
      expect([...got]).toEqual(seq.slice(prefix.length));
      expect([...lm.generate(prefix, { maxTokens: 12, topK: 1, seed: 77 })]).toEqual([...got]);
      expect([...lm.generate(prefix, { maxTokens: 12, topK: 1, temperature: 3 })]).toEqual([...got]);
      lm.dispose();
    });

    it('seeded sampling is reproducible, and different seeds differ', async () => {
      await use(backend);
      const lm = new LanguageModel({ vocabSize: V, embeddingDim: 6, hiddenSize: 10, seed: 5 });
      const a = lm.generate([4], { maxTokens: 60, seed: 1 });
      const b = lm.generate([4], { maxTokens: 60, seed: 1 });
      const c = lm.generate([4], { maxTokens: 60, seed: 2 });
      expect([...a]).toEqual([...b]);
      expect([...a]).not.toEqual([...c]);
      lm.dispose();
    });

    it('reads the prefix with one forward and then one rnn.step per generated token', async () => {
      await use(backend);
      const lm = new LanguageModel({ vocabSize: V, embeddingDim: 6, hiddenSize: 10, seed: 5 });
      const fwd = vi.spyOn(lm.rnn, 'forward');
      const step = vi.spyOn(lm.rnn, 'step');
      const out = lm.generate(tokens.slice(0, 40), { maxTokens: 25, seed: 3 });
      expect(out).toHaveLength(25);
      expect(fwd).toHaveBeenCalledTimes(1);
      expect(fwd.mock.calls[0][0]).toMatchObject({ shape: [40, 1, 6] });
      expect(step).toHaveBeenCalledTimes(24); // the last token sampled needs no step after it
      lm.dispose();
    });

    it('generating 1000 tokens allocates no Wasm memory', async () => {
      await use(backend);
      const lm = new LanguageModel({ vocabSize: V, embeddingDim: 6, hiddenSize: 16, numLayers: 2, seed: 5 });
      lm.generate([1, 2, 3], { maxTokens: 5, topK: 4, topP: 0.9, seed: 1 }); // plans the workspaces
      const before = memoryInfo();
      const out = lm.generate([1, 2, 3], { maxTokens: 1000, topK: 4, topP: 0.9, seed: 1 });
      const after = memoryInfo();
      expect(out).toHaveLength(1000);
      expect(after.memoryBytes).toBe(before.memoryBytes);
      expect(after.liveBytes).toBe(before.liveBytes);
      expect(after.highWater).toBe(before.highWater);
      lm.dispose();
    });
  });
}

describe('LanguageModel sampling', () => {
  const p = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04];
  const N = 6000;
  /** |observed − expected| within 4.5 standard deviations for every token. */
  const expectFrequencies = (got: number[], want: number[]): void => {
    want.forEach((q, i) => {
      const sd = Math.sqrt(N * q * (1 - q));
      expect(Math.abs(got[i] - N * q), `token ${i}: ${got[i]} vs ${N * q}`).toBeLessThanOrEqual(4.5 * sd + 1e-9);
    });
  };

  it('temperature 1 samples the softmax; temperature 2 flattens it (p^(1/2), renormalised)', async () => {
    await use('wasm-simd');
    const lm = constantModel(logOf(p));
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 11 }), 6), p);
    const flat = p.map(Math.sqrt), z = flat.reduce((a, b) => a + b);
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 12, temperature: 2 }), 6), flat.map((v) => v / z));
    lm.dispose();
  });

  it('topK keeps the k most likely tokens; topP keeps the smallest set of most likely tokens reaching topP', async () => {
    await use('wasm-simd');
    const lm = constantModel(logOf(p));
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 13, topK: 2 }), 6), [0.4 / 0.65, 0.25 / 0.65, 0, 0, 0, 0]);
    // 0.4 < 0.6, so 0.25 joins: {0, 1} hold 0.65 ≥ 0.6.
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 14, topP: 0.6 }), 6), [0.4 / 0.65, 0.25 / 0.65, 0, 0, 0, 0]);
    // 0.4 alone reaches 0.3: greedy.
    expect(new Set(lm.generate([0], { maxTokens: 200, seed: 15, topP: 0.3 }))).toEqual(new Set([0]));
    // top-k first, then the nucleus of what is left: of {0.4, 0.25, 0.15}/0.8, 0.5 + 0.3125 < 0.9, so all three.
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 16, topK: 3, topP: 0.9 }), 6), [0.5, 0.3125, 0.1875, 0, 0, 0]);
    // 0.4 + 0.25 + 0.15 = 0.8 < 0.85, so 0.1 joins.
    expectFrequencies(counts(lm.generate([0], { maxTokens: N, seed: 17, topP: 0.85 }), 6), [0.4, 0.25, 0.15, 0.1, 0, 0].map((v) => v / 0.9));
    lm.dispose();
  });

  it('topK and topP past the first 32 ranked tokens (where ranking switches from selection to a sort)', async () => {
    await use('wasm-simd');
    // 40 tokens, probabilities falling linearly: token i has weight 40 − i.
    const w = Array.from({ length: 40 }, (_, i) => 40 - i), z = w.reduce((a, b) => a + b);
    const lm = constantModel(logOf(w.map((v) => v / z)));
    const k = counts(lm.generate([0], { maxTokens: N, seed: 18, topK: 36 }), 40);
    expect(k.slice(36).every((c) => c === 0)).toBe(true);
    expect(k.slice(0, 36).every((c) => c > 0)).toBe(true);
    // The 33 most likely hold 0.966 < 0.97 and the 34 most likely 0.974: topP 0.97 keeps 34 tokens.
    const cum = (n: number): number => w.slice(0, n).reduce((a, b) => a + b, 0) / z;
    expect(cum(33)).toBeLessThan(0.97);
    expect(cum(34)).toBeGreaterThanOrEqual(0.97);
    const p = counts(lm.generate([0], { maxTokens: N, seed: 19, topP: 0.97 }), 40);
    expect(p.slice(34).every((c) => c === 0)).toBe(true);
    expect(p[33]).toBeGreaterThan(0);
    lm.dispose();
  });

  it('stops before a stop token or a stop string, which is not returned', async () => {
    await use('wasm-simd');
    const tok = new CharTokenizer().fit('abcdef', { specials: [] });
    const lm = constantModel(logOf(p), { tokenizer: tok });
    const free = [...lm.generate([0], { maxTokens: 300, seed: 21 })];
    /** What a stop must return: the free run up to where it first ends with one of `seqs`, that one cut off. */
    const cutAt = (...seqs: number[][]): number[] => {
      for (let n = 1; n <= free.length; n++) {
        for (const s of seqs) if (n >= s.length && s.every((v, k) => free[n - s.length + k] === v)) return free.slice(0, n - s.length);
      }
      return free;
    };
    const d = lm.tokenizer!.encode('d')[0];
    const ab = [...lm.tokenizer!.encode('ab')];
    expect(cutAt([d]).length).toBeLessThan(free.length);
    expect([...lm.generate([0], { maxTokens: 300, seed: 21, stop: d })]).toEqual(cutAt([d]));
    expect([...lm.generate([0], { maxTokens: 300, seed: 21, stop: 'ab' })]).toEqual(cutAt(ab));
    expect([...lm.generate([0], { maxTokens: 300, seed: 21, stop: ['ab', d] })]).toEqual(cutAt(ab, [d]));
    const text = lm.generateText('a', { maxTokens: 300, seed: 21, stop: 'ba' });
    expect(text).not.toContain('ba');
    expect(lm.generateText('a', { maxTokens: 300, seed: 21 }).startsWith(`${text}ba`)).toBe(true);
    // Greedy always picks token 0 ('a' here): a stop on it returns nothing.
    expect(lm.generate([1], { temperature: 0, stop: 0 })).toHaveLength(0);
    lm.dispose();
  });

  it('onToken streams each final id: all of them at once without stops; a multi-token stop held back and never passed', async () => {
    await use('wasm-simd');
    const tok = new CharTokenizer().fit('abcdef', { specials: [] });
    const lm = constantModel(logOf(p), { tokenizer: tok });
    for (const stop of [undefined, 3, 'ab', ['abc', 2]] as const) {
      const opts = { maxTokens: 300, seed: 21, ...(stop === undefined ? {} : { stop }) };
      const seen: number[] = [];
      const got = lm.generate([0], { ...opts, onToken: (id) => seen.push(id) });
      expect(seen, `stop ${JSON.stringify(stop)}`).toEqual([...got]);
      expect([...got]).toEqual([...lm.generate([0], opts)]);
    }
    // Streaming: without stops each id arrives before the next is sampled, so a throw ends generation there.
    let calls = 0;
    expect(() => lm.generate([0], { maxTokens: 50, seed: 1, onToken: () => { if (++calls === 3) throw new Error('enough'); } })).toThrow('enough');
    expect(calls).toBe(3);
    lm.dispose();
  });

  it("generateText's onText pieces join to the returned text (characters and words, with stops, quotes and marks)", async () => {
    await use('wasm-simd');
    const corpus = 'he said "stop, now." (then) left - a/b; ok? "yes" she said.';
    for (const tok of [new CharTokenizer().fit(corpus), new WordTokenizer().fit(corpus)]) {
      const lm = new LanguageModel({ tokenizer: tok, embeddingDim: 4, hiddenSize: 8, seed: 2 });
      for (const stop of [undefined, 'said .', '"']) {
        const opts = { maxTokens: 60, seed: 5, temperature: 1.5, ...(stop === undefined ? {} : { stop }) };
        const pieces: string[] = [], ids: number[] = [];
        const text = lm.generateText('he said', { ...opts, onText: (s) => pieces.push(s), onToken: (id) => ids.push(id) });
        expect(pieces.join(''), `${tok.constructor.name} stop ${stop}`).toBe(text);
        expect(text).toBe(lm.generateText('he said', opts));
        const gen = lm.generate(tok.encode('he said'), opts);
        expect(ids).toEqual([...gen]);
        expect(`${tok.decode(tok.encode('he said'))}${text}`).toBe(tok.decode(Int32Array.from([...tok.encode('he said'), ...gen])));
      }
      expect(() => lm.generateText('he', { onText: 1 as never })).toThrow(/LanguageModel\.generateText: onText must be a function, got number/);
      lm.dispose();
    }
  });

  it('validates every option with a clear error', async () => {
    await use('wasm-simd');
    const lm = constantModel(logOf(p));
    expect(() => lm.generate([0], { maxTokens: 0 })).toThrow(/generate: maxTokens must be a positive integer, got 0/);
    expect(() => lm.generate([0], { maxTokens: 2.5 })).toThrow(/maxTokens must be a positive integer, got 2.5/);
    expect(() => lm.generate([0], { temperature: -1 })).toThrow(/temperature must be a finite number ≥ 0 \(0 = greedy\), got -1/);
    expect(() => lm.generate([0], { temperature: Infinity })).toThrow(/temperature must be a finite number/);
    expect(() => lm.generate([0], { topK: 0 })).toThrow(/topK must be a positive integer, got 0/);
    expect(() => lm.generate([0], { topP: 0 })).toThrow(/topP must be a number in \(0, 1\], got 0/);
    expect(() => lm.generate([0], { topP: 1.5 })).toThrow(/topP must be a number in \(0, 1\], got 1.5/);
    expect(() => lm.generate([0], { seed: 0.5 })).toThrow(/seed must be an integer, got 0.5/);
    expect(() => lm.generate([0], { stop: 6 })).toThrow(/stop must be a token id in \[0, 5\] or a string, got 6/);
    expect(() => lm.generate([0], { stop: [1, 'x'] })).toThrow(/stop\[1\] is a string \("x"\), which needs a tokenizer/);
    expect(() => lm.generate([0], { stop: [null as never] })).toThrow(/stop\[0\] must be a token id or a string, got null/);
    expect(() => lm.generate([0], { top_k: 3 } as never)).toThrow(/unknown option 'top_k' \(did you mean 'topK'\?\)/);
    expect(() => lm.generate([0], { onToken: 'x' as never })).toThrow(/LanguageModel\.generate: onToken must be a function, got string/);
    expect(() => lm.generate([0], { onText: () => {} } as never)).toThrow(/generate: unknown option 'onText'/);
    expect(() => lm.generate([])).toThrow(/prefix must hold at least one token id/);
    expect(() => lm.generate([0, 6])).toThrow(/prefix\[1\] must be a token id in \[0, 5\], got 6/);
    expect(() => lm.generate('ab' as never)).toThrow(/generate: the model has no tokenizer/);
    expect(() => lm.generateText('ab')).toThrow(/generateText: the model has no tokenizer: pass \{ tokenizer \}/);
    expect(() => lm.step(1, null as never)).toThrow(/step: state must come from createState/);
    expect(() => lm.step([1, 2], lm.createState())).toThrow(/step: token must be one id \(a number\), got array of length 2/);
    expect(() => lm.step(9, lm.createState())).toThrow(/LanguageModel\.step: token must be a token id in \[0, 5\], got 9/);
    expect(() => lm.perplexity([1])).toThrow(/perplexity: tokens must hold at least 2 ids/);
    lm.dispose();
  });
});

describe('LanguageModel perplexity', () => {
  it('is exp of the mean negative log-likelihood of each next token, computed by hand', async () => {
    await use('wasm-simd');
    const lm = new LanguageModel({ vocabSize: V, embeddingDim: 5, hiddenSize: 9, cell: 'gru', seed: 8 });
    const seq = tokens.slice(0, 50);
    const z = lm.forward(seq.slice(0, 49).map((t) => [t])).logits.data; // the last token is only predicted
    let nll = 0;
    for (let t = 0; t < seq.length - 1; t++) {
      const row = Array.from(z.subarray(t * V, (t + 1) * V));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      nll += lse - row[seq[t + 1]];
    }
    expect(lm.perplexity(seq)).toBeCloseTo(Math.exp(nll / 49), 10);
    lm.dispose();
  });

  it('runs long sequences in chunks that carry the state (the same as one forward), and is V for a uniform model', async () => {
    await use('wasm-simd');
    const lm = new LanguageModel({ vocabSize: V, embeddingDim: 5, hiddenSize: 9, seed: 8 });
    const long = Array.from({ length: 1300 }, (_, i) => tokens[i % tokens.length]);
    const z = lm.forward(long.slice(0, -1).map((t) => [t])).logits.data;
    let nll = 0;
    for (let t = 0; t < long.length - 1; t++) {
      let m = -Infinity, s = 0;
      for (let j = 0; j < V; j++) m = Math.max(m, z[t * V + j]);
      for (let j = 0; j < V; j++) s += Math.exp(z[t * V + j] - m);
      nll += m + Math.log(s) - z[t * V + long[t + 1]];
    }
    expect(Math.abs(lm.perplexity(long) / Math.exp(nll / (long.length - 1)) - 1)).toBeLessThan(1e-6);
    const uniform = constantModel(new Array(V).fill(0.25));
    expect(uniform.perplexity(tokens.slice(0, 30))).toBeCloseTo(V, 10);
    lm.dispose();
    uniform.dispose();
  });
});

describe('LanguageModel with a tokenizer', () => {
  const text = 'Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about.';

  it('takes its vocabSize from the tokenizer, generates text from text, and keeps the tokenizer through save()/load()', async () => {
    await use('wasm-simd');
    for (const tok of [new CharTokenizer().fit(text), new WordTokenizer().fit(text)]) {
      const lm = new LanguageModel({ tokenizer: tok, embeddingDim: 4, hiddenSize: 8, seed: 2 });
      expect(lm.vocabSize).toBe(tok.vocabSize);
      expect(lm.getConfig().tokenizer).toEqual(tok.toJSON());
      const bytes = save(lm);
      const back = load(bytes) as LanguageModel;
      expect(back).toBeInstanceOf(LanguageModel);
      expect(back.tokenizer).toBeInstanceOf(tok.constructor);
      expect(back.tokenizer!.toJSON()).toEqual(tok.toJSON());
      expect(back.getConfig()).toEqual(lm.getConfig());
      expect(save(back)).toEqual(bytes); // byte-identical re-save
      const opts = { maxTokens: 20, seed: 3, temperature: 0.8 };
      const out = lm.generateText('call me', opts);
      expect(typeof out).toBe('string');
      expect(back.generateText('call me', opts)).toBe(out);
      expect([...back.generate(tok.encode('call me'), opts)]).toEqual([...lm.generate(tok.encode('call me'), opts)]);
      expect(back.perplexity('call me ishmael')).toBe(lm.perplexity('call me ishmael'));
      lm.dispose();
      back.dispose();
    }
  });

  it('writes a word continuation after the prefix as the tokenizer spaces it', async () => {
    await use('wasm-simd');
    const tok = new WordTokenizer().fit(text);
    const lm = new LanguageModel({ tokenizer: tok, embeddingDim: 4, hiddenSize: 8, seed: 2 });
    const gen = lm.generate(tok.encode('call me'), { maxTokens: 5, seed: 1 });
    const cont = lm.generateText('call me', { maxTokens: 5, seed: 1 });
    expect(`call me${cont}`).toBe(tok.decode(Int32Array.from([...tok.encode('call me'), ...gen])));
    lm.dispose();
  });

  it('keeps a copy of the tokenizer, and refuses one that is unfitted, mismatched or not a tokenizer', () => {
    const tok = new CharTokenizer().fit('abc');
    const lm = new LanguageModel({ tokenizer: tok, embeddingDim: 2, hiddenSize: 3 });
    tok.fit('abcdefgh');
    expect(lm.tokenizer!.vocabSize).toBe(7); // 4 specials + a, b, c
    expect(() => new LanguageModel({ tokenizer: new CharTokenizer(), embeddingDim: 2, hiddenSize: 3 }))
      .toThrow(/LanguageModel: tokenizer must be fitted/);
    expect(() => new LanguageModel({ tokenizer: tok, vocabSize: 5, embeddingDim: 2, hiddenSize: 3 }))
      .toThrow(/LanguageModel: vocabSize must equal the tokenizer's vocabSize \(12\), got 5/);
    expect(() => new LanguageModel({ tokenizer: { type: 'BPE' } as never, embeddingDim: 2, hiddenSize: 3 }))
      .toThrow(/LanguageModel: tokenizer must be a CharTokenizer or WordTokenizer \(or its toJSON\(\)\), got Object/);
    expect(() => new LanguageModel({ embeddingDim: 2, hiddenSize: 3 })).toThrow(/LanguageModel: vocabSize must be a positive integer, got undefined/);
    expect(new LanguageModel({ vocabSize: 4, embeddingDim: 2, hiddenSize: 3 }).getConfig()).not.toHaveProperty('tokenizer');
    lm.dispose();
  });
});

/**
 * The data layer against what PyTorch, torchtext and sklearn give on small hand-checked examples
 * (expected values worked out from first principles in each test), properties with fast-check,
 * and every bad input.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  DEFAULT_SPECIALS,
  Embedding,
  Forecaster,
  LSTM,
  MinMaxScaler,
  StandardScaler,
  Tensor,
  Vocab,
  WordTokenizer,
  calendarFeatures,
  padSequences,
  sequenceBatches,
  setBackend,
  slidingWindows,
  splitByTime,
  windowBatches,
  type SequenceBatch,
  type SequenceExample,
  type WindowBatch,
} from '../src/index.js';

const arr = (a: ArrayLike<number>): number[] => Array.from(a);

/** Any UTF-16 string, lone surrogates included. */
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const anyCodePoints = fc.string({ unit: 'binary', maxLength: 40 });

describe('Vocab', () => {
  const corpus = [['b', 'a', 'c', 'a'], ['b', 'a', 'd']];

  it('puts specials first, then tokens by descending count, ties by first appearance (d2l)', () => {
    const v = Vocab.build(corpus);
    // counts: a 3, b 2, c 1, d 1 (c seen before d)
    expect(v.tokens).toEqual(['<unk>', '<pad>', '<bos>', '<eos>', 'a', 'b', 'c', 'd']);
    expect([v.unkId, v.padId, v.bosId, v.eosId]).toEqual([0, 1, 2, 3]);
    expect(v.size).toBe(8);
    expect(v.length).toBe(8);
    expect(v.specials).toEqual(DEFAULT_SPECIALS);
  });

  it("breaks ties lexicographically by code point on request (torchtext's order)", () => {
    const tokens = ['z', 'y', 'x', 'y', 'z'];
    expect(Vocab.build(tokens, { specials: [] }).tokens).toEqual(['z', 'y', 'x']);
    expect(Vocab.build(tokens, { specials: [], ties: 'lexicographic' }).tokens).toEqual(['y', 'z', 'x']);
    // Python: sorted(['😀', 'ﬁ']) == ['ﬁ', '😀'] (U+FB01 < U+1F600), though '😀' < 'ﬁ' in UTF-16.
    expect(Vocab.build(['😀', 'ﬁ'], { specials: [], ties: 'lexicographic' }).tokens).toEqual(['ﬁ', '😀']);
  });

  it('applies minFreq and maxSize (specials included, like max_tokens)', () => {
    const v = Vocab.build(corpus, { minFreq: 2 });
    expect(v.tokens).toEqual(['<unk>', '<pad>', '<bos>', '<eos>', 'a', 'b']);
    expect(arr(v.encode(['a', 'c', 'b', 'zzz']))).toEqual([4, 0, 5, 0]);
    expect(Vocab.build(corpus, { maxSize: 5 }).tokens).toEqual(['<unk>', '<pad>', '<bos>', '<eos>', 'a']);
    expect(Vocab.build(corpus, { maxSize: 4 }).tokens).toEqual([...DEFAULT_SPECIALS]);
  });

  it('never counts a special, so a corpus with <unk> maps it to the special', () => {
    const v = Vocab.build(['<unk>', 'a', '<unk>', '<eos>']);
    expect(v.tokens).toEqual(['<unk>', '<pad>', '<bos>', '<eos>', 'a']);
    expect(v.indexOf('<eos>')).toBe(3);
  });

  it('takes a flat token list, a generator, custom specials', () => {
    function* lines(): Generator<string[]> {
      yield ['x', 'y'];
      yield ['y'];
    }
    expect(Vocab.build(lines(), { specials: ['<pad>'] }).tokens).toEqual(['<pad>', 'y', 'x']);
    expect(Vocab.build(['a', 'b', 'b']).tokens.slice(4)).toEqual(['b', 'a']);
    expect(Vocab.build([], { specials: [] }).size).toBe(0);
  });

  it('encodes, decodes and looks up', () => {
    const v = Vocab.build(corpus);
    const ids = v.encode(['a', 'b', '<pad>', 'q']);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(arr(ids)).toEqual([4, 5, 1, 0]);
    expect(v.decode(ids)).toEqual(['a', 'b', '<pad>', '<unk>']);
    expect(v.decode(ids, { skipSpecials: true })).toEqual(['a', 'b']);
    expect(v.tokenOf(6)).toBe('c');
    expect(v.indexOf('d')).toBe(7);
    expect(v.has('d') && !v.has('e')).toBe(true);
    expect(v.isSpecial('<bos>') && !v.isSpecial('a')).toBe(true);
  });

  it('takes an ordered token list directly', () => {
    const v = new Vocab(['<pad>', 'x', 'y'], { specials: ['<pad>'] });
    expect(v.padId).toBe(0);
    expect(v.decode([1, 0, 2], { skipSpecials: true })).toEqual(['x', 'y']);
    expect(() => v.unkId).toThrow("Vocab: this vocabulary has no '<unk>' token");
    expect(() => v.indexOf('z')).toThrow(`Vocab.indexOf: token "z" is not in the vocabulary, which has no '<unk>' to stand for it`);
    expect(() => v.encode(['x', 'z'])).toThrow(/Vocab.encode: tokens\[1\] "z" is not in the vocabulary/);
  });

  it('round-trips through JSON exactly (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyUtf16), fc.nat(), (tokens, k) => {
        const specials = tokens.slice(0, tokens.length ? k % (tokens.length + 1) : 0).reverse();
        const v = new Vocab(tokens, { specials });
        const back = Vocab.fromJSON(JSON.parse(JSON.stringify(v)));
        expect(back.tokens).toEqual(v.tokens);
        expect(back.specials).toEqual(v.specials);
        expect(back.toJSON()).toEqual(v.toJSON());
        tokens.forEach((t, i) => expect(back.indexOf(t)).toBe(i));
      }),
    );
  });

  it('built from any corpus, encodes then decodes every seen token back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ maxLength: 3 }), { maxLength: 8 }), { maxLength: 6 }), fc.integer({ min: 1, max: 3 }), (lines, minFreq) => {
        const v = Vocab.build(lines, { minFreq });
        const counts = new Map<string, number>();
        for (const t of lines.flat()) counts.set(t, (counts.get(t) ?? 0) + 1);
        for (const line of lines) {
          const back = v.decode(v.encode(line));
          line.forEach((t, i) => expect(back[i]).toBe(DEFAULT_SPECIALS.includes(t) || counts.get(t)! >= minFreq ? t : '<unk>'));
        }
        // descending counts after the specials
        const c = v.tokens.slice(4).map((t) => counts.get(t)!);
        expect(c).toEqual([...c].sort((a, b) => b - a));
        expect(Vocab.fromJSON(JSON.stringify(v)).tokens).toEqual(v.tokens);
      }),
    );
  });

  it('refuses bad input', () => {
    const v = Vocab.build(corpus);
    const cases: [() => unknown, RegExp | string][] = [
      [() => Vocab.build('abc' as never), /Vocab.build: corpus must be a sequence of tokens or of token sequences, got a string/],
      [() => Vocab.build(42 as never), /corpus must be a sequence of tokens or of token sequences, got number/],
      [() => Vocab.build(['a', 3] as never), /Vocab.build: corpus\[1\] must be a token \(string\) or a sequence of tokens, got 3/],
      [() => Vocab.build([['a', null]] as never), /Vocab.build: corpus\[0\]\[1\] must be a token \(string\), got null/],
      [() => Vocab.build(corpus, { minFreq: 0 }), /Vocab.build: minFreq must be a positive integer, got 0/],
      [() => Vocab.build(corpus, { maxSize: 1.5 }), /maxSize must be a positive integer, got 1.5/],
      [() => Vocab.build(corpus, { maxSize: 3 }), /maxSize must be at least the 4 specials, got 3/],
      [() => Vocab.build(corpus, { ties: 'random' as never }), /ties must be 'firstSeen' or 'lexicographic', got 'random'/],
      [() => Vocab.build(corpus, { min_freq: 2 } as never), /Vocab.build: unknown option 'min_freq'/],
      [() => Vocab.build(corpus, { specials: ['<pad>', '<pad>'] }), /specials\[1\] repeats the token "<pad>"/],
      [() => Vocab.build(corpus, null as never), /Vocab.build: options must be an object, got null/],
      [() => new Vocab(['a', 'a']), /Vocab: tokens\[1\] repeats the token "a"/],
      [() => new Vocab(['a'], { specials: ['b'] }), /Vocab: specials\[0\] "b" is not among the tokens/],
      [() => new Vocab('ab' as never), /Vocab: tokens must be an array of strings, got string/],
      [() => v.indexOf(3 as never), /Vocab.indexOf: token must be a string, got 3/],
      [() => v.tokenOf(8), /Vocab.tokenOf: id must be a token id in \[0, 7\], got 8/],
      [() => v.tokenOf(-1), /id must be a token id in \[0, 7\], got -1/],
      [() => v.decode([1, 2.5]), /Vocab.decode: ids\[1\] must be a token id in \[0, 7\], got 2.5/],
      [() => v.decode('12' as never), /Vocab.decode: ids must be an array of token ids, got string/],
      [() => v.decode([1], { skip: true } as never), /Vocab.decode: unknown option 'skip'/],
      [() => v.encode('ab' as never), /Vocab.encode: tokens must be an array of strings, got a string/],
      [() => v.encode([1] as never), /Vocab.encode: tokens\[0\] must be a string, got 1/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });

  it('refuses a hostile JSON with a clear error', () => {
    const ok = { type: 'Vocab', version: 1, tokens: ['<unk>', 'a'], specials: ['<unk>'] };
    const cases: [unknown, RegExp][] = [
      ['{not json', /Vocab.fromJSON: json is a string but not valid JSON/],
      [null, /Vocab.fromJSON: json must be an object \(or its JSON text\), got null/],
      [[1, 2], /json must be an object \(or its JSON text\), got array/],
      [{ ...ok, type: 'CharTokenizer' }, /json.type must be 'Vocab', got 'CharTokenizer'/],
      [{ ...ok, version: 2 }, /json.version must be 1, got 2/],
      [{ ...ok, tokens: 'a' }, /json.tokens must be an array of strings, got string/],
      [{ ...ok, tokens: ['<unk>', 7] }, /json.tokens\[1\] must be a string, got 7/],
      [{ ...ok, tokens: ['<unk>', 'a', 'a'] }, /json.tokens\[2\] repeats the token "a"/],
      [{ ...ok, specials: undefined }, /json.specials must be an array of strings, got undefined/],
      [{ ...ok, specials: ['<pad>'] }, /json.specials\[0\] "<pad>" is not among json.tokens/],
    ];
    for (const [json, msg] of cases) expect(() => Vocab.fromJSON(json)).toThrow(msg);
    // Tokens that name Object.prototype's members are plain tokens.
    const odd = Vocab.fromJSON({ ...ok, tokens: ['<unk>', '__proto__', 'constructor'] });
    expect([odd.indexOf('__proto__'), odd.indexOf('constructor'), odd.indexOf('toString')]).toEqual([1, 2, 0]);
  });
});

describe('CharTokenizer', () => {
  it('builds a vocabulary of characters and encodes by code point', () => {
    const tok = new CharTokenizer().fit('hello');
    // counts: l 2, then h, e, o once each in order of appearance
    expect(tok.vocab.tokens).toEqual([...DEFAULT_SPECIALS, 'l', 'h', 'e', 'o']);
    expect(arr(tok.encode('hello'))).toEqual([5, 6, 4, 4, 7]);
    expect(arr(tok.encode('hex'))).toEqual([5, 6, 0]);
    expect(tok.decode([5, 6, 4, 4, 7])).toBe('hello');
    expect(tok.decode([2, 5, 0, 3, 1], { skipSpecials: true })).toBe('h');
    expect(tok.decode([5, 0])).toBe('h<unk>');
    expect(tok.vocabSize).toBe(8);
  });

  it('treats an astral character as one token, not two UTF-16 units', () => {
    const tok = new CharTokenizer().fit(['a😀', '😀b'], { specials: [] });
    expect(tok.vocab.tokens).toEqual(['😀', 'a', 'b']);
    expect(arr(tok.encode('😀a😀'))).toEqual([0, 1, 0]);
    expect(tok.tokenize('e\u0301')).toEqual(['e', '\u0301']); // no normalisation
  });

  it('decode(encode(s)) is s for any string it was fitted on (property)', () => {
    for (const strings of [anyUtf16, anyCodePoints]) {
      fc.assert(
        fc.property(strings, (s) => {
          const tok = new CharTokenizer().fit(s);
          expect(tok.decode(tok.encode(s))).toBe(s);
          expect(tok.encode(s).length).toBe([...s].length);
          const back = CharTokenizer.fromJSON(JSON.stringify(tok));
          expect(arr(back.encode(s))).toEqual(arr(tok.encode(s)));
        }),
      );
    }
  });

  it('takes a vocabulary and serialises with it', () => {
    const vocab = new Vocab(['<unk>', 'a', 'b'], { specials: ['<unk>'] });
    const tok = new CharTokenizer({ vocab });
    expect(arr(tok.encode('abc'))).toEqual([1, 2, 0]);
    expect(tok.toJSON()).toEqual({ type: 'CharTokenizer', version: 1, vocab: vocab.toJSON() });
    const unfitted = CharTokenizer.fromJSON(new CharTokenizer().toJSON());
    expect(unfitted.fitted).toBe(false);
  });

  it('refuses bad input', () => {
    const tok = new CharTokenizer().fit('ab', { specials: [] });
    const cases: [() => unknown, RegExp][] = [
      [() => new CharTokenizer().encode('a'), /CharTokenizer: not fitted: call fit\(texts\) or pass \{ vocab \} first/],
      [() => tok.encode('abc'), /CharTokenizer.encode: the token "c" \(token 2\) is not in the vocabulary, which has no '<unk>'/],
      [() => tok.encode(5 as never), /CharTokenizer.encode: text must be a string, got 5/],
      [() => tok.decode([0, 2]), /CharTokenizer.decode: ids\[1\] must be a token id in \[0, 1\], got 2/],
      [() => tok.decode([0], { skip: 1 } as never), /CharTokenizer.decode: unknown option 'skip'/],
      [() => new CharTokenizer().fit(5 as never), /CharTokenizer.fit: texts must be a string or an array of strings, got number/],
      [() => new CharTokenizer().fit(['a', 1] as never), /CharTokenizer.fit: texts\[1\] must be a string, got 1/],
      [() => new CharTokenizer().fit('a', { minFreq: -1 }), /CharTokenizer.fit: minFreq must be a positive integer, got -1/],
      [() => new CharTokenizer({ vocab: {} as never }), /CharTokenizer: vocab must be a Vocab, got Object/],
      [() => new CharTokenizer({ vocabulary: 1 } as never), /CharTokenizer: unknown option 'vocabulary'/],
      [() => CharTokenizer.fromJSON({ type: 'WordTokenizer', version: 1 }), /CharTokenizer.fromJSON: json.type must be 'CharTokenizer', got 'WordTokenizer'/],
      [() => CharTokenizer.fromJSON({ type: 'CharTokenizer', version: 1 }), /CharTokenizer.fromJSON: json.vocab must be an object \(or its JSON text\), got undefined/],
      [
        () => CharTokenizer.fromJSON({ type: 'CharTokenizer', version: 1, vocab: { type: 'Vocab', version: 1, tokens: [1], specials: [] } }),
        /CharTokenizer.fromJSON: json.vocab.tokens\[0\] must be a string, got 1/,
      ],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('WordTokenizer', () => {
  const text = "Hello, World! Don't stop.";

  it("splits words and punctuation in three ways", () => {
    expect(new WordTokenizer().tokenize(text)).toEqual(['hello', ',', 'world', '!', "don't", 'stop', '.']);
    expect(new WordTokenizer({ punctuation: 'strip' }).tokenize(text)).toEqual(['hello', 'world', "don't", 'stop']);
    expect(new WordTokenizer({ punctuation: 'keep' }).tokenize(text)).toEqual(['hello,', 'world!', "don't", 'stop.']);
    expect(new WordTokenizer({ lowercase: false, punctuation: 'strip' }).tokenize(text)).toEqual(['Hello', 'World', "Don't", 'stop']);
    expect(new WordTokenizer().tokenize('  Café naïve — 東京 snake_case 3.14  ')).toEqual(['café', 'naïve', '—', '東京', 'snake_case', '3', '.', '14']);
    expect(new WordTokenizer().tokenize(' \n\t ')).toEqual([]);
  });

  it('fits, encodes and decodes with punctuation placed sensibly', () => {
    const s = 'Hello, world! (yes) well-known "quote" 50% $5 end.';
    const tok = new WordTokenizer().fit(s);
    expect(tok.decode(tok.encode(s))).toBe(s.toLowerCase());
    expect(tok.decode(tok.encode('hello unseen world'))).toBe('hello <unk> world');
    expect(tok.decode(tok.encode('hello unseen world'), { skipSpecials: true })).toBe('hello world');
    const strip = new WordTokenizer({ punctuation: 'strip' }).fit([text, 'stop now']);
    expect(strip.vocab.tokens.slice(4)).toEqual(['stop', 'hello', 'world', "don't", 'now']);
    expect(strip.decode(strip.encode(text))).toBe("hello world don't stop");
  });

  it('round-trips through JSON', () => {
    const tok = new WordTokenizer({ lowercase: false, punctuation: 'keep' }).fit(text, { minFreq: 1 });
    const back = WordTokenizer.fromJSON(JSON.stringify(tok));
    expect(back.lowercase).toBe(false);
    expect(back.punctuation).toBe('keep');
    expect(back.toJSON()).toEqual(tok.toJSON());
    expect(arr(back.encode(text))).toEqual(arr(tok.encode(text)));
  });

  it('refuses bad input', () => {
    const json = new WordTokenizer().toJSON();
    const cases: [() => unknown, RegExp][] = [
      [() => new WordTokenizer({ punctuation: 'drop' as never }), /WordTokenizer: punctuation must be 'tokens', 'strip' or 'keep', got 'drop'/],
      [() => new WordTokenizer({ lowercase: 1 as never }), /WordTokenizer: lowercase must be a boolean, got 1/],
      [() => new WordTokenizer().tokenize(null as never), /WordTokenizer.tokenize: text must be a string, got null/],
      [() => new WordTokenizer().decode([0]), /WordTokenizer: not fitted/],
      [() => WordTokenizer.fromJSON({ ...json, punctuation: 'x' }), /WordTokenizer.fromJSON: json.punctuation must be 'tokens', 'strip' or 'keep', got 'x'/],
      [() => WordTokenizer.fromJSON({ ...json, punctuation: undefined }), /json.punctuation must be 'tokens', 'strip' or 'keep', got null/],
      [() => WordTokenizer.fromJSON({ ...json, lowercase: 'yes' }), /WordTokenizer.fromJSON: json.lowercase must be a boolean, got 'yes'/],
      [() => WordTokenizer.fromJSON({ ...json, version: 0 }), /WordTokenizer.fromJSON: json.version must be 1, got 0/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('padSequences', () => {
  it("pads like pad_sequence: [[1,2,3],[4,5]] is [[1,4],[2,5],[3,0]]", () => {
    const p = padSequences([[1, 2, 3], [4, 5]]);
    expect(p.data).toBeInstanceOf(Int32Array);
    expect(p.shape).toEqual([3, 2]);
    expect(arr(p.data)).toEqual([1, 4, 2, 5, 3, 0]);
    expect(arr(p.lengths)).toEqual([3, 2]);
    const bf = padSequences([[1, 2, 3], Int32Array.of(4, 5)], { batchFirst: true, paddingValue: -1 });
    expect(bf.shape).toEqual([2, 3]);
    expect(arr(bf.data)).toEqual([1, 2, 3, 4, 5, -1]);
  });

  it('cuts to maxLength, pads real values and empty sequences', () => {
    const cut = padSequences([[1, 2, 3], [4]], { maxLength: 2 });
    expect([cut.shape, arr(cut.data), arr(cut.lengths)]).toEqual([[2, 2], [1, 4, 2, 0], [2, 1]]);
    const f = padSequences([[0.5, 1.5], [2]], { dtype: 'float32' });
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(arr(f.data)).toEqual([0.5, 2, 1.5, 0]);
    const e = padSequences([[7], []]);
    expect([e.shape, arr(e.data), arr(e.lengths)]).toEqual([[1, 2], [7, 0], [1, 0]]);
    expect(padSequences([[], []]).shape).toEqual([0, 2]);
  });

  it('pads feature vectors [len, F] into Float32Array [T, B, F]', () => {
    const p = padSequences([[[1, 2], [3, 4]], [[5, 6]]]);
    expect(p.data).toBeInstanceOf(Float32Array);
    expect(p.shape).toEqual([2, 2, 2]);
    // t0: b0 [1,2], b1 [5,6]; t1: b0 [3,4], b1 padding
    expect(arr(p.data)).toEqual([1, 2, 5, 6, 3, 4, 0, 0]);
    const t = padSequences([new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]), { data: [7, 8, 9], shape: [1, 3] }], { batchFirst: true });
    expect(t.shape).toEqual([2, 2, 3]);
    expect(arr(t.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0]);
  });

  it('keeps every value in place and pads the rest (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 7 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: -5, max: 5 }),
        (seqs, batchFirst, pad) => {
          const p = padSequences(seqs, { batchFirst, paddingValue: pad });
          const B = seqs.length, T = Math.max(...seqs.map((s) => s.length));
          expect(p.shape).toEqual(batchFirst ? [B, T] : [T, B]);
          expect(arr(p.lengths)).toEqual(seqs.map((s) => s.length));
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) expect(p.data[batchFirst ? b * T + t : t * B + b]).toBe(t < seqs[b].length ? seqs[b][t] : pad);
          }
        },
      ),
    );
  });

  it('refuses bad input', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => padSequences([]), /padSequences: sequences must hold at least one sequence, got an empty array/],
      [() => padSequences('abc' as never), /padSequences: sequences must be an array of sequences, got string/],
      [() => padSequences([[1, 2], 3] as never), /padSequences: sequences\[1\] must be an array of ids, an array of feature vectors or \{ data, shape \}, got 3/],
      [() => padSequences([[1, 'a']] as never), /padSequences: sequences\[0\]\[1\] must be an int32 id, got 'a'/],
      [() => padSequences([[1.5]]), /sequences\[0\]\[0\] must be an int32 id, got 1.5 \(pass dtype: 'float32' for real values\)/],
      [() => padSequences([[1, 2 ** 31]]), /sequences\[0\]\[1\] must be an int32 id, got 2147483648/],
      [() => padSequences([[NaN]], { dtype: 'float32' }), /sequences\[0\]\[0\] must be a finite number, got NaN/],
      [() => padSequences([[[1, 2]], [[1, 2, 3]]]), /padSequences: sequences\[1\] holds feature vectors of 3, but sequences\[0\] holds feature vectors of 2/],
      [() => padSequences([[1], [[1, 2]]] as never), /sequences\[1\] holds feature vectors of 2, but sequences\[0\] holds ids/],
      [() => padSequences([[[1, 2], [3]]]), /padSequences: sequences\[0\]\[1\] must be a feature vector of 2 numbers, got length 1/],
      [() => padSequences([[[1, Infinity]]]), /sequences\[0\]\[0\]\[1\] must be a finite number, got Infinity/],
      [() => padSequences([[[]]]), /sequences\[0\]\[0\] must be a feature vector of at least one value, got an empty one/],
      [() => padSequences([[[1]]], { dtype: 'int32' }), /dtype 'int32' is for sequences of ids/],
      [() => padSequences([[1]], { paddingValue: 0.5 }), /paddingValue must be an int32 for 'int32' data, got 0.5/],
      [() => padSequences([[1]], { paddingValue: NaN }), /paddingValue must be a finite number, got NaN/],
      [() => padSequences([[1]], { maxLength: 0 }), /padSequences: maxLength must be a positive integer, got 0/],
      [() => padSequences([[1]], { dtype: 'int64' as never }), /dtype must be 'int32' or 'float32', got 'int64'/],
      [() => padSequences([[1]], { batch_first: true } as never), /padSequences: unknown option 'batch_first'/],
      [() => padSequences([{ data: [1, 2, 3], shape: [2, 2] }]), /sequences\[0\].shape \[2, 2\] holds 4 values, but its data has 3/],
      [() => padSequences([{ data: [1], shape: [1, 1, 1] }] as never), /sequences\[0\].shape must be \[len\] or \[len, features\], got \[1, 1, 1\]/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });

  it('refuses, before allocating, a batch no layer could take', () => {
    const long = new Int32Array(1 << 20);
    const seqs = [long, ...Array.from({ length: 1100 }, () => [1])];
    expect(() => padSequences(seqs)).toThrow(/padSequences: the padded batch would hold 1154482176 values, more than the 1073741824 \(2\^30\)/);
  });
});

/** A names → gender toy set: names as character ids, label 1 for 'f'. */
const names: [string, number][] = [
  ['anna', 1], ['bob', 0], ['christopher', 0], ['di', 1], ['eve', 1], ['frank', 0], ['gabriella', 1],
  ['hal', 0], ['ines', 1], ['jo', 0], ['katarina', 1], ['leo', 0], ['maximilian', 0],
];

describe('sequenceBatches', () => {
  const tok = new CharTokenizer().fit(names.map(([n]) => n));
  const examples: SequenceExample<Int32Array>[] = names.map(([n, g]) => ({ sequence: tok.encode(n), label: g }));
  const N = examples.length;
  const lenOf = (i: number): number => examples[i].sequence.length;

  it('without shuffling, batches follow the examples in order, padded, with lengths and labels', () => {
    const batches = sequenceBatches(examples.slice(0, 5), { batchSize: 2, shuffle: false, paddingValue: tok.vocab.padId });
    expect(batches.map((b) => arr(b.indices))).toEqual([[0, 1], [2, 3], [4]]);
    const b1 = batches[1];
    const p = padSequences([examples[2].sequence, examples[3].sequence], { paddingValue: tok.vocab.padId });
    expect([b1.T, b1.B, b1.x.shape]).toEqual([11, 2, [11, 2]]);
    expect(arr(b1.x.data)).toEqual(arr(p.data));
    expect(arr(b1.lengths)).toEqual([11, 2]);
    expect(b1.y).toBeInstanceOf(Int32Array);
    expect(arr(b1.y!)).toEqual([0, 1]);
    expect(sequenceBatches(examples.slice(0, 5), { batchSize: 2, shuffle: false, dropLast: true }).length).toBe(2);
  });

  it('buckets by length: pools of bucketSize·batchSize sorted longest first', () => {
    const ex = [1, 5, 2, 4, 3, 6].map((len, i) => ({ sequence: new Array(len).fill(i), label: i }));
    const one = sequenceBatches(ex, { batchSize: 2, shuffle: false, bucketByLength: true });
    expect(one.map((b) => arr(b.indices))).toEqual([[5, 1], [3, 4], [2, 0]]);
    expect(one.map((b) => arr(b.lengths))).toEqual([[6, 5], [4, 3], [2, 1]]);
    const small = sequenceBatches(ex, { batchSize: 2, shuffle: false, bucketByLength: true, bucketSize: 1 });
    expect(small.map((b) => arr(b.indices))).toEqual([[1, 0], [3, 2], [5, 4]]);
    // Bucketed batches pad less than plain ones over the whole epoch.
    const padded = (bs: SequenceBatch[]): number => bs.reduce((s, b) => s + b.T * b.B, 0);
    const bucketed = sequenceBatches(examples, { batchSize: 3, seed: 3, bucketByLength: true });
    expect(padded(bucketed)).toBeLessThan(padded(sequenceBatches(examples, { batchSize: 3, seed: 3 })));
  });

  it('covers every example once per epoch, reproducibly, in a new order each epoch (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer(),
        fc.nat({ max: 1000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        (batchSize, seed, epoch, bucketByLength, bucketSize) => {
          const o = { batchSize, seed, epoch, bucketByLength, bucketSize };
          const a = sequenceBatches(examples, o);
          const seen = a.flatMap((b) => arr(b.indices));
          expect([...seen].sort((x, y) => x - y)).toEqual([...Array(N).keys()]);
          // At most one batch is short (with bucketing it is shuffled among the others).
          expect(a.filter((b) => b.B !== batchSize).length).toBe(N % batchSize === 0 ? 0 : 1);
          if (!bucketByLength) expect(a.slice(0, -1).every((b) => b.B === batchSize)).toBe(true);
          for (const b of a) {
            b.indices.forEach((i, r) => {
              expect(b.lengths[r]).toBe(lenOf(i));
              expect(b.y![r]).toBe(examples[i].label);
            });
            expect(b.T).toBe(Math.max(...arr(b.lengths)));
            if (bucketByLength) expect(arr(b.lengths)).toEqual(arr(b.lengths).sort((x, y) => y - x));
          }
          const again = sequenceBatches(examples, o);
          expect(again.map((b) => arr(b.indices))).toEqual(a.map((b) => arr(b.indices)));
          expect(again.map((b) => arr(b.x.data))).toEqual(a.map((b) => arr(b.x.data)));
          const next = sequenceBatches(examples, { ...o, epoch: epoch + 1 });
          expect(next.flatMap((b) => arr(b.indices))).not.toEqual(seen);
          const dropped = sequenceBatches(examples, { ...o, dropLast: true });
          expect(dropped.length).toBe(Math.floor(N / batchSize));
          expect(dropped.every((b) => b.B === batchSize)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('differs between seeds', () => {
    const order = (seed: number): number[] => sequenceBatches(examples, { batchSize: 4, seed }).flatMap((b) => arr(b.indices));
    expect(order(1)).not.toEqual(order(2));
    expect(order(1)).toEqual(order(1));
  });

  it('batches feature sequences, float and vector labels, batchFirst', () => {
    const ex = [
      { sequence: [[1, 2], [3, 4], [5, 6]], label: [1, 0.5] },
      { sequence: [[7, 8]], label: [0, 0.25] },
    ];
    const [b] = sequenceBatches(ex, { batchSize: 2, shuffle: false, batchFirst: true });
    expect(b.x.data).toBeInstanceOf(Float32Array);
    expect(b.x.shape).toEqual([2, 3, 2]);
    expect(arr(b.x.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
    expect(b.y).toBeInstanceOf(Float32Array);
    expect(arr(b.y!)).toEqual([1, 0.5, 0, 0.25]);
    const [f] = sequenceBatches([{ sequence: [1], label: 0.5 }], { batchSize: 1, labelDtype: 'float32' });
    expect(arr(f.y!)).toEqual([0.5]);
    expect(sequenceBatches([{ sequence: [1] }], { batchSize: 1 })[0].y).toBeNull();
  });

  it('refuses bad input', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => sequenceBatches('x' as never, { batchSize: 1 }), /sequenceBatches: examples must be an array of \{ sequence, label \} objects, got string/],
      [() => sequenceBatches([], { batchSize: 1 }), /sequenceBatches: examples must hold at least one example, got an empty array/],
      [() => sequenceBatches(examples, undefined as never), /sequenceBatches: options must be an object, got undefined/],
      [() => sequenceBatches(examples, { batchSize: 0 }), /sequenceBatches: batchSize must be a positive integer, got 0/],
      [() => sequenceBatches(examples, { batchSize: 2, seed: 0.5 }), /sequenceBatches: seed must be an integer, got 0.5/],
      [() => sequenceBatches(examples, { batchSize: 2, epoch: -1 }), /sequenceBatches: epoch must be a non-negative integer, got -1/],
      [() => sequenceBatches(examples, { batchSize: 2, bucketSize: 0 }), /bucketSize must be a positive integer, got 0/],
      [() => sequenceBatches(examples, { batchSize: 2, shuffle: 'yes' as never }), /shuffle must be a boolean, got 'yes'/],
      [() => sequenceBatches(examples, { batchSize: 2, batch_size: 2 } as never), /sequenceBatches: unknown option 'batch_size'/],
      [() => sequenceBatches(examples, { batchSize: 2, labelDtype: 'int8' as never }), /labelDtype must be 'int32' or 'float32', got 'int8'/],
      [() => sequenceBatches([[1, 2]] as never, { batchSize: 1 }), /sequenceBatches: examples\[0\] must be a \{ sequence, label \} object, got array/],
      [() => sequenceBatches([{ sequence: [1] }, { sequence: [] }], { batchSize: 1 }), /examples\[1\].sequence is empty; a recurrent layer needs every length ≥ 1/],
      [() => sequenceBatches([{ sequence: [1], label: 1 }, { sequence: [2] }], { batchSize: 1 }), /examples\[1\] has no label, but examples\[0\] has one/],
      [() => sequenceBatches([{ sequence: [1] }, { sequence: [2], label: 0 }], { batchSize: 1 }), /examples\[1\] has a label, but examples\[0\] has none/],
      [() => sequenceBatches([{ sequence: [1], label: 0.5 }], { batchSize: 1 }), /examples\[0\].label must be an int32 class id, got 0.5 \(pass labelDtype: 'float32'/],
      [() => sequenceBatches([{ sequence: [1], label: [1, 2] }, { sequence: [1], label: [1] }], { batchSize: 1 }), /examples\[1\].label must be an array of 2 numbers like examples\[0\]'s, got length 1/],
      [() => sequenceBatches([{ sequence: [1], label: [] }], { batchSize: 1 }), /examples\[0\].label must be a number or a non-empty array of numbers, got an empty array/],
      [() => sequenceBatches([{ sequence: [1], label: 'f' as never }], { batchSize: 1 }), /examples\[0\].label must be a number or a non-empty array of numbers, got 'f'/],
      [() => sequenceBatches([{ sequence: [[1, 2]] }, { sequence: [[1, 2, 3]] }], { batchSize: 1 }), /examples\[1\].sequence holds feature vectors of 3, but examples\[0\].sequence holds feature vectors of 2/],
      [() => sequenceBatches([{ sequence: [1, 2.5] }], { batchSize: 1 }), /sequenceBatches: examples\[0\].sequence\[1\] must be an int32 id, got 2.5/],
      // A bad example is refused even when dropLast leaves it out of this epoch.
      [() => sequenceBatches([{ sequence: [1] }, { sequence: [NaN] }], { batchSize: 2, dropLast: true, dtype: 'float32' }), /examples\[1\].sequence\[0\] must be a finite number, got NaN/],
      [() => sequenceBatches(examples, { batchSize: 2, paddingValue: 0.5 }), /sequenceBatches: paddingValue must be an int32 for 'int32' data, got 0.5/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('slidingWindows', () => {
  const series = Array.from({ length: 10 }, (_, i) => i);

  it('cuts windows time-major with their horizon targets', () => {
    const w = slidingWindows(series, { window: 3, horizon: 2, stride: 2 });
    // B = floor((10 − 3 − 2) / 2) + 1 = 3 windows, starting at 0, 2, 4
    expect([w.T, w.B, w.features, w.horizon]).toEqual([3, 3, 1, 2]);
    expect(arr(w.starts)).toEqual([0, 2, 4]);
    expect(arr(w.x)).toEqual([0, 2, 4, 1, 3, 5, 2, 4, 6]); // t0: 0 2 4, t1: 1 3 5, t2: 2 4 6
    expect(arr(w.y)).toEqual([3, 4, 5, 6, 7, 8]);
    const last = slidingWindows(series, { window: 9 });
    expect([last.B, arr(last.y)]).toEqual([1, [9]]);
  });

  it('takes multivariate rows or { data, shape } and picks target columns', () => {
    const rows = series.map((i) => [i, 10 * i]);
    const w = slidingWindows(rows, { window: 2, horizon: 2, stride: 3, targetColumns: [1] });
    // windows start at 0, 3, 6 (6 + 2 + 2 = 10 steps)
    expect([w.B, w.features, w.targetColumns]).toEqual([3, 2, [1]]);
    expect(arr(w.x)).toEqual([0, 0, 3, 30, 6, 60, 1, 10, 4, 40, 7, 70]);
    expect(arr(w.y)).toEqual([20, 30, 50, 60, 80, 90]);
    const flat = slidingWindows({ data: Float32Array.from(rows.flat()), shape: [10, 2] }, { window: 2, horizon: 2, stride: 3, targetColumns: [1] });
    expect([arr(flat.x), arr(flat.y)]).toEqual([arr(w.x), arr(w.y)]);
    const both = slidingWindows(rows, { window: 1, horizon: 1 });
    expect(arr(both.y).slice(0, 4)).toEqual([1, 10, 2, 20]); // y [B, horizon·K]: every column by default
  });

  it('holds exactly the series values where they belong, reconstructing it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 20 }),
        (F, window, horizon, stride, extra) => {
          const N = window + horizon + extra;
          const rows = Array.from({ length: N }, (_, n) => Array.from({ length: F }, (_, f) => n * 100 + f));
          const w = slidingWindows(rows, { window, horizon, stride: Math.min(stride, window) });
          const s = Math.min(stride, window);
          expect(w.B).toBe(Math.floor((N - window - horizon) / s) + 1);
          const rebuilt: (number[] | undefined)[] = new Array(N);
          for (let b = 0; b < w.B; b++) {
            for (let t = 0; t < window; t++) rebuilt[w.starts[b] + t] = arr(w.x.subarray((t * w.B + b) * F, (t * w.B + b + 1) * F));
            for (let h = 0; h < horizon; h++) {
              const step = w.starts[b] + window + h;
              const y = arr(w.y.subarray((b * horizon + h) * F, (b * horizon + h + 1) * F));
              expect(y).toEqual(rows[step]);
              rebuilt[step] ??= y;
            }
          }
          const covered = w.starts[w.B - 1] + window + horizon;
          expect(rebuilt.slice(0, covered)).toEqual(rows.slice(0, covered));
          expect(N - covered).toBeLessThan(s);
        },
      ),
    );
  });

  it('trains the Forecaster directly, whole or in seeded mini-batches', async () => {
    await setBackend('js');
    const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i / 3), Math.cos(i / 3)]);
    const w = slidingWindows(rows, { window: 6, horizon: 2, targetColumns: [0] });
    const batch: WindowBatch = w;
    const model = new Forecaster({ inputSize: 2, hiddenSize: 4, outputSize: 2, seed: 1 });
    const { loss, tokens } = model.trainBatch(batch);
    expect(Number.isFinite(loss) && tokens === w.B).toBe(true);
    for (const b of windowBatches(w, { batchSize: 8, seed: 1 })) expect(Number.isFinite(model.evalBatch(b).loss)).toBe(true);
    model.dispose();
  });

  it('refuses bad input, and absurd sizes before allocating', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => slidingWindows(series, undefined as never), /slidingWindows: options must be an object, got undefined/],
      [() => slidingWindows(series, { window: 0 }), /slidingWindows: window must be a positive integer, got 0/],
      [() => slidingWindows(series, { window: 1e12 }), /slidingWindows: series must hold at least window \+ horizon = 1000000000001 steps, got 10/],
      [() => slidingWindows(series, { window: 9, horizon: 2 }), /at least window \+ horizon = 11 steps, got 10/],
      [() => slidingWindows(series, { window: 2, horizon: 0 }), /horizon must be a positive integer, got 0/],
      [() => slidingWindows(series, { window: 2, stride: 1.5 }), /stride must be a positive integer, got 1.5/],
      [() => slidingWindows(series, { window: 2, targetColumns: [1] }), /targetColumns\[0\] must be a column index in \[0, 0\], got 1/],
      [() => slidingWindows([[1, 2], [3, 4], [5, 6]], { window: 1, targetColumns: [1, 1] }), /targetColumns\[1\] repeats column 1/],
      [() => slidingWindows(series, { window: 2, targetColumns: [] }), /targetColumns must be a non-empty array of column indices, got an empty array/],
      [() => slidingWindows(series, { window: 2, size: 3 } as never), /slidingWindows: unknown option 'size'/],
      [() => slidingWindows([1, NaN, 3], { window: 1 }), /slidingWindows: series\[1\] must be a finite number, got NaN/],
      [() => slidingWindows([[1, 2], [3]], { window: 1 }), /slidingWindows: series\[1\] must be a row of 2 numbers like series\[0\], got length 1/],
      [() => slidingWindows([[1, 'a']] as never, { window: 1 }), /series\[0\]\[1\] must be a finite number, got 'a'/],
      [() => slidingWindows('abc' as never, { window: 1 }), /series must be an array of numbers, an array of rows or \{ data, shape \}, got 'abc'/],
      [() => slidingWindows({ data: [1, 2, 3], shape: [2, 2] }, { window: 1 }), /series.shape \[2, 2\] holds 4 values, but its data has 3/],
      // B = 100000 − 20000 − 1 + 1 = 80000 windows of 20000 steps
      [() => slidingWindows(new Float32Array(100_000), { window: 20_000 }), /slidingWindows: x would hold 1600000000 values, more than the 1073741824/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('windowBatches', () => {
  const w = slidingWindows(Array.from({ length: 30 }, (_, i) => [i, -i]), { window: 4, horizon: 2, targetColumns: [1] });

  it('covers every window once, each batch exactly the windows it names (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer(), fc.nat({ max: 100 }), fc.boolean(), (batchSize, seed, epoch, shuffle) => {
        const bs = windowBatches(w, { batchSize, seed, epoch, shuffle });
        expect(bs.flatMap((b) => arr(b.starts)).sort((a, b) => a - b)).toEqual(arr(w.starts));
        if (!shuffle) expect(bs.flatMap((b) => arr(b.starts))).toEqual(arr(w.starts));
        for (const b of bs) {
          const again = slidingWindows(Array.from({ length: 30 }, (_, i) => [i, -i]).slice(b.starts[0], b.starts[0] + 6), { window: 4, horizon: 2, targetColumns: [1] });
          expect(arr(b.y.subarray(0, 2))).toEqual(arr(again.y));
          expect([b.T, b.features, b.horizon, b.targetColumns]).toEqual([4, 2, 2, [1]]);
          for (let t = 0; t < 4; t++) expect(b.x[t * b.B * 2]).toBe(b.starts[0] + t);
        }
        expect(windowBatches(w, { batchSize, seed, epoch, shuffle }).map((b) => arr(b.starts))).toEqual(bs.map((b) => arr(b.starts)));
        const dropped = windowBatches(w, { batchSize, seed, epoch, dropLast: true });
        expect(dropped.length).toBe(Math.floor(w.B / batchSize));
      }),
      { numRuns: 40 },
    );
    const order = (epoch: number): number[] => windowBatches(w, { batchSize: 5, seed: 7, epoch }).flatMap((b) => arr(b.starts));
    expect(order(0)).not.toEqual(order(1));
  });

  it('refuses bad input', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => windowBatches(null as never, { batchSize: 2 }), /windowBatches: windows must be slidingWindows' result \{ x, y, T, B \}, got null/],
      [() => windowBatches(w, { batchSize: 0 }), /windowBatches: batchSize must be a positive integer, got 0/],
      [() => windowBatches({ ...w, x: [1, 2] as never }, { batchSize: 2 }), /windows.x must be a Float32Array, got array/],
      [() => windowBatches({ ...w, T: 0 }, { batchSize: 2 }), /windows.T must be a positive integer, got 0/],
      [() => windowBatches({ ...w, B: w.B + 1 }, { batchSize: 2 }), /windows.x must hold T·B·F values/],
      [() => windowBatches({ ...w, starts: new Int32Array(1) }, { batchSize: 2 }), /windows.starts must be an Int32Array of B = 25 indices, got length 1/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('splitByTime', () => {
  const series = Array.from({ length: 10 }, (_, i) => i);

  it('splits in time order by fractions or indices', () => {
    expect(splitByTime(series, { trainFraction: 0.8 })).toEqual({ train: [0, 1, 2, 3, 4, 5, 6, 7], test: [8, 9], trainEnd: 8, valEnd: 8 });
    const s = splitByTime(series, { trainFraction: 0.7, valFraction: 0.2 });
    expect([s.train, s.val, s.test, s.trainEnd, s.valEnd]).toEqual([[0, 1, 2, 3, 4, 5, 6], [7, 8], [9], 7, 9]);
    const e = splitByTime(series, { trainEnd: 5, valEnd: 6 });
    expect([e.train.length, e.val, e.test.length]).toEqual([5, [5], 4]);
    expect(splitByTime(Array(100).fill(0), { trainFraction: 0.29 }).trainEnd).toBe(29); // not 28 (0.29·100 = 28.999…)
  });

  it('keeps the kind of what it splits', () => {
    const f = splitByTime(Float64Array.from(series), { trainEnd: 3 });
    expect(f.train).toBeInstanceOf(Float64Array);
    const t = splitByTime(new Tensor(Float32Array.from({ length: 20 }, (_, i) => i), [10, 2]), { trainFraction: 0.5 });
    expect(t.test).toBeInstanceOf(Tensor);
    expect([t.test.shape, arr(t.test.data).slice(0, 2)]).toEqual([[5, 2], [10, 11]]);
    const plain = splitByTime({ data: [1, 2, 3, 4], shape: [4] }, { trainEnd: 1 });
    expect(plain.test).toEqual({ data: [2, 3, 4], shape: [3] });
    const dates = ['2024-01-01', '2024-01-02', '2024-01-03'];
    expect(splitByTime(dates, { trainEnd: 2 }).test).toEqual(['2024-01-03']);
  });

  it('never leaks: parts are consecutive, and windows of a part stay inside it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 200 }), fc.double({ min: 0.05, max: 0.6, noNaN: true }), fc.double({ min: 0.05, max: 0.3, noNaN: true }), (N, tf, vf) => {
        const xs = Array.from({ length: N }, (_, i) => i);
        let s;
        try {
          s = splitByTime(xs, { trainFraction: tf, valFraction: vf });
        } catch (e) {
          expect((e as Error).message).toMatch(/every part must hold at least one step/);
          return;
        }
        expect([...s.train, ...s.val!, ...s.test]).toEqual(xs);
        expect(s.train.length).toBe(Math.floor(N * tf + 1e-9));
        expect(Math.max(...s.train)).toBeLessThan(Math.min(...s.val!));
        expect(Math.max(...s.val!)).toBeLessThan(Math.min(...s.test));
        if (s.train.length >= 2) {
          const w = slidingWindows(s.train, { window: 1 });
          expect(Math.max(...arr(w.x), ...arr(w.y))).toBeLessThan(s.trainEnd);
        }
      }),
    );
  });

  it('refuses bad input', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => splitByTime(series, {}), /splitByTime: give exactly one of trainFraction and trainEnd, got neither/],
      [() => splitByTime(series, { trainFraction: 0.5, trainEnd: 3 }), /give exactly one of trainFraction and trainEnd, got both/],
      [() => splitByTime(series, { trainEnd: 3, valEnd: 5, valFraction: 0.1 }), /give at most one of valFraction and valEnd, got both/],
      [() => splitByTime(series, { trainFraction: 1 }), /splitByTime: trainFraction must be a number in \(0, 1\), got 1/],
      [() => splitByTime(series, { trainFraction: 0.5, valFraction: 0 }), /valFraction must be a number in \(0, 1\), got 0/],
      [() => splitByTime(series, { trainFraction: 0.6, valFraction: 0.4 }), /trainFraction \+ valFraction must be below 1 to leave a test part, got 0.6 \+ 0.4/],
      [() => splitByTime(series, { trainEnd: 10 }), /trainEnd must be an integer in \[1, 9\] for a series of 10 steps, got 10/],
      [() => splitByTime(series, { trainEnd: 4, valEnd: 4 }), /valEnd must be an integer in \[5, 9\] \(after trainEnd = 4, before N = 10\), got 4/],
      [() => splitByTime(series, { trainEnd: 8, valFraction: 0.5 }), /the validation part would end at step 13, past the series' 10 steps/],
      [() => splitByTime([1, 2], { trainFraction: 0.3 }), /every part must hold at least one step; a series of 2 steps splits into train 0, test 2/],
      [() => splitByTime(series, { trainFraction: 0.5, testFraction: 0.5 } as never), /splitByTime: unknown option 'testFraction'/],
      [() => splitByTime(7 as never, { trainEnd: 1 }), /splitByTime: series must be an array, a typed array or \{ data, shape \}, got 7/],
      [() => splitByTime({ data: [1, 2, 3], shape: [2, 2] }, { trainEnd: 1 }), /series.shape \[2, 2\] holds 4 values, but its data has 3/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('StandardScaler', () => {
  const rows = [[1, 10], [2, 20], [3, 30], [4, 40]];

  it("matches sklearn: the mean and population variance per feature", () => {
    const s = new StandardScaler().fit(rows);
    // mean [2.5, 25]; var = mean of squared deviations = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25 (and 125)
    expect(arr(s.mean)).toEqual([2.5, 25]);
    expect(arr(s.variance)).toEqual([1.25, 125]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect([s.nFeatures, s.nSamples]).toEqual([2, 4]);
    const z = s.transform(rows);
    expect(z.shape).toEqual([4, 2]);
    const k = 1.5 / Math.sqrt(1.25); // 1.3416407864998738
    const expected = [-k, -k, -k / 3, -k / 3, k / 3, k / 3, k, k];
    arr(z.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(s.transform([[2.5, 25]]).toArray()).toEqual([[0, 0]]);
  });

  it('gives constant features scale 1, like sklearn', () => {
    const s = new StandardScaler().fit([[1, 5], [2, 5], [3, 5]]);
    expect(s.scale[1]).toBe(1);
    expect(arr(s.transform([[9, 5], [0, 7]]).data).filter((_, i) => i % 2 === 1)).toEqual([0, 2]);
    // 0.1 three times: a float mean of 0.10000000000000002 leaves a variance of rounding dust.
    expect(arr(new StandardScaler().fit([0.1, 0.1, 0.1]).scale)).toEqual([1]);
  });

  it('honours withMean and withStd', () => {
    expect(arr(new StandardScaler({ withMean: false }).fit([1, 3]).transform([1, 3]).data)).toEqual([1, 3]);
    expect(arr(new StandardScaler({ withStd: false }).fit([1, 3]).transform([1, 3]).data)).toEqual([-1, 1]);
  });

  it('inverse-transforms forecasts of chosen columns ([B, horizon·K] rows)', () => {
    const s = new StandardScaler().fit(rows);
    const pred = new Tensor(Float32Array.of(0, 1, -1, 2), [2, 2]); // two forecasts, horizon 2, column 1
    const back = s.inverseTransform(pred, { columns: [1] });
    const sd = Math.sqrt(125);
    arr(back.data).forEach((v, i) => expect(v).toBeCloseTo(25 + [0, 1, -1, 2][i] * sd, 4));
    expect(back.shape).toEqual([2, 2]);
  });

  it('inverseTransform(transform(x)) ≈ x, and JSON round-trips exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((F) => fc.array(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: F, maxLength: F }), { minLength: 1, maxLength: 20 })),
        fc.boolean(),
        (data, minmax) => {
          const s = minmax ? new MinMaxScaler({ featureRange: [-1, 2] }).fit(data) : new StandardScaler().fit(data);
          const back = s.inverseTransform(s.transform(data));
          const flat = data.flat();
          const span = Math.max(1, ...flat.map(Math.abs));
          arr(back.data).forEach((v, i) => expect(Math.abs(v - flat[i])).toBeLessThanOrEqual(span * 2e-6));
          const json = JSON.parse(JSON.stringify(s));
          const again = minmax ? MinMaxScaler.fromJSON(json) : StandardScaler.fromJSON(json);
          expect(again.toJSON()).toEqual(s.toJSON());
          expect(arr(again.transform(data).data)).toEqual(arr(s.transform(data).data));
        },
      ),
    );
  });

  it('refuses bad input', () => {
    const s = new StandardScaler().fit(rows);
    const json = s.toJSON();
    const cases: [() => unknown, RegExp][] = [
      [() => new StandardScaler().transform([1]), /StandardScaler.transform: not fitted: call fit\(series\) first/],
      [() => new StandardScaler().mean, /StandardScaler.mean: not fitted/],
      [() => new StandardScaler().fit([]), /StandardScaler.fit: series must hold at least one step, got none/],
      [() => new StandardScaler().fit([1, Infinity]), /StandardScaler.fit: series\[1\] must be a finite number, got Infinity/],
      [() => new StandardScaler({ with_mean: false } as never), /StandardScaler: unknown option 'with_mean'/],
      [() => new StandardScaler({ withStd: 0 as never }), /StandardScaler: withStd must be a boolean, got 0/],
      [() => s.transform([[1, 2, 3]]), /StandardScaler.transform: series must have the 2 fitted features per row \(or a multiple of it\), got rows of 3/],
      [() => s.transform([1, 2]), /series must have the 2 fitted features per row/],
      [() => s.inverseTransform([1], { columns: [2] }), /StandardScaler.inverseTransform: columns\[0\] must be a feature index in \[0, 1\], got 2/],
      [() => s.inverseTransform([1], { columns: [] }), /columns must be a non-empty array of feature indices, got an empty array/],
      [() => StandardScaler.fromJSON({ ...json, variance: [1, -1] }), /StandardScaler.fromJSON: json.variance\[1\] must be non-negative, got -1/],
      [() => StandardScaler.fromJSON({ ...json, variance: [1] }), /json.variance must be an array of 2 numbers, got length 1/],
      [() => StandardScaler.fromJSON({ ...json, mean: [1, 'x'] }), /json.mean\[1\] must be a finite number, got 'x'/],
      [() => StandardScaler.fromJSON({ ...json, nSamples: -3 }), /json.nSamples must be a positive integer, got -3/],
      [() => StandardScaler.fromJSON({ ...json, withMean: 'no' }), /json.withMean must be a boolean, got 'no'/],
      [() => StandardScaler.fromJSON({ ...json, type: 'MinMaxScaler' }), /json.type must be 'StandardScaler', got 'MinMaxScaler'/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
    expect(StandardScaler.fromJSON(new StandardScaler().toJSON()).fitted).toBe(false);
  });
});

describe('MinMaxScaler', () => {
  const rows = [[1, -1], [3, 1], [5, 3]];

  it("matches sklearn's data_min_, data_max_, scale_, min_ and transform", () => {
    const s = new MinMaxScaler().fit(rows);
    expect([arr(s.dataMin), arr(s.dataMax), arr(s.dataRange)]).toEqual([[1, -1], [5, 3], [4, 4]]);
    expect([arr(s.scale), arr(s.min)]).toEqual([[0.25, 0.25], [-0.25, 0.25]]);
    expect(s.transform(rows).toArray()).toEqual([[0, 0], [0.5, 0.5], [1, 1]]);
    expect(new MinMaxScaler({ featureRange: [-1, 1] }).fit(rows).transform(rows).toArray()).toEqual([[-1, -1], [0, 0], [1, 1]]);
    expect(s.transform([[7, -3]]).toArray()).toEqual([[1.5, -0.5]]);
    expect(new MinMaxScaler({ clip: true }).fit(rows).transform([[7, -3]]).toArray()).toEqual([[1, 0]]);
  });

  it('maps a constant feature to the bottom of the range, like sklearn', () => {
    const s = new MinMaxScaler({ featureRange: [2, 3] }).fit([4, 4, 4]);
    expect([arr(s.scale), arr(s.transform([4, 5]).data)]).toEqual([[1], [2, 3]]);
  });

  it('refuses bad input', () => {
    const json = new MinMaxScaler().fit(rows).toJSON();
    const cases: [() => unknown, RegExp][] = [
      [() => new MinMaxScaler({ featureRange: [1, 0] }), /MinMaxScaler: featureRange must be \[min, max\] of finite numbers with min < max, got \[1, 0\]/],
      [() => new MinMaxScaler({ featureRange: 1 as never }), /featureRange must be \[min, max\] of finite numbers with min < max, got 1/],
      [() => new MinMaxScaler().dataMin, /MinMaxScaler.dataMin: not fitted/],
      [() => MinMaxScaler.fromJSON({ ...json, dataMax: [0, 3] }), /MinMaxScaler.fromJSON: json.dataMax\[0\] must be at least json.dataMin\[0\] = 1, got 0/],
      [() => MinMaxScaler.fromJSON({ ...json, featureRange: [0] }), /MinMaxScaler.fromJSON: json.featureRange must be \[min, max\]/],
      [() => MinMaxScaler.fromJSON({ ...json, dataMin: [] }), /json.dataMin must be a non-empty array of numbers \(or null, unfitted\), got an empty array/],
      [() => MinMaxScaler.fromJSON({ ...json, clip: null }), /json.clip must be a boolean, got null/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('calendarFeatures', () => {
  it('reads pandas-style values in UTC', () => {
    // 2024-01-01 was a Monday; 2024 is a leap year (31 December is day 366).
    const t = calendarFeatures(['2024-01-01', '2024-01-07', '2024-12-31', '2023-12-31T23:59:00Z'], {
      features: ['dayOfWeek', 'dayOfYear', 'month', 'dayOfMonth', 'hour', 'minute'],
      encoding: 'index',
    });
    expect(t.columns).toEqual(['dayOfWeek', 'dayOfYear', 'month', 'dayOfMonth', 'hour', 'minute']);
    expect(t.toArray()).toEqual([
      [0, 1, 1, 1, 0, 0],
      [6, 7, 1, 7, 0, 0],
      [1, 366, 12, 31, 0, 0],
      [6, 365, 12, 31, 23, 59],
    ]);
  });

  it('takes offsets, wall-clock strings, Dates and epoch ms', () => {
    const opts = { features: ['month', 'dayOfMonth', 'hour', 'minute'] as const, encoding: 'index' as const };
    // 01:30 at +02:00 is 23:30 UTC on the day before: 29 February 2024.
    expect(calendarFeatures(['2024-03-01T01:30+02:00'], { ...opts, features: [...opts.features] }).toArray()).toEqual([[2, 29, 23, 30]]);
    expect(calendarFeatures(['2024-03-01T10:30', '2024-03-01 10:30:15.250'], { ...opts, features: [...opts.features] }).toArray()).toEqual([[3, 1, 10, 30], [3, 1, 10, 30]]);
    const instant = Date.UTC(2024, 2, 1, 10, 30);
    expect(calendarFeatures([new Date(instant), instant], { ...opts, features: [...opts.features] }).toArray()).toEqual([[3, 1, 10, 30], [3, 1, 10, 30]]);
    expect(calendarFeatures(['0099-06-15'], { features: ['month'], encoding: 'index' }).toArray()).toEqual([[6]]);
  });

  it('encodes sin/cos of the day of the year over 365 or 366 days', () => {
    const t = calendarFeatures(['2024-01-01', '2024-07-02', '2023-07-02'], { features: ['dayOfYear'] });
    expect(t.columns).toEqual(['dayOfYear.sin', 'dayOfYear.cos']);
    const d = arr(t.data);
    expect([d[0], d[1]]).toEqual([0, 1]);
    // 2 July 2024 is day 184 of 366: angle 2π·183/366 = π. In 2023 it is day 183 of 365.
    expect(d[2]).toBeCloseTo(0, 6);
    expect(d[3]).toBeCloseTo(-1, 6);
    expect(d[4]).toBeCloseTo(Math.sin((2 * Math.PI * 182) / 365), 6);
    expect(d[5]).toBeCloseTo(Math.cos((2 * Math.PI * 182) / 365), 6);
  });

  it('one-hot encodes, and mixes encodings per feature', () => {
    const t = calendarFeatures(['2024-01-07', '2024-01-08'], { features: ['dayOfWeek', 'month'], encoding: { dayOfWeek: 'onehot', month: 'index' } });
    expect(t.columns).toEqual(['dayOfWeek=0', 'dayOfWeek=1', 'dayOfWeek=2', 'dayOfWeek=3', 'dayOfWeek=4', 'dayOfWeek=5', 'dayOfWeek=6', 'month']);
    expect(t.toArray()).toEqual([[0, 0, 0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 0, 0, 0, 1]]);
    expect(calendarFeatures(['2024-02-29'], { features: ['dayOfYear'], encoding: 'onehot' }).shape).toEqual([1, 366]);
  });

  it('puts consecutive days at equal steps around the circle (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -50000, max: 50000 }), (day) => {
        const ms = day * 86_400_000;
        const t = calendarFeatures([ms, ms + 86_400_000], { features: ['dayOfWeek', 'dayOfYear'] });
        const d = arr(t.data);
        for (let c = 0; c < 4; c += 2) expect(d[c] ** 2 + d[c + 1] ** 2).toBeCloseTo(1, 5);
        const step = (Math.atan2(d[4], d[5]) - Math.atan2(d[0], d[1]) + 4 * Math.PI) % (2 * Math.PI);
        expect(step).toBeCloseTo((2 * Math.PI) / 7, 5);
      }),
    );
  });

  it('refuses bad input', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => calendarFeatures('2024-01-01' as never), /calendarFeatures: dates must be an array of Dates, ISO strings or ms since the epoch, got string/],
      [() => calendarFeatures(['2023-02-29']), /calendarFeatures: dates\[0\] must be an ISO 8601 date such as '2024-03-01' or '2024-03-01T10:00:00Z', got "2023-02-29" \(day 29 of a month of 28\)/],
      [() => calendarFeatures(['2024-01-01', '2024-13-01']), /dates\[1\] must be an ISO 8601 date .* got "2024-13-01" \(month 13\)/],
      [() => calendarFeatures(['yesterday']), /dates\[0\] must be an ISO 8601 date .* got "yesterday"$/],
      [() => calendarFeatures(['2024-01-01T24:00']), /\(time out of range\)/],
      [() => calendarFeatures(['2024-01-01T10:00+25:00']), /\(offset out of range\)/],
      [() => calendarFeatures([new Date(NaN)]), /calendarFeatures: dates\[0\] is an invalid Date/],
      [() => calendarFeatures([NaN]), /dates\[0\] must be a time in ms since the epoch within a Date's range, got NaN/],
      [() => calendarFeatures([1e20]), /within a Date's range, got 100000000000000000000/],
      [() => calendarFeatures([null] as never), /dates\[0\] must be a Date, an ISO 8601 string or ms since the epoch, got null/],
      [() => calendarFeatures([], { features: ['week' as never] }), /features\[0\] must be 'minute', 'hour', 'dayOfWeek', 'dayOfMonth', 'dayOfYear' or 'month', got 'week'/],
      [() => calendarFeatures([], { features: ['month', 'month'] }), /features\[1\] repeats 'month'/],
      [() => calendarFeatures([], { features: [] }), /features must be a non-empty array of/],
      [() => calendarFeatures([], { encoding: 'binary' as never }), /calendarFeatures: encoding must be 'onehot', 'sincos' or 'index', got 'binary'/],
      [() => calendarFeatures([], { encoding: { dayOfWeek: 'x' as never } }), /encoding.dayOfWeek must be 'onehot', 'sincos' or 'index', got 'x'/],
      [() => calendarFeatures([], { encoding: { month: 'index' } }), /encoding.month names no feature of features \('dayOfWeek' or 'dayOfYear'\)/],
      [() => calendarFeatures([], { utc: true } as never), /calendarFeatures: unknown option 'utc'/],
    ];
    for (const [f, msg] of cases) expect(f).toThrow(msg);
  });
});

describe('a names → gender classifier pipeline', () => {
  beforeAll(async () => {
    await setBackend('js');
  });

  it('feeds padded batches to Embedding and an LSTM with lengths', () => {
    const tok = new CharTokenizer().fit(names.map(([n]) => n));
    const examples = names.map(([n, g]) => ({ sequence: tok.encode(n), label: g }));
    const [batch] = sequenceBatches(examples, { batchSize: 4, seed: 1, paddingValue: tok.vocab.padId });
    const emb = new Embedding(tok.vocabSize, 3, { seed: 1 });
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 2 });
    const e = emb.forward(batch.x);
    expect(e.shape).toEqual([batch.T, batch.B, 3]);
    const out = lstm.forward(e, undefined, { lengths: batch.lengths });
    expect(out.h.shape).toEqual([1, batch.B, 5]);
    // A row's final state is the state at its own last step: the same as running it alone.
    const r = batch.lengths.indexOf(Math.min(...batch.lengths));
    const alone = lstm.forward(emb.forward({ data: examples[batch.indices[r]].sequence, shape: [batch.lengths[r], 1] }));
    for (let k = 0; k < 5; k++) expect(out.h.data[r * 5 + k]).toBeCloseTo(alone.h.data[k], 5);
    emb.dispose();
    lstm.dispose();
  });
});

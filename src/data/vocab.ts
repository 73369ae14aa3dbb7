/**
 * A vocabulary: the bijection between tokens and ids that Embedding rows and logits columns use.
 * Built like torchtext's build_vocab_from_iterator and d2l's Vocab: specials first (ids 0, 1, …
 * in the order given), then the tokens of the corpus by descending frequency.
 */
import {
  bool,
  choice,
  fmt,
  isIterable,
  jsonObject,
  positiveInt,
  readOptions,
  typeName,
} from './checks.js';

/** torchtext's tutorial set: <unk> = 0, <pad> = 1, <bos> = 2, <eos> = 3. */
export const DEFAULT_SPECIALS: readonly string[] = Object.freeze(['<unk>', '<pad>', '<bos>', '<eos>']);

export interface VocabBuildOptions {
  /** Tokens seen fewer times are left out (they encode as <unk>). Default 1. */
  minFreq?: number;
  /** The most tokens the vocabulary holds, specials included (torchtext's max_tokens). */
  maxSize?: number;
  /** Tokens placed first, in this order, whether or not the corpus has them. Default DEFAULT_SPECIALS. */
  specials?: readonly string[];
  /**
   * The order of tokens seen equally often: 'firstSeen' (d2l's Vocab, the default) or
   * 'lexicographic' by code point (torchtext's build_vocab_from_iterator, Python's str order).
   */
  ties?: 'firstSeen' | 'lexicographic';
}

export interface VocabJSON {
  type: 'Vocab';
  version: 1;
  /** Every token, in id order. */
  tokens: string[];
  /** The tokens among them that are special (decode can skip them). */
  specials: string[];
}

/** Python's str ordering: by code point, which UTF-16 `<` is not above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  for (let i = 0; ; ) {
    if (i >= a.length) return i >= b.length ? 0 : -1;
    if (i >= b.length) return 1;
    const ca = a.codePointAt(i)!, cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
  }
}

function checkTokenList(fn: string, name: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw new TypeError(`${fn}: ${name} must be an array of strings, got ${typeName(v)}`);
  const seen = new Set<string>();
  for (let i = 0; i < v.length; i++) {
    const t = v[i];
    if (typeof t !== 'string') throw new TypeError(`${fn}: ${name}[${i}] must be a string, got ${fmt(t)}`);
    if (seen.has(t)) throw new RangeError(`${fn}: ${name}[${i}] repeats the token ${JSON.stringify(t)}`);
    seen.add(t);
  }
  return v as string[];
}

export class Vocab {
  private readonly itos: readonly string[];
  private readonly stoi: Map<string, number>;
  private readonly specialSet: ReadonlySet<string>;
  /** The special tokens, in id order. */
  readonly specials: readonly string[];

  /**
   * A vocabulary over `tokens` in id order (torchtext's `vocab()` from an ordered list). `specials`
   * names which of them are special; Vocab.build is the usual way to make one from a corpus.
   */
  constructor(tokens: readonly string[], options: { specials?: readonly string[] } = {}) {
    const fn = 'Vocab';
    readOptions(fn, options, ['specials']);
    const list = checkTokenList(fn, 'tokens', tokens);
    const specials = options.specials === undefined ? [] : checkTokenList(fn, 'specials', options.specials);
    this.itos = Object.freeze([...list]);
    this.stoi = new Map(list.map((t, i) => [t, i]));
    for (let i = 0; i < specials.length; i++) {
      if (!this.stoi.has(specials[i])) throw new RangeError(`${fn}: specials[${i}] ${JSON.stringify(specials[i])} is not among the tokens`);
    }
    this.specials = Object.freeze([...specials].sort((a, b) => this.stoi.get(a)! - this.stoi.get(b)!));
    this.specialSet = new Set(specials);
  }

  /**
   * Counts the tokens of a corpus — a sequence of tokens, or a sequence of token sequences (any
   * iterables, e.g. a generator of tokenized lines) — and builds the vocabulary: specials first,
   * then the tokens seen at least minFreq times by descending count, cut to maxSize. Specials are
   * never counted, so a corpus containing '<unk>' maps it to the special.
   */
  static build(corpus: Iterable<string> | Iterable<Iterable<string>>, options: VocabBuildOptions = {}): Vocab {
    const fn = 'Vocab.build';
    readOptions(fn, options, ['minFreq', 'maxSize', 'specials', 'ties']);
    const minFreq = positiveInt(fn, 'minFreq', options.minFreq, 1);
    const maxSize = options.maxSize === undefined ? Infinity : positiveInt(fn, 'maxSize', options.maxSize);
    const specials = options.specials === undefined ? [...DEFAULT_SPECIALS] : checkTokenList(fn, 'specials', options.specials);
    const ties = choice(fn, 'ties', options.ties, ['firstSeen', 'lexicographic'], 'firstSeen');
    if (maxSize < specials.length) {
      throw new RangeError(`${fn}: maxSize must be at least the ${specials.length} specials, got ${maxSize}`);
    }
    if (typeof corpus === 'string') {
      throw new TypeError(`${fn}: corpus must be a sequence of tokens or of token sequences, got a string; split it first (CharTokenizer or WordTokenizer do)`);
    }
    if (!isIterable(corpus)) {
      throw new TypeError(`${fn}: corpus must be a sequence of tokens or of token sequences, got ${typeName(corpus)}`);
    }
    const special = new Set(specials);
    const counts = new Map<string, number>(); // insertion order = first appearance
    const count = (t: string): void => {
      if (!special.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
    };
    let i = 0;
    for (const item of corpus as Iterable<unknown>) {
      if (typeof item === 'string') count(item);
      else if (isIterable(item)) {
        let j = 0;
        for (const t of item) {
          if (typeof t !== 'string') throw new TypeError(`${fn}: corpus[${i}][${j}] must be a token (string), got ${fmt(t)}`);
          count(t);
          j++;
        }
      } else {
        throw new TypeError(`${fn}: corpus[${i}] must be a token (string) or a sequence of tokens, got ${fmt(item)}`);
      }
      i++;
    }
    const kept = [...counts].filter(([, c]) => c >= minFreq);
    // Array.prototype.sort is stable, so equal counts keep their first-seen order.
    kept.sort(ties === 'firstSeen' ? (a, b) => b[1] - a[1] : (a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
    const tokens = [...specials, ...kept.slice(0, maxSize - specials.length).map(([t]) => t)];
    return new Vocab(tokens, { specials });
  }

  get size(): number {
    return this.itos.length;
  }

  /** The same as size (torchtext's len(vocab)). */
  get length(): number {
    return this.itos.length;
  }

  /** Every token in id order (torchtext's get_itos()). */
  get tokens(): readonly string[] {
    return this.itos;
  }

  has(token: string): boolean {
    return this.stoi.has(token);
  }

  isSpecial(token: string): boolean {
    return this.specialSet.has(token);
  }

  /** The id of a token; a token not in the vocabulary is '<unk>'s id, or an error without one. */
  indexOf(token: string): number {
    return this.lookup('Vocab.indexOf', 'token', token);
  }

  private lookup(fn: string, what: string, token: unknown): number {
    if (typeof token !== 'string') throw new TypeError(`${fn}: ${what} must be a string, got ${fmt(token)}`);
    const id = this.stoi.get(token);
    if (id !== undefined) return id;
    const unk = this.stoi.get('<unk>');
    if (unk === undefined) {
      throw new RangeError(`${fn}: ${what} ${JSON.stringify(token)} is not in the vocabulary, which has no '<unk>' to stand for it`);
    }
    return unk;
  }

  /** The token of an id in [0, size). */
  tokenOf(id: number): string {
    return this.tokenAt('Vocab.tokenOf', 'id', id);
  }

  private tokenAt(fn: string, what: string, id: unknown): string {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.itos.length) {
      throw new RangeError(`${fn}: ${what} must be a token id in [0, ${this.itos.length - 1}], got ${fmt(id)}`);
    }
    return this.itos[id];
  }

  /** The ids of a sequence of tokens (unknown tokens → '<unk>'). */
  encode(tokens: Iterable<string>): Int32Array {
    const fn = 'Vocab.encode';
    if (typeof tokens === 'string' || !isIterable(tokens)) {
      throw new TypeError(`${fn}: tokens must be an array of strings, got ${typeof tokens === 'string' ? 'a string' : typeName(tokens)}`);
    }
    const ids: number[] = [];
    let i = 0;
    for (const t of tokens) ids.push(this.lookup(fn, `tokens[${i++}]`, t));
    return Int32Array.from(ids);
  }

  /** The tokens of ids, optionally without the special ones. */
  decode(ids: ArrayLike<number>, options: { skipSpecials?: boolean } = {}): string[] {
    const fn = 'Vocab.decode';
    readOptions(fn, options, ['skipSpecials']);
    const skip = bool(fn, 'skipSpecials', options.skipSpecials, false);
    if (ids === null || typeof ids !== 'object' || !Number.isSafeInteger(ids.length)) {
      throw new TypeError(`${fn}: ids must be an array of token ids, got ${typeName(ids)}`);
    }
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokenAt(fn, `ids[${i}]`, ids[i]);
      if (!skip || !this.specialSet.has(t)) out.push(t);
    }
    return out;
  }

  private special(name: string): number {
    const id = this.stoi.get(name);
    if (id === undefined) throw new RangeError(`Vocab: this vocabulary has no '${name}' token`);
    return id;
  }

  get unkId(): number {
    return this.special('<unk>');
  }

  get padId(): number {
    return this.special('<pad>');
  }

  get bosId(): number {
    return this.special('<bos>');
  }

  get eosId(): number {
    return this.special('<eos>');
  }

  toJSON(): VocabJSON {
    return { type: 'Vocab', version: 1, tokens: [...this.itos], specials: [...this.specials] };
  }

  /** Reads toJSON()'s object (or its JSON text), refusing anything that is not one. */
  static fromJSON(json: unknown): Vocab {
    const fn = 'Vocab.fromJSON';
    const o = jsonObject(fn, json, 'Vocab', 1);
    const tokens = checkTokenList(fn, 'json.tokens', o.tokens);
    const specials = checkTokenList(fn, 'json.specials', o.specials);
    const ids = new Set(tokens);
    for (let i = 0; i < specials.length; i++) {
      if (!ids.has(specials[i])) throw new RangeError(`${fn}: json.specials[${i}] ${JSON.stringify(specials[i])} is not among json.tokens`);
    }
    return new Vocab(tokens, { specials });
  }
}

/**
 * Tokenizers: text → tokens → ids through a Vocab, and back. Both serialise (toJSON/fromJSON) with
 * their vocabulary, so a model can carry its tokenizer in its metadata.
 */
import { bool, choice, fmt, isIterable, jsonObject, readOptions, typeName } from './checks.js';
import { Vocab, type VocabBuildOptions, type VocabJSON } from './vocab.js';

export interface DecodeOptions {
  /** Leave out special tokens (<pad>, <bos>, …). Default false. */
  skipSpecials?: boolean;
}

function text(fn: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`${fn}: ${name} must be a string, got ${fmt(v)}`);
  return v;
}

/** fit()'s corpus: one text or a sequence of texts. */
function texts(fn: string, v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (!isIterable(v)) throw new TypeError(`${fn}: texts must be a string or an array of strings, got ${typeName(v)}`);
  const out: string[] = [];
  for (const t of v) out.push(text(fn, `texts[${out.length}]`, t));
  return out;
}

function vocabOption(fn: string, v: unknown): Vocab | null {
  if (v === undefined) return null;
  if (!(v instanceof Vocab)) throw new TypeError(`${fn}: vocab must be a Vocab, got ${typeName(v)}`);
  return v;
}

function jsonVocab(fn: string, v: unknown): Vocab | null {
  if (v === null) return null;
  try {
    return Vocab.fromJSON(v);
  } catch (e) {
    const err = e as Error;
    throw new (err.constructor as ErrorConstructor)(err.message.replace(/^Vocab\.fromJSON: json/, `${fn}: json.vocab`));
  }
}

abstract class Tokenizer {
  protected vocabulary: Vocab | null;

  constructor(vocab: Vocab | null) {
    this.vocabulary = vocab;
  }

  protected abstract get name(): string;

  /** Splits a text into tokens. */
  abstract tokenize(text: string): string[];

  /** True once fit() ran or a vocab was given. */
  get fitted(): boolean {
    return this.vocabulary !== null;
  }

  /** The vocabulary (fit() builds it). */
  get vocab(): Vocab {
    if (this.vocabulary === null) throw new Error(`${this.name}: not fitted: call fit(texts) or pass { vocab } first`);
    return this.vocabulary;
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** Builds the vocabulary from one text or many (Vocab.build's options). Returns this. */
  fit(corpus: string | Iterable<string>, options?: VocabBuildOptions): this {
    const fn = `${this.name}.fit`;
    const all = texts(fn, corpus);
    const tokens = all.map((t) => this.tokenize(t));
    try {
      this.vocabulary = Vocab.build(tokens, options);
    } catch (e) {
      const err = e as Error;
      throw new (err.constructor as ErrorConstructor)(err.message.replace(/^Vocab\.build:/, `${fn}:`));
    }
    return this;
  }

  /** The ids of a text; tokens outside the vocabulary are '<unk>'. */
  encode(input: string): Int32Array {
    const fn = `${this.name}.encode`;
    const tokens = this.tokenize(text(fn, 'text', input));
    const vocab = this.vocab;
    const ids = new Int32Array(tokens.length);
    const unk = vocab.has('<unk>') ? vocab.indexOf('<unk>') : -1;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (vocab.has(t)) ids[i] = vocab.indexOf(t);
      else if (unk >= 0) ids[i] = unk;
      else throw new RangeError(`${fn}: the token ${JSON.stringify(t)} (token ${i}) is not in the vocabulary, which has no '<unk>' to stand for it`);
    }
    return ids;
  }

  /**
   * @internal A decoder fed one id at a time: each call returns the text that id adds to what
   * decode() writes for the ids fed so far, so the pieces join to decode() of them all (what
   * generateText streams). Ids are checked as decode() checks them; fn names the caller.
   */
  abstract _streamDecoder(fn: string): (id: number) => string;

  protected tokensOf(fn: string, ids: ArrayLike<number>, options: DecodeOptions | undefined): string[] {
    readOptions(fn, options, ['skipSpecials']);
    const skipSpecials = bool(fn, 'skipSpecials', options?.skipSpecials, false);
    try {
      return this.vocab.decode(ids, { skipSpecials });
    } catch (e) {
      const err = e as Error;
      throw new (err.constructor as ErrorConstructor)(err.message.replace(/^Vocab\.decode:/, `${fn}:`));
    }
  }
}

export interface CharTokenizerOptions {
  /** A vocabulary to use instead of fitting one. */
  vocab?: Vocab;
}

export interface CharTokenizerJSON {
  type: 'CharTokenizer';
  version: 1;
  vocab: VocabJSON | null;
}

/**
 * One token per Unicode code point (not per UTF-16 unit: '😀' is one token). Text is taken as it
 * comes — no normalisation — so 'é' precomposed and 'e' + U+0301 are different sequences.
 */
export class CharTokenizer extends Tokenizer {
  constructor(options: CharTokenizerOptions = {}) {
    readOptions('CharTokenizer', options, ['vocab']);
    super(vocabOption('CharTokenizer', options.vocab));
  }

  protected get name(): string {
    return 'CharTokenizer';
  }

  tokenize(input: string): string[] {
    return Array.from(text('CharTokenizer.tokenize', 'text', input));
  }

  /** The text of ids: their characters joined (a special decodes as its name, e.g. '<unk>'). */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    return this.tokensOf('CharTokenizer.decode', ids, options).join('');
  }

  _streamDecoder(fn: string): (id: number) => string {
    return (id) => this.tokensOf(fn, [id], undefined)[0];
  }

  toJSON(): CharTokenizerJSON {
    return { type: 'CharTokenizer', version: 1, vocab: this.vocabulary?.toJSON() ?? null };
  }

  static fromJSON(json: unknown): CharTokenizer {
    const fn = 'CharTokenizer.fromJSON';
    const o = jsonObject(fn, json, 'CharTokenizer', 1);
    const vocab = jsonVocab(fn, o.vocab);
    return new CharTokenizer(vocab ? { vocab } : {});
  }
}

export type Punctuation = 'tokens' | 'strip' | 'keep';

export interface WordTokenizerOptions {
  /** Lower-case the text first (locale-independent). Default true. */
  lowercase?: boolean;
  /**
   * 'tokens' (default): every punctuation mark is a token of its own, like torchtext's
   * basic_english; 'strip': punctuation is dropped, like d2l's time-machine preprocessing;
   * 'keep': split on whitespace only, punctuation stays attached to its word.
   */
  punctuation?: Punctuation;
  vocab?: Vocab;
}

export interface WordTokenizerJSON {
  type: 'WordTokenizer';
  version: 1;
  lowercase: boolean;
  punctuation: Punctuation;
  vocab: VocabJSON | null;
}

// A word: letters, marks, digits and connectors (_), with apostrophes inside ("don't", "o'clock").
const WORD = String.raw`[\p{L}\p{M}\p{N}\p{Pc}]+(?:['’][\p{L}\p{M}\p{N}\p{Pc}]+)*`;
const WORD_OR_MARK = new RegExp(`${WORD}|[^\\s\\p{L}\\p{M}\\p{N}\\p{Pc}]`, 'gu');
const WORD_ONLY = new RegExp(WORD, 'gu');

// How decode() places a one-mark token: against the word before, the word after, or both.
const CLOSES = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '%', '…', '»', '”', '’']);
const OPENS = new Set(['(', '[', '{', '¿', '¡', '«', '“', '‘', '$', '#', '@']);
const JOINS = new Set(['-', '/']);
const QUOTES = new Set(['"', "'"]);

const PUNCTUATION: readonly Punctuation[] = ['tokens', 'strip', 'keep'];

/** WordTokenizer.decode's spacing, one token at a time: each call returns the token with the space (if any) before it. */
function wordJoiner(): (token: string) => string {
  let glueNext = true; // no space before the next token
  let quoteOpen = false;
  return (t) => {
    let left = CLOSES.has(t) || JOINS.has(t);
    let right = OPENS.has(t) || JOINS.has(t);
    if (QUOTES.has(t)) {
      left = quoteOpen;
      right = !quoteOpen;
      quoteOpen = !quoteOpen;
    }
    const piece = !glueNext && !left ? ` ${t}` : t;
    glueNext = right;
    return piece;
  };
}

export class WordTokenizer extends Tokenizer {
  readonly lowercase: boolean;
  readonly punctuation: Punctuation;

  constructor(options: WordTokenizerOptions = {}) {
    const fn = 'WordTokenizer';
    readOptions(fn, options, ['lowercase', 'punctuation', 'vocab']);
    super(vocabOption(fn, options.vocab));
    this.lowercase = bool(fn, 'lowercase', options.lowercase, true);
    this.punctuation = choice(fn, 'punctuation', options.punctuation, PUNCTUATION, 'tokens');
  }

  protected get name(): string {
    return 'WordTokenizer';
  }

  tokenize(input: string): string[] {
    let s = text('WordTokenizer.tokenize', 'text', input);
    if (this.lowercase) s = s.toLowerCase();
    if (this.punctuation === 'keep') return s.split(/\s+/u).filter((t) => t !== '');
    return s.match(this.punctuation === 'tokens' ? WORD_OR_MARK : WORD_ONLY) ?? [];
  }

  /**
   * The text of ids: words joined by spaces, closing marks (. , ! ? ) …) against the word before,
   * opening marks (( [ “ $ …) against the word after, - and / between words without spaces, and
   * straight quotes alternately opening and closing. Lossy where tokenize was (case, spacing).
   */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const join = wordJoiner();
    let out = '';
    for (const t of this.tokensOf('WordTokenizer.decode', ids, options)) out += join(t);
    return out;
  }

  _streamDecoder(fn: string): (id: number) => string {
    const join = wordJoiner();
    return (id) => join(this.tokensOf(fn, [id], undefined)[0]);
  }

  toJSON(): WordTokenizerJSON {
    return {
      type: 'WordTokenizer',
      version: 1,
      lowercase: this.lowercase,
      punctuation: this.punctuation,
      vocab: this.vocabulary?.toJSON() ?? null,
    };
  }

  static fromJSON(json: unknown): WordTokenizer {
    const fn = 'WordTokenizer.fromJSON';
    const o = jsonObject(fn, json, 'WordTokenizer', 1);
    if (typeof o.lowercase !== 'boolean') throw new TypeError(`${fn}: json.lowercase must be a boolean, got ${fmt(o.lowercase)}`);
    const punctuation = choice(fn, 'json.punctuation', o.punctuation ?? null, PUNCTUATION, 'tokens');
    const vocab = jsonVocab(fn, o.vocab);
    return new WordTokenizer({ lowercase: o.lowercase, punctuation, ...(vocab ? { vocab } : {}) });
  }
}

/**
 * The UTF-8 fallbacks (for an AudioWorkletGlobalScope, which has no TextDecoder/TextEncoder)
 * agree with the engine's TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) and TextEncoder,
 * and load()/save() work with both removed from the global scope.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GRU, Linear, Sequential, SafetensorsError, load, save } from '../src/index.js';
import { decodeFallback, encodeFallback } from '../src/io/utf8.js';
import { Random } from '../src/random.js';

const native = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const nativeDecode = (b: Uint8Array): string | 'error' => {
  try {
    return native.decode(b);
  } catch {
    return 'error';
  }
};
const fallbackDecode = (b: Uint8Array): string | 'error' => {
  try {
    return decodeFallback(b);
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
    return 'error';
  }
};

/** One code point of each UTF-8 length and at every boundary (U+FEFF: the BOM, kept). */
const CODE_POINTS = [0, 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xfeff, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff];

describe('decodeFallback / encodeFallback', () => {
  it('round-trip every boundary code point as the engine does', () => {
    for (const cp of CODE_POINTS) {
      const s = `a${String.fromCodePoint(cp)}z`;
      const bytes = new TextEncoder().encode(s);
      expect(Array.from(encodeFallback(s)), `U+${cp.toString(16)}`).toEqual(Array.from(bytes));
      expect(decodeFallback(bytes), `U+${cp.toString(16)}`).toBe(s);
    }
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
    expect(decodeFallback(bom)).toBe('\ufeff{}'); // kept, as with ignoreBOM (JSON.parse then refuses it)
  });

  it('write a lone surrogate as U+FFFD, like TextEncoder', () => {
    for (const s of ['\ud800', 'x\udc00y', '\udbff\udbff\udfff', '\ud83d']) {
      expect(Array.from(encodeFallback(s)), JSON.stringify(s)).toEqual(Array.from(new TextEncoder().encode(s)));
    }
  });

  it('refuse exactly what the WHATWG decoder refuses', () => {
    const invalid = [
      [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], // stray continuation, overlong 2-byte
      [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], // overlong 3-byte
      [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], // UTF-16 surrogates
      [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], // overlong 4-byte
      [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], // above U+10FFFF, never-valid bytes
      [0xc2], [0xe2, 0x82], [0xf0, 0x9f, 0x98], // truncated
      [0xe2, 0x28, 0xa1], [0xc2, 0x41], // a continuation replaced by ASCII
    ];
    for (const b of invalid) {
      const bytes = new Uint8Array([0x61, ...b, 0x62]);
      expect(nativeDecode(bytes), b.map((x) => x.toString(16)).join(' ')).toBe('error');
      expect(fallbackDecode(bytes), b.map((x) => x.toString(16)).join(' ')).toBe('error');
      expect(fallbackDecode(new Uint8Array(b))).toBe('error'); // also at the very end
    }
  });

  it('agree with the engine on random byte strings and random text', () => {
    const rng = new Random(12);
    const picks = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f, 0x90, 0x8f];
    for (let t = 0; t < 3000; t++) {
      const n = Math.floor(rng.next() * 9);
      const b = Uint8Array.from({ length: n }, () => (rng.next() < 0.5 ? picks[Math.floor(rng.next() * picks.length)] : Math.floor(rng.next() * 256)));
      expect(fallbackDecode(b), Array.from(b).join(',')).toBe(nativeDecode(b));
    }
    for (let t = 0; t < 300; t++) {
      let s = '';
      for (let k = Math.floor(rng.next() * 40); k > 0; k--) {
        const r = rng.next();
        s += r < 0.4 ? String.fromCharCode(32 + Math.floor(rng.next() * 95))
          : r < 0.9 ? String.fromCodePoint(CODE_POINTS[Math.floor(rng.next() * CODE_POINTS.length)])
            : String.fromCharCode(0xd800 + Math.floor(rng.next() * 0x800)); // lone surrogates too
      }
      const want = new TextEncoder().encode(s);
      expect(Array.from(encodeFallback(s))).toEqual(Array.from(want));
      expect(decodeFallback(want)).toBe(native.decode(want));
    }
  });

  it('decode a header longer than one chunk of code units', () => {
    const s = 'é€😀x'.repeat(5000);
    expect(decodeFallback(new TextEncoder().encode(s))).toBe(s);
  });
});

describe('load() and save() without TextDecoder and TextEncoder (as in an AudioWorklet)', () => {
  const g = globalThis as { TextDecoder?: unknown; TextEncoder?: unknown };
  const saved = { TextDecoder: g.TextDecoder, TextEncoder: g.TextEncoder };
  afterEach(() => {
    g.TextDecoder = saved.TextDecoder;
    g.TextEncoder = saved.TextEncoder;
  });

  it('round-trips a model bit for bit, with metadata outside ASCII, and still refuses bad UTF-8', () => {
    const model = new Sequential(new GRU({ inputSize: 1, hiddenSize: 6, seed: 1 }), new Linear(6, 1, { seed: 2 }));
    const withNative = save(model, { metadata: { note: 'Grüße, 声音 🎵' } });
    delete g.TextDecoder;
    delete g.TextEncoder;
    expect(typeof (globalThis as { TextDecoder?: unknown }).TextDecoder).toBe('undefined');
    const without = save(model, { metadata: { note: 'Grüße, 声音 🎵' } });
    expect(Array.from(without)).toEqual(Array.from(withNative));
    const again = load(without) as Sequential;
    expect(again.constructor.name).toBe('Sequential');
    for (const [k, v] of Object.entries(model.stateDict())) expect(Array.from(again.stateDict()[k].data), k).toEqual(Array.from(v.data));

    // A header with an invalid byte (0xff in place of a space of the padding or a quote's content).
    const bad = without.slice();
    const headerEnd = 8 + Number(new DataView(bad.buffer).getBigUint64(0, true));
    bad[headerEnd - 1] = 0xff;
    expect(() => load(bad)).toThrow(SafetensorsError);
    expect(() => load(bad)).toThrow(/the header \(bytes 8 to \d+\) is not valid UTF-8/);
    model.dispose();
    again.dispose();
  });
});

/**
 * UTF-8 for the safetensors header, where TextDecoder and TextEncoder are missing: an
 * AudioWorkletGlobalScope has neither (Chromium's, measured), yet an AudioWorklet loads its
 * model with load(bytes). The engine's TextDecoder/TextEncoder are used wherever they exist;
 * the fallbacks give the same results: decodeUtf8 is TextDecoder('utf-8', { fatal: true,
 * ignoreBOM: true }) — it refuses what the WHATWG decoder refuses (overlong forms, surrogates,
 * code points above U+10FFFF, truncated or stray continuation bytes) and keeps a byte-order
 * mark — and encodeUtf8 is TextEncoder's encode (a lone surrogate becomes U+FFFD).
 * test/utf8.test.ts compares both with the engine's on every code point class and on invalid
 * sequences.
 */

interface Decoder {
  decode(bytes: Uint8Array): string;
}
interface Encoder {
  encode(text: string): Uint8Array;
}
type DecoderCtor = new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => Decoder;
type EncoderCtor = new () => Encoder;

/** Thrown by decodeUtf8 for bytes that are not UTF-8 (the engine's TextDecoder throws a TypeError). */
export class Utf8Error extends TypeError {
  constructor(at: number) {
    super(`not valid UTF-8 (at byte ${at})`);
    this.name = 'Utf8Error';
  }
}

/** UTF-8 bytes → string, refusing invalid input (throws Utf8Error, or the engine's TypeError). */
export function decodeUtf8(bytes: Uint8Array): string {
  // Looked up per call, not at import: a page may add or remove it (tests do).
  const Native = (globalThis as { TextDecoder?: DecoderCtor }).TextDecoder;
  if (Native !== undefined) return new Native('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  return decodeFallback(bytes);
}

/** string → UTF-8 bytes (a lone surrogate is written as U+FFFD, as TextEncoder does). */
export function encodeUtf8(text: string): Uint8Array {
  const Native = (globalThis as { TextEncoder?: EncoderCtor }).TextEncoder;
  if (Native !== undefined) return new Native().encode(text);
  return encodeFallback(text);
}

/** Code units gathered before each String.fromCharCode call (its argument count stays small). */
const CHUNK = 4096;

/** @internal The decoder used without TextDecoder (exported for tests). */
export function decodeFallback(bytes: Uint8Array): string {
  const units = new Uint16Array(Math.min(bytes.length, CHUNK) + 1);
  let text = '';
  let n = 0;
  const flush = (): void => {
    text += String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
    n = 0;
  };
  for (let i = 0; i < bytes.length;) {
    if (n >= CHUNK) flush();
    const b0 = bytes[i];
    if (b0 < 0x80) {
      units[n++] = b0;
      i++;
      continue;
    }
    // The WHATWG decoder's ranges: the first continuation byte's bounds exclude overlong forms,
    // UTF-16 surrogates (ED A0..BF) and code points past U+10FFFF (F4 90..).
    let need: number, cp: number, lo = 0x80, hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lo = 0xa0;
      else if (b0 === 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lo = 0x90;
      else if (b0 === 0xf4) hi = 0x8f;
    } else {
      throw new Utf8Error(i);
    }
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      if (b === undefined || b < (k === 1 ? lo : 0x80) || b > (k === 1 ? hi : 0xbf)) throw new Utf8Error(i);
      cp = (cp << 6) | (b & 0x3f);
    }
    i += need + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
    } else {
      units[n++] = cp;
    }
  }
  flush();
  return text;
}

/** @internal The encoder used without TextEncoder (exported for tests). */
export function encodeFallback(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3); // every UTF-16 code unit takes at most 3 bytes
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        cp = 0xfffd;
      }
    }
    if (cp < 0x80) out[n++] = cp;
    else if (cp < 0x800) {
      out[n++] = 0xc0 | (cp >> 6);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[n++] = 0xe0 | (cp >> 12);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  return out.slice(0, n);
}

/**
 * readSafetensors / writeSafetensors (src/io/safetensors.ts): the format rules, every dtype the reader
 * converts, byte identity with the reference writer's layout, PyTorch state dicts written by
 * test/fixtures/generate_safetensors.py, and a fast-check fuzz over hostile files.
 *
 * SAFETENSORS_EXPORT_DIR=dir also writes our own models there for the generator's --check mode
 * (PyTorch loads them with load_state_dict(strict=True) and compares predictions).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GRU,
  LSTM,
  LanguageModel,
  RNN,
  SAFETENSORS_MAX_HEADER_BYTES,
  SafetensorsError,
  Tensor,
  backendInfo,
  readSafetensors,
  ready,
  writeSafetensors,
  type Module,
} from '../src/index.js';
import { maxAbs, maxAbsDiff, randomData, type Json } from './helpers.js';

const FIXTURES = new URL('./fixtures/safetensors/', import.meta.url);
const EPS32 = 2 ** -23;
const enc = new TextEncoder();

interface Case {
  name: string;
  file: string;
  dtype: string;
  module: 'LSTM' | 'GRU' | 'RNN' | 'LanguageModel';
  config: Record<string, unknown>;
  metadata: Record<string, string> | null;
  input?: Json;
  ids?: Json;
  expected: Record<string, Json>;
  torch32MaxAbsErr: Record<string, number>;
}
interface Fixtures {
  cases: Case[];
  dtypes: { file: string; tensors: Array<[string, string, Json]> };
  names: { file: string; tensors: Array<[string, Json]>; metadata: Record<string, string> };
}
const fixtures = JSON.parse(readFileSync(new URL('cases.json', FIXTURES), 'utf8')) as Fixtures;
const fileBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

// ---------------------------------------------------------------------------
// building files by hand (any header text, any data), and checking what the reader does with them

/** A file with this exact header text (unpadded unless the text is), data, and a header length field. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, length?: bigint): Uint8Array {
  const h = typeof header === 'string' ? enc.encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number): string =>
  `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`;

/** Little-endian bytes of values written with a DataView setter. */
function le(values: ArrayLike<number | bigint>, bytesPer: number, set: (v: DataView, at: number, x: never) => void): Uint8Array {
  const out = new Uint8Array(values.length * bytesPer);
  const v = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) set(v, i * bytesPer, values[i] as never);
  return out;
}
const f32le = (xs: ArrayLike<number>) => le(xs, 4, (v, at, x: number) => v.setFloat32(at, x, true));
const f64le = (xs: ArrayLike<number>) => le(xs, 8, (v, at, x: number) => v.setFloat64(at, x, true));
const u16le = (xs: ArrayLike<number>) => le(xs, 2, (v, at, x: number) => v.setUint16(at, x, true));
const u32le = (xs: ArrayLike<number>) => le(xs, 4, (v, at, x: number) => v.setUint32(at, x, true));
const i32le = (xs: ArrayLike<number>) => le(xs, 4, (v, at, x: number) => v.setInt32(at, x, true));
const i64le = (xs: ArrayLike<bigint>) => le(xs, 8, (v, at, x: bigint) => v.setBigInt64(at, x, true));
const u64le = (xs: ArrayLike<bigint>) => le(xs, 8, (v, at, x: bigint) => v.setBigUint64(at, x, true));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function readError(bytes: Uint8Array): SafetensorsError {
  try {
    readSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toMatch(/^readSafetensors: /);
    return e as SafetensorsError;
  }
  throw new Error('readSafetensors accepted the file');
}

const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const TYPED_ARRAYS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array', 'Uint16Array', 'Int16Array',
  'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
] as const;

/**
 * Runs f with every typed-array and ArrayBuffer constructor wrapped to add up the bytes that
 * `new X(length)` allocates (views of an existing buffer allocate nothing).
 */
function countAllocatedBytes(f: () => void): number {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = TYPED_ARRAYS.map((name) => g[name]);
  let bytes = 0;
  TYPED_ARRAYS.forEach((name, i) => {
    const C = saved[i] as (new (...args: unknown[]) => object) & { BYTES_PER_ELEMENT?: number };
    g[name] = new Proxy(C, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') bytes += args[0] * (C.BYTES_PER_ELEMENT ?? 1);
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
  });
  try {
    f();
  } finally {
    TYPED_ARRAYS.forEach((name, i) => {
      g[name] = saved[i];
    });
  }
  return bytes;
}

/**
 * The fuzz oracle. A file is either read — then every tensor is backed by its own bytes of the
 * file and the only allocations are the float32 outputs — or refused with a SafetensorsError
 * before anything is allocated (a value float32 cannot hold exactly is found while converting,
 * after its output was allocated).
 */
function probe(bytes: Uint8Array): 'read' | 'refused' {
  let result: ReturnType<typeof readSafetensors> | null = null;
  let error: unknown = null;
  const allocated = countAllocatedBytes(() => {
    try {
      result = readSafetensors(bytes);
    } catch (e) {
      error = e;
    }
  });
  if (result !== null) {
    const dataBytes = bytes.length - 8 - Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const elements = Object.values((result as ReturnType<typeof readSafetensors>).tensors).reduce((a, t) => a + t.size, 0);
    expect(elements).toBeLessThanOrEqual(dataBytes);
    expect(allocated).toBe(4 * elements);
    return 'read';
  }
  if (!(error instanceof SafetensorsError)) throw error;
  expect(error.message).toMatch(/^readSafetensors: \S/);
  if (/cannot represent exactly/.test(error.message)) expect(allocated).toBeLessThanOrEqual(4 * bytes.length);
  else expect(allocated).toBe(0);
  return 'refused';
}

// ---------------------------------------------------------------------------

describe('writeSafetensors: the reference layout', () => {
  it("writes the reference library's own test vectors", () => {
    // huggingface/safetensors tensor.rs test_serialization: a 64-byte header needs no padding.
    const out = writeSafetensors({ 'attn.0': { data: [0, 1, 2, 3, 4, 5], shape: [1, 2, 3] } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    expect(Array.from(out)).toEqual(Array.from(rawFile(header, f32le([0, 1, 2, 3, 4, 5]))));
    // test_empty: "{}" padded with six spaces.
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  });

  it('pads the header with spaces to a multiple of 8, metadata first, tensors sorted by code point', () => {
    const out = writeSafetensors(
      { b: [1], a: [[2, 3]], '\u{1D538}': [4], '\uFF21': [5], '10': [6], '9': [7] },
      { z: 'last', format: 'pt' },
    );
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(out.subarray(8, 8 + n));
    const json = text.trimEnd();
    expect(text.slice(json.length)).toMatch(/^ {0,7}$/);
    // UTF-16 order would put U+1D538 (a surrogate pair, D835 DD38) before U+FF21.
    expect(json).toBe(
      '{"__metadata__":{"format":"pt","z":"last"},' +
        '"10":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"9":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
        '"\uFF21":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},' +
        '"\u{1D538}":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}}',
    );
    expect(Array.from(out.subarray(8 + n))).toEqual(Array.from(f32le([6, 7, 2, 3, 1, 5, 4])));
  });

  it('writes an empty metadata object when given one, and none when metadata is undefined', () => {
    const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(8)).trimEnd();
    expect(text(writeSafetensors({}, {}))).toBe('{"__metadata__":{}}');
    expect(text(writeSafetensors({}))).toBe('{}');
  });

  it('copies the data: later changes to the input do not reach the bytes, nor bytes the tensors', () => {
    const t = new Tensor(new Float32Array([1, 2]), [2]);
    const bytes = writeSafetensors({ t });
    t.data[0] = 9;
    const read = readSafetensors(bytes);
    expect(Array.from(read.tensors.t.data)).toEqual([1, 2]);
    bytes.fill(0xff);
    expect(Array.from(read.tensors.t.data)).toEqual([1, 2]);
  });

  it('accepts every TensorLike (Tensor, nested arrays, {data, shape} with any numeric data)', () => {
    const out = readSafetensors(
      writeSafetensors({
        t: Tensor.from([[1, 2], [3, 4]]),
        nested: [[[0.5]]],
        flat: { data: new Float64Array([0.1, 0.2]), shape: [2, 1] },
        scalar: { data: [7], shape: [] },
      }),
    ).tensors;
    expect(out.t.shape).toEqual([2, 2]);
    expect(out.nested.shape).toEqual([1, 1, 1]);
    expect(Array.from(out.flat.data)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(out.scalar.shape).toEqual([]);
    expect(Array.from(out.scalar.data)).toEqual([7]);
  });
});

describe('writeSafetensors: input validation', () => {
  const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
    ['null tensors', () => writeSafetensors(null as never), TypeError, /^writeSafetensors: tensors must be a plain object of name → tensor, got null$/],
    ['an array', () => writeSafetensors([[1]] as never), TypeError, /tensors must be a plain object .* got array/],
    ['a Map', () => writeSafetensors(new Map([['a', [1]]]) as never), TypeError, /got Map/],
    ['a single Tensor', () => writeSafetensors(Tensor.zeros([2]) as never), TypeError, /got Tensor/],
    ['__metadata__ as a name', () => writeSafetensors({ __metadata__: [1] }), RangeError, /'__metadata__' is reserved/],
    ['a bad tensor', () => writeSafetensors({ w: 'x' as never }), TypeError, /^writeSafetensors: tensors\['w'\]: expected a Tensor/],
    ['a ragged array', () => writeSafetensors({ w: [[1, 2], [3]] }), RangeError, /^writeSafetensors: tensors\['w'\]\[1\]: expected an array of length 2/],
    ['a bad shape', () => writeSafetensors({ w: { data: [1], shape: [-1] } }), TypeError, /^writeSafetensors: tensors\['w'\]\.shape must be/],
    ['a lone surrogate in a name', () => writeSafetensors({ ['a\uD800']: [1] }), RangeError, /tensor name "a\\ud800" holds a lone surrogate at index 1/],
    ['null metadata', () => writeSafetensors({}, null as never), TypeError, /metadata must be a plain object of strings \(or undefined\), got null/],
    ['a number in metadata', () => writeSafetensors({}, { v: 1 as never }), TypeError, /^writeSafetensors: metadata\['v'\] must be a string, got number$/],
    ['a lone surrogate in metadata', () => writeSafetensors({}, { v: '\uDC00' }), RangeError, /metadata\['v'\] holds a lone surrogate at index 0/],
  ];
  it.each(cases)('refuses %s', (_what, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  it('refuses a header over the 100 MB limit of the reference', () => {
    const big = 'x'.repeat(SAFETENSORS_MAX_HEADER_BYTES);
    expect(() => writeSafetensors({}, { big })).toThrow(/^writeSafetensors: the header would be at least 100000011 bytes, over the limit of 100000000$/);
  });
});

describe('readSafetensors: dtypes', () => {
  it('reads every dtype of the PyTorch-written dtypes file as float32, exactly as tensor.float()', () => {
    const { tensors, metadata } = readSafetensors(fileBytes(fixtures.dtypes.file));
    expect(metadata).toEqual({});
    expect(Object.keys(tensors).sort()).toEqual(fixtures.dtypes.tensors.map(([n]) => n).sort());
    for (const [name, dtype, want] of fixtures.dtypes.tensors) {
      expect(tensors[name].shape, name).toEqual(want.shape);
      expect(bitsOf(tensors[name].data), `${name} (${dtype})`).toEqual(bitsOf(new Float32Array(want.data)));
    }
  });

  it('reads tensors in data order, from unaligned offsets, out of a view at an odd byteOffset', () => {
    const u8 = Uint8Array.of(1, 2, 3);
    const f32 = f32le([1.5, -2]);
    const f64 = f64le([0.1]);
    const bf16 = u16le([0x3fc0]);
    const i64 = i64le([-5n]);
    const header =
      `{"c":${entry('U8', [3], 0, 3)},"b":${entry('F32', [2], 3, 11)},"a":${entry('F64', [1], 11, 19)},` +
      `"e":${entry('BF16', [1], 19, 21)},"d":${entry('I64', [1], 21, 29)}}`;
    const file = rawFile(header, concat(u8, f32, f64, bf16, i64));
    const backing = new Uint8Array(file.length + 3);
    backing.set(file, 3);
    const { tensors } = readSafetensors(backing.subarray(3));
    expect(Object.keys(tensors)).toEqual(['c', 'b', 'a', 'e', 'd']);
    expect(Array.from(tensors.c.data)).toEqual([1, 2, 3]);
    expect(Array.from(tensors.b.data)).toEqual([1.5, -2]);
    expect(Array.from(tensors.a.data)).toEqual([Math.fround(0.1)]);
    expect(Array.from(tensors.e.data)).toEqual([1.5]);
    expect(Array.from(tensors.d.data)).toEqual([-5]);
    // A Node Buffer is a Uint8Array too.
    expect(Object.keys(readSafetensors(Buffer.from(file)).tensors)).toHaveLength(5);
  });

  it('converts all 65536 float16 values exactly (subnormals, ±0, ±Infinity, NaN payloads)', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const { tensors } = readSafetensors(rawFile(`{"h":${entry('F16', [65536], 0, 131072)}}`, u16le(all)));
    const got = new Uint32Array(tensors.h.data.buffer);
    const wrong: string[] = [];
    for (const h of all) {
      const sign = h >> 15 ? -1 : 1;
      const e = (h >> 10) & 31;
      const m = h & 1023;
      const x = tensors.h.data[h];
      // Infinity, or NaN with the payload moved into float32's top mantissa bits
      const ok =
        e === 31
          ? got[h] === ((((h & 0x8000) << 16) | 0x7f800000 | (m << 13)) >>> 0)
          : Object.is(x, e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15));
      if (!ok) wrong.push(`0x${h.toString(16)} → ${x}`);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps float32 and bfloat16 bits (NaN payloads, -0, subnormals) and rounds float64 to nearest', () => {
    const f32bits = [0x7fc00001, 0xffbfffff, 0x80000000, 0x00000001, 0x7f800000, 0x3f800000];
    const bf = [0x7fc1, 0xff81, 0x8000, 0x0001, 0x7f80, 0x3f80];
    const f64 = [0.1, 1e300, -1e-300, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 3.4028235677973366e38];
    const header = `{"a":${entry('F32', [6], 0, 24)},"b":${entry('BF16', [6], 24, 36)},"c":${entry('F64', [6], 36, 84)}}`;
    const { tensors } = readSafetensors(rawFile(header, concat(u32le(f32bits), u16le(bf), f64le(f64))));
    expect(bitsOf(tensors.a.data)).toEqual(f32bits);
    expect(bitsOf(tensors.b.data)).toEqual(bf.map((b) => (b << 16) >>> 0));
    // Ties round to even (1 + 2^-24 → 1, 1 + 3·2^-24 → 1 + 2^-22); overflow gives Infinity, like tensor.float().
    expect(Array.from(tensors.c.data)).toEqual([Math.fround(0.1), Infinity, -0, 1, 1 + 2 ** -22, Infinity]);
  });

  it('reads integer and BOOL tensors when float32 holds every value exactly', () => {
    const header =
      `{"i64":${entry('I64', [3], 0, 24)},"u64":${entry('U64', [2], 24, 40)},"i32":${entry('I32', [3], 40, 52)},` +
      `"u32":${entry('U32', [2], 52, 60)},"i16":${entry('I16', [2], 60, 64)},"u16":${entry('U16', [2], 64, 68)},` +
      `"i8":${entry('I8', [2], 68, 70)},"u8":${entry('U8', [2], 70, 72)},"bool":${entry('BOOL', [3], 72, 75)}}`;
    const data = concat(
      i64le([-(2n ** 62n), 2n ** 24n, -1n]), u64le([2n ** 63n, 0n]), i32le([-(2 ** 31), 16777216, 2 ** 31 - 128]),
      u32le([2 ** 32 - 256, 7]), le([-32768, 32767], 2, (v, at, x: number) => v.setInt16(at, x, true)),
      u16le([65535, 0]), Uint8Array.of(0x80, 0x7f), Uint8Array.of(255, 0), Uint8Array.of(0, 1, 2),
    );
    const t = readSafetensors(rawFile(header, data)).tensors;
    expect(Array.from(t.i64.data)).toEqual([-(2 ** 62), 2 ** 24, -1]);
    expect(Array.from(t.u64.data)).toEqual([2 ** 63, 0]);
    expect(Array.from(t.i32.data)).toEqual([-(2 ** 31), 16777216, 2 ** 31 - 128]);
    expect(Array.from(t.u32.data)).toEqual([2 ** 32 - 256, 7]);
    expect(Array.from(t.i16.data)).toEqual([-32768, 32767]);
    expect(Array.from(t.u16.data)).toEqual([65535, 0]);
    expect(Array.from(t.i8.data)).toEqual([-128, 127]);
    expect(Array.from(t.u8.data)).toEqual([255, 0]);
    expect(Array.from(t.bool.data)).toEqual([0, 1, 1]);
  });

  it.each([
    ['I32', i32le([1, 16777217]), /tensor 'w' \(I32\) holds 16777217 at flat index 1, which float32 cannot represent exactly/],
    ['U32', u32le([2 ** 32 - 1]), /\(U32\) holds 4294967295 at flat index 0/],
    ['I64', i64le([2n ** 53n + 1n]), /\(I64\) holds 9007199254740993 at flat index 0/],
    ['U64', u64le([2n ** 64n - 1n]), /\(U64\) holds 18446744073709551615 at flat index 0/],
  ] as const)('refuses %s values float32 cannot hold exactly', (dtype, data, message) => {
    const n = data.length / (dtype.endsWith('64') ? 8 : 4);
    expect(readError(rawFile(`{"w":${entry(dtype, [n], 0, data.length)}}`, data)).message).toMatch(message);
  });

  it.each(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'])(
    'refuses the known dtype %s by name',
    (dtype) => {
      expect(readError(rawFile(`{"w":${entry(dtype, [1], 0, 1)}}`, 1)).message).toBe(
        `readSafetensors: tensor 'w' has dtype ${dtype}, which wasm-rnn does not read ` +
          '(it reads F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)',
      );
    },
  );

  it.each(['f32', 'F128', 'float32', 'constructor', ''])('refuses the unknown dtype "%s"', (dtype) => {
    expect(readError(rawFile(`{"w":${entry(dtype, [1], 0, 4)}}`, 4)).message).toBe(
      `readSafetensors: tensor 'w' has an unknown dtype ${JSON.stringify(dtype)}`,
    );
  });
});

describe('readSafetensors: shapes, metadata, round trips', () => {
  it('round-trips scalars, empty tensors, zero-size dimensions and metadata', () => {
    const tensors = {
      scalar: { data: [2.5], shape: [] },
      empty: { data: [], shape: [0] },
      zeroDim: { data: [], shape: [2, 0, 3] },
      huge0: { data: [], shape: [2 ** 40, 0] },
      w: { data: randomData(24, 3), shape: [2, 3, 4] },
    };
    const metadata = { format: 'pt', 'wasm-rnn': '{"class":"LSTM"}', '': 'empty key' };
    const out = readSafetensors(writeSafetensors(tensors, metadata));
    expect(out.metadata).toEqual(metadata);
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, v] of Object.entries(tensors)) {
      expect(out.tensors[k].shape, k).toEqual(v.shape);
      expect(Array.from(out.tensors[k].data), k).toEqual(Array.from(v.data));
    }
  });

  it("reads files the way old writers left them: no padding, other key orders, whitespace, '__proto__' names", () => {
    const header = ` \n{"__metadata__" : {"__proto__":"x"}, "__proto__":{"shape":[1],"data_offsets":[0,4],"dtype":"F32"}}\t\r\n `;
    const { tensors, metadata } = readSafetensors(rawFile(header, f32le([3])));
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Array.from(tensors['__proto__'].data)).toEqual([3]);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it('reads a header that is only {} (no tensors) and refuses data after it', () => {
    expect(readSafetensors(rawFile('{}'))).toEqual({ tensors: {}, metadata: {} });
    expect(readError(rawFile('{}', 1)).message).toBe('readSafetensors: the tensors cover 0 bytes of data, but the file holds 1 after its header');
  });

  it('allows zero-size tensors anywhere, including at the same offset', () => {
    const header = `{"a":${entry('F32', [0], 4, 4)},"b":${entry('F32', [1], 0, 4)},"c":${entry('F16', [3, 0], 4, 4)},"d":${entry('F32', [0], 0, 0)}}`;
    expect(Object.keys(readSafetensors(rawFile(header, 4)).tensors).sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('readSafetensors: validation', () => {
  const e1 = entry('F32', [1], 0, 4);
  const cases: Array<[string, Uint8Array, string | RegExp]> = [
    ['an empty file', new Uint8Array(0), 'the file is 0 bytes, shorter than the 8-byte header length'],
    ['7 bytes', new Uint8Array(7), 'the file is 7 bytes, shorter than the 8-byte header length'],
    ['a header length of 2^64 − 1', rawFile('{}', 0, 2n ** 64n - 1n), 'header length 18446744073709551615 exceeds the limit of 100000000 bytes'],
    ['a header length of 2^40', rawFile('{}', 0, 2n ** 40n), 'header length 1099511627776 exceeds the limit of 100000000 bytes'],
    ['a header length just over the limit', rawFile('{}', 0, 100_000_001n), 'header length 100000001 exceeds the limit of 100000000 bytes'],
    ['a header length of 0', rawFile('', 0), 'header length 0 is too small (the shortest header, {}, is 2 bytes)'],
    ['a header length of 1', rawFile('{', 0), 'header length 1 is too small (the shortest header, {}, is 2 bytes)'],
    ['a header longer than the file', rawFile('{}', 0, 100n), 'header length 100 needs 108 bytes, but the file has only 10 (truncated?)'],
    ['the limit, claimed by a small file', rawFile('{}', 0, 100_000_000n), 'header length 100000000 needs 100000008 bytes, but the file has only 10 (truncated?)'],
    ['invalid UTF-8', rawFile(concat(enc.encode('{"'), Uint8Array.of(0xff), enc.encode('":1}'))), 'the header (bytes 8 to 15) is not valid UTF-8'],
    ['a UTF-16 surrogate in UTF-8', rawFile(concat(enc.encode('{"'), Uint8Array.of(0xed, 0xa0, 0x80), enc.encode('":1}'))), 'the header (bytes 8 to 17) is not valid UTF-8'],
    ['a byte-order mark', rawFile('\uFEFF{}'), /^readSafetensors: the header is not valid JSON: /],
    ['invalid JSON', rawFile('{"a":'), /^readSafetensors: the header is not valid JSON: /],
    ['NUL padding', rawFile('{}\0\0\0\0\0\0'), /^readSafetensors: the header is not valid JSON: /],
    ['an array header', rawFile('[]'), 'the header must be a JSON object, got an array'],
    ['a null header', rawFile('null'), 'the header must be a JSON object, got null'],
    ['a number header', rawFile('12'), 'the header must be a JSON object, got a number (12)'],
    ['a string header', rawFile('"{}"'), 'the header must be a JSON object, got a string ("{}")'],
    ['metadata that is an array', rawFile('{"__metadata__":["a"]}'), '__metadata__ must be an object of strings, got an array'],
    ['metadata that is null', rawFile('{"__metadata__":null}'), '__metadata__ must be an object of strings, got null'],
    ['a metadata number', rawFile('{"__metadata__":{"v":1}}'), "__metadata__ 'v' must be a string, got a number (1)"],
    ['a metadata object', rawFile('{"__metadata__":{"v":{}}}'), "__metadata__ 'v' must be a string, got an object"],
    ['an entry that is a string', rawFile('{"w":"F32"}'), `tensor 'w' must be an object {dtype, shape, data_offsets}, got a string ("F32")`],
    ['an entry that is an array', rawFile('{"w":[]}'), `tensor 'w' must be an object {dtype, shape, data_offsets}, got an array`],
    ['an extra entry key', rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}`, 4), "tensor 'w' has an unexpected key 'offsets' (expected dtype, shape, data_offsets)"],
    ['a missing dtype', rawFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, 4), "tensor 'w' has no 'dtype'"],
    ['a missing shape', rawFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, 4), "tensor 'w' has no 'shape'"],
    ['missing data_offsets', rawFile(`{"w":{"dtype":"F32","shape":[1]}}`, 4), "tensor 'w' has no 'data_offsets'"],
    ['a dtype that is a number', rawFile(`{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4), "tensor 'w' dtype must be a string, got a number (4)"],
    ['a shape that is a number', rawFile(`{"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got 1"],
    ['a negative dimension', rawFile(`{"w":${entry('F32', [-1], 0, 4)}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got [-1]"],
    ['a fractional dimension', rawFile(`{"w":${entry('F32', [1.5], 0, 4)}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got [1.5]"],
    ['a dimension of 2^53', rawFile(`{"w":${entry('F32', [2 ** 53], 0, 4)}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got [9007199254740992]"],
    ['a dimension of 1e400', rawFile(`{"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got [Infinity]"],
    ['a string dimension', rawFile(`{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, 4), `tensor 'w' shape must be an array of non-negative integers, got ["1"]`],
    ['a nested shape', rawFile(`{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}`, 4), "tensor 'w' shape must be an array of non-negative integers, got [[1]]"],
    ['one offset', rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, 4), "tensor 'w' data_offsets must be [begin, end] of non-negative integers, got [4]"],
    ['three offsets', rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 4), "tensor 'w' data_offsets must be [begin, end] of non-negative integers, got [0,4,8]"],
    ['a negative offset', rawFile(`{"w":${entry('F32', [1], -4, 0)}}`, 4), "tensor 'w' data_offsets must be [begin, end] of non-negative integers, got [-4,0]"],
    ['a fractional offset', rawFile(`{"w":${entry('F32', [1], 0.5, 4.5)}}`, 4), "tensor 'w' data_offsets must be [begin, end] of non-negative integers, got [0.5,4.5]"],
    ['offsets that end before they begin', rawFile(`{"w":${entry('F32', [0], 4, 0)}}`, 4), "tensor 'w' data_offsets [4, 0] end before they begin"],
    ['a shape that overflows before its 0', rawFile(`{"w":${entry('F32', [2 ** 40, 2 ** 40, 0], 0, 0)}}`), "tensor 'w' shape [1099511627776,1099511627776,0] has more elements than a safe integer can count"],
    ['a huge shape', rawFile(`{"w":${entry('F32', [2 ** 40], 0, 4)}}`, 4), "tensor 'w' of shape [1099511627776] and dtype F32 needs 4398046511104 bytes, but data_offsets [0, 4] span 4"],
    ['a huge shape with matching offsets', rawFile(`{"w":${entry('F32', [2 ** 40], 0, 2 ** 42)}}`, 4), 'the tensors need 4398046511104 bytes of data, but the file holds 4 after its header (truncated?)'],
    ['a size mismatch', rawFile(`{"w":${entry('F16', [2, 3], 0, 8)}}`, 8), "tensor 'w' of shape [2, 3] and dtype F16 needs 12 bytes, but data_offsets [0, 8] span 8"],
    ['data not starting at 0', rawFile(`{"w":${entry('F32', [1], 4, 8)}}`, 8), "tensor 'w' data_offsets [4, 8] leave a gap: expected it to begin at 0, the start of the data buffer"],
    ['a gap', rawFile(`{"a":${e1},"b":${entry('F32', [1], 8, 12)}}`, 12), "tensor 'b' data_offsets [8, 12] leave a gap: expected it to begin at 4, where tensor 'a' ends"],
    ['an overlap', rawFile(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 4, 8)}}`, 8), "tensor 'b' data_offsets [4, 8] overlap: expected it to begin at 8, where tensor 'a' ends"],
    ['two tensors on the same bytes', rawFile(`{"a":${e1},"b":${e1}}`, 4), /^readSafetensors: tensor '[ab]' data_offsets \[0, 4\] overlap: expected it to begin at 4, where tensor '[ab]' ends$/],
    ['truncated data', rawFile(`{"w":${entry('F32', [2], 0, 8)}}`, 7), 'the tensors need 8 bytes of data, but the file holds 7 after its header (truncated?)'],
    ['trailing bytes', rawFile(`{"w":${e1}}`, 5), 'the tensors cover 4 bytes of data, but the file holds 5 after its header'],
    ['a duplicate tensor', rawFile(`{"w":${e1},"w":${e1}}`, 4), "duplicate key 'w' in the header"],
    ['a duplicate spelled with an escape', rawFile(`{"w":${e1},"\\u0077":${e1}}`, 4), "duplicate key 'w' in the header"],
    ['a duplicate entry key', rawFile(`{"w":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), "duplicate key 'dtype' in tensor 'w'"],
    ['a duplicate metadata key', rawFile(`{"__metadata__":{"k":"a","k":"b"},"w":${e1}}`, 4), "duplicate key 'k' in __metadata__"],
    ['two __metadata__', rawFile(`{"__metadata__":{},"__metadata__":{}}`), "duplicate key '__metadata__' in the header"],
    ['a float literal', rawFile(`{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`, 4), 'the header number 1.0 is not written as a non-negative integer'],
    ['an exponent literal', rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}`, 4), 'the header number 4e0 is not written as a non-negative integer'],
    ['a negative zero', rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}`, 4), 'the header number -0 is not written as a non-negative integer'],
  ];
  it.each(cases)('refuses %s', (_what, bytes, message) => {
    const err = readError(bytes);
    if (typeof message === 'string') expect(err.message).toBe(`readSafetensors: ${message}`);
    else expect(err.message).toMatch(message);
    expect(probe(bytes)).toBe('refused');
  });

  it('refuses what is not a Uint8Array with a TypeError', () => {
    for (const bad of [new ArrayBuffer(16), [0, 0], 'file', null, new Uint16Array(8)]) {
      expect(() => readSafetensors(bad as never)).toThrow(TypeError);
      expect(() => readSafetensors(bad as never)).toThrow(/^readSafetensors: bytes must be a Uint8Array, got /);
    }
  });

  it('cuts names and values short in messages', () => {
    const name = 'n'.repeat(10_000);
    const msg = readError(rawFile(`{"${name}":${entry('F32', [1], 0, 8)}}`, 8)).message;
    expect(msg.length).toBeLessThan(300);
    expect(msg).toMatch(/^readSafetensors: tensor 'n{77}\.\.\.' of shape \[1\]/);
  });

  it('refuses a truncated file at every length', () => {
    for (const name of ['rnn_relu_l1_nobias_I3H5.safetensors', 'dtypes.safetensors']) {
      const bytes = fileBytes(name);
      for (let n = 0; n < bytes.length; n++) expect(probe(bytes.subarray(0, n)), `${name} cut at ${n}`).toBe('refused');
      expect(probe(bytes)).toBe('read');
    }
  });
});

// ---------------------------------------------------------------------------

function makeModule(c: Pick<Case, 'module' | 'config'>): Module {
  const opts = { seed: 1, ...c.config } as never;
  if (c.module === 'LSTM') return new LSTM(opts);
  if (c.module === 'GRU') return new GRU(opts);
  if (c.module === 'RNN') return new RNN(opts);
  return new LanguageModel(opts);
}

function forward(m: Module, c: Pick<Case, 'module' | 'input' | 'ids'>): Record<string, Tensor> {
  if (m instanceof LanguageModel) return { logits: m.forward(c.ids as Json).logits };
  const res: { output: Tensor; h: Tensor; c?: Tensor } = (m as LSTM).forward(c.input as Json);
  return res.c ? { output: res.output, h: res.h, c: res.c } : { output: res.output, h: res.h };
}

describe('PyTorch state dicts (test/fixtures/generate_safetensors.py)', () => {
  beforeAll(async () => {
    await ready();
  });

  it('runs on the default backend', () => {
    expect(backendInfo().ready).toBe(true);
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s: loads and predicts as PyTorch', (_name, c) => {
    const { tensors, metadata } = readSafetensors(fileBytes(c.file));
    expect(metadata).toEqual(c.metadata ?? {});
    const m = makeModule(c);
    m.loadStateDict(tensors);
    const got = forward(m, c);
    expect(Object.keys(got).sort()).toEqual(Object.keys(c.expected).sort());
    for (const [key, want] of Object.entries(c.expected)) {
      expect(got[key].shape, key).toEqual(want.shape);
      const err = maxAbsDiff(got[key].data, want.data);
      const tol = Math.max(2 * c.torch32MaxAbsErr[key], 8 * EPS32 * Math.max(1, maxAbs(want.data)));
      expect(err, `${key}: error ${err} vs PyTorch float32 ${c.torch32MaxAbsErr[key]}`).toBeLessThanOrEqual(tol);
    }
    m.dispose();
  });

  it.each(fixtures.cases.filter((c) => c.dtype === 'F32').map((c) => [c.name, c] as const))(
    '%s: writeSafetensors(model.stateDict()) is byte-identical to the Python file',
    (_name, c) => {
      const bytes = fileBytes(c.file);
      const m = makeModule(c);
      m.loadStateDict(readSafetensors(bytes).tensors);
      expect(Buffer.from(writeSafetensors(m.stateDict(), c.metadata ?? undefined)).equals(Buffer.from(bytes))).toBe(true);
      m.dispose();
    },
  );

  it('reads awkward names and metadata, and writes them back byte for byte', () => {
    const bytes = fileBytes(fixtures.names.file);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual(fixtures.names.metadata);
    expect(Object.keys(tensors).sort()).toEqual(fixtures.names.tensors.map(([n]) => n).sort());
    for (const [name, want] of fixtures.names.tensors) {
      expect(tensors[name].shape, name).toEqual(want.shape);
      expect(Array.from(tensors[name].data), name).toEqual(Array.from(new Float32Array(want.data)));
    }
    expect(Buffer.from(writeSafetensors(tensors, metadata)).equals(Buffer.from(bytes))).toBe(true);
  });
});

// ---------------------------------------------------------------------------

/** One tensor entry of a generated file: what the header says, and the bytes behind it. */
interface GenEntry { name: string; dtype: string; shape: number[] }
const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };
const HOSTILE_NUMBERS = ['-1', '-0', '0.5', '1.0', '1e0', '1e400', '2147483648', '4294967296', '1099511627776', '9007199254740992', '18446744073709551616', '"1"', 'null', '[]', 'true'];

const genEntry: fc.Arbitrary<GenEntry> = fc.record({
  name: fc.oneof(fc.constantFrom('w', 'b', '__proto__', 'constructor', 'rnn.weight_ih_l0'), fc.string({ unit: 'binary', maxLength: 4 })),
  dtype: fc.constantFrom(...Object.keys(SIZES)),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

/** A corruption applied to the header text or the file, or none (then the file is valid). */
const corruption = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('none' as const) }) },
  fc.record({ kind: fc.constant('number' as const), pick: fc.nat(), literal: fc.constantFrom(...HOSTILE_NUMBERS) }),
  fc.record({ kind: fc.constant('dtype' as const), pick: fc.nat(), dtype: fc.constantFrom('F8_E4M3', 'C64', 'F4', 'f32', 'X', '') }),
  fc.record({ kind: fc.constant('offsets' as const), pick: fc.nat(), begin: fc.integer({ min: -2, max: 80 }), end: fc.oneof(fc.integer({ min: -2, max: 80 }), fc.constant(2 ** 53 - 1)) }),
  fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('key' as const), pick: fc.nat(), extra: fc.boolean() }),
  fc.record({ kind: fc.constant('data' as const), delta: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt(0n, 2n ** 64n - 1n), fc.bigInt(0n, 600n)) }),
  fc.record({ kind: fc.constant('metadata' as const), text: fc.constantFrom('{"a":"b"}', '{"a":1}', '[]', '{"a":"b","a":"c"}', '"x"', '{}') }),
);
type Corruption = typeof corruption extends fc.Arbitrary<infer T> ? T : never;

/** The entries (last of each name) as a valid file, then corrupted; mustRefuse when the corruption surely breaks it. */
function buildGenerated(entries: GenEntry[], c: Corruption, seed: number): { bytes: Uint8Array; kept: GenEntry[]; mustRefuse: boolean } {
  const kept = [...new Map(entries.map((e) => [e.name, e])).values()];
  let at = 0;
  const fields = kept.map((e) => {
    const n = e.shape.reduce((a, b) => a * b, 1) * SIZES[e.dtype];
    const f = { name: e.name, dtype: JSON.stringify(e.dtype), shape: `[${e.shape.join(',')}]`, offsets: `[${at},${at + n}]`, extra: '' };
    at += n;
    return f;
  });
  const index = 'pick' in c && fields.length > 0 ? c.pick % fields.length : -1;
  const target = index >= 0 ? fields[index] : undefined;
  let mustRefuse = target !== undefined && c.kind !== 'offsets';
  // A huge but safe first dimension still makes a valid empty tensor when another dimension is 0.
  if (c.kind === 'number' && index >= 0 && Number.isSafeInteger(Number(c.literal)) && kept[index].shape.slice(1).includes(0)) mustRefuse = false;
  let metadata = '';
  let dataLength = at;
  let length: bigint | undefined;
  if (target && c.kind === 'number') target.shape = target.shape === '[]' ? `[${c.literal}]` : target.shape.replace(/\d+/, c.literal);
  if (target && c.kind === 'dtype') target.dtype = JSON.stringify(c.dtype);
  if (target && c.kind === 'offsets') target.offsets = `[${c.begin},${c.end}]`;
  if (target && c.kind === 'duplicate') fields.push({ ...target });
  if (target && c.kind === 'key') {
    if (c.extra) target.extra = ',"extra":0';
    else target.shape = '';
  }
  if (c.kind === 'data') {
    dataLength = Math.max(0, at + c.delta);
    mustRefuse = dataLength !== at;
  }
  if (c.kind === 'length') length = c.value;
  if (c.kind === 'metadata') metadata = `"__metadata__":${c.text}`;
  const parts = fields.map((f) => {
    const body = [`"dtype":${f.dtype}`, f.shape ? `"shape":${f.shape}` : '', `"data_offsets":${f.offsets}`].filter(Boolean).join(',');
    return `${JSON.stringify(f.name)}:{${body}${f.extra}}`;
  });
  if (metadata) parts.unshift(metadata);
  const data = new Uint8Array(dataLength);
  for (let i = 0, s = seed >>> 0; i < dataLength; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { bytes: rawFile(`{${parts.join(',')}}`, data, length), kept, mustRefuse };
}

describe('readSafetensors: fuzz (fast-check)', () => {
  it('reads valid generated files and refuses corrupted ones with a clear error, allocating nothing', () => {
    fc.assert(
      fc.property(fc.array(genEntry, { maxLength: 6 }), corruption, fc.integer(), (entries, c, seed) => {
        const { bytes, kept, mustRefuse } = buildGenerated(entries, c, seed);
        const outcome = probe(bytes);
        if (mustRefuse) expect(outcome).toBe('refused');
        if (c.kind !== 'none') return;
        if (outcome === 'refused') {
          // Random bytes behind an integer dtype need not be exact in float32; nothing else may fail.
          expect(readError(bytes).message).toMatch(/cannot represent exactly/);
          return;
        }
        const { tensors } = readSafetensors(bytes);
        expect(Object.keys(tensors).sort()).toEqual(kept.map((e) => e.name).sort());
        for (const e of kept) expect(tensors[e.name].shape).toEqual(e.shape);
      }),
      { numRuns: 600, seed: 20240501 },
    );
  });

  it('survives random byte flips, insertions, deletions and header lengths on real files', () => {
    const bases = [fileBytes('lstm_l2_bi_I5H7.safetensors'), fileBytes('dtypes.safetensors'), fileBytes('names.safetensors'), fileBytes('charlm_gru_V9E4H5.safetensors')];
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), inHeader: fc.boolean() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.constantFrom(0x22, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x31, 0x2d, 0x2e, 0x20, 0x5c, 0xff) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('length' as const), value: fc.bigInt(0n, 2n ** 64n - 1n) }),
    );
    fc.assert(
      fc.property(fc.nat(bases.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (b, edits) => {
        let bytes: Uint8Array = bases[b].slice();
        for (const e of edits) {
          const n = bytes.length;
          const header = 8 + Number(new DataView(bases[b].buffer, bases[b].byteOffset).getBigUint64(0, true));
          if (e.kind === 'set' && n) bytes[e.at % (e.inHeader ? Math.min(n, header) : n)] = e.value;
          else if (e.kind === 'insert') { const at = e.at % (n + 1); bytes = concat(bytes.subarray(0, at), Uint8Array.of(e.value), bytes.subarray(at)); }
          else if (e.kind === 'delete') { const at = e.at % (n + 1); bytes = concat(bytes.subarray(0, at), bytes.subarray(at + e.count)); }
          else if (e.kind === 'truncate') bytes = bytes.subarray(0, e.at % (n + 1));
          else if (e.kind === 'length' && n >= 8) new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, e.value, true);
        }
        probe(bytes);
      }),
      { numRuns: 1500, seed: 7 },
    );
  });

  it('allocates nothing for files that claim terabytes', () => {
    const hostile = [
      rawFile(`{"w":${entry('F32', [2 ** 40], 0, 2 ** 42)}}`, 16),
      rawFile(`{"w":${entry('F64', [2 ** 49], 0, 2 ** 52)}}`, 16),
      rawFile(`{"a":${entry('U8', [2 ** 52], 0, 2 ** 52)},"b":${entry('U8', [2 ** 52], 2 ** 52, 2 ** 53 - 1)}}`, 16),
      rawFile('{}', 16, 2n ** 63n),
      rawFile('{}', 16, 99_999_999n),
    ];
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 400; i++) for (const h of hostile) expect(probe(h)).toBe('refused');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20);
  });

  it('round-trips random tensors, names and metadata through the writer, bit for bit', () => {
    const names = fc.string({ unit: 'binary', maxLength: 5 }).filter((s) => s !== '__metadata__');
    const tensor = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((shape) =>
      fc.float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }).map((data) => ({ data, shape })),
    );
    const codePoints = (s: string) => Array.from(s, (ch) => ch.codePointAt(0) as number);
    const byCodePoint = (a: string, b: string) => {
      const x = codePoints(a), y = codePoints(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
      return x.length - y.length;
    };
    fc.assert(
      fc.property(fc.dictionary(names, tensor, { maxKeys: 6 }), fc.option(fc.dictionary(names, fc.string({ unit: 'binary' }), { maxKeys: 3 }), { nil: undefined }), (tensors, metadata) => {
        const bytes = writeSafetensors(tensors, metadata);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        expect(probe(bytes)).toBe('read');
        const back = readSafetensors(bytes);
        expect(back.metadata).toEqual(metadata ?? {});
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
        // The data is laid out in code-point order of the names.
        let at = 0;
        for (const k of Object.keys(tensors).sort(byCodePoint)) {
          expect(header[k].data_offsets[0]).toBe(at);
          at = header[k].data_offsets[1];
        }
        expect(at).toBe(bytes.length - 8 - n);
        for (const [k, t] of Object.entries(tensors)) {
          expect(back.tensors[k].shape).toEqual(t.shape);
          expect(bitsOf(back.tensors[k].data)).toEqual(bitsOf(t.data));
        }
        expect(Buffer.from(writeSafetensors(back.tensors, metadata)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

// ---------------------------------------------------------------------------

const exportDir = process.env.SAFETENSORS_EXPORT_DIR;

describe.runIf(exportDir)('export for generate_safetensors.py --check', () => {
  beforeAll(async () => {
    await ready();
  });
  const json = (t: Tensor) => ({ shape: t.shape, data: Array.from(t.data) });
  const models: Array<{ name: string; module: Case['module']; config: Record<string, unknown>; metadata?: Record<string, string>; input?: Json; ids?: Json }> = [
    { name: 'ours_lstm_l2_bi', module: 'LSTM', config: { inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: 11 }, input: { shape: [4, 3, 5], data: Array.from(randomData(60, 1)) } },
    { name: 'ours_gru_bf_l2', module: 'GRU', config: { inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true, seed: 12 }, input: { shape: [2, 5, 4], data: Array.from(randomData(40, 2)) } },
    { name: 'ours_rnn_relu_nobias', module: 'RNN', config: { inputSize: 3, hiddenSize: 5, bias: false, nonlinearity: 'relu', seed: 13 }, input: { shape: [6, 2, 3], data: Array.from(randomData(36, 3)) } },
    { name: 'ours_rnn_tanh_bi_unbatched', module: 'RNN', config: { inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 14 }, input: { shape: [5, 3], data: Array.from(randomData(15, 4)) } },
    { name: 'ours_charlm_lstm', module: 'LanguageModel', config: { vocabSize: 11, embeddingDim: 6, hiddenSize: 8, numLayers: 2, cell: 'lstm', seed: 15 }, metadata: { format: 'pt', class: 'LanguageModel' }, ids: { shape: [5, 2], data: [0, 10, 3, 4, 5, 6, 7, 8, 9, 1] } },
    { name: 'ours_charlm_gru', module: 'LanguageModel', config: { vocabSize: 9, embeddingDim: 4, hiddenSize: 5, cell: 'gru', seed: 16 }, ids: { shape: [3, 4], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2] } },
  ];
  it.each(models.map((m) => [m.name, m] as const))('writes %s', (_name, spec) => {
    mkdirSync(exportDir as string, { recursive: true });
    const m = makeModule(spec); // the constructor's own seeded weights, not PyTorch's
    const { seed: _seed, ...config } = spec.config;
    const out = forward(m, spec);
    writeFileSync(join(exportDir as string, `${spec.name}.safetensors`), writeSafetensors(m.stateDict(), spec.metadata));
    const desc = { module: spec.module, config, input: spec.input, ids: spec.ids, output: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, json(t)])) };
    writeFileSync(join(exportDir as string, `${spec.name}.json`), JSON.stringify(desc));
    m.dispose();
  });
});

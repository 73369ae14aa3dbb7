/**
 * The ONNX reader under hostile input (fast-check, fixed seed): mutated and truncated model
 * files, tensors with arbitrary dims / data types / data, and shape-making nodes asked for
 * absurd shapes. Every outcome must be a model that runs (or refuses its feeds) or one of our
 * errors — an OnnxError, RangeError or TypeError whose message starts with the entry point —
 * never an engine error (a failed allocation, a stack overflow, a property of undefined), and
 * never a hang: each case takes milliseconds.
 *
 * For a longer hunt: ONNX_FUZZ_SEED=<n> ONNX_FUZZ_RUNS=<factor> npx vitest run test/onnx-fuzz.test.ts
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LanguageModel, ready } from '../src/index.js';
import { exportOnnx, importOnnx, OnnxError, type OnnxFeed } from '../src/onnx/index.js';
import { STANDARD_OPS } from '../src/onnx/ops.js';
import { FLOAT, INT64, attr, floats, int64s, io, model, node, type Attr } from './onnx-build.js';
import { feedsOf, modelBytes, onnxCase } from './onnx-fixtures.js';

const SEED = Number(process.env.ONNX_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.ONNX_FUZZ_RUNS ?? 1);
/** Small enough that no mutation can make the reader allocate much; the default is 2^26. */
const LIMITS = { maxElements: 2 ** 20 };

function ours(err: unknown): boolean {
  return (err instanceof OnnxError || err instanceof RangeError || err instanceof TypeError) &&
    /^(importOnnx|OnnxModel\.run): /.test(err.message);
}

/** Imports (and, if that works, runs) bytes; returns what happened, failing the test on a foreign error. */
async function attempt(bytes: Uint8Array, feeds?: Record<string, OnnxFeed>): Promise<'refused' | 'ran' | 'imported'> {
  let m;
  try {
    m = await importOnnx(bytes, LIMITS);
  } catch (err) {
    if (!ours(err)) throw new Error(`foreign error at import: ${String((err as Error)?.stack ?? err)}`);
    return 'refused';
  }
  try {
    if (!feeds || !m.inputNames.every((n) => n in feeds) || Object.keys(feeds).length !== m.inputNames.length) return 'imported';
    const out = m.run(feeds);
    for (const name of m.outputNames) expect(out[name].data.length).toBe(out[name].shape.reduce((a, b) => a * b, 1));
    return 'ran';
  } catch (err) {
    if (!ours(err)) throw new Error(`foreign error at run: ${String((err as Error)?.stack ?? err)}`);
    return 'refused';
  } finally {
    m.dispose();
  }
}

interface Base {
  name: string;
  bytes: Uint8Array;
  feeds: Record<string, OnnxFeed>;
}

let bases: Base[] = [];

beforeAll(async () => {
  await ready();
  const fixture = (name: string): Base => {
    const c = onnxCase(name);
    return { name, bytes: modelBytes(c), feeds: feedsOf(c) };
  };
  const lm = new LanguageModel({ vocabSize: 7, embeddingDim: 3, hiddenSize: 4, cell: 'gru', seed: 1 });
  bases = [
    fixture('torch_char_model_opset17'),
    fixture('torch_lstm_bidirectional_batch_first_opset14'),
    fixture('lstm_bidirectional_seqlens_zero'),
    fixture('test_lstm_batchwise'),
    { name: 'exported LanguageModel', bytes: exportOnnx(lm), feeds: { tokens: { data: Int32Array.of(1, 2, 3, 4, 5, 6), shape: [3, 2] } } },
  ];
  for (const b of bases) expect(await attempt(b.bytes, b.feeds), b.name).toBe('ran');
});

type Edit = { at: number; kind: 'flip' | 'set' | 'insert' | 'delete'; value: number };

function mutate(src: Uint8Array, edits: Edit[]): Uint8Array {
  const b = Array.from(src);
  for (const e of edits) {
    const at = e.at % Math.max(1, b.length);
    if (e.kind === 'flip') b[at] ^= 1 << (e.value & 7);
    else if (e.kind === 'set') b[at] = e.value & 0xff;
    else if (e.kind === 'insert') b.splice(at, 0, e.value & 0xff);
    else b.splice(at, 1);
  }
  return Uint8Array.from(b);
}

const edit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete') as fc.Arbitrary<Edit['kind']>,
  value: fc.nat(255),
});

describe('the ONNX reader under hostile input', () => {
  it('mutated model files: run, or refused with our error', async () => {
    const seen = { refused: 0, ran: 0, imported: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 4 }), async (k, edits) => {
        const base = bases[k % bases.length];
        seen[await attempt(mutate(base.bytes, edits), base.feeds)]++;
      }),
      { seed: SEED, numRuns: 600 * RUNS },
    );
    // Both outcomes occur: the mutations reach past the protobuf layer.
    expect(seen.refused).toBeGreaterThan(30);
    expect(seen.ran).toBeGreaterThan(30);
  });

  it('truncated model files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), async (k, cut) => {
        const base = bases[k % bases.length];
        await attempt(base.bytes.subarray(0, cut % base.bytes.length), base.feeds);
      }),
      { seed: SEED, numRuns: 400 * RUNS },
    );
  });

  it('tensors with arbitrary dims, data types and data: checked before anything is allocated', async () => {
    const dim = fc.oneof(
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: -3, max: -1 }),
      fc.constantFrom(2 ** 20, 2 ** 31, 2 ** 40, 2 ** 53, 2 ** 62),
    );
    const tensor = fc.record({
      dims: fc.array(dim, { maxLength: 4 }),
      dataType: fc.integer({ min: 0, max: 21 }),
      raw: fc.nat(48),
      floatData: fc.nat(6),
      int64Data: fc.nat(6),
      int32Data: fc.nat(6),
    });
    await fc.assert(
      fc.asyncProperty(tensor, async (t) => {
        const init = {
          name: 'w',
          dataType: t.dataType,
          dims: t.dims,
          rawData: new Uint8Array(t.raw).fill(1),
          floatData: Array.from({ length: t.floatData }, (_, i) => i / 2),
          int64Data: Array.from({ length: t.int64Data }, (_, i) => i),
          int32Data: Array.from({ length: t.int32Data }, (_, i) => i),
        };
        const bytes = model({ nodes: [node('Identity', ['w'], ['y'])], outputs: [io('y', FLOAT, null)], initializers: [init] });
        const started = Date.now();
        const outcome = await attempt(bytes, {});
        expect(Date.now() - started).toBeLessThan(1000);
        if (outcome !== 'refused') {
          const n = t.dims.reduce((a, b) => a * b, 1);
          expect(t.dims.every((d) => d >= 0) && n <= LIMITS.maxElements).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 500 * RUNS },
    );
  });

  it('shape-making nodes asked for absurd shapes', async () => {
    const value = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom(2 ** 20, 2 ** 30, 2 ** 40, -(2 ** 40), 2 ** 62));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('ConstantOfShape', 'Expand', 'Reshape', 'Slice', 'Unsqueeze', 'Squeeze', 'Transpose'), fc.array(value, { maxLength: 5 }), async (op, vals) => {
        const ins = op === 'ConstantOfShape' ? ['s'] : op === 'Slice' ? ['a', 's', 's'] : op === 'Transpose' ? ['a'] : ['a', 's'];
        const attrs: Record<string, Attr> = op === 'Transpose' ? { perm: vals } : {};
        const bytes = model({
          nodes: [node(op, ins, ['y'], attrs, 'n')],
          inputs: op === 'ConstantOfShape' ? [] : [io('a', FLOAT, [2, 3])],
          outputs: [io('y', FLOAT, null)],
          initializers: op === 'Transpose' ? [] : [int64s('s', vals)],
        });
        await attempt(bytes, op === 'ConstantOfShape' ? {} : { a: { data: new Float32Array(6), shape: [2, 3] } });
      }),
      { seed: SEED, numRuns: 400 * RUNS },
    );
  });

  it('any supported operator on arbitrary inputs and attributes', async () => {
    // A pool of values of several types and ranks; nodes pick inputs from it (by name, or '' for
    // omitted) and attributes from the operator's own list with arbitrary values.
    const pool = ['x', 'f23', 'f3', 'f1', 'i2', 'i0', 'ineg', 'ibig', 'b2', ''];
    const initializers = [
      floats('f23', [2, 3]), floats('f3', [3]), floats('f1', [1], [0.5]),
      int64s('i2', [1, 2]), int64s('i0', [0], []), int64s('ineg', [-1, -2]), int64s('ibig', [2 ** 40, 3]),
      { name: 'b2', dataType: 9, dims: [2], int32Data: [1, 0] },
    ];
    const ops = [...Object.keys(STANDARD_OPS), 'LSTM', 'GRU', 'RNN'];
    const value: fc.Arbitrary<Attr> = fc.oneof(
      fc.integer({ min: -4, max: 12 }),
      fc.array(fc.integer({ min: -3, max: 4 }), { maxLength: 4 }),
      fc.constantFrom('forward', 'reverse', 'bidirectional', 'Tanh'),
      fc.record({ float: fc.double({ min: -2, max: 2, noNaN: true }) }),
      fc.constant({ tensor: floats('v', [1], [3]) }),
    );
    await fc.assert(
      fc.asyncProperty(
        // Mostly as many inputs as the operator takes, sometimes any number.
        fc.constantFrom(...ops).chain((op) => {
          const [lo, hi] = op in STANDARD_OPS ? STANDARD_OPS[op].inputs : [3, 6];
          const arity = fc.oneof(
            { weight: 4, arbitrary: fc.array(fc.constantFrom(...pool.slice(0, -1)), { minLength: lo, maxLength: Math.min(hi, lo + 2) }) },
            { weight: 1, arbitrary: fc.array(fc.constantFrom(...pool), { maxLength: 6 }) },
          );
          return fc.tuple(fc.constant(op), arity);
        }),
        fc.array(fc.tuple(fc.nat(), value), { maxLength: 3 }),
        fc.boolean(),
        async ([op, ins], attrPicks, asInput) => {
          const allowed = op in STANDARD_OPS ? STANDARD_OPS[op].attrs : ['hidden_size', 'direction', 'layout', 'clip', 'activations'];
          const attrs: Record<string, Attr> = {};
          for (const [k, v] of attrPicks) if (allowed.length) attrs[allowed[k % allowed.length]] = v;
          const n = node(op, ins, ['y'], {}, 'n');
          n.attribute = Object.entries(attrs).map(([k, v]) => attr(k, v));
          // Optionally feed f23 at run time instead of as an initializer.
          const inits = asInput ? initializers.filter((t) => t.name !== 'f23') : initializers;
          const inputs = [io('x', FLOAT, [2, 3]), ...(asInput ? [io('f23', FLOAT, [2, 3])] : [])];
          const feeds: Record<string, OnnxFeed> = { x: { data: new Float32Array(6).fill(0.25), shape: [2, 3] } };
          if (asInput) feeds.f23 = { data: Float32Array.of(1, -2, 3, -4, 5, -6), shape: [2, 3] };
          const bytes = model({ nodes: [n], inputs, outputs: [io('y', FLOAT, null)], initializers: inits });
          await attempt(bytes, feeds);
        },
      ),
      { seed: SEED, numRuns: 1500 * RUNS },
    );
    void INT64;
  });

  it('deeply nested protobuf is refused, not a crash', async () => {
    // ModelProto.graph (field 7) → GraphProto.node (1) → NodeProto.attribute (5) → AttributeProto.g
    // (6) → GraphProto.node (1) → …, 20 000 levels of (1, 5, 6): length-delimited messages in messages.
    const fields = [7, ...Array.from({ length: 20000 }, () => [1, 5, 6]).flat()];
    const varint = (n: number): number[] => {
      const out: number[] = [];
      do {
        out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n = Math.floor(n / 128);
      } while (n > 0);
      return out;
    };
    // Body sizes from the innermost (empty) message out, then the bytes from the outside in.
    const body = new Array<number>(fields.length + 1).fill(0);
    for (let i = fields.length - 1; i >= 0; i--) body[i] = 1 + varint(body[i + 1]).length + body[i + 1];
    const bytes = [0x08, 0x08]; // ir_version 8
    for (let i = 0; i < fields.length; i++) bytes.push((fields[i] << 3) | 2, ...varint(body[i + 1]));
    expect(await attempt(Uint8Array.from(bytes))).toBe('refused');
  });
});

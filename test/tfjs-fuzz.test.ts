/**
 * The TF.js reader under hostile input (fast-check, fixed seed): mutated topology and manifest
 * JSON, truncated, extended and corrupted weight data, arbitrary shapes / sizes / dtypes /
 * quantizations, arbitrary values for every config key, and broken model.json files through
 * loadTfjs. Every outcome must be a model that predicts (or refuses its input) or one of our
 * errors — a TfjsError, RangeError or TypeError whose message starts with the entry point —
 * never an engine error (a failed allocation, a stack overflow, a property of undefined), never
 * a hang (each case takes milliseconds) and never a large allocation (the backend's memory
 * stays put; sizes are checked against the data before anything is allocated).
 *
 * For a longer hunt: TFJS_FUZZ_SEED=<n> TFJS_FUZZ_RUNS=<factor> npx vitest run test/tfjs-fuzz.test.ts
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryInfo, ready } from '../src/index.js';
import { importTfjs, loadTfjs, TfjsError } from '../src/tfjs/index.js';
import {
  ids, mapWeights, quantize, saveArtifacts, sequential, tf, topologyLayers, uniform, type Artifacts, type Spec,
} from './tfjs-build.js';

const SEED = Number(process.env.TFJS_FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.TFJS_FUZZ_RUNS ?? 1);
const T = 4, I = 3, B = 2;

interface Base {
  name: string;
  artifacts: Artifacts;
  x: { data: Float32Array; shape: number[] };
}

function ours(err: unknown): boolean {
  return (err instanceof TfjsError || err instanceof RangeError || err instanceof TypeError) &&
    /^(importTfjs|loadTfjs|TfjsModel\.predict): /.test(err.message);
}

type Outcome = 'refused' | 'imported' | 'ran';

/** Imports (and, if that works, predicts); fails the test on a foreign error or a slow case. */
function attempt(a: unknown, x?: Base['x']): Outcome {
  const t0 = performance.now();
  try {
    let m;
    try {
      m = importTfjs(a as Artifacts);
    } catch (err) {
      if (!ours(err)) throw new Error(`foreign error at import: ${String((err as Error)?.stack ?? err)}`);
      return 'refused';
    }
    try {
      if (!x) return 'imported';
      const y = m.predict(x);
      expect(y.data.length).toBe(y.shape.reduce((p, d) => p * d, 1));
      return 'ran';
    } catch (err) {
      if (!ours(err)) throw new Error(`foreign error at predict: ${String((err as Error)?.stack ?? err)}`);
      return 'refused';
    } finally {
      m.dispose();
    }
  } finally {
    expect(performance.now() - t0).toBeLessThan(1000);
  }
}

let bases: Base[] = [];
let memoryBefore = 0;

beforeAll(async () => {
  await ready();
  const save = async (name: string, layers: tf.layers.Layer[], x: Base['x'], seed: number): Promise<Base> => {
    const m = sequential(layers, seed);
    const artifacts = await saveArtifacts(m);
    m.dispose();
    return { name, artifacts, x };
  };
  const seq = { data: uniform(B * T * I, 1, 1), shape: [B, T, I] };
  const tok = { data: ids(B * T, 7, 2), shape: [B, T] };
  const lstm = (o: object): tf.layers.Layer => tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', ...o } as never);
  const emb = await save('Embedding → Bidirectional LSTM (sum) → Dense softmax', [
    tf.layers.embedding({ inputDim: 7, outputDim: 3, inputLength: T }),
    tf.layers.bidirectional({ layer: lstm({ returnSequences: true, goBackwards: true }) as tf.RNN, mergeMode: 'sum' }),
    tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'softmax' }) }),
  ], tok, 3);
  bases = [
    await save('LSTM → Dropout → Dense', [lstm({ inputShape: [T, I] }), tf.layers.dropout({ rate: 0.1 }), tf.layers.dense({ units: 2 })], seq, 1),
    await save('SimpleRNN relu → Bidirectional SimpleRNN (ave)', [
      tf.layers.simpleRNN({ units: 3, activation: 'relu', returnSequences: true, inputShape: [T, I] }),
      tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 2 }) as tf.RNN, mergeMode: 'ave' }),
    ], seq, 2),
    emb,
    { ...emb, name: 'the same, uint8-quantized', artifacts: quantize(emb.artifacts, 'uint8') },
  ];
  // A GRU with Keras's reset_after=true (what tfjs cannot build): bias [2, 3H].
  const gru = await save('GRU', [tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] })], seq, 4);
  for (const l of topologyLayers(gru.artifacts)) l.config.reset_after = true;
  gru.artifacts = mapWeights(gru.artifacts, (spec, v) => (spec.name.endsWith('/bias') ? [{ spec: { ...spec, shape: [2, 6] }, values: uniform(12, 5) }] : [{ spec, values: v }]));
  bases.push({ ...gru, name: 'GRU reset_after=true' });
  for (const b of bases) expect(attempt(b.artifacts, b.x), b.name).toBe('ran');
  memoryBefore = memoryInfo().memoryBytes;
}, 60_000);

/** Every (container, key) in a JSON tree, breadth first (no recursion: the tree may be deep). */
function slots(root: unknown): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const queue: unknown[] = [root];
  while (queue.length > 0 && out.length < 5000) {
    const v = queue.shift();
    if (Array.isArray(v)) v.forEach((c, i) => (out.push([v, i]), queue.push(c)));
    else if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) (out.push([v as Record<string, unknown>, k]), queue.push(c));
  }
  return out;
}

const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1, 2, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e308, -0, 0.5, NaN, Infinity),
  fc.constantFrom('hard_sigmoid', 'hardSigmoid', 'relu', 'sigmoid', 'linear', 'softmax', 'LSTM', 'GRU', 'Bidirectional', 'Dense', 'float16', 'uint8', 'concat', 'mul', ''),
  fc.constantFrom(null, true, false, [], {}, [null, 4, 3], [2, 6], { class_name: 'LSTM', config: {} }),
);
type Mutation = { at: number; kind: 'set' | 'delete' | 'rename'; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'set', 'delete', 'rename') as fc.Arbitrary<Mutation['kind']>, value: hostile });

function applyMutations(root: unknown, ms: Mutation[]): void {
  for (const m of ms) {
    const all = slots(root);
    if (all.length === 0) return;
    const [parent, key] = all[m.at % all.length];
    if (m.kind === 'set') (parent as Record<string | number, unknown>)[key] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (!Array.isArray(parent)) {
      // camelCase or a near-miss of the key.
      const v = parent[key as string];
      delete parent[key as string];
      parent[String(key).replace(/_([a-z])/g, (_s, c: string) => c.toUpperCase()) + (typeof m.value === 'string' ? m.value : '')] = v;
    }
  }
}

function clone(a: Artifacts): Artifacts {
  return { ...a, modelTopology: JSON.parse(JSON.stringify(a.modelTopology)), weightSpecs: JSON.parse(JSON.stringify(a.weightSpecs)) };
}

describe('the TF.js reader under hostile input', () => {
  it('mutated topology JSON: predicts, or refused with our error', () => {
    const seen = { refused: 0, ran: 0, imported: 0 };
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), (k, ms) => {
        const base = bases[k % bases.length];
        const a = clone(base.artifacts);
        applyMutations(a.modelTopology, ms);
        seen[attempt(a, base.x)]++;
      }),
      { seed: SEED, numRuns: 800 * RUNS },
    );
    if (process.env.TFJS_FUZZ_VERBOSE) console.log(seen);
    // Both outcomes occur: mutations of keys that do not matter are accepted, the rest refused.
    expect(seen.refused).toBeGreaterThan(50);
    expect(seen.ran).toBeGreaterThan(50);
  });

  it('mutated manifests (names, shapes, dtypes, quantizations, order)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (k, ms, shuffle) => {
        const base = bases[k % bases.length];
        const a = clone(base.artifacts);
        applyMutations(a.weightSpecs, ms);
        if (shuffle && Array.isArray(a.weightSpecs) && a.weightSpecs.length > 1) a.weightSpecs.push(a.weightSpecs.shift() as Spec);
        attempt(a, base.x);
      }),
      { seed: SEED, numRuns: 800 * RUNS },
    );
  });

  it('truncated, extended, split and corrupted weight data', () => {
    const edit = fc.record({ cut: fc.nat(), extra: fc.nat(16), flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), parts: fc.array(fc.nat(), { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.nat(), edit, (k, e) => {
        const base = bases[k % bases.length];
        const src = new Uint8Array(base.artifacts.weightData);
        const n = e.cut % (src.length + 1);
        const bytes = new Uint8Array(n + (e.cut % 3 === 0 ? e.extra : 0));
        bytes.set(src.subarray(0, n));
        for (const [at, v] of e.flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
        const cuts = [...new Set([0, ...e.parts.map((p) => p % (bytes.length + 1)), bytes.length])].sort((x, y) => x - y);
        const data = cuts.length > 2 ? cuts.slice(1).map((end, i) => bytes.slice(cuts[i], end).buffer) : bytes.buffer;
        const outcome = attempt({ ...base.artifacts, weightData: data }, base.x);
        if (bytes.length !== src.length) expect(outcome).toBe('refused');
      }),
      { seed: SEED, numRuns: 600 * RUNS },
    );
  });

  it('arbitrary shapes, sizes, dtypes and quantizations: refused before allocating', () => {
    const dim = fc.oneof(
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: -3, max: -1 }),
      fc.constantFrom(2 ** 16, 2 ** 20, 2 ** 30, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 2 ** 62, 0.5),
    );
    const spec = fc.record({
      shape: fc.array(dim, { maxLength: 9 }),
      dtype: fc.constantFrom('float32', 'int32', 'bool', 'string', 'complex64', 'float64', 7),
      quantization: fc.option(fc.record({
        dtype: fc.constantFrom('uint8', 'uint16', 'float16', 'int8', null),
        scale: fc.oneof(fc.double(), fc.constant(undefined)),
        min: fc.oneof(fc.double(), fc.constant(undefined)),
      }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.nat(), fc.nat(), spec, fc.integer({ min: 1, max: 2 ** 30 }), (k, which, s, units) => {
        const base = bases[k % bases.length];
        const a = clone(base.artifacts);
        const i = which % a.weightSpecs.length;
        a.weightSpecs[i] = { ...a.weightSpecs[i], ...(s as unknown as Partial<Spec>) };
        // Sometimes a config that asks for a huge layer to go with it.
        if (which % 3 === 0) {
          const l = topologyLayers(a)[k % topologyLayers(a).length];
          const c = (l.config.layer as { config?: Record<string, unknown> } | undefined)?.config ?? l.config;
          for (const key of ['units', 'input_dim', 'output_dim']) if (key in c) c[key] = units;
        }
        attempt(a, base.x);
      }),
      { seed: SEED, numRuns: 600 * RUNS },
    );
    // Nothing the hostile sizes asked for was allocated in the backend's memory.
    expect(memoryInfo().memoryBytes).toBeLessThanOrEqual(memoryBefore + 16 * 2 ** 20);
  });

  it('anything at all as the artifacts, or as their parts', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), fc.constantFrom('whole', 'modelTopology', 'weightSpecs', 'weightData'), (v, where) => {
        const base = bases[0];
        attempt(where === 'whole' ? v : { ...base.artifacts, [where]: v }, base.x);
      }),
      { seed: SEED, numRuns: 400 * RUNS },
    );
  });

  it('a deeply nested value in a config, and a huge list of layers', () => {
    const a = clone(bases[0].artifacts);
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    topologyLayers(a)[0].config.kernel_initializer = deep;
    expect(attempt(a, bases[0].x)).toBe('ran');
    topologyLayers(a)[0].config.stateful = deep;
    expect(attempt(a, bases[0].x)).toBe('refused');
    const many = { modelTopology: { class_name: 'Sequential', config: { layers: Array.from({ length: 200_000 }, (_, i) => ({ class_name: 'Dropout', config: { name: `d${i}` } })) } } };
    expect(attempt(many)).toBe('refused');
  });

  it('broken model.json files through loadTfjs (a fetch that serves them)', async () => {
    const base = bases[2];
    const json = new TextEncoder().encode(JSON.stringify({
      format: 'layers-model', modelTopology: base.artifacts.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: base.artifacts.weightSpecs }],
    }));
    const bin = new Uint8Array(base.artifacts.weightData);
    const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'cut'), value: fc.nat(255) });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), async (edits, onBin) => {
        const b = Array.from(onBin ? bin : json);
        for (const e of edits) {
          const at = e.at % Math.max(1, b.length);
          if (e.kind === 'flip') b[at] ^= 1 << (e.value & 7);
          else if (e.kind === 'set') b[at] = e.value;
          else if (e.kind === 'insert') b.splice(at, 0, e.value);
          else if (e.kind === 'delete') b.splice(at, 1);
          else b.length = at;
        }
        const served = Uint8Array.from(b);
        const fetch = async (url: string): Promise<Response> => {
          const body = url.endsWith('model.json') ? (onBin ? json : served) : url.endsWith('w.bin') ? (onBin ? served : bin) : null;
          return body ? new Response(body) : new Response('missing', { status: 404, statusText: 'Not Found' });
        };
        try {
          const m = await loadTfjs('https://models.example/m/model.json', { fetch });
          m.dispose();
        } catch (err) {
          if (!ours(err)) throw new Error(`foreign error: ${String((err as Error)?.stack ?? err)}`);
        }
      }),
      { seed: SEED, numRuns: 300 * RUNS },
    );
  });
});

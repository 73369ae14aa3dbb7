/**
 * The cell variants (activations, clip, LSTM peepholes and inputForget, GRU resetAfter: false)
 * against the float64 reference of test/fixtures/generate_variants.py, on every backend:
 * forward, and gradients for every variant that trains; clip refuses training.
 *
 * A few cases also run through ONNX Runtime (exportOnnx of the fixture's layer): an independent
 * implementation of the ONNX equations agrees with the fixtures' reference.
 *
 * Tolerance, as in test/pytorch.test.ts and test/train.test.ts: twice a float32
 * implementation's own error against the float64 reference (the generator runs the same cell
 * code in float32), floored at 8 float32 ulps of the tensor's magnitude.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, type RNNBase } from '../src/index.js';
import { exportOnnx } from '../src/onnx/index.js';
import { fidelityBackends, fixture, maxAbs, maxAbsDiff, use, type Json } from './helpers.js';

type Mode = 'RNN' | 'LSTM' | 'GRU';
interface GradTree { grads: Record<string, Json>; gradInput: Json; gradH0?: Json; gradC0?: Json }
interface ErrTree { grads: Record<string, number>; gradInput: number; gradH0?: number; gradC0?: number }
export interface VariantCase {
  name: string;
  mode: Mode;
  options: Record<string, unknown>;
  input: Json;
  lengths: number[] | null;
  h0: Json | null;
  c0?: Json | null;
  stateDict: Record<string, Json>;
  expected: Record<'output' | 'h' | 'c', Json>;
  torch32MaxAbsErr: Record<'output' | 'h' | 'c', number>;
  gradOutput?: Json;
  gradH?: Json;
  gradC?: Json;
  expectedGrads?: GradTree;
  torch32GradErr?: ErrTree;
}

export const variantCases = fixture<{ cases: VariantCase[] }>('variants.json').cases;
const EPS32 = 2 ** -23;

export function makeVariant(c: VariantCase): RNNBase & { forward: LSTM['forward'] } {
  const opts = { ...c.options, seed: 1 } as never;
  if (c.mode === 'LSTM') return new LSTM(opts);
  if (c.mode === 'GRU') return new GRU(opts) as never;
  return new RNN(opts) as never;
}

function close(got: ArrayLike<number>, want: Json, err: number, what: string): void {
  const tol = Math.max(2 * err, 8 * EPS32 * Math.max(1, maxAbs(want.data)));
  const e = maxAbsDiff(got, want.data);
  expect(e, `${what}: error ${e.toExponential(3)} vs float32 reference ${err.toExponential(3)}`).toBeLessThanOrEqual(tol);
}

const stateOf = (c: VariantCase, h: Json | null | undefined, cc: Json | null | undefined) =>
  h ? (c.mode === 'LSTM' ? { h, c: cc as Json } : { h }) : undefined;

describe('the variant fixtures', () => {
  it('cover every variant, with gradients for all but clip', () => {
    const has = (f: (c: VariantCase) => boolean): number => variantCases.filter(f).length;
    expect(has((c) => c.options.resetAfter === false)).toBeGreaterThanOrEqual(3);
    expect(has((c) => c.options.peepholes === true)).toBeGreaterThanOrEqual(3);
    expect(has((c) => c.options.inputForget === true)).toBeGreaterThanOrEqual(2);
    expect(has((c) => c.options.clip !== undefined)).toBeGreaterThanOrEqual(5);
    for (const a of ['sigmoid', 'relu', 'hardSigmoid']) expect(has((c) => JSON.stringify(c.options.activations ?? {}).includes(a))).toBeGreaterThan(0);
    for (const c of variantCases) expect(c.expectedGrads !== undefined, c.name).toBe(c.options.clip === undefined);
  });
});

for (const backend of fidelityBackends()) {
  describe(`cell variants on ${backend}`, () => {
    it.each(variantCases.map((c) => [c.name, c] as const))('forward %s', async (_n, c) => {
      await use(backend);
      const layer = makeVariant(c);
      layer.loadStateDict(c.stateDict);
      const res = layer.forward(c.input, stateOf(c, c.h0, c.c0), c.lengths ? { lengths: c.lengths } : {});
      const keys = c.mode === 'LSTM' ? (['output', 'h', 'c'] as const) : (['output', 'h'] as const);
      for (const key of keys) {
        const got = res[key as 'output'];
        expect(got.shape, key).toEqual(c.expected[key].shape);
        close(got.data, c.expected[key], c.torch32MaxAbsErr[key], key);
      }
      // step() (one layer direction) runs the same kernels: it reproduces forward's output.
      if (!layer.bidirectional && !c.lengths && c.input.shape.length === 3 && !layer.batchFirst) {
        const [T, B, I] = c.input.shape;
        const st = layer.createState(B);
        if (c.h0) st.h.data.set(c.h0.data);
        if (c.c0 && st.c) st.c.data.set(c.c0.data);
        const H = layer.hiddenSize, x = Float32Array.from(c.input.data);
        for (let t = 0; t < T; t++) {
          const y = layer.step(x.subarray(t * B * I, (t + 1) * B * I), st);
          expect(maxAbsDiff(y, res.output.data.subarray(t * B * H, (t + 1) * B * H))).toBe(0);
        }
      }
      layer.dispose();
    });

    it.each(variantCases.filter((c) => c.expectedGrads).map((c) => [c.name, c] as const))('gradients %s', async (_n, c) => {
      await use(backend);
      const layer = makeVariant(c);
      layer.loadStateDict(c.stateDict);
      // An inference forward first leaves its larger workspace to the training calls (a
      // regression: backward once wrote the parameter blocks of directions k > 0 past its plan).
      layer.forward(c.input, stateOf(c, c.h0, c.c0), c.lengths ? { lengths: c.lengths } : {});
      const out = layer.forward(c.input, stateOf(c, c.h0, c.c0), { training: true, ...(c.lengths ? { lengths: c.lengths } : {}) });
      close(out.output.data, c.expected.output, c.torch32MaxAbsErr.output, 'output');
      const g = layer.backward(c.gradOutput as Json, stateOf(c, c.gradH, c.gradC) as never);
      const want = c.expectedGrads as GradTree, err = c.torch32GradErr as ErrTree;
      const got = layer.gradients();
      expect(Object.keys(got).sort()).toEqual(Object.keys(want.grads).sort());
      for (const [k, v] of Object.entries(want.grads)) close(got[k].data, v, err.grads[k], k);
      close(g.x.data, want.gradInput, err.gradInput, 'gradInput');
      if (want.gradH0) close(g.h.data, want.gradH0, err.gradH0 as number, 'gradH0');
      if (want.gradC0) close((g.c as Tensor).data, want.gradC0, err.gradC0 as number, 'gradC0');
      layer.dispose();
    });
  });
}

describe('variant fixtures through ONNX Runtime', () => {
  // The cases an exported graph can take as they are (no initial state, no lengths, batched).
  const cases = variantCases.filter((c) => !c.h0 && !c.lengths && c.input.shape.length === 3);
  it('covers a GRU with the reset before, an LSTM with hardSigmoid / relu, an RNN with clip', () => {
    expect(cases.map((c) => c.name)).toEqual(['gru_resetbefore_bf_nobias_H17', 'lstm_hardsigmoid_tanh_relu_bi', 'rnn_clip_relu_l2']);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await use('wasm-simd');
    const layer = makeVariant(c);
    layer.loadStateDict(c.stateDict);
    const session = await ort.InferenceSession.create(exportOnnx(layer));
    const got = await session.run({ input: new ort.Tensor('float32', Float32Array.from(c.input.data), c.input.shape) });
    close(got.output.data as Float32Array, c.expected.output, c.torch32MaxAbsErr.output, 'ONNX Runtime output');
    close(got.h_n.data as Float32Array, c.expected.h, c.torch32MaxAbsErr.h, 'ONNX Runtime h_n');
    layer.dispose();
  });
});

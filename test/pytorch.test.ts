/**
 * Every backend against PyTorch on the committed fixtures (test/fixtures/generate.py).
 *
 * Tolerance: the fixtures hold a float64 reference and PyTorch's own float32 error against it
 * (torch32MaxAbsErr). A float32 implementation is as exact as PyTorch when its error is of the
 * same size, so we allow twice PyTorch's error, with a floor of a few float32 ulps of the
 * output's magnitude for cases where PyTorch happens to be almost exact (tiny outputs, one step).
 */
import { describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, backendInfo, type RNNBase } from '../src/index.js';
import { expectedBinary, fidelityBackends, fixture, maxAbs, maxAbsDiff, use, type Json } from './helpers.js';

interface Case {
  name: string;
  mode: 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
  config: { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean; bidirectional: boolean; nonlinearity?: 'tanh' | 'relu' };
  input: Json;
  lengths: number[] | null;
  h0: Json | null;
  c0: Json | null;
  stateDict: Record<string, Json>;
  expected: Record<'output' | 'h' | 'c', Json>;
  torch32MaxAbsErr: Record<'output' | 'h' | 'c', number>;
}

const { cases } = fixture<{ cases: Case[] }>('rnn.json');
const EPS32 = 2 ** -23;

export function makeLayer(c: Case): RNNBase & { forward: LSTM['forward'] } {
  const opts = { ...c.config, seed: 1 };
  if (c.mode === 'LSTM') return new LSTM(opts);
  if (c.mode === 'GRU') return new GRU(opts) as never;
  return new RNN({ ...opts, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' }) as never;
}

export function tolerance(c: Case, key: 'output' | 'h' | 'c'): number {
  return Math.max(2 * c.torch32MaxAbsErr[key], 8 * EPS32 * Math.max(1, maxAbs(c.expected[key].data)));
}

// 'wasm-simd' runs the plain SIMD binary (the default) and 'wasm-simd-relaxed' the opt-in
// relaxed-SIMD (FMA) one where the engine supports it.
for (const backend of fidelityBackends()) {
  describe(`PyTorch fixtures on ${backend} (${expectedBinary(backend)} binary)`, () => {
    it('runs the expected kernel binary', async () => {
      await use(backend);
      expect(backendInfo()).toEqual({ name: backend === 'wasm-simd-relaxed' ? 'wasm-simd' : backend, binary: expectedBinary(backend), ready: true, threads: 1 });
    });

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await use(backend);
      const layer = makeLayer(c);
      layer.loadStateDict(c.stateDict);
      const state = c.h0 ? (c.mode === 'LSTM' ? { h: c.h0, c: c.c0 as Json } : { h: c.h0 }) : undefined;
      const res = layer.forward(c.input, state, c.lengths ? { lengths: c.lengths } : {});
      const keys = c.mode === 'LSTM' ? (['output', 'h', 'c'] as const) : (['output', 'h'] as const);
      for (const key of keys) {
        const got = res[key as 'output'];
        expect(got.shape, key).toEqual(c.expected[key].shape);
        const err = maxAbsDiff(got.data, c.expected[key].data);
        expect(err, `${key}: error ${err} vs PyTorch float32 ${c.torch32MaxAbsErr[key]}`).toBeLessThanOrEqual(tolerance(c, key));
      }
      layer.dispose();
    });
  });
}

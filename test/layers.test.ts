/** Linear and Embedding against PyTorch (test/fixtures/layers.json) on every backend. */
import { describe, expect, it } from 'vitest';
import { Embedding, Linear, Tensor } from '../src/index.js';
import { fixture, maxAbs, maxAbsDiff, selectedBackends, use, type Json } from './helpers.js';

interface Case {
  name: string;
  layer: 'Linear' | 'Embedding';
  config: { inFeatures: number; outFeatures: number; bias: boolean; numEmbeddings: number; embeddingDim: number };
  input?: Json;
  ids?: Json;
  stateDict: Record<string, Json>;
  expected: { output: Json };
  torch32MaxAbsErr: { output: number };
}

const { cases } = fixture<{ cases: Case[] }>('layers.json');

for (const backend of selectedBackends()) {
  describe(`Linear and Embedding on ${backend}`, () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      await use(backend);
      let out: Tensor;
      if (c.layer === 'Linear') {
        const layer = new Linear(c.config.inFeatures, c.config.outFeatures, { bias: c.config.bias });
        layer.loadStateDict(c.stateDict);
        out = layer.forward(c.input as Json);
        layer.dispose();
      } else {
        const layer = new Embedding(c.config.numEmbeddings, c.config.embeddingDim);
        layer.loadStateDict(c.stateDict);
        const ids = c.ids as Json;
        out = layer.forward(new Tensor(Float32Array.from(ids.data), ids.shape).toArray() as number[][]);
        layer.dispose();
      }
      expect(out.shape).toEqual(c.expected.output.shape);
      const err = maxAbsDiff(out.data, c.expected.output.data);
      const tol = Math.max(2 * c.torch32MaxAbsErr.output, 8 * 2 ** -23 * Math.max(1, maxAbs(c.expected.output.data)));
      expect(err).toBeLessThanOrEqual(tol);
    });
  });
}

describe('Tensor', () => {
  it('round-trips nested arrays and checks shapes', () => {
    const t = Tensor.from([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(() => Tensor.from([[1, 2], [3]])).toThrow(/values\[1\]: expected an array of length 2/);
    expect(() => Tensor.from([[1, 'a']] as never)).toThrow(/values\[0\]\[1\]: expected a number, got string/);
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow(/holds 6 values, but data has 5/);
  });
});

/** Composed models name their parameters as PyTorch does and load PyTorch-keyed dicts. */
import { describe, expect, it } from 'vitest';
import { Embedding, GRU, LSTM, Linear, Module, Tensor } from '../src/index.js';

class CharModel extends Module {
  embedding = new Embedding(11, 4, { seed: 1 });
  rnn = new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 2 });
  linear = new Linear(12, 11, { seed: 3 });
}

describe('Module', () => {
  it('prefixes child names in registration order, like nn.Module', () => {
    const m = new CharModel();
    const keys = Object.keys(m.stateDict());
    expect(keys.slice(0, 5)).toEqual([
      'embedding.weight',
      'rnn.weight_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.bias_hh_l0',
    ]);
    expect(keys).toContain('rnn.bias_hh_l1_reverse');
    expect(keys.slice(-2)).toEqual(['linear.weight', 'linear.bias']);
    expect(m.stateDict()['rnn.weight_ih_l1'].shape).toEqual([24, 12]);
    expect(m.numParameters()).toBe(11 * 4 + 2 * (24 * 4 + 24 * 6 + 48) + 2 * (24 * 12 + 24 * 6 + 48) + 12 * 11 + 11);
    m.dispose();
  });

  it('round-trips a state dict between two models and refuses a child key without its prefix', () => {
    const a = new CharModel();
    const b = new CharModel();
    b.loadStateDict(Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k, v.toArray() as number[]])));
    for (const [k, v] of Object.entries(b.stateDict())) expect(Array.from(v.data), k).toEqual(Array.from(a.stateDict()[k].data));
    expect(() => b.loadStateDict({ ...a.stateDict(), weight: Tensor.zeros([11, 4]) })).toThrow(/unexpected key\(s\) 'weight'/);
    a.dispose();
    b.dispose();
  });

  it('initialises like PyTorch: uniform ±1/√H for recurrent layers, reproducible from a seed', () => {
    const g1 = new GRU({ inputSize: 3, hiddenSize: 16, seed: 42 }).stateDict();
    const g2 = new GRU({ inputSize: 3, hiddenSize: 16, seed: 42 }).stateDict();
    const g3 = new GRU({ inputSize: 3, hiddenSize: 16, seed: 43 }).stateDict();
    expect(Array.from(g1.weight_hh_l0.data)).toEqual(Array.from(g2.weight_hh_l0.data));
    expect(Array.from(g1.weight_hh_l0.data)).not.toEqual(Array.from(g3.weight_hh_l0.data));
    const all = Object.values(g1).flatMap((t) => Array.from(t.data));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.24);
  });
});

/**
 * The variant options of RNN, LSTM and GRU as an API: what they accept and refuse (naming the
 * layer, the option, what was expected and what came), the parameters they add, getConfig()
 * round trips, PyTorch's values giving PyTorch's cells, and training refused for clip.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, Module, RNN, Tensor, type RNNBase } from '../src/index.js';
import { maxAbsDiff, randomData, use } from './helpers.js';

beforeAll(async () => use('wasm-simd'));

const x = (T: number, B: number, I: number, seed = 1): Tensor => new Tensor(randomData(T * B * I, seed), [T, B, I]);

describe('bad variant options are refused, naming the layer, the option, expected and received', () => {
  const base = { inputSize: 3, hiddenSize: 4 };
  it.each([
    [() => new LSTM({ ...base, clip: 0 }), RangeError, /^LSTM: clip must be a positive finite number, got 0$/],
    [() => new GRU({ ...base, clip: -1 }), RangeError, /^GRU: clip must be a positive finite number, got -1$/],
    [() => new RNN({ ...base, clip: Infinity }), RangeError, /^RNN: clip must be a positive finite number, got Infinity$/],
    [() => new RNN({ ...base, clip: NaN }), RangeError, /^RNN: clip must be a positive finite number, got NaN$/],
    [() => new LSTM({ ...base, clip: '1' as never }), TypeError, /^LSTM: clip must be a positive finite number, got '1'$/],
    [() => new LSTM({ ...base, activations: { gate: 'hard_sigmoid' as never } }), RangeError,
      /^LSTM: activations\.gate must be one of 'sigmoid', 'tanh', 'relu', 'hardSigmoid', got 'hard_sigmoid' \(did you mean 'hardSigmoid'\?\)$/],
    [() => new GRU({ ...base, activations: { cell: 'softsign' as never } }), RangeError, /^GRU: activations\.cell must be one of .*, got 'softsign'$/],
    [() => new GRU({ ...base, activations: { hidden: 'tanh' } as never }), TypeError, /^GRU: activations has no key 'hidden' for a GRU; expected 'gate' or 'cell'$/],
    [() => new RNN({ ...base, activations: { gate: 'sigmoid' } as never }), TypeError, /^RNN: activations has no key 'gate' for an RNN; expected 'hidden'$/],
    [() => new LSTM({ ...base, activations: 'relu' as never }), TypeError, /^LSTM: activations must be an object like \{ gate: 'sigmoid', cell: 'sigmoid', hidden: 'sigmoid' \}, got 'relu'$/],
    [() => new RNN({ ...base, nonlinearity: 'relu', activations: { hidden: 'tanh' } }), RangeError, /^RNN: nonlinearity 'relu' and activations\.hidden 'tanh' disagree; give one of them$/],
    [() => new GRU({ ...base, peepholes: true } as never), TypeError, /^GRU: unknown option 'peepholes' \(LSTM only\); expected one of .*'resetAfter'$/],
    [() => new RNN({ ...base, inputForget: true } as never), TypeError, /^RNN: unknown option 'inputForget' \(LSTM only\)/],
    [() => new LSTM({ ...base, resetAfter: false } as never), TypeError, /^LSTM: unknown option 'resetAfter' \(GRU only\)/],
    [() => new GRU({ ...base, nonlinearity: 'relu' } as never), TypeError, /^GRU: unknown option 'nonlinearity' \(RNN only\)/],
    [() => new LSTM({ ...base, peepholes: 1 as never }), TypeError, /^LSTM: peepholes must be a boolean, got 1$/],
    [() => new GRU({ ...base, resetAfter: 'no' as never }), TypeError, /^GRU: resetAfter must be a boolean, got 'no'$/],
  ])('%#', (make, type, msg) => {
    expect(make).toThrow(type);
    expect(make).toThrow(msg);
  });
});

describe('parameters and configuration', () => {
  it('peepholes add weight_peephole_l{k}[_reverse] [3, H] after the four of each (layer, direction)', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, peepholes: true, bias: false });
    expect(m.namedParameterShapes()).toEqual([
      ['weight_ih_l0', [16, 3]], ['weight_hh_l0', [16, 4]], ['weight_peephole_l0', [3, 4]],
      ['weight_ih_l0_reverse', [16, 3]], ['weight_hh_l0_reverse', [16, 4]], ['weight_peephole_l0_reverse', [3, 4]],
      ['weight_ih_l1', [16, 8]], ['weight_hh_l1', [16, 4]], ['weight_peephole_l1', [3, 4]],
      ['weight_ih_l1_reverse', [16, 8]], ['weight_hh_l1_reverse', [16, 4]], ['weight_peephole_l1_reverse', [3, 4]],
    ]);
    const b = new LSTM({ inputSize: 3, hiddenSize: 4, peepholes: true });
    expect(Object.keys(b.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_peephole_l0']);
    m.dispose();
    b.dispose();
  });

  it('getConfig() lists the variant options that differ from PyTorch and rebuilds the same layer', () => {
    const made: RNNBase[] = [
      new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: false, activations: { gate: 'hardSigmoid', cell: 'tanh' }, seed: 2 }),
      new LSTM({ inputSize: 3, hiddenSize: 5, peepholes: true, inputForget: true, clip: 0.5, activations: { hidden: 'relu' }, seed: 2 }),
      new RNN({ inputSize: 3, hiddenSize: 5, activations: { hidden: 'hardSigmoid' }, clip: 2, seed: 2 }),
      new RNN({ inputSize: 3, hiddenSize: 5, activations: { hidden: 'relu' }, seed: 2 }),
    ];
    expect(made.map((m) => m.getConfig())).toEqual([
      { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false, resetAfter: false, activations: { gate: 'hardSigmoid' } },
      { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false, clip: 0.5, peepholes: true, inputForget: true, activations: { hidden: 'relu' } },
      { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false, clip: 2, activations: { hidden: 'hardSigmoid' } },
      { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false, nonlinearity: 'relu' },
    ]);
    for (const m of made) {
      const Ctor = m.constructor as new (o: Record<string, unknown>) => RNNBase & { forward: LSTM['forward'] };
      const copy = new Ctor(m.getConfig());
      copy.loadStateDict(m.stateDict());
      const a = (m as LSTM).forward(x(4, 2, 3)), b = copy.forward(x(4, 2, 3));
      expect(maxAbsDiff(a.output.data, b.output.data)).toBe(0);
      expect(copy.getConfig()).toEqual(m.getConfig());
      m.dispose();
      copy.dispose();
    }
    // PyTorch's layers keep their config exactly (no variant keys).
    expect(new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: true, activations: { gate: 'sigmoid' } }).getConfig()).toEqual(new GRU({ inputSize: 2, hiddenSize: 3 }).getConfig());
  });

  it("PyTorch's values of the options give PyTorch's cells, bit for bit", () => {
    const pairs: [RNNBase & { forward: LSTM['forward'] }, RNNBase & { forward: LSTM['forward'] }][] = [
      [new GRU({ inputSize: 3, hiddenSize: 6, seed: 4 }) as never, new GRU({ inputSize: 3, hiddenSize: 6, seed: 4, resetAfter: true, activations: { gate: 'sigmoid', cell: 'tanh' } }) as never],
      [new LSTM({ inputSize: 3, hiddenSize: 6, seed: 4 }), new LSTM({ inputSize: 3, hiddenSize: 6, seed: 4, peepholes: false, inputForget: false, activations: { hidden: 'tanh' } })],
      [new RNN({ inputSize: 3, hiddenSize: 6, seed: 4, nonlinearity: 'relu' }) as never, new RNN({ inputSize: 3, hiddenSize: 6, seed: 4, activations: { hidden: 'relu' } }) as never],
    ];
    for (const [a, b] of pairs) {
      expect(maxAbsDiff(a.forward(x(5, 3, 3)).output.data, b.forward(x(5, 3, 3)).output.data)).toBe(0);
      expect(b.mode).toBe(a.mode);
      a.dispose();
      b.dispose();
    }
    expect(new RNN({ inputSize: 1, hiddenSize: 1, activations: { hidden: 'sigmoid' } }).nonlinearity).toBe('sigmoid');
    expect(new LSTM({ inputSize: 1, hiddenSize: 1, activations: { gate: 'hardSigmoid' } }).activations).toEqual({ gate: 'hardSigmoid', cell: 'tanh', hidden: 'tanh' });
    expect(new GRU({ inputSize: 1, hiddenSize: 1, resetAfter: false }).resetAfter).toBe(false);
  });
});

describe('training refuses clip (its backward is not implemented), naming the layer and the option', () => {
  it('forward({ training: true }), train(), a training flag set directly, a parent’s train()', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, clip: 0.5, seed: 1 });
    const msg = /^LSTM\.forward: training is not supported with clip = 0\.5 \(its backward is not implemented\); use the layer for inference/;
    expect(() => m.forward(x(3, 2, 3), undefined, { training: true })).toThrow(msg);
    expect(() => m.train()).toThrow(/^LSTM\.train: training is not supported with clip = 0\.5/);
    expect(m.training).toBe(false);
    m.training = true; // set directly: the training forward still refuses
    expect(() => m.forward(x(3, 2, 3))).toThrow(msg);
    m.training = false;
    class Net extends Module {
      rnn = new GRU({ inputSize: 3, hiddenSize: 4, clip: 1 });
    }
    const net = new Net();
    expect(() => net.train()).toThrow(/^Net\.train: 'rnn' \(GRU\): training is not supported with clip = 1/);
    expect(net.rnn.training).toBe(false);
    // Inference works.
    expect(m.forward(x(3, 2, 3)).output.shape).toEqual([3, 2, 4]);
    expect(m.eval().training).toBe(false);
    m.dispose();
    net.dispose();
  });

  it('the variants that have a backward train', () => {
    for (const m of [
      new GRU({ inputSize: 3, hiddenSize: 4, resetAfter: false }),
      new LSTM({ inputSize: 3, hiddenSize: 4, peepholes: true, inputForget: true, activations: { gate: 'hardSigmoid' } }),
      new RNN({ inputSize: 3, hiddenSize: 4, activations: { hidden: 'sigmoid' } }),
    ] as (RNNBase & { forward: LSTM['forward'] })[]) {
      m.train();
      const out = m.forward(x(3, 2, 3));
      m.backward(new Tensor(randomData(out.output.size, 2), out.output.shape));
      expect(Object.values(m.gradients()).every((g) => g.data.some((v) => v !== 0))).toBe(true);
      m.dispose();
    }
  });
});

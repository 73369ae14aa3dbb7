/**
 * Bad input is refused with an error naming the argument, what was expected and what came —
 * and the model is left exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, CosineAnnealingLR, Embedding, GRU, LSTM, Linear, RNN, SGD, StepLR, Tensor, clipGradNorm, crossEntropy, fit, gradNorm, mse, ready,
  setBackend,
} from '../src/index.js';
import { randomData, selectedBackends, use } from './helpers.js';

function snapshot(m: { stateDict(): Record<string, Tensor> }): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.data)]));
}

describe('constructors', () => {
  it.each([
    [() => new LSTM({ inputSize: 0, hiddenSize: 4 }), /LSTM: inputSize must be a positive integer, got 0/],
    [() => new LSTM({ inputSize: 3, hiddenSize: 2.5 }), /hiddenSize must be a positive integer, got 2.5/],
    [() => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: -1 }), /GRU: numLayers must be a positive integer, got -1/],
    [() => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' as never }), /nonlinearity must be 'tanh' or 'relu', got 'sigmoid'/],
    [() => new LSTM({ inputSize: 3, hiddenSize: 4, dropout: 1.5 }), /dropout must be a number in \[0, 1\), got 1.5/],
    [() => new LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: 'yes' as never }), /bidirectional must be a boolean, got 'yes'/],
    [() => new LSTM({ inputSize: 3, hidden_size: 4 } as never), /unknown option 'hidden_size'/],
    [() => new Linear(3, 0), /Linear: outFeatures must be a positive integer, got 0/],
    [() => new Embedding(10, 4, { seed: 1.5 }), /seed must be an integer, got 1.5/],
  ])('%#', (make, msg) => {
    expect(make).toThrow(msg);
  });
});

describe('backends', () => {
  it('refuses unknown names and bad ready() options', async () => {
    await expect(setBackend('webgpu' as never)).rejects.toThrow(/expected one of 'wasm-simd', 'wasm', 'js', got 'webgpu'/);
    await expect(ready(42 as never)).rejects.toThrow(/ready: options must be an object, got 42/);
  });
});

for (const backend of selectedBackends()) {
  describe(`forward() refuses bad input on ${backend}`, () => {
    const x = { data: randomData(4 * 2 * 3, 1), shape: [4, 2, 3] };

    it.each([
      ['rank', [1, 2, 3], /x must be 3-D \[T, B, inputSize\] or 2-D unbatched \[T, inputSize\], got shape \[3\]/],
      ['feature size', { data: new Float32Array(8), shape: [2, 2, 2] }, /last dimension must be inputSize = 3, got 2/],
      ['empty', { data: new Float32Array(0), shape: [0, 2, 3] }, /at least one step and one batch row, got shape \[0, 2, 3\]/],
      ['NaN', { data: Float32Array.from([0, 0, 0, 0, Infinity, 0]), shape: [2, 3] }, /x: expected finite numbers, got Infinity at flat index 4/],
      ['ragged', [[[1, 2, 3]], [[1, 2]]], /x\[1\]\[0\]: expected an array of length 3/],
      ['type', 'hello', /x: expected a Tensor, nested arrays of numbers or \{data, shape\}, got string/],
    ])('x: %s', async (_n, bad, msg) => {
      await use(backend);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
      const before = lstm.forward(x).output.data;
      expect(() => lstm.forward(bad as never)).toThrow(msg);
      expect(Array.from(lstm.forward(x).output.data)).toEqual(Array.from(before));
      lstm.dispose();
    });

    it.each([
      ['h shape', { h: Tensor.zeros([1, 3, 4]), c: Tensor.zeros([1, 2, 4]) }, /state.h must have shape \[1, 2, 4\], got \[1, 3, 4\]/],
      ['only h', { h: Tensor.zeros([1, 2, 4]) }, /state must give both h and c \(or neither\), got only h/],
      ['unknown key', { h0: Tensor.zeros([1, 2, 4]) }, /state has unknown key 'h0'/],
      ['tensor for LSTM', Tensor.zeros([1, 2, 4]), /state must be an object \{h, c\}, got Tensor/],
      ['NaN c', { h: Tensor.zeros([1, 2, 4]), c: new Tensor(new Float32Array(8).fill(NaN), [1, 2, 4]) }, /state.c: expected finite numbers, got NaN/],
    ])('state: %s', async (_n, bad, msg) => {
      await use(backend);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
      expect(() => lstm.forward(x, bad as never)).toThrow(msg);
      lstm.dispose();
    });

    it.each([
      ['too many', [4, 2, 1], /lengths must have one entry per batch row \(2\), got 3/],
      ['zero', [4, 0], /lengths\[1\] must be an integer in \[1, 4\] \(T = 4\), got 0/],
      ['too long', [5, 1], /lengths\[0\] must be an integer in \[1, 4\] \(T = 4\), got 5/],
      ['fraction', [2.5, 1], /lengths\[0\] must be an integer in \[1, 4\] \(T = 4\), got 2.5/],
      ['not an array', 4, /lengths must be an array of 2 integers, got number/],
    ])('lengths: %s', async (_n, bad, msg) => {
      await use(backend);
      const gru = new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 });
      expect(() => gru.forward(x, undefined, { lengths: bad as never })).toThrow(msg);
      expect(() => gru.forward({ data: x.data.subarray(0, 12), shape: [4, 3] }, undefined, { lengths: [4] })).toThrow(/lengths needs batched input/);
      expect(() => gru.forward(x, undefined, { length: [4, 4] } as never)).toThrow(/unknown option 'length'; expected 'lengths'/);
      gru.dispose();
    });

    it('loadStateDict: unknown, missing, misshapen and non-finite entries change nothing', async () => {
      await use(backend);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 2 });
      const good = lstm.stateDict();
      const before = snapshot(lstm);
      const out0 = Array.from(lstm.forward(x).output.data);
      const other = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 9 }).stateDict();

      // A dict whose first entries are valid and whose last is bad: nothing may be written.
      const withBad = (key: string, value: unknown) => ({ ...other, [key]: value }) as never;
      expect(() => lstm.loadStateDict(withBad('weight_ih_l2', other.weight_ih_l1))).toThrow(/unexpected key\(s\) 'weight_ih_l2'/);
      const { bias_hh_l1_reverse: _dropped, ...missing } = other;
      expect(() => lstm.loadStateDict(missing)).toThrow(/missing key\(s\) 'bias_hh_l1_reverse'/);
      expect(() => lstm.loadStateDict(withBad('weight_hh_l1_reverse', Tensor.zeros([16, 5])))).toThrow(/'weight_hh_l1_reverse' expected shape \[16, 4\], got \[16, 5\]/);
      expect(() => lstm.loadStateDict(withBad('bias_hh_l1_reverse', new Tensor(new Float32Array(16).fill(NaN), [16])))).toThrow(/'bias_hh_l1_reverse': expected finite numbers, got NaN/);
      expect(() => lstm.loadStateDict(withBad('bias_hh_l1_reverse', 'zeros'))).toThrow(/'bias_hh_l1_reverse': expected a Tensor/);
      expect(() => lstm.loadStateDict(null as never)).toThrow(/dict must be an object of tensors, got null/);
      expect(snapshot(lstm)).toEqual(before);
      expect(Array.from(lstm.forward(x).output.data)).toEqual(out0);

      // Non-strict loading takes the known subset; a full load restores the model.
      lstm.loadStateDict({ weight_ih_l0: other.weight_ih_l0, extra: Tensor.zeros([1]) }, { strict: false });
      expect(Array.from(lstm.stateDict().weight_ih_l0.data)).toEqual(Array.from(other.weight_ih_l0.data));
      lstm.loadStateDict(good);
      expect(Array.from(lstm.forward(x).output.data)).toEqual(out0);
      lstm.dispose();
    });

    it('Linear and Embedding refuse bad input', async () => {
      await use(backend);
      const lin = new Linear(3, 2, { seed: 1 });
      expect(() => lin.forward([[1, 2]])).toThrow(/Linear.forward: x's last dimension must be inFeatures = 3, got shape \[1, 2\]/);
      expect(() => lin.forward([[1, 2, NaN]])).toThrow(/finite numbers, got NaN at flat index 2/);
      const emb = new Embedding(5, 2, { seed: 1 });
      expect(() => emb.forward([1, 5])).toThrow(/ids\[1\]: expected an integer id in \[0, 4\], got 5/);
      expect(() => emb.forward([[1, 2], [3]])).toThrow(/ids\[1\]: expected length 2/);
      expect(() => emb.forward([0.5])).toThrow(/ids\[0\]: expected an integer id in \[0, 4\], got 0.5/);
      expect(() => emb.forward('abc' as never)).toThrow(/expected an array or Int32Array of token ids, got string/);
      expect(emb.forward(new Int32Array([4, 0])).shape).toEqual([2, 2]);
      lin.dispose();
      emb.dispose();
    });
  });
}

describe('inputs that used to be accepted (#8) are refused clearly, and change nothing', () => {
  const x = { data: randomData(4 * 2 * 3, 1), shape: [4, 2, 3] };

  it.each([
    ['strings', ['1', 0, 0, 0, 0, 0], /x\.data\[0\]: expected a number, got string '1'/],
    ['nulls', [null, 0, 0, 0, 0, 0], /x\.data\[0\]: expected a number, got null/],
    ['booleans', [0, true, 0, 0, 0, 0], /x\.data\[1\]: expected a number, got boolean/],
    ['nested arrays', [[0], 0, 0, 0, 0, 0], /x\.data\[0\]: expected a number, got array/],
    ['BigInt64Array', new BigInt64Array(6), /x\.data: expected float values .*got a BigInt64Array/],
  ])('forward: x.data holding %s', async (_n, data, msg) => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const before = lstm.forward(x).output.data;
    expect(() => lstm.forward({ data: data as never, shape: [2, 3] })).toThrow(msg);
    expect(() => lstm.forward({ data: data as never, shape: [2, 3] })).toThrow(/LSTM\.forward/);
    expect(Array.from(lstm.forward(x).output.data)).toEqual(Array.from(before));
    lstm.dispose();
  });

  it("a Tensor's shape cannot be changed after construction", () => {
    const t = new Tensor(new Float32Array(6), [2, 3]);
    expect(() => {
      (t.shape as number[])[0] = 3;
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as { shape: number[] }).shape = [6];
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as { data: Float32Array }).data = new Float32Array(1);
    }).toThrow(TypeError);
    expect(t.shape).toEqual([2, 3]);
    // A look-alike with an inconsistent shape is checked like any {data, shape}.
    const fake = Object.assign(Object.create(Tensor.prototype), { data: new Float32Array(6), shape: [4, 3] });
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => lstm.forward(fake)).toThrow(/shape \[4, 3\] holds 12 values, but data has 6/);
    lstm.dispose();
  });

  it('Tensor.from refuses values that are not numbers', () => {
    expect(() => Tensor.from(['a', 'b'] as never, [2])).toThrow(/Tensor\.from: values\[0\]: expected a number, got string 'a'/);
    expect(() => Tensor.from({ data: [1, null] as never, shape: [2] })).toThrow(/Tensor\.from: values\.data\[1\]: expected a number, got null/);
    expect(() => Tensor.from([1, 2, 3], [2])).toThrow(/shape \[2\] holds 2 values, but data has 3/);
    expect(Array.from(Tensor.from([[1, 2], [3, 4]]).data)).toEqual([1, 2, 3, 4]);
  });

  it('step() refuses a non-finite or misshapen state and leaves it as it was', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const xs = new Float32Array(3).fill(0.5);
    const good = lstm.createState(1);
    const nan = lstm.createState(1);
    nan.h.data[2] = NaN;
    expect(() => lstm.step(xs, nan)).toThrow(/LSTM\.step: state\.h: expected finite numbers, got NaN at flat index 2/);
    const inf = lstm.createState(1);
    (inf.c as Tensor).data[0] = Infinity;
    expect(() => lstm.step(xs, inf)).toThrow(/LSTM\.step: state\.c: expected finite numbers, got Infinity/);
    expect(() => lstm.step(xs, { h: good.h, c: Tensor.zeros([1, 1, 5]) })).toThrow(/LSTM\.step: state\.c must be a Tensor of shape \[1, 1, 4\], got \[1, 1, 5\]/);
    expect(() => lstm.step(xs, { h: Tensor.zeros([2, 1, 4]), c: good.c })).toThrow(/state\.h must have shape \[1, B, 4\], got \[2, 1, 4\]/);
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 });
    expect(() => gru.step(xs, { h: Tensor.zeros([1, 1, 4]), c: Tensor.zeros([1, 1, 4]) })).toThrow(/GRU\.step: state has a 'c', but GRU keeps only h/);
    expect(Array.from(nan.h.data.subarray(0, 2))).toEqual([0, 0]);
    lstm.dispose();
    gru.dispose();
  });

  it('loadStateDict refuses string, null and boolean data and changes nothing', () => {
    const lin = new Linear(2, 2, { seed: 1 });
    const before = Array.from(lin.stateDict().weight.data);
    for (const [bad, msg] of [
      [['a', 'b', 'c', 'd'], /'weight'\.data\[0\]: expected a number, got string/],
      [[null, 1, 2, 3], /'weight'\.data\[0\]: expected a number, got null/],
      [[true, 1, 2, 3], /'weight'\.data\[0\]: expected a number, got boolean/],
    ] as const) {
      expect(() => lin.loadStateDict({ weight: { data: bad as never, shape: [2, 2] }, bias: [0, 0] })).toThrow(msg);
    }
    expect(() => lin.loadStateDict(lin.stateDict(), null as never)).toThrow(/Linear\.loadStateDict: options must be an object, got null/);
    expect(() => lin.loadStateDict(lin.stateDict(), { strict: 'yes' } as never)).toThrow(/strict must be a boolean, got string/);
    expect(() => lin.loadStateDict(lin.stateDict(), { strinct: false } as never)).toThrow(/unknown option 'strinct'/);
    expect(Array.from(lin.stateDict().weight.data)).toEqual(before);
    lin.dispose();
  });

  it('losses, optimizers, schedulers and clipping refuse null and unknown options by name', () => {
    const lin = new Linear(2, 2, { seed: 1 });
    expect(() => crossEntropy([[1, 2]], [0], null as never)).toThrow(/crossEntropy: options must be an object, got null/);
    expect(() => crossEntropy([[1, 2]], [0], { ignore_index: 1 } as never)).toThrow(/crossEntropy: unknown option 'ignore_index' \(did you mean 'ignoreIndex'\?\)/);
    expect(() => mse([1], [1], { reductio: 'sum' } as never)).toThrow(/mse: unknown option 'reductio'; expected 'reduction'/);
    expect(() => new StepLR(null as never, { stepSize: 1 })).toThrow(/StepLR: optimizer must be an Optimizer .*got null/);
    const opt = new SGD(lin, { lr: 0.1 });
    expect(() => new StepLR(opt, null as never)).toThrow(/StepLR: options must be an object, got null/);
    expect(() => new CosineAnnealingLR(opt, { t_max: 3 } as never)).toThrow(/CosineAnnealingLR: unknown option 't_max' \(did you mean 'tMax'\?\)/);
    expect(() => clipGradNorm(null as never, 1)).toThrow(/clipGradNorm: params must be a Module or a non-empty array of its parameters\(\), got null/);
    expect(() => gradNorm('x' as never)).toThrow(/gradNorm: params must be a Module .*got string/);
    expect(() => new SGD(lin, { lr: 0.1, moment: 0.9 } as never)).toThrow(/SGD: unknown option 'moment'; expected one of 'lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'/);
    expect(() => new Adam(lin, { weight_decay: 0.1, weightDecay: 0.2 } as never)).toThrow(/Adam: option 'weightDecay' is given twice/);
    expect(() => new SGD(lin, { lr: 0.1, nesterov: 'yes' } as never)).toThrow(/SGD: nesterov must be a boolean, got 'yes'/);
    expect(() => fit(null as never, null as never)).toThrow(/fit: model must be a Module/);
    lin.dispose();
  });

  it("PyTorch's weight_decay spelling is an alias of weightDecay", () => {
    const a = new Linear(2, 2, { seed: 1 });
    const b = new Linear(2, 2, { seed: 1 });
    const adamA = new Adam(a, { lr: 0.1, weight_decay: 0.5 } as never);
    const adamB = new Adam(b, { lr: 0.1, weightDecay: 0.5 });
    expect(adamA.weightDecay).toBe(0.5);
    for (const [m, o] of [[a, adamA], [b, adamB]] as const) {
      const y = m.forward([[1, 2]], { training: true });
      m.backward(new Tensor(new Float32Array(y.size).fill(1), y.shape));
      o.step();
    }
    expect(Array.from(a.stateDict().weight.data)).toEqual(Array.from(b.stateDict().weight.data));
    expect(new SGD(a, { lr: 0.1, weight_decay: 0.01 } as never).weightDecay).toBe(0.01);
    a.dispose();
    b.dispose();
  });

  it('sizes that cannot fit fail at once with the argument named, not "Invalid typed array length"', () => {
    expect(() => new GRU({ inputSize: 2, hiddenSize: 8 }).createState(1e9)).toThrow(/GRU\.createState: batch = 1000000000/);
    expect(() => new Linear(1e5, 1e5)).toThrow(/Linear: inFeatures = 100000, outFeatures = 100000 give/);
    expect(() => new Embedding(1e5, 1e5)).toThrow(/Embedding: numEmbeddings = 100000, embeddingDim = 100000 give/);
    expect(() => Tensor.zeros([1e5, 1e5])).toThrow(/Tensor\.zeros: shape \[100000, 100000\] holds 10000000000 values, more than a tensor may/);
  });

  it('unknown layer options suggest the camelCase name', () => {
    expect(() => new LSTM({ inputSize: 3, hidden_size: 4 } as never)).toThrow(/LSTM: unknown option 'hidden_size' \(did you mean 'hiddenSize'\?\)/);
    expect(() => new Linear(2, 2, null as never)).toThrow(/Linear: options must be an object, got null/);
    expect(() => new LSTM(null as never)).toThrow(/LSTM: options must be an object, got null/);
  });
});

/**
 * Autograd (#9): every op against finite differences (js backend: float64 arithmetic, float32
 * storage; the same tolerance argument as test/gradcheck.test.ts), compositions of layers
 * against the explicit backward chain bit for bit on every backend, layers called several
 * times per step, fan-out, missing gradients, memory, and the errors.
 */
import { describe, expect, it } from 'vitest';
import {
  Embedding, FinalHidden, GRU, LSTM, LastStep, Linear, MaxPool, MeanPool, RNN, ReLU, Sequential, Tensor, add, cat, crossEntropy,
  dropout, finalHidden, lastStep, logSoftmax, manualSeed, maxPool, meanPool, memoryInfo, mse, mul, noGrad, relu, reshape, select,
  sigmoid, slice, softmax, stack, sum, mean, tanh, Adam, type LSTMResult,
} from '../src/index.js';
import { randomData, selectedBackends, use } from './helpers.js';
import { gradOk as ok, gradcheck, leaf } from './gradcheck-ops.js';

/** The ops' finite-difference check (test/gradcheck-ops.ts), failing with its mismatches. */
function check(name: string, f: (xs: Tensor[]) => Tensor, shapes: number[][], seed = 1, h = 1e-2): void {
  expect(gradcheck(f, shapes, seed, h).map((b) => `${name} ${b}`)).toEqual([]);
}

describe('ops against finite differences', () => {
  it.each([
    ['cat dim 0', (x: Tensor[]) => cat([x[0], x[1]], 0), [[2, 3], [4, 3]]],
    ['cat dim -1', (x: Tensor[]) => cat([x[0], x[1]], -1), [[2, 3], [2, 1]]],
    ['stack dim 1', (x: Tensor[]) => stack([x[0], x[1]], 1), [[2, 3], [2, 3]]],
    ['slice', (x: Tensor[]) => slice(x[0], 1, 1, -1), [[3, 5]]],
    ['select', (x: Tensor[]) => select(x[0], 0, -1), [[3, 4]]],
    ['reshape', (x: Tensor[]) => mul(reshape(x[0], [4, -1]), 2), [[2, 3, 2]]],
    ['add broadcast', (x: Tensor[]) => add(x[0], x[1]), [[3, 4], [4]]],
    ['mul broadcast', (x: Tensor[]) => mul(x[0], x[1]), [[2, 1, 4], [3, 1]]],
    ['relu', (x: Tensor[]) => relu(x[0]), [[3, 4]]],
    ['tanh', (x: Tensor[]) => tanh(x[0]), [[3, 4]]],
    ['sigmoid', (x: Tensor[]) => sigmoid(x[0]), [[3, 4]]],
    ['softmax dim 1', (x: Tensor[]) => softmax(x[0], 1), [[3, 5]]],
    ['softmax dim 0', (x: Tensor[]) => softmax(x[0], 0), [[3, 5]]],
    ['logSoftmax', (x: Tensor[]) => logSoftmax(x[0], -1), [[2, 6]]],
    ['sum', (x: Tensor[]) => sum(x[0]), [[2, 3]]],
    ['mean', (x: Tensor[]) => mean(x[0]), [[2, 3]]],
    ['lastStep with lengths', (x: Tensor[]) => lastStep(x[0], [3, 1]), [[3, 2, 4]]],
    ['meanPool with lengths', (x: Tensor[]) => meanPool(x[0], [2, 3]), [[3, 2, 4]]],
    ['maxPool with lengths', (x: Tensor[]) => maxPool(x[0], [3, 2]), [[3, 2, 4]]],
    ['lastStep batchFirst', (x: Tensor[]) => lastStep(x[0], [2, 3], { batchFirst: true }), [[2, 3, 4]]],
    ['finalHidden bidirectional', (x: Tensor[]) => finalHidden(x[0], 2), [[4, 3, 2]]],
    ['fan-out (one tensor used twice)', (x: Tensor[]) => mul(add(x[0], x[0]), tanh(x[0])), [[3, 3]]],
  ] as const)('%s', (name, f, shapes) => {
    // ReLU has a kink at 0: a smaller step crosses it only for inputs within 1e-3 of 0.
    check(name, f as (x: Tensor[]) => Tensor, shapes as unknown as number[][], 1, name === 'relu' ? 1e-3 : 1e-2);
  });

  it('dropout: the gradient uses the same mask as the forward', () => {
    manualSeed(7);
    const a = leaf(randomData(20, 3), [4, 5]);
    const y = dropout(a.t, 0.5);
    y.backward(new Tensor(new Float32Array(20).fill(1), [4, 5]));
    const g = a.grad();
    for (let i = 0; i < 20; i++) expect(g[i]).toBe(y.data[i] === 0 ? 0 : 2);
    expect(dropout(a.t, 0.5, { training: false })).toBe(a.t);
  });
});

describe('layers through autograd', () => {
  it('gradients through a composition match finite differences (js): shared Embedding, a Linear called at every step, lengths', async () => {
    await use('js');
    const V = 6, E = 3, H = 4, T = 4, B = 2;
    const emb = new Embedding(V, E, { seed: 1 });
    const rnn = new GRU({ inputSize: E, hiddenSize: H, bidirectional: true, seed: 2 });
    const head = new Linear(2 * H, V, { seed: 3 });
    const mods = [emb, rnn, head];
    const ids = [1, 4, 2, 0, 5, 5, 3, 1];
    const lengths = [4, 3];
    const loss = (train: boolean): number => {
      for (const m of mods) m.train(train);
      const x = emb.forward({ data: ids, shape: [T, B] });
      const again = emb.forward({ data: [2, 3], shape: [1, B] }); // the embedding used twice
      const out = rnn.forward(cat([x, again], 0), undefined, { lengths: lengths.map((l) => l + 1) });
      // The head at every step (each call keeps its own input), plus on the final state.
      let total = crossEntropy(head.forward(select(out.output, 0, 0)), [1, 2]).tensor;
      for (let t = 1; t < T; t++) total = add(total, crossEntropy(head.forward(select(out.output, 0, t)), [t % V, (t + 2) % V]).tensor);
      total = add(total, crossEntropy(head.forward(finalHidden(out.h, 2)), [3, 4]).tensor);
      if (train) total.backward();
      return total.data[0];
    };
    for (const m of mods) m.zeroGrad();
    loss(true);
    const ana = mods.map((m) => m.gradients());
    const bad: string[] = [];
    mods.forEach((m, mi) => {
      for (const [name, t] of Object.entries(m.stateDict())) {
        for (const i of [0, Math.floor(t.size / 3), Math.floor((2 * t.size) / 3), t.size - 1]) {
          const v = t.data[i];
          t.data[i] = v + 1e-2;
          m.loadStateDict({ [name]: t }, { strict: false });
          const lp = loss(false);
          t.data[i] = v - 1e-2;
          m.loadStateDict({ [name]: t }, { strict: false });
          const lm = loss(false);
          t.data[i] = v;
          m.loadStateDict({ [name]: t }, { strict: false });
          const num = (lp - lm) / 2e-2, a = ana[mi][name].data[i];
          if (!ok(num, a)) bad.push(`${m.constructor.name} ${name}[${i}]: ${num} vs ${a}`);
        }
      }
    });
    expect(bad).toEqual([]);
    for (const m of mods) m.dispose();
  });

  for (const backend of selectedBackends()) {
    it.each([
      ['LSTM', () => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 2 })],
      ['GRU', () => new GRU({ inputSize: 3, hiddenSize: 5, batchFirst: true, seed: 2 }) as unknown as LSTM],
      ['RNN relu', () => new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 3, nonlinearity: 'relu', seed: 2 }) as unknown as LSTM],
    ])(`%s: autograd equals the explicit chain bit for bit on ${backend}`, async (_n, makeRnn) => {
      await use(backend);
      const T = 5, B = 3, V = 7;
      const lengths = [5, 2, 4];
      const ids = Array.from({ length: T * B }, (_, i) => (i * 3 + 1) % V);
      const targets = [1, 5, 2];
      const make = () => {
        const emb = new Embedding(V, 3, { seed: 1 });
        const rnn = makeRnn();
        const F = rnn.hiddenSize * (rnn.bidirectional ? 2 : 1);
        const head = new Linear(F, V, { seed: 3 });
        return { emb, rnn, head, F };
      };
      const bf = (r: LSTM): boolean => r.batchFirst;
      // Autograd.
      const a = make();
      for (const m of [a.emb, a.rnn, a.head]) m.train();
      const idsShape = bf(a.rnn) ? [B, T] : [T, B];
      const x = a.emb.forward({ data: bf(a.rnn) ? transposeIds(ids, T, B) : ids, shape: idsShape });
      const out = a.rnn.forward(x, undefined, { lengths });
      const pooled = meanPool(out.output, lengths, { batchFirst: bf(a.rnn) });
      const logits = a.head.forward(pooled);
      crossEntropy(logits, targets).backward();
      // Explicit chain.
      const b = make();
      const xb = b.emb.forward({ data: bf(b.rnn) ? transposeIds(ids, T, B) : ids, shape: idsShape }, { training: true });
      const ob = b.rnn.forward(xb, undefined, { lengths, training: true });
      const pb = meanPool(ob.output, lengths, { batchFirst: bf(b.rnn) });
      const lb = b.head.forward(pb, { training: true });
      const ce = crossEntropy(lb, targets);
      const dPooled = b.head.backward(ce.grad);
      const dOut = meanPoolGrad(dPooled.data, ob.output.shape, lengths, bf(b.rnn));
      const gx = b.rnn.backward(new Tensor(dOut, ob.output.shape));
      b.emb.backward(gx.x);
      for (const k of ['emb', 'rnn', 'head'] as const) {
        const ga = a[k].gradients(), gb = b[k].gradients();
        for (const name of Object.keys(ga)) expect(Array.from(ga[name].data), `${k}.${name}`).toEqual(Array.from(gb[name].data));
      }
      for (const k of ['emb', 'rnn', 'head'] as const) {
        a[k].dispose();
        b[k].dispose();
      }
    });
  }

  it('an LSTM whose c the loss never used: its gradient counts as zero', async () => {
    await use('wasm-simd');
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }).train();
    const twin = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const x = new Tensor(randomData(4 * 2 * 2, 1), [4, 2, 2]);
    const r = lstm.forward(x) as LSTMResult;
    sum(r.h).backward();
    twin.forward(x, undefined, { training: true });
    twin.backward(null, { h: new Tensor(new Float32Array(6).fill(1), [1, 2, 3]), c: Tensor.zeros([1, 2, 3]) });
    expect(Array.from(lstm.gradients().weight_hh_l0.data)).toEqual(Array.from(twin.gradients().weight_hh_l0.data));
    lstm.dispose();
    twin.dispose();
  });

  it('each call of a layer keeps its own activations: two calls, one backward', async () => {
    await use('wasm');
    const lin = new Linear(3, 2, { seed: 1 }).train();
    const x1 = new Tensor(randomData(6, 1), [2, 3]), x2 = new Tensor(randomData(6, 2), [2, 3]);
    add(lin.forward(x1), mul(lin.forward(x2), 3)).backward(new Tensor(new Float32Array(4).fill(1), [2, 2]));
    // dW = Σ_rows (1·x1 + 3·x2)
    const want = [0, 1, 2].map((j) => x1.data[j] + x1.data[3 + j] + 3 * (x2.data[j] + x2.data[3 + j]));
    const got = lin.gradients().weight.data;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(got[i * 3 + j]).toBeCloseTo(want[j], 5);
    lin.dispose();
  });
});

describe('Sequential', () => {
  it("names parameters as PyTorch's nn.Sequential does and trains a classifier", async () => {
    await use('wasm-simd');
    const model = new Sequential(
      new Embedding(10, 4, { seed: 1 }),
      new LSTM({ inputSize: 4, hiddenSize: 8, bidirectional: true, seed: 2 }),
      new FinalHidden(),
      new ReLU(),
      new Linear(16, 2, { seed: 3 }),
    );
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight',
      '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0',
      '1.weight_ih_l0_reverse', '1.weight_hh_l0_reverse', '1.bias_ih_l0_reverse', '1.bias_hh_l0_reverse',
      '4.weight', '4.bias',
    ]);
    // Class 1 iff the sequence contains token 7.
    const T = 6, B = 8;
    const batch = (k: number) => {
      const ids: number[] = [], y: number[] = [];
      for (let b = 0; b < B; b++) y.push((b + k) % 2);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) ids.push(y[b] && t === (b + k) % T ? 7 : (t * 3 + b + k) % 7);
      return { ids: { data: ids, shape: [T, B] }, y };
    };
    model.train();
    const opt = new Adam(model, { lr: 0.05 });
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const { ids, y } = batch(step);
      opt.zeroGrad();
      const ce = crossEntropy(model.forward(ids) as Tensor, y);
      ce.backward();
      opt.step();
      losses.push(ce.loss as number);
    }
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(0.2 * (losses[0] + 1e-9) + 0.1);
    model.eval();
    const { ids, y } = batch(99);
    const pred = model.forward(ids) as Tensor;
    let right = 0;
    for (let b = 0; b < B; b++) right += Number((pred.data[2 * b + 1] > pred.data[2 * b]) === (y[b] === 1));
    expect(right).toBeGreaterThanOrEqual(7);
    model.dispose();
    opt.dispose();
  });

  it('passes lengths to the recurrent and pooling layers', async () => {
    await use('js');
    const seq = new Sequential(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }), new LastStep());
    const x = new Tensor(randomData(4 * 2 * 2, 1), [4, 2, 2]);
    const got = seq.forward(x, { lengths: [2, 4] }) as Tensor;
    const gru = seq.at(0) as GRU;
    const want = lastStep(gru.forward(x, undefined, { lengths: [2, 4] }).output, [2, 4]);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    const mx = new Sequential(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }), new MaxPool()).forward(x, { lengths: [2, 4] }) as Tensor;
    expect(mx.shape).toEqual([2, 3]);
    expect((new Sequential(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }), new MeanPool()).forward(x) as Tensor).shape).toEqual([2, 3]);
    seq.dispose();
  });
});

describe('memory and errors', () => {
  it('a steady-state autograd training loop allocates nothing new in Wasm memory; backward releases the graph', async () => {
    await use('wasm-simd');
    const model = new Sequential(new Embedding(12, 8, { seed: 1 }), new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 2 }), new MeanPool(), new Linear(16, 3, { seed: 3 })).train();
    const opt = new Adam(model, { lr: 1e-3 });
    const ids = { data: Array.from({ length: 10 * 4 }, (_, i) => i % 12), shape: [10, 4] };
    const step = (): void => {
      opt.zeroGrad();
      crossEntropy(model.forward(ids, { lengths: [10, 7, 3, 9] }) as Tensor, [0, 1, 2, 0]).backward();
      opt.step();
    };
    step();
    step();
    const before = memoryInfo();
    for (let i = 0; i < 50; i++) step();
    const after = memoryInfo();
    expect(after.highWater).toBe(before.highWater);
    expect(after.memoryBytes).toBe(before.memoryBytes);
    expect(after.liveBytes).toBe(before.liveBytes);
    // A forward holds its activations until backward releases them.
    const pending = crossEntropy(model.forward(ids) as Tensor, [0, 1, 2, 0]);
    expect(memoryInfo().liveBytes).toBeGreaterThan(before.liveBytes);
    pending.backward();
    expect(memoryInfo().liveBytes).toBe(before.liveBytes);
    model.dispose();
    opt.dispose();
  });

  it('refuses a second backward, a tensor without history, and a graph left behind by a later step', async () => {
    await use('wasm-simd');
    const lin = new Linear(2, 2, { seed: 1 }).train();
    const y = lin.forward([[1, 2]]);
    const loss = sum(y);
    loss.backward();
    expect(() => loss.backward()).toThrow(/backward through 'sum' a second time/);
    expect(() => sum(new Tensor(Float32Array.of(1, 2), [2])).backward()).toThrow(/no recorded history/);
    expect(() => mse([[1, 2]], [[0, 0]]).backward()).toThrow(/mse\(\.\.\.\)\.backward: the input has no recorded history/);
    // Graph A is built, another graph is stepped (backward, then a new training forward): A was dropped.
    const a = sum(lin.forward([[1, 1]]));
    const other = sum(lin.forward([[2, 2]]));
    other.backward();
    lin.forward([[3, 3]]);
    expect(() => a.backward()).toThrow(/Linear\.backward: the activations of that forward were already/);
    lin.dispose();
  });

  it('detach() stops gradients; noGrad() records nothing', async () => {
    await use('js');
    const lin = new Linear(2, 2, { seed: 1 }).train();
    const y = lin.forward([[1, 2]]);
    expect(y.requiresGrad).toBe(true);
    expect(y.detach().requiresGrad).toBe(false);
    expect(noGrad(() => sum(y)).requiresGrad).toBe(false);
    expect(noGrad(() => lin.forward([[1, 2]])).requiresGrad).toBe(false);
    lin.dispose();
  });
});

function transposeIds(ids: number[], T: number, B: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.push(ids[t * B + b]);
  return out;
}

/** d(meanPool)/d(output): each valid step of row b gets g_b / length_b. */
function meanPoolGrad(g: Float32Array, shape: readonly number[], lengths: number[], batchFirst: boolean): Float32Array {
  const [d0, d1, F] = shape;
  const T = batchFirst ? d1 : d0, B = batchFirst ? d0 : d1;
  const out = new Float32Array(T * B * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const o = batchFirst ? (b * T + t) * F : (t * B + b) * F;
      for (let j = 0; j < F; j++) out[o + j] = g[b * F + j] / lengths[b];
    }
  }
  return out;
}

describe('divergence inside a recorded graph', () => {
  it('a non-finite recorded input reaches the loss (for fit() to stop on) instead of throwing as bad input', async () => {
    await use('wasm-simd');
    const lin = new Linear(2, 2, { seed: 1 }).train();
    const rnn = new GRU({ inputSize: 2, hiddenSize: 2, seed: 2 }).train();
    const h = mul(lin.forward([[1, 2], [3, 4]]), Infinity); // a recorded tensor holding ±Infinity
    const out = rnn.forward(reshape(h, [2, 1, 2])).output;
    const ce = crossEntropy(reshape(out, [2, 2]), [0, 1]);
    expect(Number.isFinite(ce.loss as number)).toBe(false);
    // Bad input from the caller is still refused.
    expect(() => lin.forward([[NaN, 1]])).toThrow(/Linear\.forward: x: expected finite numbers/);
    lin.dispose();
    rnn.dispose();
  });
});

/**
 * Finite-difference gradient checks on the js backend (float64 arithmetic, float32 storage):
 * every cell and option — layers, directions, bias, batchFirst, initial state, lengths,
 * inter-layer dropout (fixed masks), unbatched input — plus Linear, Embedding and the losses.
 *
 * Central differences with h = 1e-2 on parameters of size ~0.5: truncation error O(h²·f''')
 * and float32 storage noise O(1e-7·|L|/h) are both ≲ 1e-4 here, so |num − ana| ≤ 2e-3 + 1e-2·|ana|.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding, GRU, LSTM, Linear, RNN, Tensor, bceWithLogits, crossEntropy, mse, type RNNBase } from '../src/index.js';
import { randomData, use } from './helpers.js';

const H_FD = 1e-2;
const H_FD_DEFAULT = H_FD;
/** ReLU has kinks: a smaller step crosses fewer of them (float32 noise grows, still ≲ 1e-3 here). */
const H_RELU = 1e-3;
const ok = (num: number, ana: number): boolean => Math.abs(num - ana) <= 2e-3 + 1e-2 * Math.abs(ana);

beforeAll(async () => use('js'));

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Indices to probe: all of a small tensor, a spread sample of a large one. */
function probes(n: number, max = 12): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * (n - 1)) / (max - 1)));
}

type Maker = () => RNNBase & { forward: LSTM['forward'] };
const cases: Array<[string, Maker, { T: number; B: number; lengths?: number[]; h0?: boolean; unbatched?: boolean }]> = [
  ['lstm 2 layers, bidirectional, lengths, h0, dropout', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0.3, seed: 1 }), { T: 5, B: 3, lengths: [5, 2, 4], h0: true }],
  ['lstm batchFirst, no bias', () => new LSTM({ inputSize: 3, hiddenSize: 5, batchFirst: true, bias: false, seed: 2 }), { T: 4, B: 2 }],
  ['lstm unbatched', () => new LSTM({ inputSize: 2, hiddenSize: 3, seed: 3 }), { T: 4, B: 1, unbatched: true, h0: true }],
  ['gru 2 layers, bidirectional, lengths, h0, dropout', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0.3, seed: 4 }) as never, { T: 5, B: 3, lengths: [3, 5, 1], h0: true }],
  ['gru batchFirst, no bias, unbatched', () => new GRU({ inputSize: 3, hiddenSize: 4, bias: false, batchFirst: true, seed: 5 }) as never, { T: 4, B: 1, unbatched: true }],
  ['rnn tanh 3 layers, lengths', () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 3, seed: 6 }) as never, { T: 4, B: 2, lengths: [4, 2], h0: true }],
  ['rnn relu bidirectional, batchFirst', () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu', bidirectional: true, batchFirst: true, seed: 7 }) as never, { T: 4, B: 2 }],
  // The cell variants that train (clip refuses training).
  ['gru resetAfter false, 2 layers, bidirectional, lengths, h0', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, resetAfter: false, seed: 8 }) as never, { T: 5, B: 3, lengths: [3, 5, 1], h0: true }],
  ['gru resetAfter false, hardSigmoid gates (Keras), no bias', () => new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: false, bias: false, activations: { gate: 'hardSigmoid' }, seed: 9 }) as never, { T: 4, B: 2, h0: true }],
  ['lstm peepholes, 2 layers, bidirectional, lengths, h0', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, peepholes: true, seed: 10 }), { T: 5, B: 3, lengths: [5, 2, 4], h0: true }],
  ['lstm peepholes + inputForget, batchFirst', () => new LSTM({ inputSize: 3, hiddenSize: 5, peepholes: true, inputForget: true, batchFirst: true, seed: 11 }), { T: 4, B: 2, h0: true }],
  ['lstm activations hardSigmoid / tanh / sigmoid, unbatched', () => new LSTM({ inputSize: 2, hiddenSize: 3, activations: { gate: 'hardSigmoid', hidden: 'sigmoid' }, seed: 12 }), { T: 4, B: 1, unbatched: true, h0: true }],
  ['gru activations tanh / sigmoid, lengths', () => new GRU({ inputSize: 3, hiddenSize: 4, activations: { gate: 'tanh', cell: 'sigmoid' }, seed: 13 }) as never, { T: 5, B: 3, lengths: [5, 2, 4] }],
  ['rnn hardSigmoid, 2 layers', () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, activations: { hidden: 'hardSigmoid' }, seed: 14 }) as never, { T: 4, B: 2, h0: true }],
];

describe('finite differences: recurrent layers (js backend)', () => {
  it.each(cases)('%s', (_name, make, cfg) => {
    const rnn = make();
    const H_FD = rnn.mode === 'RNN_RELU' ? H_RELU : H_FD_DEFAULT;
    const { T, B } = cfg;
    const L = rnn.numLayers * (rnn.bidirectional ? 2 : 1), H = rnn.hiddenSize, I = rnn.inputSize;
    const xShape = cfg.unbatched ? [T, I] : rnn.batchFirst ? [B, T, I] : [T, B, I];
    const sShape = cfg.unbatched ? [L, H] : [L, B, H];
    const x = new Tensor(randomData(T * B * I, 11), xShape);
    const isLSTM = rnn.mode === 'LSTM';
    const h0 = cfg.h0 ? new Tensor(randomData(L * B * H, 12).map((v) => v * 0.5), sShape) : undefined;
    const c0 = cfg.h0 && isLSTM ? new Tensor(randomData(L * B * H, 13).map((v) => v * 0.5), sShape) : undefined;
    const D = rnn.bidirectional ? 2 : 1;
    const R = randomData(T * B * D * H, 14), Rh = randomData(L * B * H, 15), Rc = randomData(L * B * H, 16);
    const opts = { training: true, ...(cfg.lengths ? { lengths: cfg.lengths } : {}) };
    const loss = (xx: Tensor, hh?: Tensor, cc?: Tensor): number => {
      rnn.setDropoutSeed(99);
      const st = hh ? (isLSTM ? { h: hh, c: cc as Tensor } : { h: hh }) : undefined;
      const o = rnn.forward(xx, st, opts);
      return dot(o.output.data, R) + dot(o.h.data, Rh) + (isLSTM ? dot((o as { c: Tensor }).c.data, Rc) : 0);
    };
    loss(x, h0, c0);
    const g = rnn.backward(new Tensor(R, rnn.batchFirst && !cfg.unbatched ? [B, T, D * H] : cfg.unbatched ? [T, D * H] : [T, B, D * H]),
      isLSTM ? { h: new Tensor(Rh, sShape), c: new Tensor(Rc, sShape) } : { h: new Tensor(Rh, sShape) });
    const ana = rnn.gradients();

    const bad: string[] = [];
    const sd = rnn.stateDict();
    for (const [name, t] of Object.entries(sd)) {
      for (const i of probes(t.size)) {
        const v = t.data[i];
        t.data[i] = v + H_FD;
        rnn.loadStateDict({ [name]: t }, { strict: false });
        const lp = loss(x, h0, c0);
        t.data[i] = v - H_FD;
        rnn.loadStateDict({ [name]: t }, { strict: false });
        const lm = loss(x, h0, c0);
        t.data[i] = v;
        rnn.loadStateDict({ [name]: t }, { strict: false });
        const num = (lp - lm) / (2 * H_FD);
        if (!ok(num, ana[name].data[i])) bad.push(`${name}[${i}]: numeric ${num} vs analytic ${ana[name].data[i]}`);
      }
    }
    const wrt = (t: Tensor, grad: Tensor, label: string, f: () => number): void => {
      for (const i of probes(t.size)) {
        const v = t.data[i];
        t.data[i] = v + H_FD;
        const lp = f();
        t.data[i] = v - H_FD;
        const lm = f();
        t.data[i] = v;
        const num = (lp - lm) / (2 * H_FD);
        if (!ok(num, grad.data[i])) bad.push(`${label}[${i}]: numeric ${num} vs analytic ${grad.data[i]}`);
      }
    };
    wrt(x, g.x, 'x', () => loss(x, h0, c0));
    if (h0) wrt(h0, g.h, 'h0', () => loss(x, h0, c0));
    if (c0) wrt(c0, g.c as Tensor, 'c0', () => loss(x, h0, c0));
    expect(bad).toEqual([]);
    rnn.dispose();
  });
});

describe('finite differences: Linear, Embedding, losses (js backend)', () => {
  it('Linear over [T, B, in]', () => {
    const lin = new Linear(5, 3, { seed: 1 });
    const x = new Tensor(randomData(2 * 3 * 5, 1), [2, 3, 5]);
    const R = randomData(2 * 3 * 3, 2);
    const f = (): number => dot(lin.forward(x, { training: true }).data, R);
    f();
    const dx = lin.backward(new Tensor(R, [2, 3, 3]));
    const gW = lin.gradients();
    const bad: string[] = [];
    for (const i of probes(x.size)) {
      const v = x.data[i];
      x.data[i] = v + H_FD; const lp = f();
      x.data[i] = v - H_FD; const lm = f();
      x.data[i] = v;
      if (!ok((lp - lm) / (2 * H_FD), dx.data[i])) bad.push(`x[${i}]`);
    }
    const sd = lin.stateDict();
    for (const [name, t] of Object.entries(sd)) {
      for (const i of probes(t.size)) {
        const v = t.data[i];
        t.data[i] = v + H_FD; lin.loadStateDict({ [name]: t }, { strict: false }); const lp = f();
        t.data[i] = v - H_FD; lin.loadStateDict({ [name]: t }, { strict: false }); const lm = f();
        t.data[i] = v; lin.loadStateDict({ [name]: t }, { strict: false });
        if (!ok((lp - lm) / (2 * H_FD), gW[name].data[i])) bad.push(`${name}[${i}]`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('Embedding scatter-adds repeated ids', () => {
    const emb = new Embedding(6, 3, { seed: 1 });
    const ids = [[1, 4], [1, 1], [5, 0]];
    const R = randomData(3 * 2 * 3, 3);
    emb.forward(ids, { training: true });
    emb.backward(new Tensor(R, [3, 2, 3]));
    const g = emb.gradients().weight.data;
    // Row 1 appears three times: its gradient is the sum of the three upstream rows.
    for (let j = 0; j < 3; j++) expect(g[3 + j]).toBeCloseTo(R[0 + j] + R[6 + j] + R[9 + j], 6);
    expect(Array.from(g.subarray(6, 9))).toEqual([0, 0, 0]); // row 2 unused
  });

  it.each([
    ['crossEntropy mean, smoothing, ignoreIndex', (x: Tensor) => crossEntropy(x, [2, -100, 0, 4], { labelSmoothing: 0.1 })],
    ['crossEntropy sum', (x: Tensor) => crossEntropy(x, [1, 3, 0, 4], { reduction: 'sum' })],
    ['mse', (x: Tensor) => mse(x, new Tensor(randomData(20, 5), [4, 5]))],
    ['bceWithLogits', (x: Tensor) => bceWithLogits(x, new Tensor(randomData(20, 6).map((v) => (v + 1) / 2), [4, 5]), { reduction: 'sum' })],
  ])('%s', (_n, f) => {
    const x = new Tensor(randomData(20, 4).map((v) => v * 3), [4, 5]);
    const { grad } = f(x);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      x.data[i] = v + H_FD; const lp = f(x).loss as number;
      x.data[i] = v - H_FD; const lm = f(x).loss as number;
      x.data[i] = v;
      expect(ok((lp - lm) / (2 * H_FD), grad.data[i]), `x[${i}]`).toBe(true);
    }
  });
});

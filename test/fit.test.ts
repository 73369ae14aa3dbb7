/** The fit loop: learning, validation, callbacks, early stopping, reproducibility, divergence. */
import { describe, expect, it } from 'vitest';
import { Adam, LanguageModel, NonFiniteError, SGD, StepLR, fit, lmBatches, LSTM } from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import { maxAbsDiff, selectedBackends, use } from './helpers.js';

/** A deterministic "language": a repeating pattern a small LSTM learns quickly. */
const pattern = 'the cat sat on the mat. '.split('').map((ch) => ch.charCodeAt(0) % 16);
const stream = Array.from({ length: 1200 }, (_, i) => pattern[i % pattern.length]);

const model = (seed = 1) => new LanguageModel({ vocabSize: 16, embeddingDim: 8, hiddenSize: 24, seed });

for (const backend of selectedBackends()) {
  describe(`fit on ${backend}`, () => {
    it('learns, validates, reports each step, and is reproducible from seeds', async () => {
      await use(backend);
      const run = () => {
        const lm = model();
        const opt = new Adam(lm, { lr: 0.02 });
        const steps: Array<{ loss: number; gradNorm: number; tokensPerSecond: number; lr: number }> = [];
        const res = fit(lm, {
          optimizer: opt,
          epochs: 4,
          train: (epoch) => lmBatches(stream.slice(0, 1000), { batchSize: 4, seqLen: 16, mode: 'sequential', seed: 7, epoch }),
          validation: lmBatches(stream.slice(1000), { batchSize: 2, seqLen: 16, mode: 'sequential' }),
          clipNorm: 1,
          scheduler: new StepLR(opt, { stepSize: 2, gamma: 0.5 }),
          onStep: (s) => void steps.push(s),
        });
        const weights = lm.stateDict();
        lm.dispose();
        opt.dispose();
        return { res, steps, weights };
      };
      const a = run();
      expect(a.res.epochs).toHaveLength(4);
      expect(a.res.steps).toBe(a.steps.length);
      const first = a.res.epochs[0], last = a.res.epochs[3];
      expect(last.loss).toBeLessThan(first.loss * 0.6);
      expect(last.valLoss).toBeLessThan(first.valLoss as number);
      expect(a.steps.every((s) => Number.isFinite(s.gradNorm) && s.gradNorm > 0 && s.tokensPerSecond > 0)).toBe(true);
      expect(a.steps[a.steps.length - 1].lr).toBeCloseTo(0.01, 12); // halved after epoch 2
      const b = run();
      expect(b.steps.map((s) => s.loss)).toEqual(a.steps.map((s) => s.loss));
      for (const [k, v] of Object.entries(a.weights)) expect(maxAbsDiff(v.data, b.weights[k].data), k).toBe(0);
    });

    it('stops early when the validation loss stops improving, and on a callback', async () => {
      await use(backend);
      const lm = model(2);
      const opt = new SGD(lm, { lr: 0 }); // no learning: the validation loss never improves
      const batches = lmBatches(stream, { batchSize: 4, seqLen: 8, mode: 'random', seed: 1 });
      const res = fit(lm, { optimizer: opt, epochs: 10, train: batches.slice(0, 3), validation: batches.slice(3, 5), earlyStopping: { patience: 2 } });
      expect(res.stoppedEarly).toBe(true);
      expect(res.epochs).toHaveLength(3);
      const res2 = fit(lm, { optimizer: opt, epochs: 10, train: batches.slice(0, 3), onStep: (s) => s.step < 2 });
      expect(res2.steps).toBe(2);
      lm.dispose();
    });

    it('a learning rate that blows up raises NonFiniteError and keeps the last finite weights', async () => {
      await use(backend);
      const lm = model(3);
      const opt = new SGD(lm, { lr: 1e38, momentum: 0.9 }); // overflows float32 within a few steps
      const batches = lmBatches(stream, { batchSize: 4, seqLen: 8, mode: 'random', seed: 2 });
      let before: Record<string, Float32Array> = {};
      let err: unknown;
      try {
        fit(lm, { optimizer: opt, epochs: 3, train: batches, onStep: () => void (before = Object.fromEntries(Object.entries(lm.stateDict()).map(([k, v]) => [k, v.data]))) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NonFiniteError);
      expect((err as Error).message).toMatch(/training stopped at step \d+: the (loss|gradient norm|parameters)/);
      const after = lm.stateDict();
      for (const [k, v] of Object.entries(after)) {
        expect(v.data.every(Number.isFinite), k).toBe(true);
        // The weights equal those after the last step that completed with finite values.
        if (before[k]) expect(maxAbsDiff(v.data, before[k]), k).toBe(0);
      }
      lm.dispose();
    });

    it('steady-state training allocates nothing', async () => {
      await use(backend);
      const arena = backendInstance(backend).arena;
      const lm = model(4);
      const opt = new Adam(lm);
      const batches = lmBatches(stream, { batchSize: 3, seqLen: 10, mode: 'sequential' });
      fit(lm, { optimizer: opt, epochs: 1, train: batches.slice(0, 2), clipNorm: 1 });
      const high = arena.highWater, bytes = arena.memory.buffer.byteLength, live = arena.liveBytes;
      fit(lm, { optimizer: opt, epochs: 5, train: batches, clipNorm: 1 });
      expect(arena.highWater).toBe(high);
      expect(arena.memory.buffer.byteLength).toBe(bytes);
      expect(arena.liveBytes).toBe(live);
      opt.dispose();
      lm.dispose();
    });

    it('refuses bad training calls clearly', async () => {
      await use(backend);
      const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
      expect(() => lstm.backward([[[0, 0, 0]]])).toThrow(/call forward\(x, state, \{ training: true \}\) first/);
      lstm.forward([[[1, 2]], [[3, 4]]], undefined, { training: true });
      expect(() => lstm.backward([[[0, 0, 0]]])).toThrow(/gradOutput must have the output's shape \[2, 1, 3\], got \[1, 1, 3\]/);
      expect(() => lstm.backward([[[0, 0, NaN]], [[0, 0, 0]]])).toThrow(/gradOutput: expected finite numbers, got NaN at flat index 2/);
      expect(() => lstm.backward([[[0, 0, 0]], [[0, 0, 0]]], { h: [[[0, 0]]] } as never)).toThrow(/gradState must give both h and c/);
      expect(() => lstm.forward([[[1, 2]]], undefined, { training: 1 } as never)).toThrow(/training must be a boolean, got 1/);
      expect(() => new SGD(lstm, {} as never)).toThrow(/SGD: lr is required/);
      expect(() => new SGD(lstm, { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
      expect(() => new Adam(lstm, { betas: [0.9, 1.5] })).toThrow(/betas must be two numbers in \[0, 1\)/);
      expect(() => new Adam([] as never)).toThrow(/params must be a Module or a non-empty array/);
      const lm = model(5);
      expect(() => fit(lm, { optimizer: new Adam(lm), epochs: 0, train: [] })).toThrow(/epochs must be a positive integer, got 0/);
      expect(() => lmBatches([1, 2, 3], { batchSize: 2, seqLen: 4 })).toThrow(/at least batchSize·seqLen \+ 1 = 9 ids, got 3/);
      lstm.dispose();
      lm.dispose();
    });
  });
}

describe('Forecaster', () => {
  it('learns to continue a sine wave and refuses misshapen batches', async () => {
    await use(selectedBackends()[0]);
    const { Forecaster } = await import('../src/index.js');
    const T = 12, B = 16;
    const wave = (i: number) => Math.sin(i * 0.3);
    const batch = (offset: number) => {
      const x = new Float32Array(T * B), y = new Float32Array(B);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) x[t * B + b] = wave(offset + b * 5 + t);
        y[b] = wave(offset + b * 5 + T);
      }
      return { x, y, T, B };
    };
    const f = new Forecaster({ hiddenSize: 16, seed: 1 });
    const opt = new Adam(f, { lr: 0.02 });
    const res = fit(f, { optimizer: opt, epochs: 40, train: [batch(0), batch(7), batch(13)], validation: [batch(40)] });
    expect(res.epochs[39].valLoss).toBeLessThan((res.epochs[0].valLoss as number) * 0.1);
    const pred = f.predict(batch(40).x, T, B);
    expect(pred.shape).toEqual([B, 1]);
    expect(() => f.trainBatch({ x: new Float32Array(3), y: new Float32Array(B), T, B })).toThrow(/batch x must hold T·B·inputSize = 192 values/);
    opt.dispose();
    f.dispose();
  });
});

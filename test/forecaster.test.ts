/**
 * Forecaster: real learning on small budgets (direct multi-step against the persistence
 * forecast; an autoregressive rollout that uses its covariates), the rollout's mechanics
 * (direct forecasts, appended forecasts, the window, centred windows), the scaler's units in
 * forecasts and errors, save/load with the scaler, the error metrics, and bad input.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, Forecaster, StandardScaler, Tensor, fit, forecastErrors, load, save, slidingWindows, windowBatches,
} from '../src/index.js';
import { Random } from '../src/random.js';
import { maxAbsDiff, use } from './helpers.js';

const wave = (n: number, phase = 0): number[] => Array.from({ length: n }, (_, t) => Math.sin(0.35 * (t + phase)) + 0.5 * Math.sin(0.11 * (t + phase)));

describe('Forecaster', () => {
  it('direct multi-step: 4 steps at once, far better than the persistence forecast on held-out windows', async () => {
    await use('wasm-simd');
    const series = wave(400);
    const train = slidingWindows(series.slice(0, 300), { window: 12, horizon: 4 });
    const test = slidingWindows(series.slice(300 - 12), { window: 12, horizon: 4 });
    const m = new Forecaster({ hiddenSize: 16, horizon: 4, seed: 1 });
    const before = m.evaluate(test).mae;
    fit(m, { optimizer: new Adam(m, { lr: 0.02 }), epochs: 12, train: (epoch) => windowBatches(train, { batchSize: 32, seed: 1, epoch }) });
    const ours = m.evaluate(test);
    // Persistence: the last observed value for all 4 steps.
    const naive: number[] = [], truth: number[] = [];
    for (let b = 0; b < test.B; b++) {
      for (let h = 0; h < 4; h++) {
        naive.push(test.x[(11 * test.B + b)]);
        truth.push(test.y[b * 4 + h]);
      }
    }
    const base = forecastErrors(naive, truth).mae;
    expect(ours.mae).toBeLessThan(0.35 * base);
    expect(ours.mae).toBeLessThan(0.25 * before);
    // The batch results give fit()'s 'mae': Σ|error| over count values.
    const r = m.evalBatch(test);
    expect(r.absError / r.count).toBeCloseTo(ours.mae, 5);
    expect(r.count).toBe(test.B * 4);
    m.dispose();
  });

  it('autoregressive rollout with covariates: the known future covariates are used', async () => {
    await use('wasm-simd');
    // y_t = wave + 0.8·c_t with c a random known 0/1 covariate; each row holds the next step's c.
    const rng = new Random(3);
    const N = 500, c = Array.from({ length: N + 1 }, () => (rng.next() < 0.3 ? 1 : 0));
    const w = wave(N), y = w.map((v, t) => v + 0.8 * c[t]);
    const rows = y.map((v, t) => [v, c[t + 1]]);
    const train = slidingWindows(rows.slice(0, 400), { window: 10, targetColumns: [0] });
    const m = new Forecaster({ inputSize: 2, hiddenSize: 24, targetColumns: [0], window: 10, seed: 2 });
    fit(m, { optimizer: new Adam(m, { lr: 0.02 }), epochs: 24, train: (epoch) => windowBatches(train, { batchSize: 32, seed: 2, epoch }) });
    const errors = { known: 0, zeros: 0, persistence: 0 };
    let n = 0;
    for (let origin = 410; origin < 490; origin += 8) {
      const steps = 8;
      const future = Array.from({ length: steps }, (_, j) => [c[origin + j + 1]]);
      const known = m.forecast(rows.slice(0, origin), steps, { covariates: future });
      const zeros = m.forecast(rows.slice(0, origin), steps, { covariates: future.map(() => [0]) });
      expect(known.shape).toEqual([steps, 1]);
      for (let j = 0; j < steps; j++) {
        errors.known += Math.abs(known.data[j] - y[origin + j]);
        errors.zeros += Math.abs(zeros.data[j] - y[origin + j]);
        errors.persistence += Math.abs(y[origin - 1] - y[origin + j]);
        n++;
      }
    }
    expect(errors.known / n).toBeLessThan(0.2);
    expect(errors.known).toBeLessThan(0.65 * errors.zeros);
    expect(errors.known).toBeLessThan(0.4 * errors.persistence);
    m.dispose();
  });

  it('forecast(): direct for steps ≤ horizon, then forecasts appended to the history (the window, in the data\'s units)', async () => {
    await use('wasm-simd');
    const history = Array.from({ length: 30 }, (_, t) => [100 + 10 * Math.sin(t), t % 7]);
    const scaler = new StandardScaler().fit(history);
    const m = new Forecaster({ inputSize: 2, hiddenSize: 5, horizon: 3, targetColumns: [0], window: 8, scaler, seed: 4 });
    const direct = (rows: number[][]): number[] => {
      const x = scaler.transform(rows.slice(-8)).data; // [8, 2] → time-major [8, 1, 2]
      return Array.from(scaler.inverseTransform(m.predict(x, 8, 1), { columns: [0] }).data);
    };
    const f3 = m.forecast(history, 3);
    expect(maxAbsDiff(f3.data, direct(history))).toBeLessThan(1e-3);
    const cov = [[2], [3], [4], [5], [6], [0], [1]];
    const f7 = m.forecast(history, 7, { covariates: cov });
    expect(maxAbsDiff(f7.data.subarray(0, 3), f3.data)).toBe(0);
    const grown = [...history, ...[0, 1, 2].map((j) => [f7.data[j], cov[j][0]])];
    expect(maxAbsDiff(f7.data.subarray(3, 6), direct(grown))).toBeLessThan(1e-3);
    // Only the last `window` steps matter.
    const other = history.map((r, t) => (t < 22 ? [0, 0] : r));
    expect(Array.from(m.forecast(other, 3).data)).toEqual(Array.from(f3.data));
    m.dispose();
  });

  it('centerWindows: a level shift of the history shifts the forecast by the same amount', async () => {
    await use('wasm-simd');
    const m = new Forecaster({ hiddenSize: 6, horizon: 2, centerWindows: true, seed: 5 });
    const h = wave(20);
    const a = m.forecast(h, 5), b = m.forecast(h.map((v) => v + 3), 5);
    for (let i = 0; i < 5; i++) expect(b.data[i] - a.data[i]).toBeCloseTo(3, 4);
    m.dispose();
  });

  it('a scaler puts the errors in the data\'s units, and save/load round-trips it', async () => {
    await use('wasm-simd');
    const rows = Array.from({ length: 60 }, (_, t) => [1000 + 200 * Math.sin(t / 3), Math.cos(t / 3)]);
    const scaler = new StandardScaler().fit(rows);
    const w = slidingWindows(scaler.transform(rows), { window: 6, horizon: 2, targetColumns: [0] });
    const m = new Forecaster({ inputSize: 2, hiddenSize: 4, horizon: 2, targetColumns: [0], scaler, dropout: 0.2, seed: 6 });
    const pred = m.predict(w.x, w.T, w.B);
    const raw = (v: Float32Array) => scaler.inverseTransform({ data: v, shape: [w.B, 2] }, { columns: [0] }).data;
    const r = m.evalBatch(w);
    expect(r.absError / r.count).toBeCloseTo(forecastErrors(raw(pred.data), raw(w.y)).mae, 2);
    expect(m.evaluate(w).mae).toBeCloseTo(r.absError / r.count, 2);
    const back = load(save(m)) as Forecaster;
    expect(back.getConfig()).toEqual(m.getConfig());
    expect((back.getConfig().scaler as { type: string }).type).toBe('StandardScaler');
    expect(Array.from(back.forecast(rows, 2).data)).toEqual(Array.from(m.forecast(rows, 2).data));
    expect(save(back)).toEqual(save(m));
    m.dispose();
    back.dispose();
  });

  it('forecastErrors: MAE, RMSE and MAPE (a fraction)', () => {
    const e = forecastErrors([110, 90, 100], [100, 100, 100]);
    expect(e.mae).toBeCloseTo(20 / 3, 10);
    expect(e.rmse).toBeCloseTo(Math.sqrt(200 / 3), 10);
    expect(e.mape).toBeCloseTo(0.2 / 3, 10);
    expect(() => forecastErrors([1], [1, 2])).toThrow(/forecastErrors: pred and target must hold the same number of values/);
  });

  it('refuses bad options and inputs, naming the argument', async () => {
    await use('js');
    expect(() => new Forecaster({ hiddenSize: 4, horizon: 2, outputSize: 3 })).toThrow(/Forecaster: outputSize must be a multiple of horizon = 2/);
    expect(() => new Forecaster({ inputSize: 2, hiddenSize: 4, targetColumns: [2] })).toThrow(/targetColumns\[0\] must be a column index in \[0, 1\] \(inputSize 2\), got 2/);
    expect(() => new Forecaster({ inputSize: 2, hiddenSize: 4, targetColumns: [0, 0] })).toThrow(/targetColumns\[1\] repeats column 0/);
    expect(() => new Forecaster({ hiddenSize: 4, scaler: new StandardScaler() })).toThrow(/scaler must be fitted/);
    expect(() => new Forecaster({ hiddenSize: 4, scaler: new StandardScaler().fit([[1, 2], [3, 4]]) })).toThrow(/scaler must be fitted on the 1 input features, got one fitted on 2/);
    expect(() => new Forecaster({ hiddenSize: 4, cell: 'tcn' as never })).toThrow(/cell must be one of 'lstm', 'gru', 'rnn', got 'tcn'/);
    const m = new Forecaster({ inputSize: 2, hiddenSize: 4, targetColumns: [0] });
    expect(() => m.forecast([[1, 2], [3, 4]], 3)).toThrow(/Forecaster\.forecast: covariates must give the 1 non-target column \(1\) of each of the 3 forecast steps/);
    expect(() => m.forecast([[1, 2]], 2, { covariates: [[1]] })).toThrow(/covariates must be \[steps = 2, 1\]/);
    expect(() => m.forecast([1, 2, 3], 1)).toThrow(/history must have inputSize = 2 values per step, got 1/);
    expect(() => m.forecast([[1, NaN]], 1)).toThrow(/history\[0\]\[1\] must be a finite number, got NaN/);
    expect(() => m.forecast([[1, 2]], 0)).toThrow(/steps must be a positive integer, got 0/);
    expect(() => m.predict(new Tensor(new Float32Array(6), [3, 1, 2]).data, 3, 2)).toThrow(/Forecaster\.predict: x must hold T·B·inputSize = 12 values, got 6/);
    m.dispose();
    const wide = new Forecaster({ inputSize: 1, hiddenSize: 4, outputSize: 3 });
    expect(() => wide.forecast([1, 2], 1)).toThrow(/give targetColumns to roll it forward/);
    wide.dispose();
  });
});

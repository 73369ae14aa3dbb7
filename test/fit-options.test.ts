/**
 * fit()'s options (#11): validation every N steps or seconds, a time budget, metrics, early
 * stopping that restores the best weights, checkpoints, gradient accumulation. Time is a
 * stubbed clock (no timing asserts).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LanguageModel, Linear, Module, SGD, fit, lmBatches, loadFile, mse, type BatchResult, type Trainable,
} from '../src/index.js';
import { use } from './helpers.js';

interface XY { x: number[][]; y: number[][] }

/** A linear regressor reporting accuracy (|err| < 0.5) and MAE; evalBatch may follow a script. */
class Toy extends Module implements Trainable<XY> {
  lin = new Linear(2, 1, { seed: 1 });
  script: number[] | null = null;
  private evals = 0;
  trainBatch(b: XY): BatchResult {
    this.lin.train();
    const r = mse(this.lin.forward(b.x), b.y);
    r.backward();
    return this.report(r.loss as number, r.grad.data, b);
  }
  evalBatch(b: XY): BatchResult {
    this.lin.eval();
    const p = this.lin.forward(b.x);
    const r = mse(p, b.y);
    const out = this.report(r.loss as number, r.grad.data, b);
    if (this.script) out.loss = this.script[Math.min(this.evals++, this.script.length - 1)];
    return out;
  }
  private report(loss: number, grad: Float32Array, b: XY): BatchResult {
    // grad = 2(p − y)/n: recover |p − y| per value.
    const n = b.y.length;
    let correct = 0, abs = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.abs((grad[i] * n) / 2);
      abs += e;
      if (e < 0.5) correct++;
    }
    return { loss, tokens: n, correct, count: n, absError: abs };
  }
  weights(): number[] {
    return Array.from(this.lin.stateDict().weight.data);
  }
}

const batch = (k: number): XY => ({
  x: [[k % 3, 1], [1, k % 2], [k % 5, k % 2]],
  y: [[(k % 3) * 0.5 + 1], [0.5 + k % 2], [(k % 5) * 0.5 + (k % 2)]],
});

let clock = 0;
function stubClock(stepMs: number): void {
  clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => (clock += stepMs));
}
afterEach(() => {
  vi.restoreAllMocks();
});

describe('fit options', () => {
  it('validates every N steps, reports metrics, and stops on the time budget', async () => {
    await use('js');
    const m = new Toy();
    const opt = new SGD(m, { lr: 0.05 });
    const seen: number[] = [];
    const steps: Array<Record<string, number>> = [];
    stubClock(100); // every performance.now() advances 0.1 s
    const res = fit(m, {
      optimizer: opt, epochs: 100, train: [batch(1), batch(2), batch(3), batch(4)], validation: [batch(9)],
      validateEvery: { steps: 3 }, metrics: ['accuracy', 'mae'], maxSeconds: 5,
      onValidation: (v) => void seen.push(v.step),
      onStep: (s) => void steps.push(s.metrics as Record<string, number>),
    });
    expect(res.stoppedBy).toBe('maxSeconds');
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i] - seen[i - 1]).toBe(3);
    expect(steps[0]).toHaveProperty('accuracy');
    expect(steps[0].mae).toBeGreaterThan(0);
    expect(res.epochs[0].metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(res.seconds).toBeGreaterThanOrEqual(5);
    m.dispose();
  });

  it('validates every so many seconds', async () => {
    await use('js');
    const m = new Toy();
    stubClock(250);
    const times: number[] = [];
    fit(m, { optimizer: new SGD(m, { lr: 0.01 }), epochs: 3, train: [batch(1), batch(2), batch(3)], validation: [batch(5)], validateEvery: { seconds: 2 },
      onValidation: (v) => void times.push(v.elapsed) });
    expect(times.length).toBeGreaterThan(1);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(2);
    m.dispose();
  });

  it('early stopping restores the weights of the best validation', async () => {
    await use('js');
    const m = new Toy();
    m.script = [5, 4, 3, 3.5, 3.6, 3.7, 3.8, 3.9];
    const atValidation: number[][] = [];
    const res = fit(m, {
      optimizer: new SGD(m, { lr: 0.05 }), epochs: 20, train: [batch(1), batch(2)], validation: [batch(7)],
      earlyStopping: { patience: 3 }, onValidation: () => void atValidation.push(m.weights()),
    });
    expect(res.stoppedBy).toBe('earlyStopping');
    expect(res.best?.value).toBe(3);
    expect(res.restoredBest).toBe(true);
    expect(m.weights()).toEqual(atValidation[2]);
    expect(m.weights()).not.toEqual(atValidation[atValidation.length - 1]);
    m.dispose();
  });

  it('checkpoints every validation, or only the best', async () => {
    await use('js');
    const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-fit-'));
    const m = new Toy();
    m.script = [3, 2, 4, 1];
    const path = join(dir, 'best.safetensors');
    let bestWeights: number[] = [];
    const opt = new SGD(m, { lr: 0.05, momentum: 0.9 });
    fit(m, {
      optimizer: opt, epochs: 4, train: [batch(1)], validation: [batch(2)], checkpoint: { path, bestOnly: true, optimizer: true },
      earlyStopping: { patience: 10, restoreBest: false },
      onValidation: (v) => void (v.best && (bestWeights = m.weights())),
    });
    const back = new Toy();
    await loadFile(path, { into: back, optimizer: new SGD(back, { lr: 0.05, momentum: 0.9 }) });
    expect(back.weights()).toEqual(bestWeights);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(() => fit(m, { optimizer: opt, epochs: 1, train: [batch(1)], checkpoint: { path: '' } })).toThrow(/checkpoint\.path must be a non-empty string/);
    m.dispose();
    back.dispose();
  });

  it('accumulating two batches steps like one batch of both (mean losses)', async () => {
    await use('wasm-simd');
    const ids = Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % 13);
    const [a, b] = lmBatches(ids, { batchSize: 3, seqLen: 6, mode: 'random', seed: 2 });
    // One batch holding both: rows of a, then rows of b (time-major [T, B]).
    const T = 6, B = 3;
    const x = new Int32Array(T * 2 * B), y = new Int32Array(T * 2 * B);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < B; r++) {
        x[t * 2 * B + r] = a.x[t * B + r];
        y[t * 2 * B + r] = a.y[t * B + r];
        x[t * 2 * B + B + r] = b.x[t * B + r];
        y[t * 2 * B + B + r] = b.y[t * B + r];
      }
    }
    const both = { x, y, T, B: 2 * B, carry: false };
    const make = () => new LanguageModel({ vocabSize: 13, embeddingDim: 4, hiddenSize: 6, seed: 3 });
    const m1 = make(), m2 = make();
    fit(m1, { optimizer: new SGD(m1, { lr: 0.5 }), epochs: 1, train: [a, b], accumulate: 2 });
    fit(m2, { optimizer: new SGD(m2, { lr: 0.5 }), epochs: 1, train: [both] });
    const w1 = m1.stateDict(), w2 = m2.stateDict();
    for (const k of Object.keys(w1)) {
      const d1 = w1[k].data, d2 = w2[k].data;
      for (let i = 0; i < d1.length; i++) expect(Math.abs(d1[i] - d2[i]), `${k}[${i}]`).toBeLessThan(1e-6 + 1e-5 * Math.abs(d2[i]));
    }
    m1.dispose();
    m2.dispose();
  });

  it('refuses bad options by name', async () => {
    await use('js');
    const m = new Toy();
    const opt = new SGD(m, { lr: 0.1 });
    const base = { optimizer: opt, epochs: 1, train: [batch(1)] };
    expect(() => fit(m, { ...base, metrics: ['f1'] as never })).toThrow(/metrics must be an array of 'accuracy', 'perplexity', 'mae', got \["f1"\]/);
    expect(() => fit(m, { ...base, validateEvery: { steps: 2 } })).toThrow(/validateEvery needs validation batches/);
    expect(() => fit(m, { ...base, validation: [batch(1)], validateEvery: { step: 2 } as never })).toThrow(/fit: validateEvery: unknown option 'step'/);
    expect(() => fit(m, { ...base, maxSeconds: -1 })).toThrow(/maxSeconds must be a positive number, got -1/);
    expect(() => fit(m, { ...base, accumulate: 1.5 })).toThrow(/accumulate must be a positive integer, got 1.5/);
    expect(() => fit(m, { ...base, earlyStopping: { patience: 2, restore: true } as never })).toThrow(/unknown option 'restore'/);
    m.dispose();
  });
});

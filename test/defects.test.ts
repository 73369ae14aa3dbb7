/**
 * Regression tests for the defects of the hardening issue (#8): each failed before its fix.
 * Memory above 2 GiB lives in test/memory-4g.test.ts (its own process).
 */
import { describe, expect, it } from 'vitest';
import {
  Forecaster, GRU, LSTM, Linear, Module, NonFiniteError, SGD, Tensor, fit, getBackend, ready, setBackend,
  Embedding, backendInfo,
} from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import { maxAbsDiff, randomData, selectedBackends, use } from './helpers.js';

const x34 = (seed: number): { data: Float32Array; shape: number[] } => ({ data: randomData(3 * 2 * 4, seed), shape: [3, 2, 4] });

describe('1. backward after the model moved backend', () => {
  it('Linear.backward refuses, and the old backend stays intact for every other model', async () => {
    await setBackend('wasm-simd');
    const probe = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 3 });
    const before = probe.forward(x34(1)).output.data;
    const lin = new Linear(4, 3, { seed: 1 });
    lin.forward({ data: randomData(8, 2), shape: [2, 4] }, { training: true });
    await setBackend('js');
    expect(() => lin.backward({ data: randomData(6, 3), shape: [2, 3] })).toThrow(
      /Linear\.backward: .*(moved|another backend)/,
    );
    // The gradient did not silently become zero on the new backend either.
    expect(Array.from(lin.gradients().weight.data).every((v) => v === 0)).toBe(true);
    await setBackend('wasm-simd');
    expect(maxAbsDiff(probe.forward(x34(1)).output.data, before)).toBe(0);
    probe.dispose();
    lin.dispose();
  });

  it('Embedding.backward and LSTM.backward refuse too', async () => {
    await setBackend('wasm-simd');
    const emb = new Embedding(5, 3, { seed: 1 });
    emb.forward([1, 2], { training: true });
    const rnn = new GRU({ inputSize: 4, hiddenSize: 5, seed: 2 });
    rnn.forward(x34(4), undefined, { training: true });
    await setBackend('js');
    expect(() => emb.backward({ data: randomData(6, 1), shape: [2, 3] })).toThrow(/Embedding\.backward: .*(moved|another backend)/);
    expect(() => rnn.backward(null, { h: Tensor.zeros([1, 2, 5]) })).toThrow(/GRU\.backward: .*(moved|another backend)/);
    emb.dispose();
    rnn.dispose();
  });

  it('a workspace request never hands out address 0', async () => {
    await setBackend('wasm-simd');
    const lin = new Linear(4, 3, { seed: 1 });
    // Workspace of a layer that never ran forward (what Linear.backward asked for).
    const ws = (lin as unknown as { workspace(be: unknown, floats: number): number }).workspace(backendInstance(), 0);
    expect(ws).toBeGreaterThan(0);
    lin.dispose();
  });
});

describe('3. backend selection races', () => {
  it('setBackend calls not awaited: the last call wins', async () => {
    const a = setBackend('wasm');
    const b = setBackend('js');
    await Promise.all([a, b]);
    expect(getBackend()).toBe('js');
    const c = setBackend('js');
    const d = setBackend('wasm');
    await Promise.all([c, d]);
    expect(getBackend()).toBe('wasm');
  });

  it('a pending ready({ threads: 2 }) then ready({ threads: 1 }): one thread, ready', async () => {
    await setBackend('wasm-simd');
    const p = ready({ threads: 2 });
    await ready({ threads: 1 });
    await p;
    expect(backendInfo()).toMatchObject({ name: 'wasm-simd', ready: true, threads: 1 });
    const m = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 1 });
    expect(m.forward(x34(2)).output.shape).toEqual([3, 2, 5]);
    m.dispose();
  });
});

for (const backend of selectedBackends()) {
  describe(`on ${backend}`, () => {
    it('4. loadStateDict between a training forward and its backward is refused', async () => {
      await use(backend);
      const m = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 1 });
      const out = m.forward(x34(1), undefined, { training: true });
      const other = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 2 });
      m.loadStateDict(other.stateDict());
      expect(() => m.backward(out.output)).toThrow(/LSTM\.backward: .*(modified|changed).*forward again/);
      const lin = new Linear(4, 2, { seed: 1 });
      lin.forward({ data: randomData(4, 1), shape: [1, 4] }, { training: true });
      lin.loadStateDict(new Linear(4, 2, { seed: 9 }).stateDict());
      expect(() => lin.backward({ data: randomData(2, 1), shape: [1, 2] })).toThrow(/Linear\.backward: .*(modified|changed)/);
      m.dispose();
      other.dispose();
      lin.dispose();
    });

    it('5. a shared child is listed and updated once; a reference back to the parent is harmless', async () => {
      await use(backend);
      class Tied extends Module {
        a = new Linear(3, 3, { seed: 1 });
        b = this.a;
        parent?: Module;
      }
      const m = new Tied();
      expect(m.parameters().map((p) => p.name)).toEqual(['a.weight', 'a.bias']);
      const w0 = m.a.stateDict().weight.data;
      const y = m.a.forward({ data: randomData(3, 1), shape: [1, 3] }, { training: true });
      m.a.backward({ data: new Float32Array(y.size).fill(1), shape: y.shape });
      const g = m.a.gradients().weight.data;
      new SGD(m, { lr: 0.1 }).step();
      const w1 = m.a.stateDict().weight.data;
      for (let i = 0; i < w0.length; i++) expect(w1[i]).toBeCloseTo(w0[i] - 0.1 * g[i], 6);

      class Child extends Module {
        lin = new Linear(2, 2, { seed: 2 });
        owner: Module | null = null;
      }
      class Parent extends Module {
        child = new Child();
        constructor() {
          super();
          this.child.owner = this;
        }
      }
      const p = new Parent();
      expect(Object.keys(p.stateDict())).toEqual(['child.lin.weight', 'child.lin.bias']);
      expect(p.parameters()).toHaveLength(2);
      p.dispose();
      m.dispose();
    });

    it('6. a diverging Forecaster stops with NonFiniteError and keeps the last good weights', async () => {
      await use(backend);
      const f = new Forecaster({ hiddenSize: 8, seed: 1 });
      const T = 6, B = 4;
      const x = new Float32Array(T * B).map((_, i) => 50 * Math.sin(i));
      const batch = { x, y: new Float32Array(B).fill(1e3), T, B };
      const opt = new SGD(f, { lr: 1e6 });
      let last: Record<string, Float32Array> | null = null;
      let err: unknown;
      try {
        fit(f, {
          optimizer: opt, epochs: 50, train: [batch],
          onStep: () => {
            last = Object.fromEntries(Object.entries(f.stateDict()).map(([k, v]) => [k, v.data]));
          },
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NonFiniteError);
      const now = f.stateDict();
      for (const [k, v] of Object.entries(now)) expect(v.data.every(Number.isFinite), k).toBe(true);
      if (last) for (const [k, v] of Object.entries(now)) expect(maxAbsDiff(v.data, (last as Record<string, Float32Array>)[k]), k).toBe(0);
      f.dispose();
    });
  });
}

describe('7. sizes that cannot fit are refused at construction, at once', () => {
  it.each([
    ['LSTM hiddenSize 16384', () => new LSTM({ inputSize: 1, hiddenSize: 16384 }), /LSTM: .*hiddenSize = 16384.*GiB/],
    ['LSTM hiddenSize 1e7', () => new LSTM({ inputSize: 1, hiddenSize: 1e7 }), /LSTM: .*hiddenSize = 10000000/],
    ['Linear 1e5 × 1e5', () => new Linear(1e5, 1e5), /Linear: .*inFeatures = 100000.*outFeatures = 100000/],
    ['Embedding 1e5 × 1e5', () => new Embedding(1e5, 1e5), /Embedding: .*numEmbeddings = 100000.*embeddingDim = 100000/],
    ['createState(1e9)', () => new GRU({ inputSize: 2, hiddenSize: 8 }).createState(1e9), /GRU\.createState: batch = 1000000000/],
  ])('%s', (_name, make, msg) => {
    expect(make).toThrow(msg);
  });
});

/**
 * What importTfjs will hand the layer variants the core is adding, pinned down before they
 * land: the core's RNN / LSTM / GRU are replaced here (this file only) by subclasses that record
 * their options and drop the variant ones, so the import goes through and the options and
 * weights it produced can be read. When the variants land, test/tfjs-import.test.ts checks the
 * numbers; this file keeps the contract: `activations: { gate: 'hardSigmoid' }` for
 * recurrent_activation='hard_sigmoid', `resetAfter: false` (and b_hh = 0) for GRU
 * reset_after=False, `activations: { hidden: 'sigmoid' }` for a sigmoid SimpleRNN.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ready } from '../src/index.js';
import { importTfjs } from '../src/tfjs/index.js';
import { saveArtifacts, sequential, tf, type Artifacts } from './tfjs-build.js';

const seen = vi.hoisted(() => [] as { cls: string; options: Record<string, unknown> }[]);

vi.mock('../src/index.js', async (importOriginal) => {
  const core = await importOriginal<typeof import('../src/index.js')>();
  const VARIANT_KEYS = ['activations', 'resetAfter'];
  const recording = <C extends new (o: never) => object>(Base: C, name: string): C => {
    const Sub = class extends (Base as unknown as new (o: Record<string, unknown>) => object) {
      constructor(o: Record<string, unknown>) {
        seen.push({ cls: name, options: o });
        super(Object.fromEntries(Object.entries(o).filter(([k]) => !VARIANT_KEYS.includes(k))));
      }
    };
    Object.defineProperty(Sub, 'name', { value: name });
    return Sub as unknown as C;
  };
  return { ...core, RNN: recording(core.RNN, 'RNN'), LSTM: recording(core.LSTM, 'LSTM'), GRU: recording(core.GRU, 'GRU') };
});

const T = 4, I = 3;

async function artifactsOf(layers: tf.layers.Layer[]): Promise<Artifacts> {
  const m = sequential(layers, 9);
  const a = await saveArtifacts(m);
  m.dispose();
  return a;
}

function imported(a: Artifacts): { options: Record<string, unknown>; stateDict: Record<string, Float32Array> } {
  seen.length = 0;
  const m = importTfjs(a);
  const sd = Object.fromEntries(Object.entries(m.module.stateDict()).map(([k, t]) => [k, t.data]));
  m.dispose();
  expect(seen).toHaveLength(1);
  return { options: seen[0].options, stateDict: sd };
}

beforeAll(async () => {
  await ready();
});

describe('the options importTfjs gives the layer variants', () => {
  it("TF.js's default LSTM: activations { gate: 'hardSigmoid' }", async () => {
    const { options } = imported(await artifactsOf([tf.layers.lstm({ units: 4, inputShape: [T, I] })]));
    expect(options).toEqual({ inputSize: I, hiddenSize: 4, bias: true, batchFirst: true, bidirectional: false, activations: { gate: 'hardSigmoid' } });
  });

  it("TF.js's default GRU: resetAfter false with a zero b_hh, and the hard sigmoid", async () => {
    const a = await artifactsOf([tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2 }) as tf.RNN, inputShape: [T, I] })]);
    const { options, stateDict } = imported(a);
    expect(options).toEqual({ inputSize: I, hiddenSize: 2, bias: true, batchFirst: true, bidirectional: true, activations: { gate: 'hardSigmoid' }, resetAfter: false });
    const { decodeWeights } = tf.io;
    const w = decodeWeights(a.weightData, a.weightSpecs as tf.io.WeightsManifestEntry[]);
    const bias = w[Object.keys(w).find((k) => k.includes('forward') && k.endsWith('/bias')) as string].dataSync();
    // Keras's single bias (z, r, h) → b_ih (r, z, n); b_hh = 0 (reset before the product: n = tanh(W_in x + b_in + W_hn (r ⊙ h))).
    const H = 2;
    expect(Array.from(stateDict['0.bias_ih_l0'])).toEqual([...bias.slice(H, 2 * H), ...bias.slice(0, H), ...bias.slice(2 * H)]);
    expect(Array.from(stateDict['0.bias_hh_l0'])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(stateDict['0.bias_hh_l0_reverse'])).toEqual([0, 0, 0, 0, 0, 0]);
    for (const t of Object.values(w)) t.dispose();
  });

  it("a GRU with sigmoid gates and no bias: resetAfter false alone", async () => {
    const { options } = imported(await artifactsOf([tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', useBias: false, inputShape: [T, I] })]));
    expect(options).toEqual({ inputSize: I, hiddenSize: 3, bias: false, batchFirst: true, bidirectional: false, resetAfter: false });
  });

  it("a sigmoid SimpleRNN: activations { hidden: 'sigmoid' }; relu stays nonlinearity 'relu'", async () => {
    expect(imported(await artifactsOf([tf.layers.simpleRNN({ units: 2, activation: 'sigmoid', inputShape: [T, I] })])).options)
      .toEqual({ inputSize: I, hiddenSize: 2, bias: true, batchFirst: true, bidirectional: false, activations: { hidden: 'sigmoid' } });
    expect(imported(await artifactsOf([tf.layers.simpleRNN({ units: 2, activation: 'relu', inputShape: [T, I] })])).options)
      .toEqual({ inputSize: I, hiddenSize: 2, bias: true, batchFirst: true, bidirectional: false, nonlinearity: 'relu' });
  });

  it('sigmoid gates and reset_after=true need no variant', async () => {
    expect(imported(await artifactsOf([tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid', inputShape: [T, I] })])).options)
      .toEqual({ inputSize: I, hiddenSize: 2, bias: true, batchFirst: true, bidirectional: false });
  });
});

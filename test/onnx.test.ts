/**
 * wasm-rnn/onnx against the committed fixtures (test/fixtures/generate_onnx.py): the ONNX
 * project's own node tests for LSTM, GRU and RNN, single-node models for the rest of those
 * operators, and models written by torch.onnx.export at opsets 14 and 17.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx, OnnxError, type OnnxModel } from '../src/onnx/index.js';
import { maxAbsDiff, selectedBackends, use } from './helpers.js';
import { feedsOf, modelBytes, onnxCase, onnxCases, tolerance, type OnnxCase } from './onnx-fixtures.js';

/**
 * The cases that need a layer variant the core does not have yet, with the ONNX attribute that
 * asks for it. Each must either fail at import saying so, or (once the variant lands) match.
 */
const NEEDS_VARIANT: readonly { name: string; reason: string }[] = [
  // ONNX's node tests: GRU's default is linear_before_reset=0 (PyTorch's GRU is 1).
  { name: 'test_gru_defaults', reason: 'linear_before_reset=0' },
  { name: 'test_gru_with_initial_bias', reason: 'linear_before_reset=0' },
  { name: 'test_gru_seq_length', reason: 'linear_before_reset=0' },
  { name: 'test_gru_batchwise', reason: 'linear_before_reset=0' },
  { name: 'test_lstm_with_peepholes', reason: 'peepholes (input P)' },
  // Our single-node cases.
  { name: 'gru_lbr0_bidirectional_seqlens', reason: 'linear_before_reset=0' },
  { name: 'lstm_peepholes_bidirectional_seqlens', reason: 'peepholes (input P)' },
  { name: 'lstm_clip', reason: 'clip=0.6' },
  { name: 'gru_lbr1_clip', reason: 'clip=0.6' },
  { name: 'rnn_clip', reason: 'clip=0.4' },
  { name: 'lstm_input_forget', reason: 'input_forget=1' },
  { name: 'lstm_activations_hardsigmoid_tanh_relu', reason: 'activations=[HardSigmoid, Tanh, Relu]' },
  { name: 'gru_lbr1_activations_sigmoid_relu', reason: 'activations=[Sigmoid, Relu]' },
  { name: 'rnn_sigmoid', reason: 'activations=[Sigmoid]' },
];
const waiting = new Set(NEEDS_VARIANT.map((v) => v.name));

function expectMatches(c: OnnxCase, got: Record<string, { shape: readonly number[]; data: Float32Array }>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(c.expected).sort());
  for (const [key, want] of Object.entries(c.expected)) {
    expect(got[key].shape, key).toEqual(want.shape);
    const err = maxAbsDiff(got[key].data, want.data);
    expect(err, `${key}: error ${err} vs float32 reference error ${c.float32MaxAbsErr[key]}`).toBeLessThanOrEqual(tolerance(c, key));
    // Node tests: also ONNX's own criterion on ONNX's own numbers (rtol 1e-3, atol 1e-7).
    const onnx = c.onnxExpected?.[key];
    if (onnx) {
      for (let i = 0; i < onnx.data.length; i++) {
        expect(Math.abs(got[key].data[i] - onnx.data[i]), `${key}[${i}]`).toBeLessThanOrEqual(1e-7 + 1e-3 * Math.abs(onnx.data[i]));
      }
    }
  }
}

describe('the fixtures', () => {
  it('hold every ONNX node test of LSTM, GRU and RNN (onnx 1.12: 4 each)', () => {
    const node = onnxCases.filter((c) => c.kind === 'node').map((c) => c.name);
    expect(node.filter((n) => n.includes('lstm'))).toHaveLength(4);
    expect(node.filter((n) => n.includes('gru'))).toHaveLength(4);
    expect(node.filter((n) => n.includes('rnn'))).toHaveLength(4);
  });

  it('name only existing cases as waiting on a variant', () => {
    for (const v of NEEDS_VARIANT) expect(() => onnxCase(v.name)).not.toThrow();
  });
});

for (const backend of selectedBackends()) {
  describe(`ONNX fixtures on ${backend}`, () => {
    const supported = onnxCases.filter((c) => !waiting.has(c.name));
    it.each(supported.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await use(backend);
      const model = await importOnnx(modelBytes(c));
      try {
        expect(model.opset).toBe(c.opset);
        expect([...model.inputNames]).toEqual(c.inputs.map((i) => i.name));
        expectMatches(c, model.run(feedsOf(c)));
        // A second run on the same model gives the same numbers (layers are built once).
        expectMatches(c, model.run(feedsOf(c)));
      } finally {
        model.dispose();
      }
    });

    it.each(NEEDS_VARIANT.map((v) => [v.name, v] as const))('%s waits on a layer variant (or matches)', async (_name, v) => {
      await use(backend);
      const c = onnxCase(v.name);
      let model: OnnxModel;
      try {
        model = await importOnnx(modelBytes(c));
      } catch (err) {
        expect(err).toBeInstanceOf(OnnxError);
        expect((err as Error).message).toMatch(new RegExp(`^importOnnx: not supported yet: ${escape(v.reason)} on node `));
        return;
      }
      try {
        expectMatches(c, model.run(feedsOf(c)));
      } finally {
        model.dispose();
      }
    });
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

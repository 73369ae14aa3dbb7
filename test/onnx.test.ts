/**
 * wasm-rnn/onnx against the committed fixtures (test/fixtures/generate_onnx.py): the ONNX
 * project's own node tests for LSTM, GRU and RNN, single-node models for the rest of those
 * operators, and models written by torch.onnx.export at opsets 14 and 17.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../src/onnx/index.js';
import { maxAbsDiff, selectedBackends, use } from './helpers.js';
import { feedsOf, modelBytes, onnxCase, onnxCases, tolerance, type OnnxCase } from './onnx-fixtures.js';

/**
 * The cases that use a cell variant (GRU linear_before_reset=0 — ONNX's default, so all of ONNX's
 * own GRU node tests —, LSTM peepholes, clip, input_forget, activations): they waited on the
 * core's layer options and are now asserted to match their fixtures like every other case.
 */
const VARIANT_CASES = [
  'test_gru_defaults', 'test_gru_with_initial_bias', 'test_gru_seq_length', 'test_gru_batchwise', 'test_lstm_with_peepholes',
  'gru_lbr0_bidirectional_seqlens', 'lstm_peepholes_bidirectional_seqlens', 'lstm_clip', 'lstm_clip_cell_state', 'gru_lbr1_clip',
  'rnn_clip', 'lstm_input_forget', 'lstm_activations_hardsigmoid_tanh_relu', 'gru_lbr1_activations_sigmoid_relu', 'rnn_sigmoid',
];

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

  it('name only existing variant cases', () => {
    for (const name of VARIANT_CASES) expect(() => onnxCase(name)).not.toThrow();
  });
});

for (const backend of selectedBackends()) {
  describe(`ONNX fixtures on ${backend}`, () => {
    it.each(onnxCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
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
  });
}

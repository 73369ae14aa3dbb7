/**
 * wasm-rnn/onnx: read ONNX models whose recurrent nodes are LSTM / GRU / RNN and run them on our
 * layers, and write our models as ONNX (opset 17 by default). A separate entry point: it bundles
 * the protobuf runtime, which the core package does not carry.
 */
export { importOnnx, MIN_OPSET, MAX_OPSET, type ImportOptions, type OnnxFeed, type OnnxModel, type OnnxValueInfo } from './import.js';
export { exportOnnx, EXPORT_OPSET, type Exportable, type ExportOptions } from './export.js';
export { OnnxError } from './errors.js';
export type { DType } from './value.js';

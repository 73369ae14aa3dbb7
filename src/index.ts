export { Tensor, type TensorLike, type NestedArray } from './tensor.js';
export {
  setBackend,
  getBackend,
  ready,
  defaultBackendName,
  simdSupported,
  BACKEND_NAMES,
  type BackendName,
  type ReadyOptions,
  type WasmSource,
} from './backend/index.js';
export { Module, type LoadOptions } from './layers/module.js';
export {
  RNN,
  LSTM,
  GRU,
  RNNBase,
  type RNNOptions,
  type RNNBaseOptions,
  type RNNState,
  type StepState,
  type ForwardOptions,
  type RNNResult,
  type LSTMResult,
} from './layers/rnn.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Embedding, type EmbeddingOptions, type Ids } from './layers/embedding.js';

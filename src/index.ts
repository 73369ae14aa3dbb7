export { Tensor, type TensorLike, type NestedArray } from './tensor.js';
export {
  setBackend,
  getBackend,
  ready,
  defaultBackendName,
  simdSupported,
  relaxedSimdSupported,
  threadsSupported,
  backendInfo,
  memoryInfo,
  initSync,
  BACKEND_NAMES,
  type BackendName,
  type BackendBinary,
  type BackendInfo,
  type MemoryInfo,
  type InitSyncOptions,
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
  type LSTMOptions,
  type GRUOptions,
  type CellActivation,
  type CellActivations,
  type RNNState,
  type StepState,
  type ForwardOptions,
  type RNNResult,
  type LSTMResult,
} from './layers/rnn.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Sequential, type SequentialOptions } from './layers/sequential.js';
export { LastStep, MeanPool, MaxPool, FinalHidden, type SequenceInput } from './layers/pooling.js';
export { ReLU, Tanh, Sigmoid, Softmax, Dropout } from './layers/activations.js';
export { noGrad, gradEnabled } from './autograd/graph.js';
export { cat, stack, slice, select, reshape } from './autograd/shape-ops.js';
export { add, mul, relu, tanh, sigmoid, dropout, sum, mean, manualSeed, type Operand, type DropoutOptions } from './autograd/elementwise.js';
export { softmax, logSoftmax } from './autograd/softmax.js';
export { lastStep, meanPool, maxPool, finalHidden, type PoolOptions } from './autograd/pooling.js';
export { Embedding, type EmbeddingOptions, type Ids } from './layers/embedding.js';
export { Parameter } from './layers/module.js';
export type { RNNGradients } from './layers/rnn.js';
export { crossEntropy, mse, bceWithLogits, type LossResult, type Reduction, type CrossEntropyOptions } from './train/losses.js';
export { Optimizer, SGD, Adam, AdamW, RMSprop, type SGDOptions, type AdamOptions, type RMSpropOptions, type OptimizerState } from './train/optimizers.js';
export { clipGradNorm, clipGradValue, gradNorm } from './train/clip.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR } from './train/schedulers.js';
export { NonFiniteError } from './train/errors.js';
export { fit, type FitOptions, type FitResult, type StepInfo, type EpochInfo, type ValidationInfo, type Trainable, type BatchResult, type Metric } from './train/fit.js';
export { lmBatches, type TokenBatch, type LMBatchOptions } from './data/batches.js';
export { LanguageModel, type LanguageModelOptions, type GenerateOptions, type GenerateTextOptions, type LMTokenizer } from './models/language-model.js';
export { type SamplingOptions } from './models/sampling.js';
export {
  Forecaster, forecastErrors, type ForecasterOptions, type WindowBatch, type ForecastResult, type ForecastErrors,
} from './models/forecaster.js';
export {
  SequenceClassifier, type SequenceClassifierOptions, type ClassifierBatch, type ClassifierResult, type ClassifierInput, type Pooling,
} from './models/sequence-classifier.js';
export {
  Seq2Seq, seq2seqBatches, type Seq2SeqOptions, type Seq2SeqBatch, type Seq2SeqResult, type TranslateOptions, type Hypothesis, type Source,
  type PairBatchOptions,
} from './models/seq2seq.js';
export { AdditiveAttention, weightedSum, tanhAdd, lengthMask, type AdditiveAttentionOptions } from './models/attention.js';
export { save, load, loadWithMetadata, FORMAT, FORMAT_VERSION, type SaveOptions, type LoadOptions as LoadModelOptions, type Loaded } from './io/save.js';
export { saveFile, saveFileSync, loadFile } from './io/files.js';
export { registerModel, createModel, type ModelFactory } from './io/registry.js';
export { readSafetensors, writeSafetensors, SafetensorsError, SAFETENSORS_MAX_HEADER_BYTES, type SafetensorsContents } from './io/safetensors.js';
export { Vocab, DEFAULT_SPECIALS, type VocabBuildOptions, type VocabJSON } from './data/vocab.js';
export {
  CharTokenizer,
  WordTokenizer,
  type CharTokenizerOptions,
  type CharTokenizerJSON,
  type WordTokenizerOptions,
  type WordTokenizerJSON,
  type Punctuation,
  type DecodeOptions,
} from './data/tokenizers.js';
export { padSequences, type PadOptions, type PaddedBatch, type IdSequence, type FeatureSequence } from './data/padding.js';
export { sequenceBatches, type SequenceExample, type SequenceBatch, type SequenceBatchOptions } from './data/sequence-batches.js';
export { type SeriesLike } from './data/series.js';
export { slidingWindows, windowBatches, type WindowOptions, type Windows, type WindowsLike, type WindowBatchOptions } from './data/windows.js';
export { splitByTime, type SplitOptions, type Split, type Splittable } from './data/split.js';
export {
  StandardScaler,
  MinMaxScaler,
  type StandardScalerOptions,
  type StandardScalerJSON,
  type MinMaxScalerOptions,
  type MinMaxScalerJSON,
  type TransformOptions,
} from './data/scalers.js';
export { calendarFeatures, type CalendarFeature, type CalendarEncoding, type CalendarOptions, type CalendarTable, type DateLike } from './data/calendar.js';

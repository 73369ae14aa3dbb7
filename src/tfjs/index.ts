/**
 * wasm-rnn/tfjs: TensorFlow.js / Keras Layers models (model.json + weights, as `model.save`
 * or tensorflowjs_converter write them) converted to our layers at import, with Keras's
 * `predict`. A separate entry point: the core package does not carry it.
 */
export { importTfjs, TfjsModel, type TfjsArtifacts, type TfjsWeightSpec, type PredictInput } from './import.js';
export type { TfjsModel as Model } from './import.js';
export { loadTfjs, MAX_MODEL_JSON_BYTES, type LoadTfjsOptions } from './load.js';
export { TfjsError } from './errors.js';
export { ReverseTime, MergeDirections, type MergeMode } from './layers.js';
export { Softmax } from '../index.js';
export type { LayerMap, InputSpec } from './convert.js';
export type { WeightData } from './weights.js';

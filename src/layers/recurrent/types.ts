/** The public shapes of the recurrent layers: options, states, results (shared by every piece). */
import type { Tensor, TensorLike } from '../../tensor.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export interface RNNBaseOptions {
  inputSize: number;
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Use b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F] (default false). */
  batchFirst?: boolean;
  /** Dropout between layers during training (forward with `training: true`); inference ignores it. */
  dropout?: number;
  /** Run a second direction over the reversed sequence (default false). */
  bidirectional?: boolean;
  /** Seed for the uniform(−1/√H, 1/√H) initialisation. */
  seed?: number;
}

export interface RNNOptions extends RNNBaseOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** Initial state: `h` (and `c` for LSTM), each [numLayers·D, B, H] or [numLayers·D, H] unbatched. */
export interface RNNState {
  h?: TensorLike;
  c?: TensorLike;
}

export interface ForwardOptions {
  /** Valid length of each batch row (PyTorch's packed-sequence semantics), 1 ≤ length ≤ T. */
  lengths?: ArrayLike<number>;
  /** Record what backward() needs and apply inter-layer dropout (default false). */
  training?: boolean;
}

/** Gradients returned by backward(): w.r.t. x and the initial state, shaped like them. */
export interface RNNGradients {
  x: Tensor;
  h: Tensor;
  c?: Tensor;
}

export interface RNNResult {
  /** [T, B, D·H] ([B, T, D·H] with batchFirst, [T, D·H] unbatched). */
  output: Tensor;
  /** Final hidden state [numLayers·D, B, H] ([numLayers·D, H] unbatched). */
  h: Tensor;
}

export interface LSTMResult extends RNNResult {
  /** Final cell state, shaped like h. */
  c: Tensor;
}

/** State for `step()`: h (and c for LSTM) shaped [numLayers, B, H]; updated in place. */
export interface StepState {
  h: Tensor;
  c?: Tensor;
}

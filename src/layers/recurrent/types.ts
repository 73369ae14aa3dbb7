/** The public shapes of the recurrent layers: options, states, results (shared by every piece). */
import type { Tensor, TensorLike } from '../../tensor.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** An activation of the recurrent cells; hardSigmoid(x) = max(0, min(1, 0.2·x + 0.5)). */
export type CellActivation = 'sigmoid' | 'tanh' | 'relu' | 'hardSigmoid';

/**
 * Which activation drives which part of a cell (ONNX's f, g, h): `gate` the gates (LSTM i, f, o;
 * GRU r, z; default sigmoid), `cell` the candidate (LSTM g, GRU n; default tanh), `hidden` the
 * LSTM's output (applied to c; default tanh) or the RNN's activation.
 */
export interface CellActivations {
  gate?: CellActivation;
  cell?: CellActivation;
  hidden?: CellActivation;
}

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
  /**
   * ONNX's cell clip: every gate's pre-activation (biases and peephole terms included) is
   * clipped to [−clip, clip] before its activation, as ONNX Runtime does (the LSTM's c is not
   * clipped before its output activation). Inference only: training refuses it.
   */
  clip?: number;
}

export interface RNNOptions extends RNNBaseOptions {
  /** PyTorch's option: the same as activations.hidden 'tanh' or 'relu' (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
  /** `hidden`: h = hidden(W_ih x + b_ih + W_hh h + b_hh) (any of the four, default tanh). */
  activations?: Pick<CellActivations, 'hidden'>;
}

export interface LSTMOptions extends RNNBaseOptions {
  /**
   * Peephole connections (ONNX's P): parameters weight_peephole_l{k}[_reverse] [3, H], rows
   * (i, f, o): i = σ(… + p_i ⊙ c_{t−1}), f = σ(… + p_f ⊙ c_{t−1}), o = σ(… + p_o ⊙ c_t). Default false.
   */
  peepholes?: boolean;
  /** Coupled input and forget gates (ONNX input_forget=1): f = 1 − i. Default false. */
  inputForget?: boolean;
  activations?: CellActivations;
}

export interface GRUOptions extends RNNBaseOptions {
  /**
   * true (default): PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); false: the reset
   * gate before the recurrent product, n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (ONNX
   * linear_before_reset=0, Keras reset_after=False).
   */
  resetAfter?: boolean;
  activations?: Pick<CellActivations, 'gate' | 'cell'>;
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

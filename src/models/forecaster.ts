/**
 * A sequence regressor for time series: RNN/LSTM/GRU over a window, Linear on the last step's
 * hidden state, mean squared error against the target. Parameters: rnn.*, linear.*.
 */
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { GRU, LSTM, RNN } from '../layers/rnn.js';
import { checkOptions, positiveInt, seedOf } from '../layers/options.js';
import { Tensor, allFinite, shapeStr, typeName } from '../tensor.js';
import { mse } from '../train/losses.js';

export interface ForecasterOptions {
  inputSize?: number;
  hiddenSize: number;
  outputSize?: number;
  numLayers?: number;
  cell?: 'lstm' | 'gru' | 'rnn';
  seed?: number;
}

/** Windows x: time-major [T, B, inputSize] (flat), targets y: [B, outputSize] (flat). */
export interface WindowBatch {
  x: Float32Array;
  y: Float32Array;
  T: number;
  B: number;
}

export class Forecaster extends Module {
  readonly inputSize: number;
  readonly outputSize: number;
  rnn: LSTM | GRU | RNN;
  linear: Linear;

  constructor(options: ForecasterOptions) {
    super();
    const fn = 'Forecaster';
    checkOptions(fn, options, ['inputSize', 'hiddenSize', 'outputSize', 'numLayers', 'cell', 'seed']);
    this.inputSize = positiveInt(fn, 'inputSize', options.inputSize ?? 1);
    this.outputSize = positiveInt(fn, 'outputSize', options.outputSize ?? 1);
    const H = positiveInt(fn, 'hiddenSize', options.hiddenSize);
    const seed = seedOf(fn, options.seed);
    const cell = options.cell ?? 'lstm';
    if (cell !== 'lstm' && cell !== 'gru' && cell !== 'rnn') throw new RangeError(`${fn}: cell must be 'lstm', 'gru' or 'rnn', got ${String(cell)}`);
    const o = { inputSize: this.inputSize, hiddenSize: H, numLayers: options.numLayers ?? 1, seed: seed === undefined ? undefined : seed * 31 + 1 };
    this.rnn = cell === 'lstm' ? new LSTM(o) : cell === 'gru' ? new GRU(o) : new RNN(o);
    this.linear = new Linear(H, this.outputSize, { seed: seed === undefined ? undefined : seed * 31 + 2 });
  }

  override getConfig(): Record<string, unknown> {
    const r = this.rnn;
    return {
      inputSize: this.inputSize, hiddenSize: r.hiddenSize, outputSize: this.outputSize, numLayers: r.numLayers,
      cell: r.mode === 'LSTM' ? 'lstm' : r.mode === 'GRU' ? 'gru' : 'rnn',
    };
  }

  private check(b: WindowBatch, fn = 'Forecaster'): void {
    if (b === null || typeof b !== 'object') throw new TypeError(`${fn}: batch must be {x, y, T, B}, got ${typeName(b)}`);
    positiveInt(fn, 'T', b.T);
    positiveInt(fn, 'B', b.B);
    for (const key of ['x', 'y'] as const) {
      if (!(b[key] instanceof Float32Array)) throw new TypeError(`${fn}: ${key} must be a Float32Array, got ${typeName(b[key])}`);
    }
    if (b.x.length !== b.T * b.B * this.inputSize || b.y.length !== b.B * this.outputSize) {
      throw new RangeError(
        `Forecaster: batch x must hold T·B·inputSize = ${b.T * b.B * this.inputSize} values and y B·outputSize = ` +
          `${b.B * this.outputSize}, got ${b.x.length} and ${b.y.length} (shape ${shapeStr([b.T, b.B])})`,
      );
    }
  }

  private run(b: WindowBatch, training: boolean): { loss: number; tokens: number; pred: Tensor } {
    this.check(b);
    const { T, B } = b;
    const out = this.rnn.forward(new Tensor(b.x, [T, B, this.inputSize]), undefined, { training });
    const H = out.output.shape[2];
    const last = new Tensor(out.output.data.slice((T - 1) * B * H), [B, H]);
    // Diverged weights can overflow an activation or a gradient: that is a non-finite loss for
    // fit() to stop on (keeping the last good weights), not bad input.
    const diverged = { loss: NaN, tokens: B, pred: last };
    if (!allFinite(last.data)) return diverged;
    const pred = this.linear.forward(last, { training });
    if (!allFinite(pred.data)) return { ...diverged, pred };
    const r = mse(pred, new Tensor(b.y, [B, this.outputSize]));
    if (training && !allFinite(r.grad.data)) return { ...diverged, pred };
    if (training) {
      // The last step's output is the top layer's final h: its gradient enters through the state.
      const dLast = this.linear.backward(r.grad).data;
      if (!allFinite(dLast)) return { ...diverged, pred };
      const L = this.rnn.numLayers;
      const dH = new Float32Array(L * B * H);
      dH.set(dLast, (L - 1) * B * H);
      const state = this.rnn.mode === 'LSTM' ? { h: new Tensor(dH, [L, B, H]), c: Tensor.zeros([L, B, H]) } : { h: new Tensor(dH, [L, B, H]) };
      this.rnn.backward(null, state);
    }
    return { loss: r.loss as number, tokens: B, pred };
  }

  /** Predictions [B, outputSize] for windows x [T, B, inputSize]. */
  predict(x: Float32Array, T: number, B: number): Tensor {
    positiveInt('Forecaster.predict', 'T', T);
    positiveInt('Forecaster.predict', 'B', B);
    return this.run({ x, y: new Float32Array(B * this.outputSize), T, B }, false).pred;
  }

  trainBatch(b: WindowBatch): { loss: number; tokens: number } {
    const { loss, tokens } = this.run(b, true);
    return { loss, tokens };
  }

  evalBatch(b: WindowBatch): { loss: number; tokens: number } {
    const { loss, tokens } = this.run(b, false);
    return { loss, tokens };
  }
}

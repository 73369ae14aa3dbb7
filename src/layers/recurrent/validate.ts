/**
 * Input validation for the recurrent layers, in one place: every check names the method, the
 * argument, what was expected and what came, and runs before anything is written.
 */
import { isRecorded } from '../../autograd/graph.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../../tensor.js';
import { MAX_MEMORY_BYTES } from '../../backend/backend.js';
import { formatBytes } from '../../backend/arena.js';
import { bool, checkFits, checkOptions, fmt, oneOf, positiveInt, seedOf } from '../options.js';
import { DEFAULT_ACTIVATIONS, kindOf, type Cell, type CellVariant } from './cells.js';
import type { CellActivation, ForwardOptions, RNNBaseOptions, RNNMode, RNNState, StepState } from './types.js';

export const BASE_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'seed', 'clip', 'activations'];

/** The options of one recurrent class only, and the class they belong to (for the error message). */
const CLASS_OPTIONS: Readonly<Record<string, string>> = {
  nonlinearity: 'RNN', peepholes: 'LSTM', inputForget: 'LSTM', resetAfter: 'GRU',
};

const ACTIVATIONS: readonly CellActivation[] = ['sigmoid', 'tanh', 'relu', 'hardSigmoid'];

/** Which keys of `activations` each kind takes. */
const ACTIVATION_SLOTS: Readonly<Record<'RNN' | 'LSTM' | 'GRU', readonly (keyof CellVariant & ('gate' | 'cell' | 'hidden'))[]>> = {
  RNN: ['hidden'], LSTM: ['gate', 'cell', 'hidden'], GRU: ['gate', 'cell'],
};

/**
 * The variant options of a layer (clip, activations, and the kind's own: LSTM peepholes and
 * inputForget, GRU resetAfter), checked, with PyTorch's defaults filled in. `hidden` is the
 * RNN's activation from its nonlinearity option (which activations.hidden must agree with).
 */
export function parseVariant(layer: string, mode: RNNMode, opts: Record<string, unknown>, nonlinearity?: CellActivation): CellVariant {
  const kind = kindOf(mode);
  const clipIn = opts.clip;
  let clip: number | null = null;
  if (clipIn !== undefined) {
    if (typeof clipIn !== 'number') throw new TypeError(`${layer}: clip must be a positive finite number, got ${fmt(clipIn)}`);
    if (!(clipIn > 0) || !Number.isFinite(clipIn)) throw new RangeError(`${layer}: clip must be a positive finite number, got ${fmt(clipIn)}`);
    clip = clipIn;
  }
  const acts: { gate: CellActivation; cell: CellActivation; hidden: CellActivation } = { ...DEFAULT_ACTIVATIONS[kind] };
  if (nonlinearity) acts.hidden = nonlinearity;
  const given = opts.activations;
  if (given !== undefined) {
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw new TypeError(`${layer}: activations must be an object like { ${ACTIVATION_SLOTS[kind].map((k) => `${k}: 'sigmoid'`).join(', ')} }, got ${fmt(given)}`);
    }
    const slots = ACTIVATION_SLOTS[kind];
    for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
      if (!(slots as readonly string[]).includes(key)) {
        throw new TypeError(`${layer}: activations has no key '${key}' for a${kind === 'RNN' ? 'n' : ''} ${kind}; expected ${oneOf(slots)}`);
      }
      if (value === undefined) continue;
      if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
        const hint = typeof value === 'string' && value.replace(/_/g, '').toLowerCase() === 'hardsigmoid' ? " (did you mean 'hardSigmoid'?)" : '';
        throw new RangeError(`${layer}: activations.${key} must be ${oneOf(ACTIVATIONS)}, got ${fmt(value)}${hint}`);
      }
      if (key === 'hidden' && nonlinearity && opts.nonlinearity !== undefined && value !== nonlinearity) {
        throw new RangeError(`${layer}: nonlinearity '${nonlinearity}' and activations.hidden '${value}' disagree; give one of them`);
      }
      acts[key as 'gate' | 'cell' | 'hidden'] = value as CellActivation;
    }
  }
  return {
    ...acts,
    clip,
    peepholes: kind === 'LSTM' ? bool(layer, 'peepholes', opts.peepholes, false) : false,
    inputForget: kind === 'LSTM' ? bool(layer, 'inputForget', opts.inputForget, false) : false,
    resetAfter: kind === 'GRU' ? bool(layer, 'resetAfter', opts.resetAfter, true) : true,
  };
}

/** A layer's structure as its constructor validated it. */
export interface Config {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  seed: number | undefined;
}

/** The constructor's option keys: the common ones and the class's own (`extraKeys`). */
export function checkKeys(layer: string, opts: unknown, extraKeys: readonly string[]): void {
  const allowed = [...BASE_KEYS, ...extraKeys];
  if (opts !== null && typeof opts === 'object') {
    for (const key of Object.keys(opts)) {
      const owner = CLASS_OPTIONS[key];
      if (owner && !allowed.includes(key)) {
        throw new TypeError(`${layer}: unknown option '${key}' (${owner} only); expected ${oneOf(allowed)}`);
      }
    }
  }
  checkOptions(layer, opts, allowed);
}

/** The layer's structure (after checkKeys and parseVariant gave the cell). */
export function parseConfig(layer: string, cell: Cell, opts: RNNBaseOptions): Config {
  const inputSize = positiveInt(layer, 'inputSize', opts.inputSize);
  const hiddenSize = positiveInt(layer, 'hiddenSize', opts.hiddenSize);
  const numLayers = positiveInt(layer, 'numLayers', opts.numLayers ?? 1);
  const bias = bool(layer, 'bias', opts.bias, true);
  const batchFirst = bool(layer, 'batchFirst', opts.batchFirst, false);
  const bidirectional = bool(layer, 'bidirectional', opts.bidirectional, false);
  const dropout = opts.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new RangeError(`${layer}: dropout must be a number in [0, 1), got ${fmt(dropout)}`);
  }
  const seed = seedOf(layer, opts.seed);
  const D = bidirectional ? 2 : 1, GH = cell.gates * hiddenSize;
  const peep = cell.peepholes ? 3 * hiddenSize : 0;
  const floats = D * (GH * (inputSize + hiddenSize + 2) + peep + (numLayers - 1) * (GH * (D * hiddenSize + hiddenSize + 2) + peep));
  // The parameters and their packed copy for forward (training adds the transposed one).
  checkFits(layer, { inputSize, hiddenSize, numLayers, ...(bidirectional ? { directions: 2 } : {}) }, floats, 2);
  return { inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, seed };
}

/** forward()'s x: [T, B, I] ([B, T, I] with batchFirst) or [T, I] unbatched. */
export function parseInput(name: string, cfg: Config, x: TensorLike): { xt: Tensor; T: number; B: number; unbatched: boolean } {
  const xt = toTensor(x, `${name}.forward: x`);
  const rank = xt.shape.length;
  const feat = cfg.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]';
  if (rank !== 2 && rank !== 3) {
    throw new RangeError(`${name}.forward: x must be 3-D ${feat} or 2-D unbatched [T, inputSize], got shape ${shapeStr(xt.shape)}`);
  }
  const unbatched = rank === 2;
  const I = xt.shape[rank - 1];
  if (I !== cfg.inputSize) {
    throw new RangeError(`${name}.forward: x's last dimension must be inputSize = ${cfg.inputSize}, got ${I} (shape ${shapeStr(xt.shape)})`);
  }
  const T = unbatched || !cfg.batchFirst ? xt.shape[0] : xt.shape[1];
  const B = unbatched ? 1 : cfg.batchFirst ? xt.shape[0] : xt.shape[1];
  if (T < 1 || B < 1) {
    throw new RangeError(`${name}.forward: x must have at least one step and one batch row, got shape ${shapeStr(xt.shape)}`);
  }
  // A recorded input was computed by the model: non-finite values there are divergence (see Linear.forward).
  if (!isRecorded(xt)) checkFinite(xt.data, `${name}.forward: x`);
  return { xt, T, B, unbatched };
}

/**
 * An initial state (forward) or a state gradient (backward): `{h, c}` for the LSTM, `h` or
 * `{h}` otherwise, each [L·D, B, H] ([L·D, H] unbatched). Returns the raw arrays (null: zeros).
 */
export function parseState(
  name: string, cfg: Config, cell: Cell, state: RNNState | TensorLike | undefined | null, B: number,
  unbatched: boolean, what: string,
): { h0: Float32Array | null; c0: Float32Array | null } {
  if (state === undefined || state === null) return { h0: null, c0: null };
  const hasC = cell.hasCellState;
  let hIn: unknown, cIn: unknown;
  if (state instanceof Tensor || Array.isArray(state)) {
    if (hasC) throw new TypeError(`${name}.${what} must be an object {h, c}, got ${typeName(state)}`);
    hIn = state;
  } else if (typeof state === 'object' && !('data' in state && 'shape' in state)) {
    const keys = Object.keys(state);
    const allowed = hasC ? ['h', 'c'] : ['h'];
    const bad = keys.filter((k) => !allowed.includes(k));
    if (bad.length > 0) {
      throw new TypeError(`${name}.${what} has unknown key '${bad[0]}'; expected ${allowed.map((k) => `'${k}'`).join(', ')}`);
    }
    hIn = (state as RNNState).h;
    cIn = (state as RNNState).c;
    if (hasC && (hIn === undefined) !== (cIn === undefined)) {
      throw new TypeError(`${name}.${what} must give both h and c (or neither), got only ${hIn === undefined ? 'c' : 'h'}`);
    }
  } else if (!hasC && typeof state === 'object') {
    hIn = state;
  } else {
    throw new TypeError(`${name}.${what} must be ${hasC ? 'an object {h, c}' : 'a tensor or {h}'}, got ${typeName(state)}`);
  }
  const LD = cfg.numLayers * (cfg.bidirectional ? 2 : 1);
  const want = unbatched ? [LD, cfg.hiddenSize] : [LD, B, cfg.hiddenSize];
  const check = (v: unknown, key: string): Float32Array | null => {
    if (v === undefined) return null;
    const t = toTensor(v, `${name}.${what}.${key}`);
    if (!sameShape(t.shape, want)) throw new RangeError(`${name}.${what}.${key} must have shape ${shapeStr(want)}, got ${shapeStr(t.shape)}`);
    checkFinite(t.data, `${name}.${what}.${key}`);
    return t.data;
  };
  return { h0: check(hIn, 'h'), c0: check(cIn, 'c') };
}

/** The Tensor objects of a state argument (null where a part is absent or not a Tensor): autograd inputs. */
export function stateTensors(state: RNNState | TensorLike | undefined | null): [Tensor | null, Tensor | null] {
  if (state instanceof Tensor) return [state, null];
  if (state === null || typeof state !== 'object' || Array.isArray(state) || 'data' in state) return [null, null];
  const { h, c } = state as RNNState;
  return [h instanceof Tensor ? h : null, c instanceof Tensor ? c : null];
}

/** forward()'s options: lengths (one per row, 1 ≤ length ≤ T) and training. */
export function parseForwardOptions(
  name: string, options: ForwardOptions, B: number, T: number, unbatched: boolean,
): { lengths: Int32Array | null; training: boolean | undefined } {
  const fn = `${name}.forward`;
  checkOptions(fn, options, ['lengths', 'training']);
  const training = options.training;
  if (training !== undefined && typeof training !== 'boolean') throw new TypeError(`${fn}: training must be a boolean, got ${fmt(training)}`);
  const lengths = options.lengths;
  if (lengths === undefined || lengths === null) return { lengths: null, training };
  if (unbatched) throw new RangeError(`${fn}: lengths needs batched input; x is unbatched [T, inputSize]`);
  if (typeof lengths !== 'object' || typeof lengths.length !== 'number') {
    throw new TypeError(`${fn}: lengths must be an array of ${B} integers, got ${typeName(lengths)}`);
  }
  if (lengths.length !== B) throw new RangeError(`${fn}: lengths must have one entry per batch row (${B}), got ${lengths.length}`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = lengths[b];
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new RangeError(`${fn}: lengths[${b}] must be an integer in [1, ${T}] (T = ${T}), got ${fmt(v)}`);
    }
    out[b] = v;
  }
  return { lengths: out, training };
}

/** createState()'s batch: refused when the state alone could not fit in a backend's memory. */
export function parseStateBatch(name: string, cfg: Config, batch: unknown): number {
  const fn = `${name}.createState`;
  const B = positiveInt(fn, 'batch', batch);
  const bytes = cfg.numLayers * B * cfg.hiddenSize * 4;
  if (bytes > MAX_MEMORY_BYTES / 2) {
    throw new RangeError(`${fn}: batch = ${B} needs ${formatBytes(bytes)} per state tensor, more than a WebAssembly memory can hold beside it`);
  }
  return B;
}

/**
 * step()'s arguments: x [B, I] values, state from createState (finite, right shapes), out [B, H].
 * Returns x's values (B is state.h.shape[1]). `fn` is the caller's name ('GRU.step'), made once
 * by the layer: this runs on every streaming step, so it builds no string, array or object
 * unless it throws (or x is not a Float32Array).
 */
export function parseStep(
  fn: string, cfg: Config, cell: Cell, x: Float32Array | TensorLike, state: StepState, out: Float32Array | undefined,
): Float32Array {
  if (cfg.bidirectional) throw new Error(`${fn}: a bidirectional layer needs the whole sequence; use forward()`);
  const hasC = cell.hasCellState;
  if (state === null || typeof state !== 'object' || !(state.h instanceof Tensor)) {
    throw new TypeError(`${fn}: state must be {h: Tensor${hasC ? ', c: Tensor' : ''}} from createState(), got ${typeName(state)}`);
  }
  const H = cfg.hiddenSize, L = cfg.numLayers, I = cfg.inputSize;
  const hs = state.h.shape;
  if (hs.length !== 3 || hs[0] !== L || hs[2] !== H || hs[1] < 1 || state.h.data.length !== L * hs[1] * H) {
    throw new RangeError(`${fn}: state.h must have shape [${L}, B, ${H}], got ${shapeStr(hs)}`);
  }
  const B = hs[1];
  if (hasC) {
    const c = state.c;
    if (!(c instanceof Tensor) || c.shape.length !== 3 || c.shape[0] !== L || c.shape[1] !== B || c.shape[2] !== H || c.data.length !== L * B * H) {
      throw new RangeError(`${fn}: state.c must be a Tensor of shape [${L}, ${B}, ${H}], got ${c instanceof Tensor ? shapeStr(c.shape) : typeName(c)}`);
    }
    if (!allFinite(c.data)) checkFinite(c.data, `${fn}: state.c`);
  } else if (state.c !== undefined) {
    throw new TypeError(`${fn}: state has a 'c', but ${fn.slice(0, fn.indexOf('.'))} keeps only h`);
  }
  if (!allFinite(state.h.data)) checkFinite(state.h.data, `${fn}: state.h`);
  const xd = x instanceof Float32Array ? x : toTensor(x, `${fn}: x`).data;
  if (xd.length !== B * I) throw new RangeError(`${fn}: x must hold batch × inputSize = ${B} × ${I} = ${B * I} values, got ${xd.length}`);
  if (!allFinite(xd)) checkFinite(xd, `${fn}: x`);
  if (out !== undefined && (!(out instanceof Float32Array) || out.length !== B * H)) {
    throw new RangeError(`${fn}: out must be a Float32Array of ${B * H} values, got ${out instanceof Float32Array ? `length ${out.length}` : typeName(out)}`);
  }
  return xd;
}

/** Whether every value is finite (checkFinite then names the first that is not). */
function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return false;
  }
  return true;
}

/** backward()'s gradOutput: null (the loss used only the final state) or the output's shape. */
export function parseGradOutput(fn: string, gradOutput: TensorLike | null, outputShape: readonly number[]): Tensor | null {
  if (gradOutput === null) return null;
  const go = toTensor(gradOutput, `${fn}: gradOutput`);
  if (!sameShape(go.shape, outputShape)) {
    throw new RangeError(`${fn}: gradOutput must have the output's shape ${shapeStr(outputShape)}, got ${shapeStr(go.shape)}`);
  }
  checkFinite(go.data, `${fn}: gradOutput`);
  return go;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

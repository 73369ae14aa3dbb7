/**
 * RNN, LSTM and GRU with PyTorch's names, shapes, gate order and semantics.
 *
 * Per layer and direction: one GEMM projects the whole sequence (`G_x = X·W_ihᵀ + b_ih`, hoisted
 * out of the time loop), then one fused kernel per step does `h_{t-1}·W_hhᵀ + b_hh`, the gate
 * nonlinearities and the state update. Everything runs on offsets into the backend's memory,
 * in a workspace planned per (batch, seqLen) and reused.
 */
import type { Backend } from '../backend/index.js';
import { Random } from '../random.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';
import { Module, type ParamSpec } from './module.js';
import { bool, checkOptions, fmt, positiveInt, seedOf } from './options.js';

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
  /** Dropout between layers during training; inference (all of forward/step today) ignores it. */
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

const BASE_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'seed'];

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

export abstract class RNNBase extends Module {
  readonly mode: RNNMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  private readonly gates: number;
  private readonly dirs: number;
  /** Per (layer, direction) k = layer·D + dir: the four parameters. */
  private readonly wIh: ParamSpec[] = [];
  private readonly wHh: ParamSpec[] = [];
  private readonly bIh: ParamSpec[] = [];
  private readonly bHh: ParamSpec[] = [];
  private packedBlock = 0;
  /** Byte offsets of packed W_ih and W_hh per k, relative to packedBlock. */
  private readonly packedIh: number[] = [];
  private readonly packedHh: number[] = [];
  private packedFresh = false;

  protected constructor(mode: RNNMode, layer: string, opts: RNNOptions, extraKeys: readonly string[] = []) {
    super();
    checkOptions(layer, opts, [...BASE_KEYS, ...extraKeys]);
    this.mode = mode;
    this.inputSize = positiveInt(layer, 'inputSize', opts.inputSize);
    this.hiddenSize = positiveInt(layer, 'hiddenSize', opts.hiddenSize);
    this.numLayers = positiveInt(layer, 'numLayers', opts.numLayers ?? 1);
    this.bias = bool(layer, 'bias', opts.bias, true);
    this.batchFirst = bool(layer, 'batchFirst', opts.batchFirst, false);
    this.bidirectional = bool(layer, 'bidirectional', opts.bidirectional, false);
    const p = opts.dropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new RangeError(`${layer}: dropout must be a number in [0, 1], got ${fmt(p)}`);
    }
    this.dropout = p;
    const seed = seedOf(layer, opts.seed);
    this.gates = GATES[mode];
    this.dirs = this.bidirectional ? 2 : 1;

    const GH = this.gates * this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.dirs; d++) {
        const sfx = `l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? this.inputSize : this.dirs * this.hiddenSize;
        this.wIh.push(this.addParam(`weight_ih_${sfx}`, [GH, inSize]));
        this.wHh.push(this.addParam(`weight_hh_${sfx}`, [GH, this.hiddenSize]));
        if (this.bias) {
          this.bIh.push(this.addParam(`bias_ih_${sfx}`, [GH]));
          this.bHh.push(this.addParam(`bias_hh_${sfx}`, [GH]));
        }
      }
    }
    const rng = new Random(seed);
    const k = 1 / Math.sqrt(this.hiddenSize);
    this.initParams((_s, out) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-k, k);
    });
  }

  protected override paramsChanged(): void {
    this.packedFresh = false;
  }

  protected override releaseWorkspace(be: Backend): void {
    be.arena.free(this.packedBlock);
    this.packedBlock = 0;
    this.packedFresh = false;
  }

  /** Packs W_ih and W_hh into the backend's panel layout (once per change of the weights). */
  private ensurePacked(be: Backend): void {
    if (this.packedFresh) return;
    const ks = be.kernels;
    if (this.packedBlock === 0) {
      let off = 0;
      for (let i = 0; i < this.wIh.length; i++) {
        this.packedIh[i] = off;
        off += ks.packedSize(this.wIh[i].shape[0], this.wIh[i].shape[1]) * 4;
        off = Math.ceil(off / 64) * 64;
        this.packedHh[i] = off;
        off += ks.packedSize(this.wHh[i].shape[0], this.wHh[i].shape[1]) * 4;
        off = Math.ceil(off / 64) * 64;
      }
      this.packedBlock = be.arena.alloc(off);
    }
    for (let i = 0; i < this.wIh.length; i++) {
      const [n, kIh] = this.wIh[i].shape;
      ks.packWeights(this.packedBlock + this.packedIh[i], this.paramPtr(this.wIh[i]), n, kIh);
      ks.packWeights(this.packedBlock + this.packedHh[i], this.paramPtr(this.wHh[i]), n, this.hiddenSize);
    }
    this.packedFresh = true;
  }

  /**
   * Runs the whole sequence. `x` is [T, B, inputSize] ([B, T, inputSize] with batchFirst) or
   * [T, inputSize] unbatched. Returns PyTorch's (output, h_n[, c_n]).
   */
  protected run(x: TensorLike, state: RNNState | TensorLike | undefined, options: ForwardOptions): LSTMResult | RNNResult {
    this.checkAlive();
    const name = this.constructor.name;
    const xt = toTensor(x, `${name}.forward: x`);
    const rank = xt.shape.length;
    const feat = this.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]';
    if (rank !== 2 && rank !== 3) {
      throw new RangeError(
        `${name}.forward: x must be 3-D ${feat} or 2-D unbatched [T, inputSize], got shape ${shapeStr(xt.shape)}`,
      );
    }
    const unbatched = rank === 2;
    const I = xt.shape[rank - 1];
    if (I !== this.inputSize) {
      throw new RangeError(`${name}.forward: x's last dimension must be inputSize = ${this.inputSize}, got ${I} (shape ${shapeStr(xt.shape)})`);
    }
    const T = unbatched || !this.batchFirst ? xt.shape[0] : xt.shape[1];
    const B = unbatched ? 1 : this.batchFirst ? xt.shape[0] : xt.shape[1];
    if (T < 1 || B < 1) {
      throw new RangeError(`${name}.forward: x must have at least one step and one batch row, got shape ${shapeStr(xt.shape)}`);
    }
    checkFinite(xt.data, `${name}.forward: x`);

    const { h0, c0 } = this.parseState(state, B, unbatched);
    const lengths = this.parseLengths(options, B, T, unbatched);

    const be = this.bind();
    this.ensurePacked(be);
    const H = this.hiddenSize, D = this.dirs, L = this.numLayers, G = this.gates;
    const GH = G * H, DH = D * H, isLSTM = this.mode === 'LSTM';
    const sizes = {
      x: T * B * I, gx: T * B * GH, y0: T * B * DH, y1: L > 1 ? T * B * DH : 0,
      h: L * D * B * H, c: isLSTM ? L * D * B * H : 0, s: B * GH, len: B,
    };
    let floats = 0;
    const at: Record<keyof typeof sizes, number> = { x: 0, gx: 0, y0: 0, y1: 0, h: 0, c: 0, s: 0, len: 0 };
    for (const key of Object.keys(sizes) as Array<keyof typeof sizes>) {
      at[key] = floats;
      floats += Math.ceil(sizes[key] / 16) * 16;
    }
    const ws = this.workspace(be, floats);
    const ptr = (key: keyof typeof sizes): number => ws + at[key] * 4;

    const f32 = be.arena.f32;
    // Copy in: x time-major; initial states; lengths.
    if (unbatched || !this.batchFirst) {
      f32.set(xt.data, ptr('x') >> 2);
    } else {
      const dst = ptr('x') >> 2;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const s = (b * T + t) * I, d = dst + (t * B + b) * I;
          for (let i = 0; i < I; i++) f32[d + i] = xt.data[s + i];
        }
      }
    }
    if (h0) f32.set(h0, ptr('h') >> 2);
    else f32.fill(0, ptr('h') >> 2, (ptr('h') >> 2) + sizes.h);
    if (isLSTM) {
      if (c0) f32.set(c0, ptr('c') >> 2);
      else f32.fill(0, ptr('c') >> 2, (ptr('c') >> 2) + sizes.c);
    }
    if (lengths) be.arena.i32.set(lengths, ptr('len') >> 2);

    const ks = be.kernels;
    const lenPtr = lengths ? ptr('len') : 0;
    let inPtr = ptr('x'), inSize = I, outPtr = ptr('y0');
    for (let l = 0; l < L; l++) {
      outPtr = l % 2 === 0 ? ptr('y0') : ptr('y1');
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const wih = this.packedBlock + this.packedIh[k], whh = this.packedBlock + this.packedHh[k];
        const bih = this.bias ? this.paramPtr(this.bIh[k]) : 0;
        const bhh = this.bias ? this.paramPtr(this.bHh[k]) : 0;
        const gx = ptr('gx'), s = ptr('s');
        ks.gemm(gx, inPtr, wih, bih, T * B, GH, inSize);
        const h = ptr('h') + k * B * H * 4, c = ptr('c') + k * B * H * 4;
        for (let step = 0; step < T; step++) {
          const t = d === 0 ? step : T - 1 - step;
          const out = outPtr + (t * B * DH + d * H) * 4, g = gx + t * B * GH * 4;
          if (isLSTM) ks.lstmStep(h, c, out, DH, g, h, c, whh, bhh, s, B, H, lenPtr, t);
          else if (this.mode === 'GRU') ks.gruStep(h, out, DH, g, h, whh, bhh, s, B, H, lenPtr, t);
          else ks.rnnStep(h, out, DH, g, h, whh, bhh, s, B, H, this.mode === 'RNN_RELU' ? 1 : 0, lenPtr, t);
        }
      }
      inPtr = outPtr;
      inSize = DH;
    }

    // Copy out into arrays the caller owns.
    const f = be.arena.f32;
    const o = outPtr >> 2;
    let output: Tensor;
    if (unbatched) {
      output = new Tensor(f.slice(o, o + T * DH), [T, DH]);
    } else if (!this.batchFirst) {
      output = new Tensor(f.slice(o, o + T * B * DH), [T, B, DH]);
    } else {
      const data = new Float32Array(T * B * DH);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const src = o + (t * B + b) * DH, dst = (b * T + t) * DH;
          for (let j = 0; j < DH; j++) data[dst + j] = f[src + j];
        }
      }
      output = new Tensor(data, [B, T, DH]);
    }
    const stateShape = unbatched ? [L * D, H] : [L * D, B, H];
    const hN = new Tensor(be.arena.read(ptr('h'), sizes.h), stateShape);
    if (!isLSTM) return { output, h: hN };
    return { output, h: hN, c: new Tensor(be.arena.read(ptr('c'), sizes.c), stateShape) };
  }

  private parseState(
    state: RNNState | TensorLike | undefined,
    B: number,
    unbatched: boolean,
  ): { h0: Float32Array | null; c0: Float32Array | null } {
    const name = this.constructor.name;
    if (state === undefined || state === null) return { h0: null, c0: null };
    const isLSTM = this.mode === 'LSTM';
    let hIn: unknown, cIn: unknown;
    if (state instanceof Tensor || Array.isArray(state)) {
      if (isLSTM) {
        throw new TypeError(`${name}.forward: state must be an object {h, c}, got ${typeName(state)}`);
      }
      hIn = state;
    } else if (typeof state === 'object' && !('data' in state && 'shape' in state)) {
      const keys = Object.keys(state);
      const allowed = isLSTM ? ['h', 'c'] : ['h'];
      const bad = keys.filter((k) => !allowed.includes(k));
      if (bad.length > 0) {
        throw new TypeError(`${name}.forward: state has unknown key '${bad[0]}'; expected ${allowed.map((k) => `'${k}'`).join(', ')}`);
      }
      hIn = (state as RNNState).h;
      cIn = (state as RNNState).c;
      if (isLSTM && (hIn === undefined) !== (cIn === undefined)) {
        throw new TypeError(`${name}.forward: state must give both h and c (or neither), got only ${hIn === undefined ? 'c' : 'h'}`);
      }
    } else if (!isLSTM) {
      hIn = state;
    } else {
      throw new TypeError(`${name}.forward: state must be an object {h, c}, got ${typeName(state)}`);
    }
    const want = unbatched
      ? [this.numLayers * this.dirs, this.hiddenSize]
      : [this.numLayers * this.dirs, B, this.hiddenSize];
    const check = (v: unknown, key: string): Float32Array | null => {
      if (v === undefined) return null;
      const t = toTensor(v, `${name}.forward: state.${key}`);
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new RangeError(`${name}.forward: state.${key} must have shape ${shapeStr(want)}, got ${shapeStr(t.shape)}`);
      }
      checkFinite(t.data, `${name}.forward: state.${key}`);
      return t.data;
    };
    return { h0: check(hIn, 'h'), c0: check(cIn, 'c') };
  }

  private parseLengths(options: ForwardOptions, B: number, T: number, unbatched: boolean): Int32Array | null {
    const name = this.constructor.name;
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${name}.forward: options must be an object, got ${typeName(options)}`);
    }
    const bad = Object.keys(options).filter((k) => k !== 'lengths');
    if (bad.length > 0) throw new TypeError(`${name}.forward: unknown option '${bad[0]}'; expected 'lengths'`);
    const lengths = options.lengths;
    if (lengths === undefined || lengths === null) return null;
    if (unbatched) throw new RangeError(`${name}.forward: lengths needs batched input; x is unbatched [T, inputSize]`);
    if (typeof lengths !== 'object' || typeof lengths.length !== 'number') {
      throw new TypeError(`${name}.forward: lengths must be an array of ${B} integers, got ${typeName(lengths)}`);
    }
    if (lengths.length !== B) {
      throw new RangeError(`${name}.forward: lengths must have one entry per batch row (${B}), got ${lengths.length}`);
    }
    const out = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const v = lengths[b];
      if (!Number.isInteger(v) || v < 1 || v > T) {
        throw new RangeError(`${name}.forward: lengths[${b}] must be an integer in [1, ${T}] (T = ${T}), got ${fmt(v)}`);
      }
      out[b] = v;
    }
    return out;
  }

  /** A zero state for `step()`: h (and c) shaped [numLayers, batch, H]. */
  createState(batch = 1): StepState {
    positiveInt(`${this.constructor.name}.createState`, 'batch', batch);
    const shape = [this.numLayers, batch, this.hiddenSize];
    return this.mode === 'LSTM' ? { h: Tensor.zeros(shape), c: Tensor.zeros(shape) } : { h: Tensor.zeros(shape) };
  }

  /**
   * Advances one time step for streaming: `x` holds [B, inputSize] values, `state` (from
   * createState) is read and updated in place, and the top layer's new h ([B, H]) is written to
   * `out` (allocated if absent) and returned. Allocates nothing in Wasm memory after the first call.
   */
  step(x: Float32Array | TensorLike, state: StepState, out?: Float32Array): Float32Array {
    this.checkAlive();
    const name = `${this.constructor.name}.step`;
    if (this.bidirectional) throw new Error(`${name}: a bidirectional layer needs the whole sequence; use forward()`);
    if (state === null || typeof state !== 'object' || !(state.h instanceof Tensor)) {
      throw new TypeError(`${name}: state must be {h: Tensor${this.mode === 'LSTM' ? ', c: Tensor' : ''}} from createState(), got ${typeName(state)}`);
    }
    const H = this.hiddenSize, L = this.numLayers, I = this.inputSize;
    const hs = state.h.shape;
    if (hs.length !== 3 || hs[0] !== L || hs[2] !== H || hs[1] < 1) {
      throw new RangeError(`${name}: state.h must have shape [${L}, B, ${H}], got ${shapeStr(hs)}`);
    }
    const B = hs[1];
    const isLSTM = this.mode === 'LSTM';
    if (isLSTM) {
      const c = state.c;
      if (!(c instanceof Tensor) || c.shape.length !== 3 || c.shape[0] !== L || c.shape[1] !== B || c.shape[2] !== H) {
        throw new RangeError(`${name}: state.c must be a Tensor of shape [${L}, ${B}, ${H}], got ${c instanceof Tensor ? shapeStr(c.shape) : typeName(c)}`);
      }
    }
    const xd = x instanceof Float32Array ? x : toTensor(x, `${name}: x`).data;
    if (xd.length !== B * I) {
      throw new RangeError(`${name}: x must hold batch × inputSize = ${B} × ${I} = ${B * I} values, got ${xd.length}`);
    }
    checkFinite(xd, `${name}: x`);
    if (out !== undefined && (!(out instanceof Float32Array) || out.length !== B * H)) {
      throw new RangeError(`${name}: out must be a Float32Array of ${B * H} values, got ${out instanceof Float32Array ? `length ${out.length}` : typeName(out)}`);
    }
    const result = out ?? new Float32Array(B * H);

    const be = this.bind();
    this.ensurePacked(be);
    const GH = this.gates * H;
    const pad = (n: number): number => Math.ceil(n / 16) * 16;
    const xOff = 0, gOff = pad(B * I), y0 = gOff + pad(B * GH), y1 = y0 + pad(B * H);
    const hOff = y1 + pad(B * H), cOff = hOff + pad(L * B * H), sOff = cOff + (isLSTM ? pad(L * B * H) : 0);
    const ws = this.workspace(be, sOff + pad(B * GH));
    const f = be.arena.f32;
    const wsF = ws >> 2;
    f.set(xd, wsF + xOff);
    f.set(state.h.data, wsF + hOff);
    if (isLSTM) f.set((state.c as Tensor).data, wsF + cOff);

    const ks = be.kernels;
    let inPtr = ws + xOff * 4, inSize = I, outPtr = 0;
    for (let l = 0; l < L; l++) {
      outPtr = ws + (l % 2 === 0 ? y0 : y1) * 4;
      const wih = this.packedBlock + this.packedIh[l], whh = this.packedBlock + this.packedHh[l];
      const bih = this.bias ? this.paramPtr(this.bIh[l]) : 0;
      const bhh = this.bias ? this.paramPtr(this.bHh[l]) : 0;
      const g = ws + gOff * 4, s = ws + sOff * 4;
      const h = ws + (hOff + l * B * H) * 4, c = ws + (cOff + l * B * H) * 4;
      ks.gemm(g, inPtr, wih, bih, B, GH, inSize);
      if (isLSTM) ks.lstmStep(h, c, outPtr, H, g, h, c, whh, bhh, s, B, H, 0, 0);
      else if (this.mode === 'GRU') ks.gruStep(h, outPtr, H, g, h, whh, bhh, s, B, H, 0, 0);
      else ks.rnnStep(h, outPtr, H, g, h, whh, bhh, s, B, H, this.mode === 'RNN_RELU' ? 1 : 0, 0, 0);
      inPtr = outPtr;
      inSize = H;
    }
    const g = be.arena.f32;
    copyOut(g, wsF + hOff, state.h.data);
    if (isLSTM) copyOut(g, wsF + cOff, (state.c as Tensor).data);
    copyOut(g, outPtr >> 2, result);
    return result;
  }
}

function copyOut(src: Float32Array, from: number, dst: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = src[from + i];
}

type Ctor<O> = O | number;

function normalize<O extends RNNBaseOptions>(a: Ctor<O>, hiddenSize?: number, rest?: Partial<O>): O {
  if (typeof a === 'number') return { ...(rest ?? {}), inputSize: a, hiddenSize } as O;
  return a;
}

/** Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act = tanh or relu. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(options: RNNOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<RNNOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<RNNOptions>, hiddenSize?: number, rest?: Partial<RNNOptions>) {
    const opts = normalize(a, hiddenSize, rest);
    const nl = opts?.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') {
      throw new RangeError(`RNN: nonlinearity must be 'tanh' or 'relu', got ${fmt(nl)}`);
    }
    super(nl === 'relu' ? 'RNN_RELU' : 'RNN_TANH', 'RNN', opts, ['nonlinearity']);
    this.nonlinearity = nl;
  }
  forward(x: TensorLike, h0?: TensorLike | RNNState, options: ForwardOptions = {}): RNNResult {
    return this.run(x, h0, options);
  }
}

/** LSTM with PyTorch's gate order (i, f, g, o). */
export class LSTM extends RNNBase {
  constructor(options: RNNBaseOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<RNNBaseOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<RNNBaseOptions>, hiddenSize?: number, rest?: Partial<RNNBaseOptions>) {
    super('LSTM', 'LSTM', normalize(a, hiddenSize, rest));
  }
  forward(x: TensorLike, state?: RNNState, options: ForwardOptions = {}): LSTMResult {
    return this.run(x, state, options) as LSTMResult;
  }
}

/** GRU with PyTorch's gate order (r, z, n) and n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). */
export class GRU extends RNNBase {
  constructor(options: RNNBaseOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<RNNBaseOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<RNNBaseOptions>, hiddenSize?: number, rest?: Partial<RNNBaseOptions>) {
    super('GRU', 'GRU', normalize(a, hiddenSize, rest));
  }
  forward(x: TensorLike, h0?: TensorLike | RNNState, options: ForwardOptions = {}): RNNResult {
    return this.run(x, h0, options);
  }
}

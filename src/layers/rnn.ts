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
  /** Record what backward() needs and apply inter-layer dropout (default false). */
  training?: boolean;
}

/** Gradients returned by backward(): w.r.t. x and the initial state, shaped like them. */
export interface RNNGradients {
  x: Tensor;
  h: Tensor;
  c?: Tensor;
}

/** Byte addresses of one planned workspace (see RNNBase.plan). */
interface Layout {
  x: number; y: number[]; gx: number; h: number; c: number; s: number; len: number;
  c0: number; tape: number; hist: number; masks: number; dA: number; dB: number;
  dGx: number; dS: number; dGT: number; dh: number; dc: number; packTmp: number;
  tapeW: number; B: number; T: number;
}

interface Tape {
  lay: Layout;
  lengths: Int32Array | null;
  unbatched: boolean;
  B: number;
  T: number;
  outputShape: number[];
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
  /** W_ihᵀ and W_hhᵀ packed for the backward products (dX = dG·W_ih, dh = dG·W_hh). */
  private packedTBlock = 0;
  private readonly packedTIh: number[] = [];
  private readonly packedTHh: number[] = [];
  private packedTFresh = false;
  /** What the last training forward recorded; null when there is nothing to differentiate. */
  private tape: Tape | null = null;
  private dropoutRng: Random;

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
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
      throw new RangeError(`${layer}: dropout must be a number in [0, 1), got ${fmt(p)}`);
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
    this.dropoutRng = new Random(seed === undefined ? undefined : seed ^ 0x5bd1e995);
  }

  protected override paramsChanged(): void {
    this.packedFresh = false;
    this.packedTFresh = false;
  }

  /** Restarts the inter-layer dropout masks from a seed (like torch.manual_seed for this layer). */
  setDropoutSeed(seed: number): void {
    this.dropoutRng = new Random(seedOf(`${this.constructor.name}.setDropoutSeed`, seed));
  }

  protected override releaseWorkspace(be: Backend): void {
    be.arena.free(this.packedBlock);
    be.arena.free(this.packedTBlock);
    this.packedBlock = 0;
    this.packedTBlock = 0;
    this.packedFresh = false;
    this.packedTFresh = false;
    this.tape = null;
  }

  /** The kernels' cell code: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU (see assembly/threads.ts). */
  private cellCode(): number {
    return this.mode === 'LSTM' ? 2 : this.mode === 'GRU' ? 3 : this.mode === 'RNN_RELU' ? 1 : 0;
  }

  /**
   * The backend's thread pool when this layer's per-step work is worth splitting: below about
   * 32k multiply-adds per step the two barriers per step cost more than the halved product.
   * A pool closed by a failure leaves the layer on the caller's thread until ready({ threads }),
   * and a pool paused because the cores are busy (ContentionGuard) for a while.
   */
  private poolFor(be: Backend, B: number): Backend['pool'] {
    const pool = be.pool;
    return pool && B * this.gates * this.hiddenSize * this.hiddenSize >= PARALLEL_MIN_MACS && pool.available ? pool : undefined;
  }

  /** Packs W_ih and W_hh into the backend's panel layout (once per change of the weights). */
  private ensurePacked(be: Backend): void {
    if (this.packedFresh) return;
    const ks = be.kernels;
    if (this.packedBlock === 0) {
      let off = 0;
      for (let i = 0; i < this.wIh.length; i++) {
        this.packedIh[i] = off;
        off = align64(off + ks.packedSize(this.wIh[i].shape[0], this.wIh[i].shape[1]) * 4);
        this.packedHh[i] = off;
        off = align64(off + ks.packedSize(this.wHh[i].shape[0], this.wHh[i].shape[1]) * 4);
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

  /** Packs W_ihᵀ and W_hhᵀ for backward (once per change of the weights). */
  private ensurePackedT(be: Backend): void {
    if (this.packedTFresh) return;
    const ks = be.kernels;
    const GH = this.gates * this.hiddenSize;
    if (this.packedTBlock === 0) {
      let off = 0;
      for (let i = 0; i < this.wIh.length; i++) {
        this.packedTIh[i] = off;
        off = align64(off + ks.packedSize(this.wIh[i].shape[1], GH) * 4);
        this.packedTHh[i] = off;
        off = align64(off + ks.packedSize(this.hiddenSize, GH) * 4);
      }
      this.packedTBlock = be.arena.alloc(off);
    }
    for (let i = 0; i < this.wIh.length; i++) {
      ks.packRows(this.packedTBlock + this.packedTIh[i], this.paramPtr(this.wIh[i]), GH, this.wIh[i].shape[1]);
      ks.packRows(this.packedTBlock + this.packedTHh[i], this.paramPtr(this.wHh[i]), GH, this.hiddenSize);
    }
    this.packedTFresh = true;
  }

  /** Plans the workspace for (B, T): forward buffers, and with `training` the tape and backward buffers. */
  private plan(be: Backend, B: number, T: number, training: boolean): Layout {
    const H = this.hiddenSize, D = this.dirs, L = this.numLayers, G = this.gates, I = this.inputSize;
    const GH = G * H, DH = D * H, TB = T * B, LDBH = L * D * B * H, isLSTM = this.mode === 'LSTM';
    const tapeW = isLSTM ? 5 * H : this.mode === 'GRU' ? 4 * H : H;
    const maxIn = Math.max(I, DH);
    let floats = 0;
    const take = (n: number): number => {
      const at = floats;
      floats += Math.ceil(n / 16) * 16;
      return at;
    };
    const lay = {
      x: take(TB * I),
      y: [] as number[],
      gx: take(TB * GH),
      h: take(LDBH),
      c: take(isLSTM ? LDBH : 0),
      s: take(B * GH),
      len: take(B),
      c0: 0, tape: 0, hist: 0, masks: 0, dA: 0, dB: 0, dGx: 0, dS: 0, dGT: 0, dh: 0, dc: 0, packTmp: 0,
      tapeW, B, T,
    };
    for (let l = 0; l < (training ? L : Math.min(L, 2)); l++) lay.y.push(take(TB * DH));
    if (training) {
      const ks = be.kernels;
      lay.c0 = take(isLSTM ? LDBH : 0);
      lay.tape = take(L * D * TB * tapeW);
      lay.hist = take(L * D * TB * H);
      lay.masks = take(this.dropout > 0 ? (L - 1) * TB * DH : 0);
      lay.dA = take(TB * maxIn);
      lay.dB = take(TB * maxIn);
      lay.dGx = take(TB * GH);
      lay.dS = take(this.mode === 'GRU' ? TB * GH : 0);
      lay.dGT = take(TB * GH);
      lay.dh = take(B * H);
      lay.dc = take(B * H);
      lay.packTmp = take(Math.max(ks.packedSize(maxIn, TB), ks.packedSize(H, TB)));
    }
    const ws = this.workspace(be, floats);
    // Turn float offsets into byte addresses.
    const addr = (f: number): number => ws + f * 4;
    return {
      ...lay,
      x: addr(lay.x), gx: addr(lay.gx), h: addr(lay.h), c: addr(lay.c), s: addr(lay.s), len: addr(lay.len),
      c0: addr(lay.c0), tape: addr(lay.tape), hist: addr(lay.hist), masks: addr(lay.masks),
      dA: addr(lay.dA), dB: addr(lay.dB), dGx: addr(lay.dGx), dS: addr(lay.dS), dGT: addr(lay.dGT), dh: addr(lay.dh),
      dc: addr(lay.dc), packTmp: addr(lay.packTmp), y: lay.y.map(addr),
    };
  }

  /**
   * Runs the whole sequence. `x` is [T, B, inputSize] ([B, T, inputSize] with batchFirst) or
   * [T, inputSize] unbatched. Returns PyTorch's (output, h_n[, c_n]). With `training`, records
   * what backward() needs (activations, states, dropout masks) in the planned workspace.
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
    const { lengths, training } = this.parseOptions(options, B, T, unbatched);

    const be = this.bind();
    this.ensurePacked(be);
    this.tape = null;
    const H = this.hiddenSize, D = this.dirs, L = this.numLayers;
    const GH = this.gates * H, DH = D * H, TB = T * B, LDBH = L * D * B * H, isLSTM = this.mode === 'LSTM';
    const lay = this.plan(be, B, T, training);

    const f32 = be.arena.f32;
    // Copy in: x time-major; initial states; lengths.
    if (unbatched || !this.batchFirst) f32.set(xt.data, lay.x >> 2);
    else transposeBT(xt.data, f32, lay.x >> 2, B, T, I);
    if (h0) f32.set(h0, lay.h >> 2);
    else f32.fill(0, lay.h >> 2, (lay.h >> 2) + LDBH);
    if (isLSTM) {
      if (c0) f32.set(c0, lay.c >> 2);
      else f32.fill(0, lay.c >> 2, (lay.c >> 2) + LDBH);
      if (training) f32.copyWithin(lay.c0 >> 2, lay.c >> 2, (lay.c >> 2) + LDBH);
    }
    if (lengths) be.arena.i32.set(lengths, lay.len >> 2);

    const ks = be.kernels;
    const pool = this.poolFor(be, B);
    const lenPtr = lengths ? lay.len : 0;
    const relu = this.mode === 'RNN_RELU' ? 1 : 0;
    const BH = B * H, tapeStep = B * lay.tapeW * 4;
    let inPtr = lay.x, inSize = I, outPtr = lay.y[0];
    for (let l = 0; l < L; l++) {
      outPtr = lay.y[training ? l : l % 2];
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const wih = this.packedBlock + this.packedIh[k], whh = this.packedBlock + this.packedHh[k];
        const bih = this.bias ? this.paramPtr(this.bIh[k]) : 0;
        const bhh = this.bias ? this.paramPtr(this.bHh[k]) : 0;
        const gx = lay.gx, s = lay.s;
        const h = lay.h + k * BH * 4, c = lay.c + k * BH * 4;
        if (pool && !training) {
          // Inference on several threads: the same kernels split by columns and units, so the
          // bits are those of the one-thread loop below.
          pool.run('gemmPart', gx, inPtr, wih, bih, TB, GH, inSize);
          pool.run('seq', this.cellCode(), T, d, h, c, outPtr + d * H * 4, DH, gx, whh, bhh, s, B, H, lenPtr, 0, 0, 0, 0);
          continue;
        }
        ks.gemm(gx, inPtr, wih, bih, TB, GH, inSize);
        const tape = lay.tape + k * T * tapeStep, hist = lay.hist + k * TB * H * 4;
        for (let step = 0; step < T; step++) {
          const t = d === 0 ? step : T - 1 - step;
          const out = outPtr + (t * B * DH + d * H) * 4, g = gx + t * B * GH * 4;
          if (training) {
            const f = be.arena.f32;
            f.copyWithin((hist >> 2) + t * BH, h >> 2, (h >> 2) + BH);
            const tp = tape + t * tapeStep;
            if (isLSTM) {
              ks.lstmStepTrain(h, c, out, DH, g, h, c, whh, bhh, s, B, H, lenPtr, t, tp);
              // Inactive rows held their state: record it where backward looks for c_{t±1}.
              if (lengths) this.holdTapeC(f, lengths, t, c, tp, B, H, lay.tapeW);
            } else if (this.mode === 'GRU') ks.gruStepTrain(h, out, DH, g, h, whh, bhh, s, B, H, lenPtr, t, tp);
            else ks.rnnStepTrain(h, out, DH, g, h, whh, bhh, s, B, H, relu, lenPtr, t, tp);
          } else if (isLSTM) ks.lstmStep(h, c, out, DH, g, h, c, whh, bhh, s, B, H, lenPtr, t);
          else if (this.mode === 'GRU') ks.gruStep(h, out, DH, g, h, whh, bhh, s, B, H, lenPtr, t);
          else ks.rnnStep(h, out, DH, g, h, whh, bhh, s, B, H, relu, lenPtr, t);
        }
      }
      if (training && this.dropout > 0 && l < L - 1) {
        const mask = lay.masks + l * TB * DH * 4;
        const f = be.arena.f32, keep = 1 - this.dropout, inv = 1 / keep;
        for (let i = mask >> 2, e = i + TB * DH; i < e; i++) f[i] = this.dropoutRng.next() < keep ? inv : 0;
        ks.mulInPlace(outPtr, mask, TB * DH);
      }
      inPtr = outPtr;
      inSize = DH;
    }

    // Copy out into arrays the caller owns.
    const f = be.arena.f32;
    const o = outPtr >> 2;
    let output: Tensor;
    if (unbatched) output = new Tensor(f.slice(o, o + T * DH), [T, DH]);
    else if (!this.batchFirst) output = new Tensor(f.slice(o, o + TB * DH), [T, B, DH]);
    else {
      const data = new Float32Array(TB * DH);
      transposeTB(f, o, data, B, T, DH);
      output = new Tensor(data, [B, T, DH]);
    }
    const stateShape = unbatched ? [L * D, H] : [L * D, B, H];
    if (training) this.tape = { lay, lengths, unbatched, B, T, outputShape: output.shape };
    const hN = new Tensor(be.arena.read(lay.h, LDBH), stateShape);
    if (!isLSTM) return { output, h: hN };
    return { output, h: hN, c: new Tensor(be.arena.read(lay.c, LDBH), stateShape) };
  }

  private holdTapeC(f: Float32Array, lengths: Int32Array, t: number, c: number, tape: number, B: number, H: number, tapeW: number): void {
    for (let b = 0; b < B; b++) {
      if (t < lengths[b]) continue;
      const src = (c >> 2) + b * H, dst = (tape >> 2) + b * tapeW + 4 * H;
      f.copyWithin(dst, src, src + H);
    }
  }

  /**
   * Backpropagates through the last `forward(x, state, { training: true })`: `gradOutput` is the
   * gradient of the loss w.r.t. that call's output (same shape; null when the loss uses only the
   * final state), `gradState` optionally w.r.t. its final h (and c). Parameter gradients are added to gradients(); returns the gradients w.r.t.
   * x and the initial state. The recorded tape is consumed (one backward per training forward).
   */
  backward(gradOutput: TensorLike | null, gradState?: RNNState): RNNGradients {
    this.checkAlive();
    const name = `${this.constructor.name}.backward`;
    const tp = this.tape;
    if (!tp) throw new Error(`${name}: call forward(x, state, { training: true }) first (each backward needs its own training forward)`);
    // null: the loss does not depend on the output sequence (only on the final state).
    const go = gradOutput === null ? null : toTensor(gradOutput, `${name}: gradOutput`);
    if (go && (go.shape.length !== tp.outputShape.length || go.shape.some((d, i) => d !== tp.outputShape[i]))) {
      throw new RangeError(`${name}: gradOutput must have the output's shape ${shapeStr(tp.outputShape)}, got ${shapeStr(go.shape)}`);
    }
    if (go) checkFinite(go.data, `${name}: gradOutput`);
    const { h0: gH, c0: gC } = this.parseState(gradState, tp.B, tp.unbatched, 'backward: gradState');

    const be = this.bind();
    if (this.tape !== tp) throw new Error(`${name}: the model moved to another backend since forward; run forward again`);
    this.ensurePackedT(be);
    const ks = be.kernels;
    const { lay, lengths, B, T } = tp;
    const H = this.hiddenSize, D = this.dirs, L = this.numLayers, I = this.inputSize;
    const GH = this.gates * H, DH = D * H, TB = T * B, BH = B * H, LDBH = L * D * BH;
    const isLSTM = this.mode === 'LSTM', isGRU = this.mode === 'GRU', relu = this.mode === 'RNN_RELU' ? 1 : 0;
    const tapeW = lay.tapeW, tapeStep = B * tapeW * 4, lenPtr = lengths ? lay.len : 0;
    const gradH0 = new Float32Array(LDBH), gradC0 = new Float32Array(isLSTM ? LDBH : 0);

    let f = be.arena.f32;
    // dY ← gradOutput, time-major, zero where outputs were padding (constant zeros in forward).
    let dY = lay.dA, dX = lay.dB;
    let hasDY = go !== null;
    if (!go) {
      // Nothing to add from the output at any step of the top layer.
    } else if (tp.unbatched || !this.batchFirst) f.set(go.data, dY >> 2);
    else transposeBT(go.data, f, dY >> 2, B, T, DH);
    if (go && lengths) {
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) if (t >= lengths[b]) f.fill(0, (dY >> 2) + (t * B + b) * DH, (dY >> 2) + (t * B + b + 1) * DH);
      }
    }

    for (let l = L - 1; l >= 0; l--) {
      const inSize = l === 0 ? I : DH;
      const xl = l === 0 ? lay.x : lay.y[l - 1];
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const tape = lay.tape + k * T * tapeStep, hist = lay.hist + k * TB * H * 4;
        const dG = lay.dGx, dS = isGRU ? lay.dS : lay.dGx;
        const whhT = this.packedTBlock + this.packedTHh[k], wihT = this.packedTBlock + this.packedTIh[k];
        f = be.arena.f32;
        if (gH) f.set(gH.subarray(k * BH, (k + 1) * BH), lay.dh >> 2);
        else f.fill(0, lay.dh >> 2, (lay.dh >> 2) + BH);
        if (isLSTM) {
          if (gC) f.set(gC.subarray(k * BH, (k + 1) * BH), lay.dc >> 2);
          else f.fill(0, lay.dc >> 2, (lay.dc >> 2) + BH);
        }
        for (let step = T - 1; step >= 0; step--) {
          const t = d === 0 ? step : T - 1 - step;
          if (hasDY) {
            // dh += dY[t, :, d·H : (d+1)·H]
            const dh0 = lay.dh >> 2, y0 = (dY >> 2) + t * B * DH + d * H;
            for (let b = 0; b < B; b++) {
              const hr = dh0 + b * H, yr = y0 + b * DH;
              for (let j = 0; j < H; j++) f[hr + j] += f[yr + j];
            }
          }
          const gt = dG + t * B * GH * 4, st = dS + t * B * GH * 4, tpt = tape + t * tapeStep;
          if (isLSTM) {
            const first = d === 0 ? t === 0 : t === T - 1;
            const cPrev = first ? lay.c0 + k * BH * 4 : tape + (d === 0 ? t - 1 : t + 1) * tapeStep + 16 * H;
            ks.lstmStepBackward(gt, lay.dh, lay.dc, tpt, cPrev, first ? H : tapeW, B, H, lenPtr, t);
          } else if (isGRU) {
            ks.gruStepBackward(gt, st, lay.dh, tpt, hist + t * BH * 4, B, H, lenPtr, t);
          } else {
            ks.rnnStepBackward(gt, lay.dh, tpt, B, H, relu, lenPtr, t);
          }
          ks.gemmEx(lay.dh, st, whhT, 0, B, H, GH, GH, 1, 1);
          f = be.arena.f32;
        }
        gradH0.set(f.subarray(lay.dh >> 2, (lay.dh >> 2) + BH), k * BH);
        if (isLSTM) gradC0.set(f.subarray(lay.dc >> 2, (lay.dc >> 2) + BH), k * BH);

        // Parameter gradients: one large GEMM each over all steps, on dGᵀ (row-major A is the
        // fast GEMM path; transposing once costs far less than a strided A).
        ks.transpose(lay.dGT, dG, TB, GH);
        ks.packRows(lay.packTmp, xl, TB, inSize);
        ks.gemmEx(this.gradPtr(this.wIh[k]), lay.dGT, lay.packTmp, 0, GH, inSize, TB, TB, 1, 1);
        if (isGRU) ks.transpose(lay.dGT, dS, TB, GH);
        ks.packRows(lay.packTmp, hist, TB, H);
        ks.gemmEx(this.gradPtr(this.wHh[k]), lay.dGT, lay.packTmp, 0, GH, H, TB, TB, 1, 1);
        if (this.bias) {
          ks.colSum(this.gradPtr(this.bIh[k]), dG, TB, GH, 1);
          ks.colSum(this.gradPtr(this.bHh[k]), dS, TB, GH, 1);
        }
        ks.gemmEx(dX, dG, wihT, 0, TB, inSize, GH, GH, 1, d === 0 ? 0 : 1);
      }
      if (l > 0 && this.dropout > 0) ks.mulInPlace(dX, lay.masks + (l - 1) * TB * DH * 4, TB * DH);
      [dY, dX] = [dX, dY];
      hasDY = true;
    }
    this.tape = null;

    f = be.arena.f32;
    const gx = new Float32Array(TB * I);
    if (tp.unbatched || !this.batchFirst) gx.set(f.subarray(dY >> 2, (dY >> 2) + TB * I));
    else transposeTB(f, dY >> 2, gx, B, T, I);
    const xShape = tp.unbatched ? [T, I] : this.batchFirst ? [B, T, I] : [T, B, I];
    const sShape = tp.unbatched ? [L * D, H] : [L * D, B, H];
    const res: RNNGradients = { x: new Tensor(gx, xShape), h: new Tensor(gradH0, sShape) };
    if (isLSTM) res.c = new Tensor(gradC0, sShape);
    return res;
  }

  private parseState(
    state: RNNState | TensorLike | undefined,
    B: number,
    unbatched: boolean,
    what = 'forward: state',
  ): { h0: Float32Array | null; c0: Float32Array | null } {
    const name = this.constructor.name;
    if (state === undefined || state === null) return { h0: null, c0: null };
    const isLSTM = this.mode === 'LSTM';
    let hIn: unknown, cIn: unknown;
    if (state instanceof Tensor || Array.isArray(state)) {
      if (isLSTM) {
        throw new TypeError(`${name}.${what} must be an object {h, c}, got ${typeName(state)}`);
      }
      hIn = state;
    } else if (typeof state === 'object' && !('data' in state && 'shape' in state)) {
      const keys = Object.keys(state);
      const allowed = isLSTM ? ['h', 'c'] : ['h'];
      const bad = keys.filter((k) => !allowed.includes(k));
      if (bad.length > 0) {
        throw new TypeError(`${name}.${what} has unknown key '${bad[0]}'; expected ${allowed.map((k) => `'${k}'`).join(', ')}`);
      }
      hIn = (state as RNNState).h;
      cIn = (state as RNNState).c;
      if (isLSTM && (hIn === undefined) !== (cIn === undefined)) {
        throw new TypeError(`${name}.${what} must give both h and c (or neither), got only ${hIn === undefined ? 'c' : 'h'}`);
      }
    } else if (!isLSTM) {
      hIn = state;
    } else {
      throw new TypeError(`${name}.${what} must be an object {h, c}, got ${typeName(state)}`);
    }
    const want = unbatched
      ? [this.numLayers * this.dirs, this.hiddenSize]
      : [this.numLayers * this.dirs, B, this.hiddenSize];
    const check = (v: unknown, key: string): Float32Array | null => {
      if (v === undefined) return null;
      const t = toTensor(v, `${name}.${what}.${key}`);
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new RangeError(`${name}.${what}.${key} must have shape ${shapeStr(want)}, got ${shapeStr(t.shape)}`);
      }
      checkFinite(t.data, `${name}.${what}.${key}`);
      return t.data;
    };
    return { h0: check(hIn, 'h'), c0: check(cIn, 'c') };
  }

  private parseOptions(options: ForwardOptions, B: number, T: number, unbatched: boolean): { lengths: Int32Array | null; training: boolean } {
    const name = this.constructor.name;
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${name}.forward: options must be an object, got ${typeName(options)}`);
    }
    const bad = Object.keys(options).filter((k) => k !== 'lengths' && k !== 'training');
    if (bad.length > 0) throw new TypeError(`${name}.forward: unknown option '${bad[0]}'; expected 'lengths' or 'training'`);
    const training = options.training ?? false;
    if (typeof training !== 'boolean') throw new TypeError(`${name}.forward: training must be a boolean, got ${fmt(training)}`);
    const lengths = options.lengths;
    if (lengths === undefined || lengths === null) return { lengths: null, training };
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
    return { lengths: out, training };
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
    this.tape = null;
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
    const pool = this.poolFor(be, B);
    let inPtr = ws + xOff * 4, inSize = I, outPtr = 0;
    for (let l = 0; l < L; l++) {
      outPtr = ws + (l % 2 === 0 ? y0 : y1) * 4;
      const wih = this.packedBlock + this.packedIh[l], whh = this.packedBlock + this.packedHh[l];
      const bih = this.bias ? this.paramPtr(this.bIh[l]) : 0;
      const bhh = this.bias ? this.paramPtr(this.bHh[l]) : 0;
      const g = ws + gOff * 4, s = ws + sOff * 4;
      const h = ws + (hOff + l * B * H) * 4, c = ws + (cOff + l * B * H) * 4;
      if (pool) {
        pool.run('seq', this.cellCode(), 1, 0, h, c, outPtr, H, g, whh, bhh, s, B, H, 0, inPtr, wih, bih, inSize);
        inPtr = outPtr;
        inSize = H;
        continue;
      }
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

/** Recurrent multiply-adds per step below which a layer stays on one thread. */
let PARALLEL_MIN_MACS = 32768;

/** Internal (tests): the size threshold for the thread pool; returns the previous value. */
export function setParallelMinMacs(n: number): number {
  const prev = PARALLEL_MIN_MACS;
  PARALLEL_MIN_MACS = n;
  return prev;
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** [B, T, F] (src) → [T, B, F] at dst[at…]. */
function transposeBT(src: Float32Array, dst: Float32Array, at: number, B: number, T: number, F: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = (b * T + t) * F, d = at + (t * B + b) * F;
      for (let i = 0; i < F; i++) dst[d + i] = src[s + i];
    }
  }
}

/** [T, B, F] at src[at…] → [B, T, F] (dst). */
function transposeTB(src: Float32Array, at: number, dst: Float32Array, B: number, T: number, F: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = at + (t * B + b) * F, d = (b * T + t) * F;
      for (let i = 0; i < F; i++) dst[d + i] = src[s + i];
    }
  }
}

/** dst ← src[from, from + dst.length) (one bulk copy: ~3× faster than a loop for a 256-float state). */
function copyOut(src: Float32Array, from: number, dst: Float32Array): void {
  dst.set(src.subarray(from, from + dst.length));
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

/**
 * RNN, LSTM and GRU with PyTorch's names, shapes, gate order and semantics.
 *
 * Per layer and direction the backend runs one hoisted GEMM for the whole sequence
 * (G_x = X·W_ihᵀ + b_ih) and then the time loop of fused steps (h_{t−1}·W_hhᵀ + b_hh, the gate
 * nonlinearities, the state update) — see backend/sequence.ts. The pieces: the cell table
 * (recurrent/cells.ts), the workspace planner (recurrent/plan.ts), input validation
 * (recurrent/validate.ts), the packed weights (recurrent/weights.ts) and backpropagation
 * through time (recurrent/bptt.ts).
 *
 * Variant options (ONNX's and Keras's cells: activations, clip, LSTM peepholes and inputForget,
 * GRU resetAfter) select a row of the cell table; the layer only writes that row's parameter
 * block for the kernels and never branches on the options.
 */
import type { Backend } from '../backend/index.js';
import { CELL_PARAMS } from '../backend/kernels.js';
import { Random } from '../random.js';
import { gradEnabled, noteBackward } from '../autograd/graph.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { Module, type Saved } from './module.js';
import { fmt, seedOf } from './options.js';
import { transposeBT, transposeTB } from './recurrent/batch-first.js';
import { backpropagate } from './recurrent/bptt.js';
import { cellFor, writeCellParams, type Cell, type CellVariant } from './recurrent/cells.js';
import { backwardWork, forwardWork, savedBuffers, trainWork, type Dims, type SavedBuffers } from './recurrent/plan.js';
import type {
  CellActivation, CellActivations, ForwardOptions, GRUOptions, LSTMOptions, LSTMResult, RNNBaseOptions, RNNGradients,
  RNNMode, RNNOptions, RNNResult, RNNState, StepState,
} from './recurrent/types.js';
import {
  checkKeys, parseConfig, parseForwardOptions, parseGradOutput, parseInput, parseState, parseStateBatch, parseStep,
  parseVariant, stateTensors, type Config,
} from './recurrent/validate.js';
import { StepPlan } from './recurrent/step-plan.js';
import { PackedWeights, type DirectionParams } from './recurrent/weights.js';

export type {
  CellActivation, CellActivations, ForwardOptions, GRUOptions, LSTMOptions, LSTMResult, RNNBaseOptions, RNNGradients,
  RNNMode, RNNOptions, RNNResult, RNNState, StepState,
} from './recurrent/types.js';
export { setParallelMinMacs } from '../backend/sequence.js';

/** A training forward's record: its saved buffers and what backward needs to read them. */
interface RecurrentSaved extends Saved {
  buffers: SavedBuffers;
  lengths: Int32Array | null;
  unbatched: boolean;
  B: number;
  T: number;
  outputShape: number[];
}

export abstract class RNNBase extends Module {
  /** PyTorch's mode: 'LSTM', 'GRU', or 'RNN_RELU' for an RNN with relu and 'RNN_TANH' otherwise. */
  readonly mode: RNNMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** ONNX's cell clip (see RNNBaseOptions.clip), or null. */
  readonly clip: number | null;

  private readonly cell: Cell;
  /** The variant options, resolved (PyTorch's values where not given). */
  protected readonly variant: CellVariant;
  private readonly cfg: Config;
  /** Per (layer, direction) k = layer·D + direction: the four parameters. */
  private readonly dirs: DirectionParams[] = [];
  private readonly packed = new PackedWeights();
  /** What the last training forward recorded; null when there is nothing to differentiate. */
  private saved: RecurrentSaved | null = null;
  private dropoutRng: Random;
  /** step()'s cached plan (made on the first step) and name for its errors. */
  private stepPlan: StepPlan | null = null;
  private stepName: string | null = null;

  /** `hidden`: the RNN's activation from its nonlinearity option. */
  protected constructor(mode: RNNMode, opts: RNNBaseOptions, extraKeys: readonly string[] = [], hidden?: CellActivation) {
    super();
    const layer = this.constructor.name;
    checkKeys(layer, opts, extraKeys);
    this.variant = parseVariant(layer, mode, opts as unknown as Record<string, unknown>, hidden);
    this.cell = cellFor(mode, this.variant);
    this.cfg = parseConfig(layer, this.cell, opts);
    this.clip = this.variant.clip;
    this.mode = this.cell.mode;
    ({
      inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias,
      batchFirst: this.batchFirst, dropout: this.dropout, bidirectional: this.bidirectional,
    } = this.cfg);
    const D = this.bidirectional ? 2 : 1, GH = this.cell.gates * this.hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = `l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? this.inputSize : D * this.hiddenSize;
        this.dirs.push({
          wIh: this.addParam(`weight_ih_${sfx}`, [GH, inSize]),
          wHh: this.addParam(`weight_hh_${sfx}`, [GH, this.hiddenSize]),
          bIh: this.bias ? this.addParam(`bias_ih_${sfx}`, [GH]) : null,
          bHh: this.bias ? this.addParam(`bias_hh_${sfx}`, [GH]) : null,
          peep: this.cell.peepholes ? this.addParam(`weight_peephole_${sfx}`, [3, this.hiddenSize]) : null,
        });
      }
    }
    // The ParamSpecs were pushed layer by layer as PyTorch orders them (w_ih, w_hh, b_ih, b_hh),
    // each (layer, direction)'s peephole weights after its four.
    const rng = new Random(this.cfg.seed);
    const k = 1 / Math.sqrt(this.hiddenSize);
    this.initParams((_s, out) => {
      rng.fillUniform(out, -k, k);
    });
    this.dropoutRng = new Random(this.cfg.seed === undefined ? undefined : this.cfg.seed ^ 0x5bd1e995);
  }

  protected override paramsChanged(): void {
    this.packed.invalidate();
  }

  /** The options that rebuild this layer, the variant options only where they differ from PyTorch's. */
  override getConfig(): Record<string, unknown> {
    const { inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional } = this;
    const config: Record<string, unknown> = { inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional };
    if (this.clip !== null) config.clip = this.clip;
    return config;
  }

  /**
   * Training refuses a variant whose backward is not implemented (so no gradient is silently
   * wrong). Checked by train() and by every training forward.
   */
  protected override trainingRefusal(): string | null {
    const what = this.cell.untrainable;
    if (what === null) return null;
    return `training is not supported with ${what} = ${JSON.stringify(this.getConfig()[what])} ` +
      '(its backward is not implemented); use the layer for inference (eval(), or forward without training)';
  }

  /** Byte address of direction k's cell parameter block in `blocks` (0: PyTorch's cells), written now. */
  private cellParams(be: Backend, blocks: number, k: number, grad: boolean): number {
    const at = blocks === 0 ? 0 : blocks + k * CELL_PARAMS.words * 4;
    const peep = this.dirs[k].peep;
    return writeCellParams(be.arena, at, this.cell, peep ? this.paramPtr(peep) : 0, peep && grad ? this.gradPtr(peep) : 0);
  }

  override _rngState(): number | null {
    return this.dropoutRng.state;
  }

  override _setRngState(state: number): void {
    this.dropoutRng.state = state;
  }

  /** Restarts the inter-layer dropout masks from a seed (like torch.manual_seed for this layer). */
  setDropoutSeed(seed: number): void {
    this.dropoutRng = new Random(seedOf(`${this.constructor.name}.setDropoutSeed`, seed));
  }

  protected override releaseWorkspace(be: Backend): void {
    this.packed.release(be);
  }

  private dims(B: number, T: number): Dims {
    const c = this.cfg;
    return { cell: this.cell, L: c.numLayers, D: c.bidirectional ? 2 : 1, B, T, H: c.hiddenSize, I: c.inputSize, dropout: c.dropout > 0 };
  }

  private packForward(be: Backend, fn: string): void {
    // The check stays out of repackForward, whose closures would otherwise be allocated (with
    // their context) on every step() call.
    if (!this.packed.forward.fresh) this.repackForward(be, fn);
  }

  private repackForward(be: Backend, fn: string): void {
    this.packed.forward.ensure(
      be, this.dirs, (s) => this.paramPtr(s), (n) => this.reserve(be, n, fn, 'its packed weights'), this.cell.hBlocks * this.hiddenSize,
    );
  }

  /**
   * Runs the whole sequence. `x` is [T, B, inputSize] ([B, T, inputSize] with batchFirst) or
   * [T, inputSize] unbatched. Returns PyTorch's (output, h_n[, c_n]). In training mode (train(),
   * or `training: true`) records what backward needs (activations, states, dropout masks) in a
   * block of its own: the results are recorded for autograd, and backward() works on them.
   */
  protected run(x: TensorLike, state: RNNState | TensorLike | undefined, options: ForwardOptions): LSTMResult | RNNResult {
    this.checkAlive();
    const name = this.constructor.name, fn = `${name}.forward`;
    const cfg = this.cfg, cell = this.cell;
    const { xt, T, B, unbatched } = parseInput(name, cfg, x);
    const { h0, c0 } = parseState(name, cfg, cell, state, B, unbatched, 'forward: state');
    const { lengths, training: trainingOpt } = parseForwardOptions(name, options, B, T, unbatched);
    // Training mode records for backward (and draws dropout masks); noGrad() turns both off.
    const training = (trainingOpt ?? this.training) && gradEnabled();
    const refusal = training ? this.trainingRefusal() : null;
    if (refusal !== null) throw new Error(`${fn}: ${refusal}`);

    const be = this.bind(fn);
    const dims = this.dims(B, T);
    const plan = training ? trainWork(dims) : forwardWork(dims);
    const ws = this.workspace(be, plan.floats, fn);
    const rec = training ? this.saveBegin(be, savedBuffers(dims).floats, fn) : null;
    this.packForward(be, fn);
    const work = plan.at(ws);
    // Inference keeps x, the layer outputs and lengths in the workspace; training in its record.
    const io = (rec ? savedBuffers(dims).at(rec.block) : forwardWork(dims).at(ws)) as SavedBuffers;
    const H = cfg.hiddenSize, D = dims.D, L = cfg.numLayers, I = cfg.inputSize;
    const DH = D * H, TB = T * B, BH = B * H, LDBH = L * D * BH;

    const f = be.arena.f32;
    if (unbatched || !cfg.batchFirst) f.set(xt.data, io.x >>> 2);
    else transposeBT(xt.data, f, io.x >>> 2, B, T, I);
    if (h0) f.set(h0, work.h >>> 2);
    else f.fill(0, work.h >>> 2, (work.h >>> 2) + LDBH);
    if (cell.hasCellState) {
      if (c0) f.set(c0, work.c >>> 2);
      else f.fill(0, work.c >>> 2, (work.c >>> 2) + LDBH);
      if (rec) f.copyWithin(io.c0 >>> 2, work.c >>> 2, (work.c >>> 2) + LDBH);
    }
    if (lengths) be.arena.i32.set(lengths, io.len >>> 2);

    const tapeStep = TB * cell.tapeWidth * H * 4;
    let inPtr = io.x, inSize = I, outPtr = 0;
    for (let l = 0; l < L; l++) {
      outPtr = io.y[rec ? l : l % 2];
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const { bIh, bHh } = this.dirs[k];
        be.sequence({
          cell: cell.code, gates: cell.gates, T, B, H, I: inSize, reverse: d === 1,
          x: inPtr, wih: this.packed.forward.ihAt(k), bih: bIh ? this.paramPtr(bIh) : 0, gx: work.gx,
          h: work.h + k * BH * 4, c: cell.hasCellState ? work.c + k * BH * 4 : 0,
          whh: this.packed.forward.hhAt(k), bhh: bHh ? this.paramPtr(bHh) : 0, scratch: work.s,
          out: outPtr + d * H * 4, ldOut: DH, lengths: lengths ? io.len : 0,
          tape: rec ? io.tape + k * tapeStep : 0, hist: rec ? io.hist + k * cell.histories * TB * H * 4 : 0,
          params: this.cellParams(be, work.cp, k, false),
        });
      }
      if (rec && io.masks !== 0 && l < L - 1) this.dropMask(be, outPtr, io.masks + l * TB * DH * 4, TB * DH);
      inPtr = outPtr;
      inSize = DH;
    }

    // Copy out into arrays the caller owns.
    const g = be.arena.f32;
    const o = outPtr >>> 2;
    let output: Tensor;
    if (unbatched) output = new Tensor(g.slice(o, o + T * DH), [T, DH]);
    else if (!cfg.batchFirst) output = new Tensor(g.slice(o, o + TB * DH), [T, B, DH]);
    else {
      const data = new Float32Array(TB * DH);
      transposeTB(g, o, data, B, T, DH);
      output = new Tensor(data, [B, T, DH]);
    }
    const stateShape = unbatched ? [L * D, H] : [L * D, B, H];
    const hN = new Tensor(be.arena.read(work.h, LDBH), stateShape);
    const cN = cell.hasCellState ? new Tensor(be.arena.read(work.c, LDBH), stateShape) : null;
    this.saved = rec ? Object.assign(rec, { buffers: io as SavedBuffers, lengths, unbatched, B, T, outputShape: [...output.shape] }) : null;
    if (this.saved) {
      const saved = this.saved;
      this.recordNode(saved, {
        name: fn, inputs: [xt, ...stateTensors(state)], outputs: 3,
        backward: ([gOut, gH, gC]) => {
          const g = this.backwardRecord(saved, gOut, gH, gC, `${name}.backward`);
          return [g.x.data, g.h.data, g.c ? g.c.data : null];
        },
      }, [output, hN, cN]);
    }
    return cN ? { output, h: hN, c: cN } : { output, h: hN };
  }

  /** Draws an inter-layer dropout mask (0 or 1/(1 − p)) and applies it to a layer's output. */
  private dropMask(be: Backend, out: number, mask: number, n: number): void {
    const f = be.arena.f32, keep = 1 - this.dropout, inv = 1 / keep;
    for (let i = mask >>> 2, e = i + n; i < e; i++) f[i] = this.dropoutRng.next() < keep ? inv : 0;
    be.kernels.mulInPlace(out, mask, n);
  }

  /**
   * Backpropagates through the last `forward(x, state, { training: true })`: `gradOutput` is the
   * gradient of the loss w.r.t. that call's output (same shape; null when the loss uses only the
   * final state), `gradState` optionally w.r.t. its final h (and c). Parameter gradients are
   * added to gradients(); returns the gradients w.r.t. x and the initial state. The record is
   * consumed (one backward per training forward).
   */
  backward(gradOutput: TensorLike | null, gradState?: RNNState): RNNGradients {
    this.checkAlive();
    const name = this.constructor.name, fn = `${name}.backward`;
    const rec = this.saved;
    if (!rec) throw new Error(`${fn}: call forward(x, state, { training: true }) first (each backward needs its own training forward)`);
    const go = parseGradOutput(fn, gradOutput, rec.outputShape);
    const { h0: gradH, c0: gradC } = parseState(name, this.cfg, this.cell, gradState, rec.B, rec.unbatched, 'backward: gradState');
    const res = this.backwardRecord(rec, go ? go.data : null, gradH, gradC, fn);
    this.saved = null;
    noteBackward();
    return res;
  }

  /** Backpropagates through one training forward's record (then released); inputs already validated. */
  private backwardRecord(
    rec: RecurrentSaved, gradOutput: Float32Array | null, gradH: Float32Array | null, gradC: Float32Array | null, fn: string,
  ): RNNGradients {
    const be = this.bind(fn);
    this.checkSaved(rec, fn);
    const dims = this.dims(rec.B, rec.T);
    const plan = backwardWork(dims, be.kernels);
    const work = plan.at(this.workspace(be, plan.floats, fn));
    // Reserve the gradient block and the transposed weights before anything is written.
    this.gradPtr(this.dirs[0].wIh);
    this.packed.backward.ensure(
      be, this.dirs, (s) => this.paramPtr(s), (n) => this.reserve(be, n, fn, 'its packed weights'), this.cell.hBlocks * this.hiddenSize,
    );
    const res = backpropagate({
      be, cfg: this.cfg, cell: this.cell, dirs: this.dirs, packed: this.packed, work, saved: rec.buffers,
      lengths: rec.lengths, B: rec.B, T: rec.T, unbatched: rec.unbatched,
      param: (s) => this.paramPtr(s), grad: (s) => this.gradPtr(s),
      cellParams: (k) => this.cellParams(be, work.cp, k, true),
      gradOutput, gradH, gradC,
    });
    this.saveRelease(rec);
    return res;
  }

  /** A zero state for `step()`: h (and c) shaped [numLayers, batch, H]. */
  createState(batch = 1): StepState {
    const B = parseStateBatch(this.constructor.name, this.cfg, batch);
    const shape = [this.numLayers, B, this.hiddenSize];
    return this.cell.hasCellState ? { h: Tensor.zeros(shape), c: Tensor.zeros(shape) } : { h: Tensor.zeros(shape) };
  }

  /**
   * Advances one time step for streaming: `x` holds [B, inputSize] values, `state` (from
   * createState) is read and updated in place, and the top layer's new h ([B, H]) is written to
   * `out` (allocated if absent) and returned. After the first call with a batch size it allocates
   * nothing — no Wasm memory, and with `out` given no JavaScript objects either (the plan,
   * kernel arguments and views are cached: see recurrent/step-plan.ts) — so it suits real-time
   * loops such as an AudioWorklet's process().
   */
  step(x: Float32Array | TensorLike, state: StepState, out?: Float32Array): Float32Array {
    this.checkAlive();
    const fn = (this.stepName ??= `${this.constructor.name}.step`);
    const cell = this.cell, cfg = this.cfg;
    const xd = parseStep(fn, cfg, cell, x, state, out);
    const B = state.h.shape[1], H = cfg.hiddenSize, L = cfg.numLayers, BH = B * H;
    const result = out ?? new Float32Array(BH);

    const be = this.bind(fn);
    const sp = (this.stepPlan ??= new StepPlan(L));
    if (sp.B !== B) sp.plan(this.dims(B, 1));
    const ws = this.workspace(be, sp.floats, fn);
    this.packForward(be, fn);
    const w = sp.at(ws);
    const f = be.arena.f32;
    f.set(xd, w.x >>> 2);
    f.set(state.h.data, w.h >>> 2);
    if (cell.hasCellState) f.set((state.c as Tensor).data, w.c >>> 2);

    let inPtr = w.x, inSize = cfg.inputSize, outPtr = 0;
    // Every address goes in as `>>> 0` (a uint32 to the JIT): offsets that reached it as
    // float64s (computed with Math.ceil, say) are otherwise boxed into a new heap number at each
    // kernel call that V8 does not inline — as in a process that has run two kernel builds.
    for (let l = 0; l < L; l++) {
      outPtr = w.y[l % 2];
      const d = this.dirs[l], r = sp.runs[l];
      r.cell = cell.code;
      r.gates = cell.gates;
      r.B = B;
      r.H = H;
      r.I = inSize;
      r.x = inPtr >>> 0;
      r.wih = this.packed.forward.ihAt(l) >>> 0;
      r.bih = d.bIh ? this.paramPtr(d.bIh) >>> 0 : 0;
      r.gx = w.gx >>> 0;
      r.h = (w.h + l * BH * 4) >>> 0;
      r.c = cell.hasCellState ? (w.c + l * BH * 4) >>> 0 : 0;
      r.whh = this.packed.forward.hhAt(l) >>> 0;
      r.bhh = d.bHh ? this.paramPtr(d.bHh) >>> 0 : 0;
      r.scratch = w.s >>> 0;
      r.out = outPtr >>> 0;
      r.ldOut = H;
      r.params = this.cellParams(be, w.cp, l, false) >>> 0;
      be.sequence(r);
      inPtr = outPtr;
      inSize = H;
    }
    sp.copyOut(be.arena, w, outPtr, state.h.data, cell.hasCellState ? (state.c as Tensor).data : null, result);
    return result;
  }
}

type Ctor<O> = O | number;

function normalize<O extends RNNBaseOptions>(a: Ctor<O>, hiddenSize?: number, rest?: Partial<O>): O {
  if (typeof a === 'number') return { ...(rest ?? {}), inputSize: a, hiddenSize } as O;
  return a;
}

/**
 * Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act = tanh or relu (PyTorch's
 * nonlinearity), or any of activations.hidden (sigmoid, hardSigmoid too).
 */
export class RNN extends RNNBase {
  /** The activation (PyTorch's nonlinearity, or activations.hidden). */
  readonly nonlinearity: CellActivation;
  constructor(options: RNNOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<RNNOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<RNNOptions>, hiddenSize?: number, rest?: Partial<RNNOptions>) {
    const opts = normalize(a, hiddenSize, rest);
    const nl = opts !== null && typeof opts === 'object' ? opts.nonlinearity ?? 'tanh' : 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') {
      throw new RangeError(
        `${new.target.name}: nonlinearity must be 'tanh' or 'relu', got ${fmt(nl)}` +
          (typeof nl === 'string' ? ` (other activations: activations: { hidden: ${fmt(nl)} })` : ''),
      );
    }
    super(nl === 'relu' ? 'RNN_RELU' : 'RNN_TANH', opts, ['nonlinearity'], nl);
    this.nonlinearity = this.variant.hidden;
  }
  override getConfig(): Record<string, unknown> {
    const act = this.nonlinearity;
    return { ...super.getConfig(), ...(act === 'tanh' || act === 'relu' ? { nonlinearity: act } : { activations: { hidden: act } }) };
  }
  forward(x: TensorLike, h0?: TensorLike | RNNState, options: ForwardOptions = {}): RNNResult {
    return this.run(x, h0, options);
  }
}

/** The activations that differ from PyTorch's, for getConfig (undefined when none do). */
function customActivations(v: CellVariant, slots: readonly ('gate' | 'cell' | 'hidden')[]): CellActivations | undefined {
  const d = { gate: 'sigmoid', cell: 'tanh', hidden: 'tanh' } as const;
  const out: CellActivations = {};
  for (const k of slots) if (v[k] !== d[k]) out[k] = v[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * LSTM with PyTorch's gate order (i, f, g, o), and the variants: peepholes, inputForget (f = 1 − i),
 * activations { gate, cell, hidden } and clip (see LSTMOptions).
 */
export class LSTM extends RNNBase {
  /** Whether the gates see the cell state (weight_peephole_l{k} [3, H], rows i, f, o). */
  readonly peepholes: boolean;
  /** Whether the forget gate is 1 − the input gate. */
  readonly inputForget: boolean;
  /** The activations of the gates (i, f, o), the candidate g and the output (applied to c). */
  readonly activations: Readonly<Required<CellActivations>>;
  constructor(options: LSTMOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<LSTMOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<LSTMOptions>, hiddenSize?: number, rest?: Partial<LSTMOptions>) {
    super('LSTM', normalize(a, hiddenSize, rest), ['peepholes', 'inputForget']);
    ({ peepholes: this.peepholes, inputForget: this.inputForget } = this.variant);
    const { gate, cell, hidden } = this.variant;
    this.activations = Object.freeze({ gate, cell, hidden });
  }
  override getConfig(): Record<string, unknown> {
    const config = super.getConfig();
    if (this.peepholes) config.peepholes = true;
    if (this.inputForget) config.inputForget = true;
    const acts = customActivations(this.variant, ['gate', 'cell', 'hidden']);
    if (acts) config.activations = acts;
    return config;
  }
  forward(x: TensorLike, state?: RNNState, options: ForwardOptions = {}): LSTMResult {
    return this.run(x, state, options) as LSTMResult;
  }
}

/**
 * GRU with PyTorch's gate order (r, z, n) and n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), or
 * with resetAfter: false n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn); activations { gate, cell }
 * and clip (see GRUOptions).
 */
export class GRU extends RNNBase {
  /** false: the reset gate before the recurrent product (ONNX linear_before_reset=0). */
  readonly resetAfter: boolean;
  /** The activations of the gates (r, z) and of the candidate n. */
  readonly activations: Readonly<Required<Pick<CellActivations, 'gate' | 'cell'>>>;
  constructor(options: GRUOptions);
  constructor(inputSize: number, hiddenSize: number, options?: Omit<GRUOptions, 'inputSize' | 'hiddenSize'>);
  constructor(a: Ctor<GRUOptions>, hiddenSize?: number, rest?: Partial<GRUOptions>) {
    super('GRU', normalize(a, hiddenSize, rest), ['resetAfter']);
    this.resetAfter = this.variant.resetAfter;
    const { gate, cell } = this.variant;
    this.activations = Object.freeze({ gate, cell });
  }
  override getConfig(): Record<string, unknown> {
    const config = super.getConfig();
    if (!this.resetAfter) config.resetAfter = false;
    const acts = customActivations(this.variant, ['gate', 'cell']);
    if (acts) config.activations = acts;
    return config;
  }
  forward(x: TensorLike, h0?: TensorLike | RNNState, options: ForwardOptions = {}): RNNResult {
    return this.run(x, h0, options);
  }
}

/**
 * ONNX LSTM, GRU and RNN nodes on our layers.
 *
 * One node direction is one of our single-layer, one-direction layers (a bidirectional node is
 * two), so each direction gets its own options (ONNX allows different activations per direction)
 * and `reverse` is a forward layer over each row's valid steps reversed, the same trick ONNX
 * Runtime uses. Gate rows are reordered to PyTorch's once, when the layers are built: at import
 * when W, R, B and P are initializers, per run when they are graph inputs.
 *
 * Semantics (ONNX, as ONNX Runtime implements them): with sequence_lens, outputs past a row's
 * length are zero and the final states come from its last valid step (reverse: the first);
 * a row of length 0 gives zero outputs and zero final states.
 */
import { GRU, LSTM, RNN, Tensor, type GRUOptions, type LSTMOptions, type RNNOptions } from '../index.js';
import { OnnxError, f32, q } from './errors.js';
import { INT_TYPES, expectType, fail, required, type CompileContext, type Kernel, type NodeInfo, type OpDef } from './kernel.js';
import { checkSize, shapeStr, type Value } from './value.js';

type Op = 'LSTM' | 'GRU' | 'RNN';
type Layer = LSTM | GRU | RNN;
/** An activation our layers name (see the core's `activations` option). */
type Act = 'sigmoid' | 'tanh' | 'relu' | 'hardSigmoid';

const GATES: Readonly<Record<Op, number>> = { LSTM: 4, GRU: 3, RNN: 1 };
/** For each PyTorch gate block (LSTM i,f,g,o; GRU r,z,n), the ONNX block (i,o,f,c; z,r,h) it comes from. */
const TORCH_FROM_ONNX: Readonly<Record<Op, readonly number[]>> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2], RNN: [0] };
/** What each entry of ONNX's per-direction activation list drives in our layers' `activations` option. */
const SLOTS: Readonly<Record<Op, readonly ('gate' | 'cell' | 'hidden')[]>> = {
  LSTM: ['gate', 'cell', 'hidden'], // f (i, f, o gates), g (cell input), h (applied to the cell state)
  GRU: ['gate', 'cell'], // f (z, r gates), g (candidate state)
  RNN: ['hidden'], // f
};
const DEFAULT_ACTS: Readonly<Record<Op, readonly Act[]>> = {
  LSTM: ['sigmoid', 'tanh', 'tanh'],
  GRU: ['sigmoid', 'tanh'],
  RNN: ['tanh'],
};
const ACTS: Readonly<Record<string, Act>> = { sigmoid: 'sigmoid', tanh: 'tanh', relu: 'relu', hardsigmoid: 'hardSigmoid' };

const COMMON_ATTRS = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];

/** The options one direction of a node needs. */
export interface DirectionOptions {
  readonly reverse: boolean;
  /** Options for `new LSTM/GRU/RNN` beyond inputSize, hiddenSize and bias. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * The one place that maps a node's attributes to our layer options, per direction:
 *   clip → clip; LSTM input_forget=1 → inputForget: true; LSTM input P (non-zero) → peepholes:
 *   true; GRU linear_before_reset=0 → resetAfter: false (1 is PyTorch's GRU, no option);
 *   activations → RNN nonlinearity 'tanh' | 'relu', otherwise activations: { gate, cell, hidden }.
 */
export function recurrentOptions(node: NodeInfo, op: Op, peepholes: boolean): DirectionOptions[] {
  const a = node.attrs;
  const direction = a.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    fail(node, `attribute 'direction' must be 'forward', 'reverse' or 'bidirectional', got '${direction}'`);
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const shared: Record<string, unknown> = {};
  const clip = a.float('clip');
  if (clip !== undefined) {
    if (!(clip > 0) || !Number.isFinite(clip)) fail(node, `attribute 'clip' must be a positive number, got ${f32(clip)}`);
    shared.clip = clip;
  }
  if (op === 'LSTM') {
    const inputForget = a.int('input_forget', 0);
    if (inputForget !== 0 && inputForget !== 1) fail(node, `attribute 'input_forget' must be 0 or 1, got ${inputForget}`);
    if (inputForget === 1) {
      shared.inputForget = true;
    }
    if (peepholes) {
      shared.peepholes = true;
    }
  }
  if (op === 'GRU') {
    const lbr = a.int('linear_before_reset', 0);
    if (lbr !== 0 && lbr !== 1) fail(node, `attribute 'linear_before_reset' must be 0 or 1, got ${lbr}`);
    if (lbr === 0) {
      shared.resetAfter = false;
    }
  }
  const { acts, names } = activations(node, op, D);
  const k = SLOTS[op].length;
  return [...Array(D).keys()].map((d) => {
    const options = { ...shared };
    const mine = acts.slice(d * k, (d + 1) * k);
    if (op === 'RNN') {
      if (mine[0] === 'relu') options.nonlinearity = 'relu';
      else if (mine[0] !== 'tanh') {
        options.activations = { hidden: mine[0] };
      }
    } else {
      const custom: Record<string, Act> = {};
      SLOTS[op].forEach((slot, i) => {
        if (mine[i] !== DEFAULT_ACTS[op][i]) custom[slot] = mine[i];
      });
      if (Object.keys(custom).length > 0) {
        options.activations = custom;
      }
    }
    return { reverse: direction === 'reverse' || d === 1, options };
  });
}

/** The node's activation list (D × per-direction count), checked: only what our layers compute. */
function activations(node: NodeInfo, op: Op, D: number): { acts: Act[]; names: string[] } {
  const k = SLOTS[op].length;
  const given = node.attrs.strings('activations');
  if (!given) {
    const acts = Array.from({ length: D }, () => DEFAULT_ACTS[op]).flat();
    return { acts, names: acts.map(onnxName) };
  }
  let names = given;
  if (names.length === k && D === 2) names = [...names, ...names];
  if (names.length !== k * D) {
    fail(node, `attribute 'activations' must list ${k * D} functions (${k} per direction), got ${given.length}`);
  }
  const alphas = node.attrs.floats('activation_alpha') ?? [];
  const betas = node.attrs.floats('activation_beta') ?? [];
  let ai = 0, bi = 0;
  const acts = names.map((n) => {
    const act = ACTS[n.toLowerCase()];
    if (!act) {
      throw new OnnxError(
        `${node.label}: activation ${q(n)} is not supported (supported: Sigmoid, Tanh, Relu, HardSigmoid)`,
        node.label,
      );
    }
    if (act === 'hardSigmoid') {
      const alpha = alphas[ai++] ?? 0.2, beta = betas[bi++] ?? 0.5;
      if (Math.abs(alpha - 0.2) > 1e-6 || Math.abs(beta - 0.5) > 1e-6) {
        fail(node, `HardSigmoid with alpha ${alpha}, beta ${beta} is not supported (only ONNX's defaults 0.2, 0.5)`);
      }
    }
    return act;
  });
  return { acts, names };
}

function onnxName(a: Act): string {
  return a === 'hardSigmoid' ? 'HardSigmoid' : a[0].toUpperCase() + a.slice(1);
}

/**
 * Builds one direction's layer. When the layer refuses an option it does not know (the variants
 * the core does not have yet), the error says which attribute of which node needs it.
 */
function makeLayer(op: Op, node: NodeInfo, I: number, H: number, bias: boolean, dir: DirectionOptions): Layer {
  // dir.options holds only the options of this op's class (see recurrentOptions).
  const opts = { inputSize: I, hiddenSize: H, bias, ...dir.options } as RNNOptions & LSTMOptions & GRUOptions;
  try {
    if (op === 'LSTM') return new LSTM(opts);
    if (op === 'GRU') return new GRU(opts);
    return new RNN(opts);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new OnnxError(`${node.label}: our ${op} refused the node's settings: ${msg}`, node.label);
  }
}

interface Weights {
  W: Value;
  R: Value;
  B?: Value;
  P?: Value;
}

interface Built {
  layers: Layer[];
  I: number;
  H: number;
}

/** LSTM/GRU/RNN as an OpDef. */
export function recurrentOp(op: Op): OpDef {
  return {
    attrs: [...COMMON_ATTRS, ...(op === 'LSTM' ? ['input_forget'] : op === 'GRU' ? ['linear_before_reset'] : [])],
    inputs: [3, op === 'LSTM' ? 8 : 6],
    outputs: [0, op === 'LSTM' ? 3 : 2],
    fold: false,
    compile: (node, ctx) => new Recurrent(op, node, ctx).kernel,
  };
}

class Recurrent {
  readonly kernel: Kernel;
  private readonly layout: number;
  private readonly D: number;
  private readonly hiddenAttr: number | undefined;
  private readonly dirs: DirectionOptions[];
  /** Whether the layers take peephole weights (input P given and not a constant zero). */
  private readonly peepholes: boolean;
  /** Layers built at import from constant weights, or null when the weights are graph inputs. */
  private readonly fixed: Built | null = null;
  /** Layers for weights given at run time (rebuilt when their sizes change). */
  private cached: (Built & { key: string }) | null = null;

  constructor(private readonly op: Op, private readonly node: NodeInfo, private readonly ctx: CompileContext) {
    const a = node.attrs;
    this.layout = a.int('layout', 0);
    if (this.layout !== 0 && this.layout !== 1) fail(node, `attribute 'layout' must be 0 or 1, got ${this.layout}`);
    this.hiddenAttr = a.int('hidden_size');
    if (this.hiddenAttr !== undefined && !(this.hiddenAttr >= 1)) fail(node, `attribute 'hidden_size' must be ≥ 1, got ${this.hiddenAttr}`);
    if (!node.inputs[1] || !node.inputs[2]) fail(node, 'inputs W and R are required');
    const c = (i: number): Value | undefined => (node.inputs[i] ? ctx.constant(node.inputs[i]) : undefined);
    const pName = op === 'LSTM' ? node.inputs[7] : '';
    const pConst = pName ? c(7) : undefined;
    // A constant all-zero P is no peephole at all: the plain LSTM computes exactly that.
    const peepholes = Boolean(pName) && !(pConst && pConst.data.every((v) => v === 0));
    this.peepholes = peepholes;
    this.dirs = recurrentOptions(node, op, peepholes);
    this.D = this.dirs.length;
    const W = c(1), R = c(2), B = node.inputs[3] ? c(3) : undefined;
    const constant = W && R && (!node.inputs[3] || B) && (!pName || pConst);
    if (constant) {
      const w: Weights = { W, R, B, P: peepholes ? pConst : undefined };
      const { I, H } = this.sizes(w);
      // A constant all-zero B is no bias: the layer without one computes exactly that.
      const bias = Boolean(B && B.data.some((v) => v !== 0));
      const layers = this.dirs.map((dir) => makeLayer(op, node, I, H, bias, dir));
      for (const l of layers) ctx.own(l);
      this.load(layers, w, I, H, bias);
      this.fixed = { layers, I, H };
    } else {
      // Weights arrive with each run; check now that our layers take this node's options.
      for (const dir of this.dirs) makeLayer(op, node, 1, 1, false, dir).dispose();
    }
    this.kernel = (ins) => this.run(ins);
  }

  /** Checks W, R, B, P against the node and each other; returns input and hidden sizes. */
  private sizes(w: Weights): { I: number; H: number } {
    const { node, op, D } = this;
    const G = GATES[op];
    for (const [k, v] of Object.entries(w) as [string, Value | undefined][]) {
      if (v && v.dtype !== 'float32') fail(node, `input ${k} must be float32 (our layers compute in float32), got ${v.dtype}`);
    }
    const { W, R, B, P } = w;
    if (R.shape.length !== 3) fail(node, `R must be [num_directions, ${G}·hidden_size, hidden_size], got ${shapeStr(R.shape)}`);
    const H = R.shape[2];
    if (this.hiddenAttr !== undefined && this.hiddenAttr !== H) fail(node, `R ${shapeStr(R.shape)} does not match hidden_size ${this.hiddenAttr}`);
    if (H < 1 || R.shape[0] !== D || R.shape[1] !== G * H) {
      fail(node, `R must be [${D}, ${G * H}, ${H}] (num_directions ${D}, ${G} gates), got ${shapeStr(R.shape)}`);
    }
    if (W.shape.length !== 3 || W.shape[0] !== D || W.shape[1] !== G * H || W.shape[2] < 1) {
      fail(node, `W must be [${D}, ${G * H}, input_size], got ${shapeStr(W.shape)}`);
    }
    if (B && (B.shape.length !== 2 || B.shape[0] !== D || B.shape[1] !== 2 * G * H)) {
      fail(node, `B must be [${D}, ${2 * G * H}], got ${shapeStr(B.shape)}`);
    }
    if (P && (P.shape.length !== 2 || P.shape[0] !== D || P.shape[1] !== 3 * H)) {
      fail(node, `P must be [${D}, ${3 * H}], got ${shapeStr(P.shape)}`);
    }
    return { I: W.shape[2], H };
  }

  private load(layers: Layer[], w: Weights, I: number, H: number, bias: boolean): void {
    layers.forEach((layer, d) => layer.loadStateDict(this.torchWeights(w, d, I, H, bias)));
  }

  /** One direction's weights under PyTorch's names and gate order. */
  private torchWeights(w: Weights, d: number, I: number, H: number, bias: boolean): Record<string, Tensor> {
    const G = GATES[this.op], from = TORCH_FROM_ONNX[this.op];
    const blocks = (src: Value, at: number, rows: number, cols: number): Float32Array => {
      const out = new Float32Array(rows * cols);
      const block = H * cols;
      for (let g = 0; g < from.length; g++) out.set(src.data.subarray(at + from[g] * block, at + (from[g] + 1) * block), g * block);
      return out;
    };
    const dict: Record<string, Tensor> = {
      weight_ih_l0: new Tensor(blocks(w.W, d * G * H * I, G * H, I), [G * H, I]),
      weight_hh_l0: new Tensor(blocks(w.R, d * G * H * H, G * H, H), [G * H, H]),
    };
    if (bias && w.B) {
      dict.bias_ih_l0 = new Tensor(blocks(w.B, d * 2 * G * H, G * H, 1), [G * H]);
      dict.bias_hh_l0 = new Tensor(blocks(w.B, d * 2 * G * H + G * H, G * H, 1), [G * H]);
    }
    if (w.P) {
      // ONNX P rows i, o, f → our weight_peephole rows i, f, o.
      const p = w.P.data.subarray(d * 3 * H, (d + 1) * 3 * H);
      const out = new Float32Array(3 * H);
      out.set(p.subarray(0, H), 0);
      out.set(p.subarray(2 * H, 3 * H), H);
      out.set(p.subarray(H, 2 * H), 2 * H);
      dict.weight_peephole_l0 = new Tensor(out, [3, H]);
    }
    return dict;
  }

  /** Layers for this run's weights: the import-time ones, or built / reloaded from the inputs. */
  private layersFor(ins: readonly (Value | undefined)[]): Built {
    if (this.fixed) return this.fixed;
    const { node } = this;
    const w: Weights = {
      W: required(node, ins, 1, 'W'),
      R: required(node, ins, 2, 'R'),
      B: ins[3],
      P: this.peepholes ? required(node, ins, 7, 'P') : undefined,
    };
    const { I, H } = this.sizes(w);
    const bias = Boolean(w.B);
    const key = `${I},${H},${bias}`;
    if (this.cached && this.cached.key !== key) {
      for (const l of this.cached.layers) l.dispose();
      this.cached = null;
    }
    if (!this.cached) {
      const layers = this.dirs.map((dir) => makeLayer(this.op, node, I, H, bias, dir));
      for (const l of layers) this.ctx.own(l);
      this.cached = { key, layers, I, H };
    }
    this.load(this.cached.layers, w, I, H, bias);
    return this.cached;
  }

  private run(ins: readonly (Value | undefined)[]): (Value | undefined)[] {
    const { node, op, D, layout, ctx } = this;
    const X = required(node, ins, 0, 'X');
    if (X.dtype !== 'float32') fail(node, `X must be float32 (our layers compute in float32), got ${X.dtype}`);
    if (X.shape.length !== 3) fail(node, `X must be 3-D ${layout ? '[batch, seq, input]' : '[seq, batch, input]'}, got ${shapeStr(X.shape)}`);
    const { layers, I, H } = this.layersFor(ins);
    const [T, Bn] = layout ? [X.shape[1], X.shape[0]] : [X.shape[0], X.shape[1]];
    if (X.shape[2] !== I) fail(node, `X ${shapeStr(X.shape)} has input size ${X.shape[2]}, but W expects ${I}`);

    const lengths = this.lengths(ins[4], Bn, T);
    const stateShape = layout ? [Bn, D, H] : [D, Bn, H];
    const h0 = this.state(ins[5], stateShape, 'initial_h');
    const c0 = op === 'LSTM' ? this.state(ins[6], stateShape, 'initial_c') : undefined;

    const want = [0, 1, 2].map((i) => Boolean(node.outputs[i]));
    const yShape = layout ? [Bn, T, D, H] : [T, D, Bn, H];
    checkSize(yShape, ctx.limits, node.label);
    let Y: Float32Array | null = want[0] ? new Float32Array(T * D * Bn * H) : null;
    let Yh: Float32Array = new Float32Array(D * Bn * H);
    const Yc = op === 'LSTM' ? new Float32Array(D * Bn * H) : null;
    const zeroRows = lengths ? lengths.some((v) => v === 0) : false;
    const lens = lengths ?? new Int32Array(Bn).fill(T);

    if (T > 0 && Bn > 0) {
      // Our layers need 1 ≤ length ≤ T: a row of length 0 runs one step whose results are dropped.
      const run = lengths && lengths.some((v) => v !== T) ? { lengths: lengths.map((v) => Math.max(v, 1)) } : {};
      for (let d = 0; d < D; d++) {
        const { reverse } = this.dirs[d];
        const direct = layout === 0 && !reverse;
        const x = direct ? (X.data as Float32Array) : this.timeMajor(X.data as Float32Array, lens, T, Bn, I, reverse);
        const h = this.direction(h0, d, Bn, H), c = this.direction(c0, d, Bn, H);
        const state = op === 'LSTM'
          ? (h || c ? { h: new Tensor(h ?? new Float32Array(Bn * H), [1, Bn, H]), c: new Tensor(c ?? new Float32Array(Bn * H), [1, Bn, H]) } : undefined)
          : h ? { h: new Tensor(h, [1, Bn, H]) } : undefined;
        const res = layers[d].forward(new Tensor(x, [T, Bn, I]), state, run) as { output: Tensor; h: Tensor; c?: Tensor };
        if (D === 1 && !zeroRows) {
          // [1, Bn, H] and [Bn, 1, H] are the same bytes: the final states need no copy.
          Yh = res.h.data;
          if (Yc && res.c) Yc.set(res.c.data);
          if (Y && direct && layout === 0) Y = res.output.data;
          else if (Y) this.scatterY(Y, res.output.data, lens, d, T, Bn, H, reverse);
          continue;
        }
        if (Y) this.scatterY(Y, res.output.data, lens, d, T, Bn, H, reverse);
        for (let b = 0; b < Bn; b++) {
          if (lens[b] === 0) continue;
          const dst = (layout ? b * D + d : d * Bn + b) * H;
          Yh.set(res.h.data.subarray(b * H, (b + 1) * H), dst);
          if (Yc && res.c) Yc.set(res.c.data.subarray(b * H, (b + 1) * H), dst);
        }
      }
    }
    const out: (Value | undefined)[] = [
      Y ? { dtype: 'float32', shape: yShape, data: Y } : undefined,
      want[1] ? { dtype: 'float32', shape: stateShape, data: Yh } : undefined,
    ];
    if (op === 'LSTM') out.push(want[2] && Yc ? { dtype: 'float32', shape: stateShape, data: Yc } : undefined);
    return out;
  }

  private lengths(v: Value | undefined, Bn: number, T: number): Int32Array | null {
    if (!v) return null;
    const { node } = this;
    expectType(node, v, INT_TYPES, 'sequence_lens');
    if (v.shape.length !== 1 || v.shape[0] !== Bn) fail(node, `sequence_lens must be [${Bn}] (one per batch row), got ${shapeStr(v.shape)}`);
    const out = new Int32Array(Bn);
    for (let b = 0; b < Bn; b++) {
      const L = v.data[b];
      if (!Number.isInteger(L) || L < 0 || L > T) fail(node, `sequence_lens[${b}] = ${L} is outside [0, ${T}] (seq_length ${T})`);
      out[b] = L;
    }
    return out;
  }

  private state(v: Value | undefined, shape: readonly number[], what: string): Value | undefined {
    if (!v) return undefined;
    if (v.dtype !== 'float32') fail(this.node, `${what} must be float32, got ${v.dtype}`);
    if (v.shape.length !== 3 || v.shape.some((d, i) => d !== shape[i])) fail(this.node, `${what} must be ${shapeStr(shape)}, got ${shapeStr(v.shape)}`);
    return v;
  }

  /** Direction d's [Bn, H] slice of a [D, Bn, H] (layout 0) or [Bn, D, H] (layout 1) state. */
  private direction(v: Value | undefined, d: number, Bn: number, H: number): Float32Array | null {
    if (!v) return null;
    const data = v.data as Float32Array;
    if (this.layout === 0) return data.subarray(d * Bn * H, (d + 1) * Bn * H);
    const out = new Float32Array(Bn * H);
    for (let b = 0; b < Bn; b++) out.set(data.subarray((b * this.D + d) * H, (b * this.D + d + 1) * H), b * H);
    return out;
  }

  /** X (either layout) as time-major [T, Bn, I], each row's valid steps reversed when `reverse`. */
  private timeMajor(x: Float32Array, lens: Int32Array, T: number, Bn: number, I: number, reverse: boolean): Float32Array {
    const out = new Float32Array(T * Bn * I);
    for (let b = 0; b < Bn; b++) {
      const L = reverse ? lens[b] : T;
      for (let t = 0; t < L; t++) {
        const s = reverse ? L - 1 - t : t;
        const src = (this.layout ? b * T + s : s * Bn + b) * I;
        out.set(x.subarray(src, src + I), (t * Bn + b) * I);
      }
    }
    return out;
  }

  /** Our time-major output [T, Bn, H] of direction d into ONNX's Y, undoing the reversal. */
  private scatterY(Y: Float32Array, o: Float32Array, lens: Int32Array, d: number, T: number, Bn: number, H: number, reverse: boolean): void {
    const D = this.D;
    for (let b = 0; b < Bn; b++) {
      const L = lens[b];
      for (let t = 0; t < L; t++) {
        const src = ((reverse ? L - 1 - t : t) * Bn + b) * H;
        const dst = (this.layout ? (b * T + t) * D + d : (t * D + d) * Bn + b) * H;
        Y.set(o.subarray(src, src + H), dst);
      }
    }
  }
}

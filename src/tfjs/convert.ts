/**
 * Keras layers → our layers, converted once at import.
 *
 * Keras keeps a recurrent layer's weights as `kernel` [in, G·H] and `recurrent_kernel` [H, G·H]
 * (inputs × gate columns) with one `bias` [G·H] (GRU reset_after=True: [2, 3H], input and
 * recurrent biases); we keep PyTorch's `weight_ih_l0` [G·H, in], `weight_hh_l0` [G·H, H],
 * `bias_ih_l0`, `bias_hh_l0`. So each kernel is transposed and its gate blocks reordered
 * (LSTM i,f,c,o is already PyTorch's i,f,g,o; GRU z,r,h becomes r,z,n), and Keras's single bias
 * becomes `bias_ih` with a zero `bias_hh` (both are added to the same pre-activation, except in
 * GRU's n gate, where reset_after=False is our `resetAfter: false` variant with b_hn = 0).
 * Dense's kernel [in, out] is transposed into Linear's weight [out, in].
 *
 * Keras's `go_backwards` (the sequence processed from its end, outputs left in processing order)
 * is a ReverseTime before the layer; `return_sequences: false` is FinalHidden after it (the last
 * step; for a bidirectional layer the forward direction's last step and the backward
 * direction's output at t = 0, which are both final states); Bidirectional's merge modes other
 * than 'concat' are MergeDirections after it.
 */
import {
  Dropout, Embedding, FinalHidden, GRU, LSTM, Linear, Module, RNN, ReLU, Sigmoid, Tanh, Tensor,
  type RNNBase, type RNNOptions,
} from '../index.js';
import { KerasConfig } from './config.js';
import { TfjsError, dims, isObject, q, show } from './errors.js';
import { MergeDirections, ReverseTime, type MergeMode } from './layers.js';
import { Softmax } from '../index.js';
import type { KerasLayer } from './topology.js';
import { decodeFloat32, type WeightBytes, type WeightEntry } from './weights.js';

export const SUPPORTED_CLASSES = [
  'Activation', 'Bidirectional', 'Dense', 'Dropout', 'Embedding', 'GRU', 'InputLayer', 'LSTM', 'SimpleRNN', 'TimeDistributed',
] as const;

type Recurrent = 'SimpleRNN' | 'LSTM' | 'GRU';
const GATES: Readonly<Record<Recurrent, number>> = { SimpleRNN: 1, LSTM: 4, GRU: 3 };
/** For each PyTorch gate block (LSTM i,f,g,o; GRU r,z,n), the Keras block (i,f,c,o; z,r,h) it comes from. */
const TORCH_FROM_KERAS: Readonly<Record<Recurrent, readonly number[]>> = { SimpleRNN: [0], LSTM: [0, 1, 2, 3], GRU: [1, 0, 2] };
/** Layers that hold no weights (a Keras 3 Dropout may carry a seed generator's state: not a weight of ours). */
const WEIGHTLESS = new Set(['Activation', 'Dropout', 'InputLayer']);

/** What flows between layers: a sequence [B, T, F], a vector [B, F], or the model input not yet pinned down. */
interface Flow {
  readonly kind: 'seq' | 'vec' | 'unknown';
  readonly features: number | null;
  /** The layer that produced it (for messages), null for the model input. */
  readonly from: string | null;
}

/** What predict() accepts: rank (null: ≥ 2), last dimension (null: any), and whether it holds token ids. */
export interface InputSpec {
  rank: number | null;
  features: number | null;
  ids: boolean;
}

/** One Keras layer as our modules (indices into the Sequential). */
export interface LayerMap {
  readonly name: string;
  readonly className: string;
  readonly modules: readonly number[];
}

export interface Converted {
  readonly modules: Module[];
  readonly input: InputSpec;
  readonly layers: readonly LayerMap[];
  /** The first layer's declared input shape (batch_input_shape), if any. */
  readonly inputShape: readonly (number | null)[] | undefined;
}

/** The weights of one Keras layer, each taken at most once; what is left over is an error. */
class LayerWeights {
  private readonly left: Map<string, WeightEntry>;
  /** Entries by role (their name's last segment, without a ':0' suffix). */
  private readonly byRole = new Map<string, WeightEntry[]>();

  constructor(readonly layer: KerasLayer, readonly entries: readonly WeightEntry[], private readonly data: WeightBytes) {
    this.left = new Map(entries.map((e) => [e.name, e]));
    for (const e of entries) {
      const role = e.name.slice(e.name.lastIndexOf('/') + 1).replace(/:\d+$/, '');
      const list = this.byRole.get(role);
      if (list) list.push(e);
      else this.byRole.set(role, [e]);
    }
  }

  /** The entry whose last name segment is `role` (and, for a Bidirectional, under its `direction`). */
  find(role: string, direction?: 'forward' | 'backward'): WeightEntry | undefined {
    const hits = (this.byRole.get(role) ?? []).filter((e) => {
      if (!this.left.has(e.name)) return false;
      if (direction === undefined) return true;
      // The direction is a segment below the layer's own name (forward_lstm_1/…, backward_lstm/lstm_cell/…).
      const seg = e.name.split('/');
      return seg.slice(seg.indexOf(this.layer.name) + 1, -1).some((s) => s.startsWith(direction));
    });
    if (hits.length > 1) this.fail(`weights ${hits.map((e) => q(e.name)).join(' and ')} both look like its ${direction ? `${direction} ` : ''}${q(role)}`);
    return hits[0];
  }

  /**
   * Takes weight `role`, checking its shape against `want` (null entries: any size); absent
   * weights are an error unless `optional`.
   */
  take(role: string, want: readonly (number | null)[], desc: string, opts: { direction?: 'forward' | 'backward'; optional?: boolean } = {}): { data: Float32Array; shape: readonly number[] } | null {
    const e = this.find(role, opts.direction);
    const what = `${opts.direction ? `${opts.direction} ` : ''}${q(role)}`;
    if (!e) {
      if (opts.optional) return null;
      return this.fail(`the manifest has no ${what} weight for it (expected ${desc})`);
    }
    if (e.shape.length !== want.length || e.shape.some((d, i) => want[i] !== null && want[i] !== d)) {
      this.fail(`weight ${q(e.name)} has shape ${dims(e.shape)}, expected ${desc}`);
    }
    this.left.delete(e.name);
    return { data: decodeFloat32(e, this.data, this.layer.label), shape: e.shape };
  }

  /** Every weight of the layer was used. */
  done(what: string): void {
    for (const e of this.left.values()) this.fail(`weight ${q(e.name)} is not a weight of a ${what} layer`);
  }

  fail(message: string): never {
    throw new TfjsError(`importTfjs: ${this.layer.label}: ${message}`, this.layer.label);
  }
}

interface Context {
  readonly kerasVersion: string | undefined;
  readonly modules: Module[];
  input: InputSpec | null;
  declared: readonly (number | null)[] | undefined;
}

/**
 * Builds our modules for the chain of Keras layers. Weights are assigned to layers by name
 * (`<layer>/…/<role>`, optionally under the model's name), every weight must belong to one.
 */
export function convertLayers(
  layers: readonly KerasLayer[], entries: readonly WeightEntry[], data: WeightBytes, modelName: string | undefined, kerasVersion: string | undefined,
): Converted {
  const owned = assignWeights(layers, entries, modelName);
  const ctx: Context = { kerasVersion, modules: [], input: null, declared: undefined };
  const maps: LayerMap[] = [];
  let flow: Flow = { kind: 'unknown', features: null, from: null };
  try {
    layers.forEach((layer, i) => {
      const w = new LayerWeights(layer, owned.get(layer.name) ?? [], data);
      // Keras declares the model's input shape on its first layer (an InputLayer, or the first real one).
      if (i === 0) ctx.declared = declaredShape(layer);
      const start = ctx.modules.length;
      flow = convertLayer(layer, w, flow, ctx);
      if (WEIGHTLESS.has(layer.className)) {
        for (const e of w.entries) if (!/seed_generator/.test(e.name)) w.fail(`weight ${q(e.name)} is not a weight of a ${layer.className} layer`);
      } else {
        w.done(layer.className);
      }
      maps.push({ name: layer.name, className: layer.className, modules: Array.from({ length: ctx.modules.length - start }, (_, k) => start + k) });
    });
  } catch (err) {
    for (const m of ctx.modules) m.dispose();
    throw err;
  }
  const input = ctx.input ?? { rank: null, features: null, ids: false };
  return { modules: ctx.modules, input, layers: maps, inputShape: ctx.declared };
}

/** Which layer each manifest entry belongs to: the first name segment (after the model's name, if present). */
function assignWeights(layers: readonly KerasLayer[], entries: readonly WeightEntry[], modelName: string | undefined): Map<string, WeightEntry[]> {
  const names = new Set(layers.map((l) => l.name));
  const out = new Map<string, WeightEntry[]>();
  for (const e of entries) {
    const seg = e.name.split('/');
    let owner = names.has(seg[0]) ? seg[0] : undefined;
    if (owner === undefined && seg.length > 2 && seg[0] === modelName && names.has(seg[1])) owner = seg[1];
    if (owner === undefined) {
      // Optimizer state saved with includeOptimizer: true is not part of the model.
      if (e.group === 'optimizer') continue;
      throw new TfjsError(`importTfjs: weight ${q(e.name)} belongs to no layer of the model (its name must start with a layer's name)`);
    }
    const list = out.get(owner);
    if (list) list.push(e);
    else out.set(owner, [e]);
  }
  return out;
}

function declaredShape(layer: KerasLayer): (number | null)[] | undefined {
  const c = layer.config;
  const v = c.get('batch_input_shape') ?? c.get('batch_shape');
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length < 1 || v.length > 8 || !v.every((d) => d === null || (Number.isSafeInteger(d) && d >= 0))) {
    c.fail(`batch_input_shape must be a list of sizes (null for any), got ${show(v)}`);
  }
  return v as (number | null)[];
}

function convertLayer(layer: KerasLayer, w: LayerWeights, flow: Flow, ctx: Context): Flow {
  const c = layer.config;
  switch (layer.className) {
    case 'InputLayer':
      c.accept(['sparse', 'ragged', 'input_tensor', 'optional'], [], ['float32', 'int32']);
      c.off('sparse');
      c.off('ragged');
      c.off('input_tensor');
      c.off('optional');
      return flow;
    case 'Dropout': {
      c.accept(['rate'], ['noise_shape', 'seed']);
      const rate = c.number('rate', 0);
      if (!(rate >= 0 && rate < 1)) c.fail(`rate must be in [0, 1), got ${show(c.get('rate'))}`);
      // The identity in predict(); a training forward of the imported model drops elementwise.
      ctx.modules.push(new Dropout(rate));
      return flow;
    }
    case 'Activation': {
      c.accept(['activation']);
      const act = activationModule(c, 'activation');
      if (act) ctx.modules.push(act);
      return flow;
    }
    case 'Embedding':
      return embedding(layer, w, flow, ctx);
    case 'Dense':
      return dense(layer, c, w, flow, ctx, false);
    case 'TimeDistributed':
      return timeDistributed(layer, w, flow, ctx);
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU':
      return recurrent(layer, c, layer.className, w, flow, ctx, null);
    case 'Bidirectional':
      return bidirectional(layer, w, flow, ctx);
    default:
      return c.fail(`class ${q(layer.className)} is not supported (supported: ${SUPPORTED_CLASSES.join(', ')})`);
  }
}

/** Our module for a Dense / Activation activation, or null for 'linear'. */
function activationModule(c: KerasConfig, key: string): Module | null {
  const a = c.activation(key, 'linear');
  switch (a) {
    case 'linear':
      return null;
    case 'relu':
      return new ReLU();
    case 'tanh':
      return new Tanh();
    case 'sigmoid':
      return new Sigmoid();
    case 'softmax':
      return new Softmax();
    default:
      return c.fail(`${key} ${show(c.get(key))} is not supported (supported: 'linear', 'relu', 'tanh', 'sigmoid', 'softmax')`);
  }
}

/** Pins the model input down when `flow` is it; checks a layer's input size against what flows in. */
function consume(c: KerasConfig, flow: Flow, ctx: Context, need: { kind: 'seq' | 'any'; features: number; desc: string }): void {
  if (flow.from === null && ctx.input === null) {
    const rank = need.kind === 'seq' ? 3 : null;
    const d = ctx.declared;
    if (d) {
      const last = d[d.length - 1];
      if ((rank !== null && d.length !== rank) || (rank === null && d.length < 2) || (last !== null && last !== need.features)) {
        c.fail(`the model's declared input shape ${show(d)} does not fit ${need.desc}`);
      }
    }
    ctx.input = { rank, features: need.features, ids: false };
    return;
  }
  if (flow.kind === 'unknown' && need.kind === 'seq' && ctx.input && ctx.input.rank === null) {
    // Only rank-preserving layers (Dense, Dropout, Activation) stand between the input and here.
    ctx.input.rank = 3;
  } else if (need.kind === 'seq' && flow.kind === 'vec') {
    c.fail(`it needs a sequence [batch, time, features], but ${flow.from ?? 'the model input'} gives [batch, features] (return_sequences=false)`);
  }
  if (flow.features !== null && flow.features !== need.features) {
    c.fail(`it takes ${need.features} features (${need.desc}), but ${flow.from ?? 'the model input'} gives ${flow.features}`);
  }
}

function embedding(layer: KerasLayer, w: LayerWeights, flow: Flow, ctx: Context): Flow {
  const c = layer.config;
  c.accept(['input_dim', 'output_dim'], ['input_length', 'mask_zero', 'sparse', 'lora_rank', 'lora_alpha']);
  c.off('mask_zero', 'masking is not supported');
  c.off('sparse');
  c.off('lora_rank');
  if (flow.from !== null || ctx.input !== null) c.fail('an Embedding must be the first layer of the model (it takes token ids)');
  const n = c.positiveInt('input_dim'), dim = c.positiveInt('output_dim');
  const table = w.take('embeddings', [n, dim], `[input_dim, output_dim] = [${n}, ${dim}]`) as { data: Float32Array };
  const d = ctx.declared;
  if (d && d.length !== 2) c.fail(`the model's declared input shape ${show(d)} does not fit token ids [batch, time]`);
  ctx.input = { rank: 2, features: null, ids: true };
  const emb = build(c, () => new Embedding(n, dim));
  ctx.modules.push(emb);
  load(c, emb, { weight: new Tensor(table.data, [n, dim]) });
  return { kind: 'seq', features: dim, from: layer.label };
}

function dense(layer: KerasLayer, c: KerasConfig, w: LayerWeights, flow: Flow, ctx: Context, timeDistributed: boolean): Flow {
  c.accept(['units', 'activation', 'use_bias'], ['lora_rank', 'lora_alpha', 'input_dim']);
  c.off('lora_rank');
  const units = c.positiveInt('units');
  const useBias = c.bool('use_bias', true);
  const kernel = w.take('kernel', [null, units], `[input features, units = ${units}]`) as { data: Float32Array; shape: readonly number[] };
  const I = kernel.shape[0];
  if (I < 1) c.fail(`weight 'kernel' has shape ${dims(kernel.shape)}: no input features`);
  const bias = useBias ? w.take('bias', [units], `[units] = [${units}]`) : null;
  if (!useBias && w.find('bias')) c.fail('it has a bias weight, but use_bias is false');
  consume(c, flow, ctx, { kind: timeDistributed ? 'seq' : 'any', features: I, desc: `kernel ${dims(kernel.shape)}` });
  const lin = build(c, () => new Linear(I, units, { bias: useBias }));
  ctx.modules.push(lin);
  const dict: Record<string, Tensor> = { weight: new Tensor(transpose(kernel.data, I, units), [units, I]) };
  if (bias) dict.bias = new Tensor(bias.data, [units]);
  load(c, lin, dict);
  const act = activationModule(c, 'activation');
  if (act) ctx.modules.push(act);
  const kind = timeDistributed ? 'seq' : flow.kind;
  return { kind, features: units, from: layer.label };
}

/** The wrapped layer of a TimeDistributed / Bidirectional: its class, name, label and config. */
function inner(layer: KerasLayer, key: string): KerasLayer {
  const v = layer.config.get(key);
  if (!isObject(v)) return layer.config.fail(`${key} must be a layer {class_name, config}, got ${show(v)}`);
  const cls = v.class_name ?? v.className;
  if (typeof cls !== 'string') return layer.config.fail(`${key}.class_name must be a string, got ${show(cls)}`);
  const name = isObject(v.config) && typeof v.config.name === 'string' ? v.config.name : cls;
  const label = `${layer.label} wrapping ${q(name)} (${cls})`;
  // The wrapped layer's config, read like a layer's own (its messages name both layers).
  return { className: cls, name, label, config: new KerasConfig(v.config, label) };
}

function timeDistributed(layer: KerasLayer, w: LayerWeights, flow: Flow, ctx: Context): Flow {
  layer.config.accept(['layer']);
  const wrapped = inner(layer, 'layer');
  if (wrapped.className !== 'Dense') wrapped.config.fail(`TimeDistributed is supported around a Dense layer only, not ${q(wrapped.className)}`);
  // Dense over the last dimension of [B, T, F] is TimeDistributed(Dense); the weights are the wrapper's.
  return dense(layer, wrapped.config, w, flow, ctx, true);
}

/** A Keras recurrent layer's settings, as our layers take them. */
interface RecurrentSpec {
  readonly kind: Recurrent;
  readonly H: number;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  /** GRU only: Keras reset_after (true is PyTorch's GRU); undefined: decide from the bias shape. */
  readonly resetAfter: boolean | undefined;
  /** Options beyond the base ones (the variants Keras's settings map to). */
  readonly options: Readonly<Record<string, unknown>>;
}

const RECURRENT_KEYS = ['units', 'activation', 'use_bias', 'return_sequences', 'go_backwards', 'return_state', 'stateful', 'time_major'];
/** Inference does not depend on them: cell dropout applies in training only; the rest are how Keras computes. */
const RECURRENT_IGNORED = ['dropout', 'recurrent_dropout', 'implementation', 'unroll', 'unit_forget_bias', 'seed', 'use_cudnn', 'zero_output_for_mask'];

function recurrentSpec(c: KerasConfig, kind: Recurrent, ctx: Context): RecurrentSpec {
  const keys = kind === 'SimpleRNN' ? RECURRENT_KEYS : kind === 'LSTM' ? [...RECURRENT_KEYS, 'recurrent_activation'] : [...RECURRENT_KEYS, 'recurrent_activation', 'reset_after'];
  c.accept(keys, RECURRENT_IGNORED);
  c.off('return_state', 'predict returns one tensor');
  c.off('stateful', 'state is not carried between predict calls');
  c.off('time_major');
  const H = c.positiveInt('units');
  const options: Record<string, unknown> = {};
  const act = c.activation('activation', 'tanh');
  if (kind === 'SimpleRNN') {
    if (act === 'relu') options.nonlinearity = 'relu';
    else if (act === 'sigmoid') {
      options.activations = { hidden: 'sigmoid' };
    } else if (act !== 'tanh') c.fail(`activation ${show(c.get('activation'))} is not supported (supported: 'tanh', 'relu', 'sigmoid')`);
  } else {
    if (act !== 'tanh') c.fail(`activation ${show(c.get('activation'))} is not supported (supported: 'tanh')`);
    // Keras's default is 'sigmoid'; TF.js's is 'hard_sigmoid' (it always writes the key).
    const gate = c.activation('recurrent_activation', 'sigmoid');
    if (gate === 'hard_sigmoid') {
      if (ctx.kerasVersion !== undefined && /^3\./.test(ctx.kerasVersion)) {
        c.fail(`recurrent_activation 'hard_sigmoid' of Keras ${ctx.kerasVersion} (relu6(x + 3) / 6) is not supported (only Keras 2's and TF.js's clip(0.2·x + 0.5, 0, 1))`);
      }
      options.activations = { gate: 'hardSigmoid' };
    } else if (gate !== 'sigmoid') {
      c.fail(`recurrent_activation ${show(c.get('recurrent_activation'))} is not supported (supported: 'sigmoid', 'hard_sigmoid')`);
    }
  }
  let resetAfter: boolean | undefined;
  if (kind === 'GRU') {
    const v = c.get('reset_after');
    if (v !== undefined && v !== null && typeof v !== 'boolean') c.fail(`reset_after must be true or false, got ${show(v)}`);
    resetAfter = typeof v === 'boolean' ? v : undefined;
  }
  return {
    kind, H, useBias: c.bool('use_bias', true), returnSequences: c.bool('return_sequences', false), goBackwards: c.bool('go_backwards', false),
    resetAfter, options,
  };
}

/** The one place our recurrent layers are built (Keras's variants map to our layer options). */
function makeRecurrent(label: string, kind: Recurrent, base: RNNOptions, spec: RecurrentSpec): RNNBase {
  const Ctor = (kind === 'SimpleRNN' ? RNN : kind === 'LSTM' ? LSTM : GRU) as unknown as new (o: RNNOptions) => RNNBase;
  try {
    return new Ctor({ ...base, ...spec.options } as RNNOptions);
  } catch (err) {
    throw new TfjsError(`importTfjs: ${label}: our ${Ctor.name} refused the layer's settings: ${err instanceof Error ? err.message : String(err)}`, label);
  }
}

/** Keras [rows, G·H] (gate blocks in Keras order) → PyTorch [G·H, rows] (blocks in PyTorch order). */
function gateRows(k: Float32Array, rows: number, H: number, from: readonly number[]): Float32Array {
  const G = from.length, GH = G * H, out = new Float32Array(GH * rows);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < H; j++) {
      const col = from[g] * H + j, dst = (g * H + j) * rows;
      for (let i = 0; i < rows; i++) out[dst + i] = k[i * GH + col];
    }
  }
  return out;
}

/** A Keras bias [G·H] at `at` (gate blocks in Keras order) → [G·H] in PyTorch order. */
function gateBias(b: Float32Array, at: number, H: number, from: readonly number[]): Float32Array {
  const out = new Float32Array(from.length * H);
  from.forEach((src, g) => out.set(b.subarray(at + src * H, at + (src + 1) * H), g * H));
  return out;
}

function transpose(k: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = k[i * cols + j];
  return out;
}

/**
 * One direction's weights under PyTorch's names (suffix '' or '_reverse'). Returns the input
 * size and, for a GRU, reset_after as the bias shape says it.
 */
function directionWeights(
  w: LayerWeights, spec: RecurrentSpec, direction: 'forward' | 'backward' | undefined, sfx: string, dict: Record<string, Tensor>,
): { I: number; resetAfter: boolean | undefined } {
  const { kind, H } = spec;
  const G = GATES[kind], GH = G * H, from = TORCH_FROM_KERAS[kind];
  const kernel = w.take('kernel', [null, GH], `[input features, ${G}·units = ${GH}]`, { direction }) as { data: Float32Array; shape: readonly number[] };
  const I = kernel.shape[0];
  if (I < 1) w.fail(`weight 'kernel' has shape ${dims(kernel.shape)}: no input features`);
  const rec = w.take('recurrent_kernel', [H, GH], `[units, ${G}·units] = [${H}, ${GH}]`, { direction }) as { data: Float32Array };
  dict[`weight_ih_l0${sfx}`] = new Tensor(gateRows(kernel.data, I, H, from), [GH, I]);
  dict[`weight_hh_l0${sfx}`] = new Tensor(gateRows(rec.data, H, H, from), [GH, H]);
  let resetAfter = spec.resetAfter;
  if (!spec.useBias) {
    if (w.find('bias', direction)) w.fail(`it has a ${direction ? `${direction} ` : ''}bias weight, but use_bias is false`);
    return { I, resetAfter };
  }
  const e = w.find('bias', direction);
  if (kind === 'GRU' && resetAfter === undefined && e) resetAfter = e.shape.length === 2;
  const two = kind === 'GRU' && resetAfter === true;
  const bias = w.take('bias', two ? [2, GH] : [GH], two ? `[2, 3·units] = [2, ${GH}] (reset_after=true: input and recurrent biases)` : `[${G}·units] = [${GH}]`, { direction }) as { data: Float32Array };
  dict[`bias_ih_l0${sfx}`] = new Tensor(gateBias(bias.data, 0, H, from), [GH]);
  // Keras adds one bias to the input projection; ours adds b_ih and b_hh to the same sums (GRU reset_after=true: Keras has both).
  dict[`bias_hh_l0${sfx}`] = new Tensor(two ? gateBias(bias.data, GH, H, from) : new Float32Array(GH), [GH]);
  return { I, resetAfter };
}

function withResetAfter(spec: RecurrentSpec, resetAfter: boolean | undefined): RecurrentSpec {
  if (spec.kind !== 'GRU' || resetAfter !== false) return spec;
  return { ...spec, options: { ...spec.options, resetAfter: false } };
}

function recurrent(
  layer: KerasLayer, c: KerasConfig, kind: Recurrent, w: LayerWeights, flow: Flow, ctx: Context,
  bi: { mode: MergeMode | 'concat'; backward: RecurrentSpec | null } | null,
): Flow {
  let spec = recurrentSpec(c, kind, ctx);
  const dict: Record<string, Tensor> = {};
  const fwd = directionWeights(w, spec, bi ? 'forward' : undefined, '', dict);
  let resetAfter = fwd.resetAfter;
  if (bi) {
    const bwd = directionWeights(w, bi.backward ?? spec, 'backward', '_reverse', dict);
    if (bwd.I !== fwd.I) w.fail(`its forward and backward kernels take ${fwd.I} and ${bwd.I} input features`);
    if ((bwd.resetAfter ?? false) !== (resetAfter ?? false)) w.fail('its forward and backward GRU biases disagree on reset_after');
  }
  // Neither the config nor a bias says: TF.js's GRU (the only kind it builds) resets before the product.
  resetAfter = resetAfter ?? false;
  spec = withResetAfter(spec, resetAfter);
  const I = fwd.I, H = spec.H;
  consume(c, flow, ctx, { kind: 'seq', features: I, desc: `kernel [${I}, ${GATES[kind] * H}]` });
  const base: RNNOptions = { inputSize: I, hiddenSize: H, bias: spec.useBias, batchFirst: true, bidirectional: bi !== null };
  if (spec.goBackwards) ctx.modules.push(new ReverseTime());
  const layerModule = makeRecurrent(c.label, kind, base, spec);
  ctx.modules.push(layerModule);
  load(c, layerModule, dict);
  if (!spec.returnSequences) ctx.modules.push(new FinalHidden());
  const D = bi ? 2 : 1;
  let features = D * H;
  if (bi && bi.mode !== 'concat') {
    ctx.modules.push(new MergeDirections({ mode: bi.mode }));
    features = H;
  }
  return { kind: spec.returnSequences ? 'seq' : 'vec', features, from: layer.label };
}

function bidirectional(layer: KerasLayer, w: LayerWeights, flow: Flow, ctx: Context): Flow {
  const c = layer.config;
  c.accept(['layer', 'merge_mode', 'backward_layer', 'num_constants']);
  c.off('num_constants');
  const mode = c.get('merge_mode') === undefined ? 'concat' : c.get('merge_mode');
  if (mode === null) c.fail('merge_mode=null (the two directions as two outputs) is not supported');
  if (mode !== 'concat' && mode !== 'sum' && mode !== 'ave' && mode !== 'mul') {
    c.fail(`merge_mode ${show(mode)} is not supported (supported: 'concat', 'sum', 'ave', 'mul')`);
  }
  const fwd = inner(layer, 'layer');
  if (fwd.className !== 'SimpleRNN' && fwd.className !== 'LSTM' && fwd.className !== 'GRU') {
    fwd.config.fail(`Bidirectional is supported around SimpleRNN, LSTM and GRU, not ${q(fwd.className)}`);
  }
  const kind = fwd.className as Recurrent;
  let backward: RecurrentSpec | null = null;
  if (c.has('backward_layer')) {
    // Keras builds the backward layer from the same config with go_backwards flipped; ours share one set of options.
    const b = inner(layer, 'backward_layer');
    if (b.className !== kind) b.config.fail(`the backward layer is a ${q(b.className)}, the forward one a ${q(kind)}; both must be the same class`);
    const fs = recurrentSpec(fwd.config, kind, ctx), bs = recurrentSpec(b.config, kind, ctx);
    if (bs.goBackwards === fs.goBackwards) b.config.fail('go_backwards must be the opposite of the forward layer\'s');
    const KERAS_NAMES = { H: 'units', useBias: 'use_bias', returnSequences: 'return_sequences', resetAfter: 'reset_after' } as const;
    for (const k of Object.keys(KERAS_NAMES) as (keyof typeof KERAS_NAMES)[]) {
      if (bs[k] !== fs[k]) b.config.fail(`it differs from the forward layer in ${KERAS_NAMES[k]} (${show(bs[k])} vs ${show(fs[k])}); our bidirectional layers share one configuration`);
    }
    if (JSON.stringify(bs.options) !== JSON.stringify(fs.options)) {
      b.config.fail('its activations differ from the forward layer\'s; our bidirectional layers share one configuration');
    }
    backward = bs;
  }
  // The wrapper's weights, split by the forward_… / backward_… segment of their names.
  return recurrent(layer, fwd.config, kind, w, flow, ctx, { mode: mode as MergeMode | 'concat', backward });
}

/** Builds a layer of ours, naming the Keras layer when it refuses (e.g. sizes too large for a memory). */
function build<T extends Module>(c: KerasConfig, make: () => T): T {
  try {
    return make();
  } catch (err) {
    return c.fail(`our layer refused it: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function load(c: KerasConfig, m: Module, dict: Record<string, Tensor>): void {
  try {
    m.loadStateDict(dict);
  } catch (err) {
    c.fail(`loading its weights failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Optimizers with PyTorch's exact update rules. Each step is one SIMD kernel pass per parameter
 * over its span of the flat parameter/gradient buffers; optimizer state (momentum, moments)
 * lives beside them in the same backend memory.
 */
import type { Backend } from '../backend/index.js';
import { Module, Parameter } from '../layers/module.js';
import { aliasOptions, fmt } from '../layers/options.js';
import { Tensor, checkFinite, toTensor, typeName, type TensorLike } from '../tensor.js';

/** PyTorch's spellings of our options. */
const TORCH_NAMES = { weight_decay: 'weightDecay' } as const;

function booleanOption(fn: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${fmt(v)}`);
  return v;
}

export type Params = Module | readonly Parameter[];

interface Slot {
  be: Backend;
  bufs: number[];
}

export function paramList(fn: string, params: unknown): Parameter[] {
  if (params instanceof Module) return params.parameters();
  if (!Array.isArray(params) || params.length === 0 || !params.every((p) => p instanceof Parameter)) {
    throw new TypeError(`${fn}: params must be a Module or a non-empty array of its parameters(), got ${typeName(params)}`);
  }
  return [...params];
}

function num(fn: string, name: string, v: unknown, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !ok(v)) throw new RangeError(`${fn}: ${name} must be ${what}, got ${fmt(v)}`);
  return v;
}

const nonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;

/**
 * An optimizer's state (PyTorch's optimizer.state_dict(), keyed by parameter name instead of
 * index): the step count, the learning rate, the hyperparameters, and each parameter's buffers
 * under PyTorch's names (exp_avg, exp_avg_sq, momentum_buffer, square_avg, grad_avg).
 * JSON.stringify writes it with nested lists; loadStateDict reads that back.
 */
export interface OptimizerState {
  class: string;
  stepCount: number;
  lr: number;
  config: Record<string, unknown>;
  state: Record<string, Record<string, Tensor>>;
}

export abstract class Optimizer {
  readonly params: Parameter[];
  /** The learning rate used by the next step (schedulers change it). */
  lr: number;
  /** Steps taken so far. */
  stepCount = 0;
  private readonly slots: Array<Slot | null>;
  /** PyTorch's names of the per-parameter buffers (their count is the optimizer's state size). */
  private readonly bufferNames: readonly string[];

  protected constructor(fn: string, params: Params, lr: number, bufferNames: readonly string[]) {
    this.params = paramList(fn, params);
    this.lr = lr;
    this.bufferNames = bufferNames;
    this.slots = this.params.map(() => null);
  }

  /** The hyperparameters fixed at construction (loadStateDict refuses a state made with others). */
  abstract getConfig(): Record<string, unknown>;

  /** A copy of the optimizer's state: step count, lr, hyperparameters and every buffer in use. */
  stateDict(): OptimizerState {
    const state: Record<string, Record<string, Tensor>> = {};
    this.params.forEach((p, i) => {
      const slot = this.slots[i];
      if (!slot) return;
      const bufs: Record<string, Tensor> = {};
      this.bufferNames.forEach((name, b) => {
        if (slot.bufs[b] !== 0) bufs[name] = new Tensor(slot.be.arena.read(slot.bufs[b], p.size), p.shape);
      });
      state[p.name] = bufs;
    });
    return { class: this.constructor.name, stepCount: this.stepCount, lr: this.lr, config: this.getConfig(), state };
  }

  /**
   * Restores a state from stateDict() (or its JSON): the same optimizer class and
   * hyperparameters over parameters of the same names and shapes. Everything is checked before
   * anything changes.
   */
  loadStateDict(sd: OptimizerState): void {
    this._prepareLoad(sd)();
  }

  /** @internal Checks a state completely; the returned function applies it (and cannot fail). */
  _prepareLoad(sd: OptimizerState): () => void {
    const fn = `${this.constructor.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object') throw new TypeError(`${fn}: state must be an object from stateDict(), got ${typeName(sd)}`);
    if (sd.class !== this.constructor.name) throw new TypeError(`${fn}: the state is a ${String(sd.class)}'s, not a ${this.constructor.name}'s`);
    if (!Number.isSafeInteger(sd.stepCount) || sd.stepCount < 0) throw new RangeError(`${fn}: stepCount must be a non-negative integer, got ${String(sd.stepCount)}`);
    if (typeof sd.lr !== 'number' || !(sd.lr >= 0) || !Number.isFinite(sd.lr)) throw new RangeError(`${fn}: lr must be a non-negative number, got ${String(sd.lr)}`);
    const mine = this.getConfig();
    for (const [k, v] of Object.entries(mine)) {
      if (JSON.stringify(sd.config?.[k]) !== JSON.stringify(v)) {
        throw new RangeError(`${fn}: the state was made with ${k} = ${JSON.stringify(sd.config?.[k])}, this optimizer has ${JSON.stringify(v)}`);
      }
    }
    const state = sd.state;
    if (state === null || typeof state !== 'object') throw new TypeError(`${fn}: state.state must be an object, got ${typeName(state)}`);
    const byName = new Map(this.params.map((p, i) => [p.name, i]));
    const writes: Array<{ i: number; b: number; data: Float32Array }> = [];
    for (const [name, bufs] of Object.entries(state)) {
      const i = byName.get(name);
      if (i === undefined) throw new RangeError(`${fn}: the state has buffers for '${name}', which is not one of this optimizer's parameters`);
      if (bufs === null || typeof bufs !== 'object') throw new TypeError(`${fn}: state['${name}'] must be an object of tensors, got ${typeName(bufs)}`);
      for (const [bname, t] of Object.entries(bufs)) {
        const b = this.bufferNames.indexOf(bname);
        if (b < 0) throw new RangeError(`${fn}: unknown buffer '${bname}' for '${name}'; expected ${this.bufferNames.map((x) => `'${x}'`).join(', ')}`);
        const tt = toTensor(t as TensorLike, `${fn}: state['${name}'].${bname}`);
        const p = this.params[i];
        if (tt.size !== p.size) throw new RangeError(`${fn}: state['${name}'].${bname} must hold ${p.size} values (shape [${p.shape.join(', ')}]), got ${tt.size}`);
        checkFinite(tt.data, `${fn}: state['${name}'].${bname}`);
        writes.push({ i, b, data: tt.data });
      }
    }
    return () => {
      this.dispose();
      for (const { i, b, data } of writes) {
        const p = this.params[i];
        const { be } = p.module._locate(p.spec);
        const bufs = this.state(i, be);
        be.arena.write(bufs[b], data);
      }
      this.stepCount = sd.stepCount;
      this.lr = sd.lr;
    };
  }

  /** Sets the gradients of this optimizer's parameters to zero. */
  zeroGrad(): void {
    for (const p of this.params) {
      const { be, g } = p.module._locate(p.spec);
      be.arena.f32.fill(0, g >>> 2, (g >>> 2) + p.size);
    }
  }

  /** State buffers of parameter i in its current backend (zeroed at first use, moved if the model moved). */
  protected state(i: number, be: Backend): number[] {
    const slot = this.slots[i];
    if (slot && slot.be === be) return slot.bufs;
    const n = this.params[i].size;
    const bufs: number[] = [];
    for (let b = 0; b < this.bufferNames.length; b++) {
      const off = be.arena.allocF32(n);
      if (slot) be.arena.write(off, slot.be.arena.read(slot.bufs[b], n));
      bufs.push(off);
    }
    if (slot) for (const off of slot.bufs) slot.be.arena.free(off);
    this.slots[i] = { be, bufs };
    return bufs;
  }

  /** Applies one update to every parameter from its accumulated gradient. */
  step(): void {
    this.stepCount++;
    const touched = new Set<Module>();
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const { be, p: pp, g } = p.module._locate(p.spec);
      this.update(be, i, pp, g, p.size);
      touched.add(p.module);
    }
    for (const m of touched) m._touch();
  }

  protected abstract update(be: Backend, i: number, p: number, g: number, n: number): void;

  /** Returns the optimizer state's memory. */
  dispose(): void {
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (s) for (const off of s.bufs) s.be.arena.free(off);
      this.slots[i] = null;
    }
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Params, options: SGDOptions) {
    const fn = new.target.name;
    if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object with lr, got ${typeName(options)}`);
    options = aliasOptions<SGDOptions>(fn, options, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'], TORCH_NAMES);
    const lr = num(fn, 'lr', options.lr, NaN, nonNeg, 'a non-negative number');
    if (Number.isNaN(lr)) throw new RangeError(`${fn}: lr is required, got undefined`);
    const momentum = num(fn, 'momentum', options.momentum, 0, nonNeg, 'a non-negative number');
    const dampening = num(fn, 'dampening', options.dampening, 0, Number.isFinite, 'a finite number');
    const weightDecay = num(fn, 'weightDecay', options.weightDecay, 0, nonNeg, 'a non-negative number');
    const nesterov = booleanOption(fn, 'nesterov', options.nesterov, false);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError(`${fn}: nesterov needs momentum > 0 and dampening = 0, got momentum ${momentum}, dampening ${dampening}`);
    }
    super(fn, params, lr, momentum !== 0 ? ['momentum_buffer'] : []);
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
  }

  getConfig(): Record<string, unknown> {
    return { momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }

  protected update(be: Backend, i: number, p: number, g: number, n: number): void {
    const buf = this.momentum !== 0 ? this.state(i, be)[0] : 0;
    be.kernels.sgdStep(p, g, buf, n, this.lr, this.momentum, this.dampening, this.weightDecay, this.nesterov ? 1 : 0, this.stepCount === 1 ? 1 : 0);
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** torch.optim.Adam (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: number = 0;

  constructor(params: Params, options: AdamOptions = {}, fn = 'Adam', defaultDecay = 0) {
    options = aliasOptions<AdamOptions>(fn, options, ['lr', 'betas', 'eps', 'weightDecay'], TORCH_NAMES);
    const lr = num(fn, 'lr', options.lr, 1e-3, nonNeg, 'a non-negative number');
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
      throw new RangeError(`${fn}: betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
    }
    const eps = num(fn, 'eps', options.eps, 1e-8, nonNeg, 'a non-negative number');
    const weightDecay = num(fn, 'weightDecay', options.weightDecay, defaultDecay, nonNeg, 'a non-negative number');
    super(fn, params, lr, ['exp_avg', 'exp_avg_sq']);
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  getConfig(): Record<string, unknown> {
    return { betas: this.betas, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected update(be: Backend, i: number, p: number, g: number, n: number): void {
    const [m, v] = this.state(i, be);
    const [b1, b2] = this.betas;
    const t = this.stepCount;
    const bc1 = 1 - b1 ** t, bc2sqrt = Math.sqrt(1 - b2 ** t);
    be.kernels.adamStep(p, g, m, v, n, this.lr, b1, b2, this.eps, this.weightDecay, bc1, bc2sqrt, this.decoupled);
  }
}

/** torch.optim.AdamW (decoupled weight decay, default 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: number = 1;
  constructor(params: Params, options: AdamOptions = {}) {
    super(params, options, 'AdamW', 1e-2);
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/** torch.optim.RMSprop. */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;

  constructor(params: Params, options: RMSpropOptions = {}) {
    const fn = new.target.name;
    options = aliasOptions<RMSpropOptions>(fn, options, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered'], TORCH_NAMES);
    const lr = num(fn, 'lr', options.lr, 1e-2, nonNeg, 'a non-negative number');
    const alpha = num(fn, 'alpha', options.alpha, 0.99, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
    const eps = num(fn, 'eps', options.eps, 1e-8, nonNeg, 'a non-negative number');
    const weightDecay = num(fn, 'weightDecay', options.weightDecay, 0, nonNeg, 'a non-negative number');
    const momentum = num(fn, 'momentum', options.momentum, 0, nonNeg, 'a non-negative number');
    const centered = booleanOption(fn, 'centered', options.centered, false);
    super(fn, params, lr, ['square_avg', 'grad_avg', 'momentum_buffer']);
    this.alpha = alpha;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.momentum = momentum;
    this.centered = centered;
  }

  getConfig(): Record<string, unknown> {
    return { alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered };
  }

  protected update(be: Backend, i: number, p: number, g: number, n: number): void {
    const [sq, gAvg, buf] = this.state(i, be);
    be.kernels.rmspropStep(p, g, sq, this.centered ? gAvg : 0, this.momentum > 0 ? buf : 0, n, this.lr, this.alpha, this.eps, this.weightDecay, this.momentum);
  }
}

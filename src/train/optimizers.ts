/**
 * Optimizers with PyTorch's exact update rules. Each step is one SIMD kernel pass per parameter
 * over its span of the flat parameter/gradient buffers; optimizer state (momentum, moments)
 * lives beside them in the same backend memory.
 */
import type { Backend } from '../backend/index.js';
import { Module, Parameter } from '../layers/module.js';
import { aliasOptions, fmt } from '../layers/options.js';
import { typeName } from '../tensor.js';

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

export abstract class Optimizer {
  readonly params: Parameter[];
  /** The learning rate used by the next step (schedulers change it). */
  lr: number;
  /** Steps taken so far. */
  stepCount = 0;
  private readonly slots: Array<Slot | null>;
  private readonly nBufs: number;

  protected constructor(fn: string, params: Params, lr: number, nBufs: number) {
    this.params = paramList(fn, params);
    this.lr = lr;
    this.nBufs = nBufs;
    this.slots = this.params.map(() => null);
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
    for (let b = 0; b < this.nBufs; b++) {
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
    super(fn, params, lr, momentum !== 0 ? 1 : 0);
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
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
    super(fn, params, lr, 2);
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
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
    super(fn, params, lr, 3);
    this.alpha = alpha;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.momentum = momentum;
    this.centered = centered;
  }

  protected update(be: Backend, i: number, p: number, g: number, n: number): void {
    const [sq, gAvg, buf] = this.state(i, be);
    be.kernels.rmspropStep(p, g, sq, this.centered ? gAvg : 0, this.momentum > 0 ? buf : 0, n, this.lr, this.alpha, this.eps, this.weightDecay, this.momentum);
  }
}

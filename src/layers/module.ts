/**
 * Module: parameters under PyTorch's names, kept in one contiguous block of the backend's
 * linear memory (llm.c's flat parameter buffer), with children discovered from properties as
 * PyTorch's `__setattr__` does, so composed models prefix names (`rnn.weight_ih_l0`).
 */
import { backendInstance, type Backend, type BackendName } from '../backend/index.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** Offset in floats from the start of the module's parameter block. */
  readonly offset: number;
}

export interface LoadOptions {
  /** When true (default), unknown and missing keys are errors, as in PyTorch. */
  strict?: boolean;
}

export abstract class Module {
  private readonly _specs: ParamSpec[] = [];
  private _floats = 0;
  /** Parameter values while the module is not bound to a backend. */
  private _host: Float32Array | null = null;
  private _backend: Backend | null = null;
  private _block = 0;
  /** Gradient block (same layout as the parameter block), allocated by the first backward. */
  private _grad = 0;
  private _ws = 0;
  private _wsFloats = 0;
  private _disposed = false;

  protected addParam(name: string, shape: readonly number[]): ParamSpec {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec: ParamSpec = { name, shape: [...shape], size, offset: this._floats };
    this._specs.push(spec);
    this._floats += size;
    return spec;
  }

  /** Fills every parameter on the host; called once by constructors after addParam. */
  protected initParams(fill: (spec: ParamSpec, out: Float32Array) => void): void {
    this._host = new Float32Array(this._floats);
    for (const s of this._specs) fill(s, this._host.subarray(s.offset, s.offset + s.size));
  }

  /** Own parameters (not children's). */
  protected get paramSpecs(): readonly ParamSpec[] {
    return this._specs;
  }

  /** The backend this module's parameters currently live on, or null before first use. */
  get backendName(): BackendName | null {
    return this._backend?.name ?? null;
  }

  /**
   * Moves the parameters into the selected backend's memory (once; again after setBackend).
   * Throws if that backend is not ready; nothing changes then.
   */
  protected bind(): Backend {
    this.checkAlive();
    const be = backendInstance();
    if (be === this._backend) return be;
    const values = this.readOwnParams();
    const grads = this._grad !== 0 && this._backend ? this._backend.arena.read(this._grad, this._floats) : null;
    const block = this._floats > 0 ? be.arena.alloc(this._floats * 4) : 0;
    const gradBlock = grads ? be.arena.alloc(this._floats * 4) : 0;
    this.releaseMemory();
    this._block = block;
    this._grad = gradBlock;
    this._backend = be;
    this._host = null;
    if (block !== 0) be.arena.write(block, values);
    if (grads) be.arena.write(gradBlock, grads);
    this.paramsChanged();
    return be;
  }

  /** Byte offset of a parameter in the bound backend's memory. */
  protected paramPtr(spec: ParamSpec): number {
    return this._block + spec.offset * 4;
  }

  /** Byte offset of a parameter's gradient (allocating the zeroed gradient block on first use). */
  protected gradPtr(spec: ParamSpec): number {
    if (this._grad === 0 && this._floats > 0) {
      this._grad = (this._backend as Backend).arena.allocF32(this._floats);
    }
    return this._grad + spec.offset * 4;
  }

  /** Sets every gradient (children's too) to zero, like PyTorch's zero_grad(set_to_none=False). */
  zeroGrad(): void {
    this.checkAlive();
    if (this._grad !== 0 && this._backend) {
      const f = this._backend.arena.f32;
      f.fill(0, this._grad >> 2, (this._grad >> 2) + this._floats);
    }
    for (const [, child] of this.namedChildren()) child.zeroGrad();
  }

  /** Every parameter (children's too) as a handle for optimizers, in PyTorch's order. */
  parameters(): Parameter[] {
    this.checkAlive();
    const all: Array<{ key: string; module: Module; spec: ParamSpec }> = [];
    this.collect('', all);
    return all.map((p) => new Parameter(p.key, p.module, p.spec));
  }

  /** Accumulated gradients under the stateDict() names (zeros where nothing was accumulated). */
  gradients(): Record<string, Tensor> {
    this.checkAlive();
    const out: Record<string, Tensor> = {};
    for (const p of this.parameters()) out[p.name] = p.grad();
    return out;
  }

  /** @internal Byte offsets of a parameter and its gradient in the bound backend (binds first). */
  _locate(spec: ParamSpec): { be: Backend; p: number; g: number } {
    const be = this.bind();
    return { be, p: this.paramPtr(spec), g: this.gradPtr(spec) };
  }

  /** @internal Values of one parameter or its gradient, wherever they live. */
  _read(spec: ParamSpec, grad: boolean): Float32Array {
    if (this._backend) {
      if (grad && this._grad === 0) return new Float32Array(spec.size);
      return this._backend.arena.read((grad ? this._grad : this._block) + spec.offset * 4, spec.size);
    }
    if (grad) return new Float32Array(spec.size);
    return (this._host as Float32Array).slice(spec.offset, spec.offset + spec.size);
  }

  /** @internal Called by optimizers after they changed parameter values in place. */
  _touch(): void {
    this.paramsChanged();
  }

  /**
   * A scratch block of at least `floats` float32s in the bound backend, reused across calls and
   * grown (never shrunk) when a larger shape arrives, so steady-state calls allocate nothing.
   */
  protected workspace(be: Backend, floats: number): number {
    if (floats > this._wsFloats) {
      const block = be.arena.alloc(floats * 4);
      be.arena.free(this._ws);
      this._ws = block;
      this._wsFloats = floats;
    }
    return this._ws;
  }

  /** Called when parameter values changed (subclasses repack lazily). */
  protected paramsChanged(): void {}

  /** Frees the subclass's own blocks (packed weights) in the backend it is leaving. */
  protected releaseWorkspace(_be: Backend): void {}

  private releaseMemory(): void {
    if (this._backend) {
      this.releaseWorkspace(this._backend);
      this._backend.arena.free(this._ws);
      this._backend.arena.free(this._block);
      this._backend.arena.free(this._grad);
    }
    this._grad = 0;
    this._ws = 0;
    this._wsFloats = 0;
    this._block = 0;
    this._backend = null;
  }

  private readOwnParams(): Float32Array {
    if (this._backend) return this._backend.arena.read(this._block, this._floats);
    return this._host ? this._host.slice() : new Float32Array(this._floats);
  }

  protected checkAlive(): void {
    if (this._disposed) throw new Error(`${this.constructor.name}: the module was disposed`);
  }

  /** Child modules in registration order: every own property holding a Module. */
  namedChildren(): Array<[string, Module]> {
    return Object.entries(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  private collect(prefix: string, out: Array<{ key: string; module: Module; spec: ParamSpec }>): void {
    for (const spec of this._specs) out.push({ key: prefix + spec.name, module: this, spec });
    for (const [name, child] of this.namedChildren()) child.collect(`${prefix}${name}.`, out);
  }

  /** Parameter names and shapes, in PyTorch's order. */
  namedParameterShapes(): Array<[string, number[]]> {
    const all: Array<{ key: string; module: Module; spec: ParamSpec }> = [];
    this.collect('', all);
    return all.map((p) => [p.key, [...p.spec.shape]]);
  }

  /** Number of scalar parameters, children included. */
  numParameters(): number {
    return this.namedParameterShapes().reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  }

  /** A copy of every parameter under PyTorch's names and shapes. */
  stateDict(): Record<string, Tensor> {
    this.checkAlive();
    const all: Array<{ key: string; module: Module; spec: ParamSpec }> = [];
    this.collect('', all);
    const out: Record<string, Tensor> = {};
    for (const { key, module, spec } of all) {
      const m = module;
      const data = m._backend
        ? m._backend.arena.read(m._block + spec.offset * 4, spec.size)
        : (m._host as Float32Array).slice(spec.offset, spec.offset + spec.size);
      out[key] = new Tensor(data, spec.shape);
    }
    return out;
  }

  /**
   * Loads parameters from PyTorch-named tensors (Tensor, nested arrays or {data, shape}).
   * Everything is checked before anything is written: a bad dict changes nothing.
   */
  loadStateDict(dict: Record<string, TensorLike>, options: LoadOptions = {}): void {
    this.checkAlive();
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new TypeError(`loadStateDict: dict must be an object of tensors, got ${typeName(dict)}`);
    }
    const strict = options.strict ?? true;
    const all: Array<{ key: string; module: Module; spec: ParamSpec }> = [];
    this.collect('', all);
    const known = new Map(all.map((p) => [p.key, p]));
    if (strict) {
      const unknown = Object.keys(dict).filter((k) => !known.has(k));
      if (unknown.length > 0) {
        throw new RangeError(
          `loadStateDict: unexpected key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
            `expected keys are ${[...known.keys()].map((k) => `'${k}'`).join(', ')}`,
        );
      }
      const missing = [...known.keys()].filter((k) => !(k in dict));
      if (missing.length > 0) {
        throw new RangeError(`loadStateDict: missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
      }
    }
    const writes: Array<{ module: Module; spec: ParamSpec; data: Float32Array }> = [];
    for (const [key, value] of Object.entries(dict)) {
      const p = known.get(key);
      if (!p) continue;
      const t = toTensor(value, `loadStateDict: '${key}'`);
      if (t.shape.length !== p.spec.shape.length || t.shape.some((d, i) => d !== p.spec.shape[i])) {
        throw new RangeError(
          `loadStateDict: '${key}' expected shape ${shapeStr(p.spec.shape)}, got ${shapeStr(t.shape)}`,
        );
      }
      checkFinite(t.data, `loadStateDict: '${key}'`);
      writes.push({ module: p.module, spec: p.spec, data: t.data });
    }
    const touched = new Set<Module>();
    for (const { module: m, spec, data } of writes) {
      if (m._backend) m._backend.arena.write(m._block + spec.offset * 4, data);
      else (m._host as Float32Array).set(data, spec.offset);
      touched.add(m);
    }
    for (const m of touched) m.paramsChanged();
  }

  /** Returns this module's (and its children's) memory to the backend; the module is unusable after. */
  dispose(): void {
    if (this._disposed) return;
    for (const [, child] of this.namedChildren()) child.dispose();
    this.releaseMemory();
    this._host = null;
    this._disposed = true;
  }
}

/** A handle on one parameter: what optimizers and clipping work on. */
export class Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** @internal */ readonly module: Module;
  /** @internal */ readonly spec: ParamSpec;

  constructor(name: string, module: Module, spec: ParamSpec) {
    this.name = name;
    this.module = module;
    this.spec = spec;
    this.shape = spec.shape;
    this.size = spec.size;
  }

  /** A copy of the current values. */
  value(): Tensor {
    return new Tensor(this.module._read(this.spec, false), this.spec.shape);
  }

  /** A copy of the accumulated gradient (zeros before any backward). */
  grad(): Tensor {
    return new Tensor(this.module._read(this.spec, true), this.spec.shape);
  }
}

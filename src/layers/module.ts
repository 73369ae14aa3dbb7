/**
 * Module: parameters under PyTorch's names, kept in one contiguous block of the backend's
 * linear memory (llm.c's flat parameter buffer), with children discovered from properties as
 * PyTorch's `__setattr__` does, so composed models prefix names (`rnn.weight_ih_l0`); arrays
 * of modules are numbered children (`layers.0.weight`, like nn.ModuleList). Every walk over
 * the tree visits each module once: a module held twice (weight tying) or a reference back to
 * a parent is listed, updated and disposed once, under its first name.
 */
import { backendInstance, type Backend, type BackendName } from '../backend/index.js';
import { OutOfMemoryError, formatBytes } from '../backend/arena.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';
import { backwardSteps, record, type Node } from '../autograd/graph.js';
import { checkOptions } from './options.js';

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

/**
 * What a training forward keeps for its backward: an arena block (0 when the record lives on
 * the host) that is valid only on the backend, memory epoch and parameter version it was made
 * with. A backend move or a weight change (loadStateDict, an optimizer step) invalidates it.
 */
export interface Saved {
  readonly backend: Backend;
  readonly block: number;
  readonly epoch: number;
  readonly version: number;
  released: boolean;
  /** Backward passes run before it was made (see sweepAbandoned). */
  readonly step: number;
  /** The autograd node that backpropagates through it. */
  node?: Node;
}

/**
 * While load() builds a model from a file's configuration: the parameters the file holds, so
 * a hostile configuration cannot make the constructors allocate more than the file could fill.
 */
let paramBudget: number | null = null;

/** Runs `build` with at most `floats` parameters allowed across every module it constructs. */
export function withParamBudget<T>(floats: number, build: () => T): T {
  const prev = paramBudget;
  paramBudget = floats;
  try {
    return build();
  } finally {
    paramBudget = prev;
  }
}

/** Every record holding an arena block, with its owner, so abandoned graphs can be released. */
const live = new Map<Saved, Module>();
let sweptAt = 0;

/**
 * Releases the records of graphs that were built but never backpropagated: once a backward
 * has run, the next training forward frees every older record no backward used. A training
 * forward thus keeps its activations until a backward runs through it, or until the next
 * training step begins after some other backward (use eval() or noGrad() for inference).
 */
function sweepAbandoned(): void {
  const now = backwardSteps();
  if (now === sweptAt) return;
  sweptAt = now;
  for (const [rec, owner] of live) if (rec.step < now) owner.releaseRecord(rec);
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
  /** Bumped whenever parameter values change (training records check it). */
  private _version = 0;
  /** Bumped whenever the module's memory is released (a backend move, dispose). */
  private _epoch = 0;
  /** Training records holding arena blocks, freed with the module's memory. */
  private readonly _saved = new Set<Saved>();
  /**
   * Training mode (PyTorch's module.training): layer calls record what backward needs and apply
   * dropout. Modules start in inference mode here; `train()` switches a module and its children.
   */
  training = false;

  /**
   * The constructor options that rebuild this module's structure (not its weights): what
   * save() writes beside the weights so load() can build the same class again (Keras's
   * get_config). Built-in layers and models override it; `{}` for a module without options.
   */
  getConfig(): Record<string, unknown> {
    return {};
  }

  /** @internal The state of the module's own random generator (dropout masks), or null: saved with it. */
  _rngState(): number | null {
    return null;
  }

  /** @internal Restores what _rngState() returned. */
  _setRngState(_state: number): void {}

  /**
   * Sets training mode on this module and every descendant (PyTorch's train()). Refuses (and
   * changes nothing) when a module cannot train (see trainingRefusal).
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`${this.constructor.name}.train: mode must be a boolean, got ${typeName(mode)}`);
    const modules = this.namedModules();
    if (mode) {
      for (const [name, m] of modules) {
        const refusal = m.trainingRefusal();
        if (refusal !== null) throw new Error(`${this.constructor.name}.train: ${name ? `'${name}' (${m.constructor.name}): ` : ''}${refusal}`);
      }
    }
    for (const [, m] of modules) m.training = mode;
    return this;
  }

  /**
   * Why this module cannot train (a message naming the option), or null. Layers whose
   * options have no backward implemented override it; their training forwards refuse too.
   */
  protected trainingRefusal(): string | null {
    return null;
  }

  /** Inference mode for this module and every descendant (PyTorch's eval()). */
  eval(): this {
    return this.train(false);
  }

  protected addParam(name: string, shape: readonly number[]): ParamSpec {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec: ParamSpec = { name, shape: [...shape], size, offset: this._floats };
    this._specs.push(spec);
    this._floats += size;
    return spec;
  }

  /** Fills every parameter on the host; called once by constructors after addParam. */
  protected initParams(fill: (spec: ParamSpec, out: Float32Array) => void): void {
    if (paramBudget !== null) {
      if (this._floats > paramBudget) {
        throw new RangeError(
          `${this.constructor.name}: the configuration asks for ${this._floats} parameters, more than the file holds (${paramBudget} values left)`,
        );
      }
      paramBudget -= this._floats;
    }
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
  protected bind(fn = this.constructor.name): Backend {
    this.checkAlive();
    const be = backendInstance();
    if (be === this._backend) return be;
    const values = this.readOwnParams();
    const grads = this._grad !== 0 && this._backend ? this._backend.arena.read(this._grad, this._floats) : null;
    const block = this._floats > 0 ? this.reserve(be, this._floats * 4, fn, 'its parameters') : 0;
    let gradBlock = 0;
    try {
      if (grads) gradBlock = this.reserve(be, this._floats * 4, fn, 'its gradients');
    } catch (err) {
      be.arena.free(block);
      throw err;
    }
    this.releaseMemory();
    this._block = block;
    this._grad = gradBlock;
    this._backend = be;
    this._host = null;
    if (block !== 0) be.arena.write(block, values);
    if (grads) be.arena.write(gradBlock, grads);
    this.valuesChanged();
    return be;
  }

  /** Byte offset of a parameter in the bound backend's memory. */
  protected paramPtr(spec: ParamSpec): number {
    return this._block + spec.offset * 4;
  }

  /** Byte offset of a parameter's gradient (allocating the zeroed gradient block on first use). */
  protected gradPtr(spec: ParamSpec): number {
    if (this._grad === 0 && this._floats > 0) {
      const be = this._backend as Backend;
      this._grad = this.reserve(be, this._floats * 4, this.constructor.name, 'its gradients');
      be.arena.f32.fill(0, this._grad >>> 2, (this._grad >>> 2) + this._floats);
    }
    return this._grad + spec.offset * 4;
  }

  /** Sets every gradient (children's too) to zero, like PyTorch's zero_grad(set_to_none=False). */
  zeroGrad(): void {
    this.checkAlive();
    for (const [, m] of this.namedModules()) {
      if (m._grad !== 0 && m._backend) m._backend.arena.f32.fill(0, m._grad >>> 2, (m._grad >>> 2) + m._floats);
    }
  }

  /** Every parameter (children's too) as a handle for optimizers, in PyTorch's order, each once. */
  parameters(): Parameter[] {
    this.checkAlive();
    return this.collect().map((p) => new Parameter(p.key, p.module, p.spec));
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
    this.valuesChanged();
  }

  /** Parameter values changed: training records made before are stale, packed copies too. */
  private valuesChanged(): void {
    this._version++;
    this.paramsChanged();
  }

  /**
   * A scratch block of at least `floats` float32s in the bound backend, reused across calls and
   * grown (never shrunk) when a larger shape arrives, so steady-state calls allocate nothing.
   * Never address 0, even for `floats` = 0. `fn` names the caller in an out-of-memory error.
   */
  protected workspace(be: Backend, floats: number, fn = this.constructor.name): number {
    if (floats > this._wsFloats || this._ws === 0) {
      const n = Math.max(floats, 16);
      const block = this.reserve(be, n * 4, fn, 'its workspace');
      be.arena.free(this._ws);
      this._ws = block;
      this._wsFloats = n;
    }
    return this._ws;
  }

  /**
   * Reserves an arena block, turning an allocation the memory cannot hold into an error that
   * names the caller, what the memory was for and how much it asked for.
   */
  protected reserve(be: Backend, bytes: number, fn: string, what: string): number {
    try {
      return be.arena.alloc(bytes);
    } catch (err) {
      if (!(err instanceof OutOfMemoryError)) throw err;
      const a = be.arena;
      throw new RangeError(
        `${fn}: needs ${formatBytes(bytes)} of backend memory for ${what}, but the '${be.name}' ` +
          `${be.binary === 'simd-threads' ? 'threads ' : ''}memory holds at most ${formatBytes(a.maxBytes)} ` +
          `(${formatBytes(a.liveBytes)} in use); use smaller batches or sequences, or dispose() unused models`,
      );
    }
  }

  /** Starts a training record of `floats` arena floats (0: host-only) on the bound backend. */
  protected saveBegin(be: Backend, floats: number, fn: string): Saved {
    sweepAbandoned();
    const block = floats > 0 ? this.reserve(be, floats * 4, fn, 'the activations backward() needs') : 0;
    const rec: Saved = { backend: be, block, epoch: this._epoch, version: this._version, released: false, step: backwardSteps() };
    if (block !== 0) {
      this._saved.add(rec);
      live.set(rec, this);
    }
    return rec;
  }

  /** Records the autograd node of a training forward: its outputs now carry the history. */
  protected recordNode(rec: Saved, node: Omit<Node, 'release'>, outputs: readonly (Tensor | null)[]): void {
    const full: Node = {
      name: node.name, inputs: node.inputs, outputs: node.outputs, backward: node.backward,
      release: () => this.saveRelease(rec),
    };
    rec.node = full;
    record(full, outputs);
  }

  protected checkSaved(rec: Saved, fn: string): void {
    if (rec.backend !== this._backend || rec.epoch !== this._epoch) {
      throw new Error(`${fn}: the model moved to another backend (setBackend) since the training forward; run forward again`);
    }
    if (rec.version !== this._version) {
      throw new Error(
        `${fn}: the parameters were modified (loadStateDict or an optimizer step) since the training forward; ` +
          'run forward again (PyTorch: a variable needed for gradient computation has been modified)',
      );
    }
    if (rec.released) throw new Error(`${fn}: the activations of that forward were already used by a backward (run forward again)`);
  }

  /** Frees a training record's block (once). */
  protected saveRelease(rec: Saved | null): void {
    if (!rec || rec.released) return;
    rec.released = true;
    live.delete(rec);
    if (this._saved.delete(rec) && rec.backend === this._backend) rec.backend.arena.free(rec.block);
  }

  /** @internal saveRelease for the sweep of abandoned graphs. */
  releaseRecord(rec: Saved): void {
    this.saveRelease(rec);
  }

  /** Called when parameter values changed (subclasses repack lazily). */
  protected paramsChanged(): void {}

  /** Frees the subclass's own blocks (packed weights) in the backend it is leaving. */
  protected releaseWorkspace(_be: Backend): void {}

  private releaseMemory(): void {
    if (this._backend) {
      this.releaseWorkspace(this._backend);
      for (const rec of this._saved) {
        rec.released = true;
        live.delete(rec);
        this._backend.arena.free(rec.block);
      }
      this._backend.arena.free(this._ws);
      this._backend.arena.free(this._block);
      this._backend.arena.free(this._grad);
    }
    this._saved.clear();
    this._epoch++;
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

  /**
   * Direct children in registration order: every own property holding a Module, and every own
   * property holding an array of Modules (numbered `name.0`, `name.1`, … like nn.ModuleList).
   */
  namedChildren(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    for (const [key, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([key, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m: Module, i) => out.push([`${key}.${i}`, m]));
      }
    }
    return out;
  }

  /** This module and every descendant, each once (first name wins), depth first: PyTorch's named_modules(). */
  namedModules(): Array<[string, Module]> {
    const seen = new Set<Module>();
    const out: Array<[string, Module]> = [];
    const visit = (prefix: string, m: Module): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.namedChildren()) visit(prefix === '' ? name : `${prefix}.${name}`, child);
    };
    visit('', this);
    return out;
  }

  private collect(): Array<{ key: string; module: Module; spec: ParamSpec }> {
    const out: Array<{ key: string; module: Module; spec: ParamSpec }> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const spec of m._specs) out.push({ key: prefix === '' ? spec.name : `${prefix}.${spec.name}`, module: m, spec });
    }
    return out;
  }

  /** Parameter names and shapes, in PyTorch's order. */
  namedParameterShapes(): Array<[string, number[]]> {
    return this.collect().map((p) => [p.key, [...p.spec.shape]]);
  }

  /** Number of scalar parameters, children included. */
  numParameters(): number {
    return this.namedParameterShapes().reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  }

  /** A copy of every parameter under PyTorch's names and shapes. */
  stateDict(): Record<string, Tensor> {
    this.checkAlive();
    const out: Record<string, Tensor> = {};
    for (const { key, module, spec } of this.collect()) {
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
    const fn = `${this.constructor.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new TypeError(`${fn}: dict must be an object of tensors, got ${typeName(dict)}`);
    }
    checkOptions(fn, options, ['strict']);
    const strict = options.strict ?? true;
    if (typeof strict !== 'boolean') throw new TypeError(`${fn}: strict must be a boolean, got ${typeName(strict)}`);
    const known = new Map(this.collect().map((p) => [p.key, p]));
    if (strict) {
      const unknown = Object.keys(dict).filter((k) => !known.has(k));
      if (unknown.length > 0) {
        throw new RangeError(
          `${fn}: unexpected key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
            `expected keys are ${[...known.keys()].map((k) => `'${k}'`).join(', ')}`,
        );
      }
      const missing = [...known.keys()].filter((k) => !(k in dict));
      if (missing.length > 0) {
        throw new RangeError(`${fn}: missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
      }
    }
    const writes: Array<{ module: Module; spec: ParamSpec; data: Float32Array }> = [];
    for (const [key, value] of Object.entries(dict)) {
      const p = known.get(key);
      if (!p) continue;
      const t = toTensor(value, `${fn}: '${key}'`);
      if (t.shape.length !== p.spec.shape.length || t.shape.some((d, i) => d !== p.spec.shape[i])) {
        throw new RangeError(
          `${fn}: '${key}' expected shape ${shapeStr(p.spec.shape)}, got ${shapeStr(t.shape)}`,
        );
      }
      checkFinite(t.data, `${fn}: '${key}'`);
      writes.push({ module: p.module, spec: p.spec, data: t.data });
    }
    const touched = new Set<Module>();
    for (const { module: m, spec, data } of writes) {
      if (m._backend) m._backend.arena.write(m._block + spec.offset * 4, data);
      else (m._host as Float32Array).set(data, spec.offset);
      touched.add(m);
    }
    for (const m of touched) m.valuesChanged();
  }

  /** Returns this module's (and its children's) memory to the backend; the module is unusable after. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      if (m._disposed) continue;
      m.releaseMemory();
      m._host = null;
      m._disposed = true;
    }
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

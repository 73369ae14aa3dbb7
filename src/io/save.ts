/**
 * Saving and loading models: our own file is safetensors (8-byte length, JSON header, raw
 * little-endian float32 data) whose `__metadata__` names the class, its configuration
 * (getConfig()) and the format version — so any safetensors reader (PyTorch included) reads the
 * weights, under PyTorch's names, and load() rebuilds the same model. An optimizer's state
 * (its buffers as `optimizer.<param>.<buffer>` tensors, the rest as JSON) and the modules'
 * random generators can be saved beside the model, so training resumes exactly.
 */
import { Module, withParamBudget } from '../layers/module.js';
import { Optimizer, type OptimizerState } from '../train/optimizers.js';
import { Tensor, typeName } from '../tensor.js';
import { buildModel } from './registry.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** The format written in `__metadata__.format`, and its version. */
export const FORMAT = 'wasm-rnn';
export const FORMAT_VERSION = 1;

const OPT_PREFIX = 'optimizer.';

export interface SaveOptions {
  /** Saves the optimizer's state too (restored by load(bytes, { into, optimizer })). */
  optimizer?: Optimizer;
  /** More `__metadata__` entries (strings), kept by load() in its result's metadata. */
  metadata?: Record<string, string>;
}

export interface LoadOptions<M extends Module = Module> {
  /** Load the weights into this model instead of building one (needed for your own Module classes). */
  into?: M;
  /** Restore the optimizer state saved with the model into this optimizer (over `into`'s parameters). */
  optimizer?: Optimizer;
  /** Unknown and missing weights are errors (default true, as in PyTorch). */
  strict?: boolean;
}

/** The model's weights, configuration and (optionally) optimizer state as safetensors bytes. */
export function save(model: Module, options: SaveOptions = {}): Uint8Array {
  const fn = 'save';
  if (!(model instanceof Module)) throw new TypeError(`${fn}: model must be a Module, got ${typeName(model)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${typeName(options)}`);
  const bad = Object.keys(options).filter((k) => k !== 'optimizer' && k !== 'metadata');
  if (bad.length > 0) throw new TypeError(`${fn}: unknown option '${bad[0]}'; expected 'optimizer' or 'metadata'`);
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.metadata ?? {})) {
    if (typeof v !== 'string') throw new TypeError(`${fn}: metadata['${k}'] must be a string, got ${typeName(v)}`);
    metadata[k] = v;
  }
  Object.assign(metadata, {
    format: FORMAT,
    format_version: String(FORMAT_VERSION),
    class: model.constructor.name,
    config: JSON.stringify(model.getConfig()),
  });
  const rng: Record<string, number> = {};
  for (const [path, m] of model.namedModules()) {
    const s = m._rngState();
    if (s !== null) rng[path] = s;
  }
  if (Object.keys(rng).length > 0) metadata.rng = JSON.stringify(rng);
  const opt = options.optimizer;
  if (opt !== undefined) {
    if (!(opt instanceof Optimizer)) throw new TypeError(`${fn}: optimizer must be an Optimizer, got ${typeName(opt)}`);
    const sd = opt.stateDict();
    for (const [param, bufs] of Object.entries(sd.state)) {
      for (const [buf, t] of Object.entries(bufs)) tensors[`${OPT_PREFIX}${param}.${buf}`] = t;
    }
    metadata.optimizer = JSON.stringify({ class: sd.class, stepCount: sd.stepCount, lr: sd.lr, config: sd.config });
  }
  return writeSafetensors(tensors, metadata);
}

export interface Loaded<M extends Module = Module> {
  model: M;
  /** The file's `__metadata__` (the entries save() wrote, and yours). */
  metadata: Record<string, string>;
}

/**
 * Builds the saved model (or loads into `options.into`) from save()'s bytes, and restores the
 * optimizer state when asked. Also reads a plain PyTorch safetensors state dict into `into`.
 * The file is validated before anything is allocated for it.
 */
export function load<M extends Module = Module>(bytes: Uint8Array, options: LoadOptions<M> = {}): M {
  return loadWithMetadata(bytes, options).model;
}

/** load(), also returning the file's metadata. */
export function loadWithMetadata<M extends Module = Module>(bytes: Uint8Array, options: LoadOptions<M> = {}): Loaded<M> {
  const fn = 'load';
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${typeName(options)}`);
  const bad = Object.keys(options).filter((k) => !['into', 'optimizer', 'strict'].includes(k));
  if (bad.length > 0) throw new TypeError(`${fn}: unknown option '${bad[0]}'; expected 'into', 'optimizer' or 'strict'`);
  const { into, optimizer } = options;
  if (into !== undefined && !(into instanceof Module)) throw new TypeError(`${fn}: into must be a Module, got ${typeName(into)}`);
  if (optimizer !== undefined && !(optimizer instanceof Optimizer)) throw new TypeError(`${fn}: optimizer must be an Optimizer, got ${typeName(optimizer)}`);
  if (optimizer !== undefined && into === undefined) {
    throw new TypeError(`${fn}: an optimizer is restored over an existing model's parameters: pass { into: model, optimizer }`);
  }
  const { tensors, metadata } = readSafetensors(bytes);
  const ours = metadata.format === FORMAT;
  if (ours) {
    const v = Number(metadata.format_version);
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: format_version must be a positive integer, got '${metadata.format_version}'`);
    if (v > FORMAT_VERSION) throw new RangeError(`${fn}: the file was written by a newer wasm-rnn (format version ${v}); this one reads version ${FORMAT_VERSION}`);
  } else if (into === undefined) {
    throw new TypeError(
      `${fn}: this safetensors file was not written by save() (no wasm-rnn metadata), so its class is unknown: ` +
        'pass { into: model } to load its weights into a model you built',
    );
  }
  const weights: Record<string, Tensor> = {};
  const optTensors: Record<string, Tensor> = {};
  let floats = 0;
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(OPT_PREFIX)) optTensors[k.slice(OPT_PREFIX.length)] = t;
    else {
      weights[k] = t;
      floats += t.size;
    }
  }
  let optState: OptimizerState | null = null;
  if (optimizer) {
    if (metadata.optimizer === undefined) throw new RangeError(`${fn}: the file holds no optimizer state (save it with save(model, { optimizer }))`);
    optState = optimizerState(fn, metadata.optimizer, optTensors, optimizer);
  }

  let model: Module;
  if (into) {
    if (ours && metadata.class !== into.constructor.name) {
      throw new TypeError(`${fn}: the file holds a '${metadata.class}', but into is a '${into.constructor.name}'`);
    }
    model = into;
  } else {
    const config = parseJson(fn, 'config', metadata.config);
    try {
      model = withParamBudget(floats, () => buildModel(metadata.class, config));
    } catch (err) {
      throw new (err instanceof TypeError ? TypeError : RangeError)(`${fn}: cannot build the saved '${metadata.class}': ${(err as Error).message}`);
    }
  }
  try {
    // Check everything first, so that a bad file changes nothing.
    const applyRng = ours && metadata.rng !== undefined ? rngRestorer(fn, model, metadata.rng) : null;
    const applyOptimizer = optimizer && optState ? optimizer._prepareLoad(optState) : null;
    model.loadStateDict(weights, { strict: options.strict ?? true });
    applyRng?.();
    applyOptimizer?.();
  } catch (err) {
    if (!into) model.dispose();
    throw err;
  }
  return { model: model as M, metadata };
}

function parseJson(fn: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new RangeError(`${fn}: the file's metadata lacks '${key}'`);
  try {
    return JSON.parse(text);
  } catch {
    throw new RangeError(`${fn}: the file's metadata '${key}' is not valid JSON`);
  }
}

function optimizerState(fn: string, text: string, tensors: Record<string, Tensor>, optimizer: Optimizer): OptimizerState {
  const head = parseJson(fn, 'optimizer', text) as Omit<OptimizerState, 'state'>;
  if (head === null || typeof head !== 'object') throw new RangeError(`${fn}: the file's optimizer metadata must be an object`);
  const state: Record<string, Record<string, Tensor>> = {};
  const names = new Set(optimizer.params.map((p) => p.name));
  for (const [k, t] of Object.entries(tensors)) {
    const dot = k.lastIndexOf('.');
    const param = k.slice(0, dot), buf = k.slice(dot + 1);
    if (dot < 0 || !names.has(param)) throw new RangeError(`${fn}: the file's optimizer state has '${k}', which names no parameter of the optimizer`);
    (state[param] ??= {})[buf] = t;
  }
  return { ...head, state };
}

/** Checks the saved random generators' states; the returned function restores them. */
function rngRestorer(fn: string, model: Module, text: string): () => void {
  const rng = parseJson(fn, 'rng', text) as Record<string, unknown>;
  if (rng === null || typeof rng !== 'object') throw new RangeError(`${fn}: the file's metadata 'rng' must be an object`);
  const modules = new Map(model.namedModules());
  const sets: Array<[Module, number]> = [];
  for (const [path, s] of Object.entries(rng)) {
    const m = modules.get(path);
    if (!m || m._rngState() === null || typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) {
      throw new RangeError(`${fn}: the file's metadata 'rng' has a bad entry for '${path}'`);
    }
    sets.push([m, s]);
  }
  return () => sets.forEach(([m, s]) => m._setRngState(s));
}

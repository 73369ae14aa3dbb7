/**
 * importTfjs: a TensorFlow.js / Keras Layers model (what `model.save(...)` writes, or the
 * Python converter's model.json + weights) as a Sequential of our layers, with Keras's
 * `predict`.
 */
import { Sequential, Tensor, noGrad, type Module, type NestedArray, type TensorLike } from '../index.js';
import { convertLayers, type InputSpec, type LayerMap } from './convert.js';
import { TfjsError, isObject, show } from './errors.js';
import { readTopology } from './topology.js';
import { WeightBytes, readManifest, type WeightData } from './weights.js';

/** One entry of a weights manifest, as tfjs writes it. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  group?: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

/**
 * What `model.save(tf.io.withSaveHandler(...))` hands its handler: the Keras topology, the
 * weight specs and the weight bytes. model.json's `weightsManifest` ([{paths, weights}]) may
 * stand for `weightSpecs`, with `weightData` holding the shards' bytes in order. Other fields
 * (format, generatedBy, …) are not needed.
 */
export interface TfjsArtifacts {
  /** The Keras model (`{class_name, config}`); required, though tfjs's own type has it optional. */
  modelTopology?: unknown;
  weightSpecs?: readonly TfjsWeightSpec[];
  weightsManifest?: readonly { paths: readonly string[]; weights: readonly TfjsWeightSpec[] }[];
  weightData?: WeightData;
  format?: string;
}

/** A tfjs tensor, or anything with `shape` and `dataSync()`. */
interface TfjsTensorLike {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/** What predict() takes: one of our tensors, `{data, shape}`, nested arrays, or a tfjs tensor. */
export type PredictInput = TensorLike | NestedArray[] | TfjsTensorLike;

/** An imported model: Keras's `predict` over the wasm-rnn module it was converted to. */
export class TfjsModel {
  /** The converted model: a Sequential of wasm-rnn layers (train it, save it, call its layers). */
  readonly module: Sequential;
  /** The Keras model's name, if it had one. */
  readonly name: string | undefined;
  /** The input shape the Keras model declared (batch_input_shape: null for any size), if any. */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** Each Keras layer (in order) and the indices of the modules it became. */
  readonly layers: readonly LayerMap[];
  private readonly input: InputSpec;

  /** @internal Use importTfjs. */
  constructor(module: Sequential, input: InputSpec, layers: readonly LayerMap[], name: string | undefined, inputShape: readonly (number | null)[] | undefined) {
    this.module = module;
    this.input = input;
    this.layers = layers;
    this.name = name;
    this.inputShape = inputShape;
  }

  /**
   * Runs the model in inference mode on a batch, batch-first as in Keras: `[batch, time,
   * features]` for a recurrent model, `[batch, time]` token ids when it starts with an
   * Embedding. Returns a tensor the caller owns.
   */
  predict(x: PredictInput): Tensor {
    const fn = 'TfjsModel.predict';
    const t = inputTensor(fn, x);
    const { rank, features, ids } = this.input;
    const want = ids ? '[batch, time] token ids' : rank === 3 ? `[batch, time, ${features}]` : `[batch, ..., ${features ?? 'features'}]`;
    const r = t.shape.length;
    if ((rank !== null && r !== rank) || (rank === null && r < 2)) {
      throw new RangeError(`${fn}: x must be ${want}, got shape [${t.shape.join(', ')}]`);
    }
    if (!ids && features !== null && t.shape[r - 1] !== features) {
      throw new RangeError(`${fn}: x's last dimension must be ${features} (${want}), got shape [${t.shape.join(', ')}]`);
    }
    let out: Tensor | { output: Tensor };
    try {
      out = noGrad(() => this.module.forward(t, { training: false }));
    } catch (err) {
      // A layer's refusal (a token id out of range; an intermediate value that overflowed to
      // infinity, which the next layer refuses) says which layer of ours; say it comes from here.
      if (err instanceof RangeError || err instanceof TypeError) {
        const Ctor = err instanceof RangeError ? RangeError : TypeError;
        throw new Ctor(`${fn}: ${err.message}`);
      }
      throw err;
    }
    const y = out instanceof Tensor ? out : out.output;
    // A model of identities (Dropout, linear activations) would hand back x itself.
    return y === t || y.data === t.data ? new Tensor(y.data.slice(), y.shape) : y;
  }

  /** Frees the model's memory (its layers become unusable). */
  dispose(): void {
    this.module.dispose();
  }
}

function inputTensor(fn: string, x: unknown): Tensor {
  if (x instanceof Tensor) return x;
  if (x !== null && typeof x === 'object' && typeof (x as TfjsTensorLike).dataSync === 'function' && Array.isArray((x as TfjsTensorLike).shape)) {
    const t = x as TfjsTensorLike;
    return toTensor(fn, { data: Float32Array.from(t.dataSync()), shape: [...t.shape] });
  }
  return toTensor(fn, x);
}

function toTensor(fn: string, x: unknown): Tensor {
  try {
    return Tensor.from(x as TensorLike);
  } catch (err) {
    const e = err as Error;
    const Ctor = e instanceof RangeError ? RangeError : TypeError;
    throw new Ctor(`${fn}: x: ${e.message.replace(/^Tensor\.from: values:? ?/, '')}`);
  }
}

/**
 * Converts a Layers model to our layers, once: its topology (Sequential, or a functional model
 * that is a chain), its weight specs and its weight data — what `model.save` produces. The
 * manifest is checked against the data before anything is allocated; an unsupported layer or
 * option fails here, naming the layer (class and name) and the option.
 */
export function importTfjs(artifacts: TfjsArtifacts): TfjsModel {
  if (!isObject(artifacts)) throw new TfjsError(`importTfjs: artifacts must be an object {modelTopology, weightSpecs, weightData}, got ${show(artifacts)}`);
  const a = artifacts as Record<string, unknown>;
  if (a.format !== undefined && a.format !== null && a.format !== 'layers-model') {
    throw new TfjsError(`importTfjs: format ${show(a.format)} is not supported (importTfjs reads 'layers-model')`);
  }
  if (a.modelTopology === undefined) throw new TfjsError('importTfjs: artifacts.modelTopology is missing (the Keras model: {class_name, config})');
  const topology = readTopology(a.modelTopology);
  const data = new WeightBytes(a.weightData ?? new ArrayBuffer(0), 'importTfjs: weightData');
  const specs = a.weightSpecs ?? (a.weightsManifest === undefined ? [] : manifestSpecs(a.weightsManifest));
  const entries = readManifest(specs, data, 'importTfjs: weightSpecs');
  const { modules, input, layers, inputShape } = convertLayers(topology.layers, entries, data, topology.name, topology.kerasVersion);
  return new TfjsModel(new Sequential(...(modules as Module[])), input, layers, topology.name, inputShape);
}

/** The weight specs of model.json's weightsManifest, in order. */
export function manifestSpecs(m: unknown): unknown[] {
  const what = 'weightsManifest';
  if (!Array.isArray(m)) throw new TfjsError(`importTfjs: ${what} must be an array of groups {paths, weights}, got ${show(m)}`);
  const out: unknown[] = [];
  m.forEach((g: unknown, i) => {
    if (!isObject(g) || !Array.isArray(g.weights)) throw new TfjsError(`importTfjs: ${what}[${i}] must be a group {paths, weights}, got ${show(g)}`);
    for (const w of g.weights as unknown[]) out.push(w);
  });
  return out;
}

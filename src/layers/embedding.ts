/** Embedding: a lookup table of row vectors, initialised N(0, 1) as in PyTorch. */
import { Random } from '../random.js';
import { gradEnabled, noteBackward } from '../autograd/graph.js';
import { Tensor, checkFinite, shapeStr, toTensor, typeName, type TensorLike } from '../tensor.js';
import { Module, type ParamSpec, type Saved } from './module.js';
import { checkFits, checkOptions, fmt, positiveInt, seedOf } from './options.js';

export interface EmbeddingOptions {
  seed?: number;
}

/** Token ids: a flat array or Int32Array, nested arrays, or { data, shape } (the output adds a last dimension). */
export type Ids = ArrayLike<number> | readonly (readonly number[])[] | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  private readonly weight: ParamSpec;
  /** The last training forward's record (its ids, on the host), consumed by backward(). */
  private saved: (Saved & { ids: Int32Array; shape: number[] }) | null = null;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const name = new.target.name;
    checkOptions(name, options, ['seed']);
    this.numEmbeddings = positiveInt(name, 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInt(name, 'embeddingDim', embeddingDim);
    checkFits(name, { numEmbeddings, embeddingDim }, numEmbeddings * embeddingDim, 1);
    this.weight = this.addParam('weight', [numEmbeddings, embeddingDim]);
    const rng = new Random(seedOf(name, options.seed));
    this.initParams((_s, out) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.normal();
    });
  }

  override getConfig(): Record<string, unknown> {
    return { numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim };
  }

  /**
   * ids of shape S → embeddings of shape [...S, embeddingDim]. In training mode (train(), or
   * `training: true`) keeps the ids for backward: the output is recorded for autograd.
   */
  forward(ids: Ids, options: { training?: boolean } = {}): Tensor {
    this.checkAlive();
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['training']);
    if (options.training !== undefined && typeof options.training !== 'boolean') {
      throw new TypeError(`${fn}: training must be a boolean, got ${fmt(options.training)}`);
    }
    const training = (options.training ?? this.training) && gradEnabled();
    const { flat, shape } = flattenIds(ids, this.numEmbeddings, `${fn}: ids`);
    const be = this.bind(fn);
    const n = flat.length, dim = this.embeddingDim;
    const idF = Math.ceil(n / 16) * 16;
    const ws = this.workspace(be, idF + n * dim, fn);
    be.arena.i32.set(flat, ws >>> 2);
    const out = ws + idF * 4;
    if (n > 0) be.kernels.embedding(out, this.paramPtr(this.weight), ws, n, dim);
    const y = new Tensor(be.arena.read(out, n * dim), [...shape, dim]);
    this.saved = training ? Object.assign(this.saveBegin(be, 0, fn), { ids: flat, shape }) : null;
    if (this.saved) {
      const saved = this.saved;
      this.recordNode(saved, {
        name: fn, inputs: [], outputs: 1,
        backward: ([gy]) => {
          this.backwardRecord(saved, gy as Float32Array, `${this.constructor.name}.backward`);
          return [];
        },
      }, [y]);
    }
    return y;
  }

  /** Adds the gradient of the last training forward into the rows it used (scatter-add). */
  backward(gradOutput: TensorLike): void {
    this.checkAlive();
    const fn = `${this.constructor.name}.backward`;
    const saved = this.saved;
    if (!saved) throw new Error(`${fn}: call forward(ids, { training: true }) first (each backward needs its own training forward)`);
    const g = toTensor(gradOutput, `${fn}: gradOutput`);
    const want = [...saved.shape, this.embeddingDim];
    if (g.shape.length !== want.length || g.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(`${fn}: gradOutput must have shape ${shapeStr(want)}, got ${shapeStr(g.shape)}`);
    }
    checkFinite(g.data, `${fn}: gradOutput`);
    this.backwardRecord(saved, g.data, fn);
    this.saved = null;
    noteBackward();
  }

  /** Scatter-adds one training forward's output gradient into the rows its ids used. */
  private backwardRecord(saved: Saved & { ids: Int32Array }, gd: Float32Array, fn: string): void {
    const be = this.bind(fn);
    this.checkSaved(saved, fn);
    const gw = this.gradPtr(this.weight) >>> 2;
    const f = be.arena.f32;
    const dim = this.embeddingDim, ids = saved.ids;
    for (let i = 0; i < ids.length; i++) {
      const row = gw + ids[i] * dim, src = i * dim;
      for (let j = 0; j < dim; j++) f[row + j] += gd[src + j];
    }
    this.saveRelease(saved);
  }
}

/** @internal */
export function flattenIds(ids: unknown, num: number, arg = 'Embedding.forward: ids'): { flat: Int32Array; shape: number[] } {
  if (ids !== null && typeof ids === 'object' && 'data' in ids && 'shape' in ids) {
    const { data, shape } = ids as { data: ArrayLike<number>; shape: number[] };
    const size = Array.isArray(shape) ? shape.reduce((a, b) => a * b, 1) : NaN;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || data?.length !== size) {
      throw new RangeError(`${arg}: shape ${JSON.stringify(shape)} does not match data of length ${String(data?.length)}`);
    }
    const flat = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < 0 || v >= num) {
        throw new RangeError(`${arg}.data[${i}]: expected an integer id in [0, ${num - 1}], got ${v}`);
      }
      flat[i] = v;
    }
    return { flat, shape: [...shape] };
  }
  if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${arg}: expected an array or Int32Array of token ids, got ${typeName(ids)}`);
  }
  const shape: number[] = [];
  let probe: unknown = ids;
  while (probe !== null && typeof probe === 'object' && typeof (probe as ArrayLike<unknown>).length === 'number') {
    shape.push((probe as ArrayLike<unknown>).length);
    probe = (probe as ArrayLike<unknown>)[0];
  }
  const flat = new Int32Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= num) {
        throw new RangeError(`${arg}${path}: expected an integer id in [0, ${num - 1}], got ${typeof v === 'number' ? v : typeName(v)}`);
      }
      flat[k++] = v;
      return;
    }
    const a = v as ArrayLike<unknown>;
    if (a === null || typeof a !== 'object' || a.length !== shape[dim]) {
      throw new RangeError(`${arg}${path}: expected length ${shape[dim]} (shape ${shapeStr(shape)}), got ${typeName(v)}`);
    }
    for (let i = 0; i < a.length; i++) walk(a[i], dim + 1, `${path}[${i}]`);
  };
  walk(ids, 0, '');
  return { flat, shape };
}

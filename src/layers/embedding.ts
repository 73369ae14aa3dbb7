/** Embedding: a lookup table of row vectors, initialised N(0, 1) as in PyTorch. */
import { Random } from '../random.js';
import { Tensor, shapeStr, typeName } from '../tensor.js';
import { Module, type ParamSpec } from './module.js';
import { checkOptions, positiveInt, seedOf } from './options.js';

export interface EmbeddingOptions {
  seed?: number;
}

/** Token ids: a flat array, an Int32Array, or nested arrays (the output adds a last dimension). */
export type Ids = ArrayLike<number> | readonly (readonly number[])[];

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  private readonly weight: ParamSpec;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkOptions('Embedding', options, ['seed']);
    this.numEmbeddings = positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.weight = this.addParam('weight', [numEmbeddings, embeddingDim]);
    const rng = new Random(seedOf('Embedding', options.seed));
    this.initParams((_s, out) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.normal();
    });
  }

  /** ids of shape S → embeddings of shape [...S, embeddingDim]. */
  forward(ids: Ids): Tensor {
    this.checkAlive();
    const { flat, shape } = flattenIds(ids, this.numEmbeddings);
    const be = this.bind();
    const n = flat.length, dim = this.embeddingDim;
    const idF = Math.ceil(n / 16) * 16;
    const ws = this.workspace(be, idF + n * dim);
    be.arena.i32.set(flat, ws >> 2);
    const out = ws + idF * 4;
    if (n > 0) be.kernels.embedding(out, this.paramPtr(this.weight), ws, n, dim);
    return new Tensor(be.arena.read(out, n * dim), [...shape, dim]);
  }
}

function flattenIds(ids: unknown, num: number): { flat: Int32Array; shape: number[] } {
  const arg = 'Embedding.forward: ids';
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

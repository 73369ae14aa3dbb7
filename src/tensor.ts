/** A dense float32 array with a shape: what goes into and comes out of every layer. */
import { backward as backpropagate, detach, isRecorded } from './autograd/graph.js';

export type NestedArray = number | readonly NestedArray[];

/** Anything a layer accepts as a float tensor. */
export type TensorLike =
  | Tensor
  | readonly NestedArray[]
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

export class Tensor {
  /** The values, row-major. Its contents may change; the array and the shape may not. */
  declare readonly data: Float32Array;
  /** Dimensions (frozen: a tensor's shape never changes after construction). */
  declare readonly shape: readonly number[];
  /** Set only by the constructor: look-alikes made with Object.create(Tensor.prototype) lack it. */
  readonly #constructed = true;

  /** @internal Whether `t` was made by the constructor (and so is consistent). */
  static isConstructed(t: Tensor): boolean {
    return #constructed in t && t.#constructed;
  }

  constructor(data: Float32Array, shape: readonly number[]) {
    if (!(data instanceof Float32Array)) {
      throw new TypeError(`Tensor: data must be a Float32Array, got ${typeName(data)}`);
    }
    checkShape(shape, 'Tensor: shape');
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new RangeError(
        `Tensor: shape [${shape.join(', ')}] holds ${size} values, but data has ${data.length}`,
      );
    }
    // Neither the array nor the shape can be swapped or edited later, so a tensor stays consistent.
    Object.defineProperty(this, 'data', { value: data, enumerable: true, writable: false, configurable: false });
    Object.defineProperty(this, 'shape', { value: Object.freeze([...shape]), enumerable: true, writable: false, configurable: false });
  }

  /** Builds a tensor from nested arrays (shape inferred) or from flat values and a shape. */
  static from(values: TensorLike, shape?: readonly number[]): Tensor {
    if (values instanceof Tensor) return shape ? new Tensor(values.data, shape) : values;
    if (shape !== undefined) {
      checkShape(shape, 'Tensor.from: shape');
      if (Array.isArray(values)) {
        const flat = (values as readonly NestedArray[]).flat(Infinity as 1) as unknown[];
        return new Tensor(toFloat32(flat, 'Tensor.from: values'), shape);
      }
      return toTensor({ data: (values as { data: ArrayLike<number> })?.data, shape }, 'Tensor.from: values');
    }
    return toTensor(values, 'Tensor.from: values');
  }

  static zeros(shape: readonly number[]): Tensor {
    checkShape(shape, 'Tensor.zeros: shape');
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }

  get size(): number {
    return this.data.length;
  }

  /** Whether the tensor was computed in training mode by recorded ops (gradients flow back through it). */
  get requiresGrad(): boolean {
    return isRecorded(this);
  }

  /**
   * Backpropagates from this tensor: `gradient` is d(loss)/d(this) (same size; may be omitted
   * for a one-element tensor, meaning 1). Gradients are added to every parameter it depends on.
   */
  backward(gradient?: TensorLike): void {
    const fn = 'Tensor.backward';
    let g: Float32Array;
    if (gradient === undefined) {
      if (this.size !== 1) throw new TypeError(`${fn}: gradient is required for a tensor of ${this.size} values (shape ${shapeStr(this.shape)})`);
      g = Float32Array.of(1);
    } else {
      const gt = toTensor(gradient, `${fn}: gradient`);
      if (gt.size !== this.size) throw new RangeError(`${fn}: gradient must have ${this.size} values (shape ${shapeStr(this.shape)}), got shape ${shapeStr(gt.shape)}`);
      checkFinite(gt.data, `${fn}: gradient`);
      g = gt.data;
    }
    backpropagate(this, g, fn);
  }

  /** The same values without history: gradients stop here (PyTorch's detach(); the data is shared). */
  detach(): Tensor {
    return detach(this);
  }

  /** PyTorch-style nested lists, so `JSON.stringify(model.stateDict())` writes what `torch.tensor(...)` reads. */
  toJSON(): NestedArray {
    return this.toArray();
  }

  /** Nested arrays of numbers, like PyTorch's `tolist()`. */
  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0];
    const build = (dim: number, off: number): NestedArray[] => {
      const n = this.shape[dim];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = dim === this.shape.length - 1 ? this.data[off + i] : build(dim + 1, off + i * stride);
      }
      return out;
    };
    return build(0, 0);
  }
}

/** The most elements a tensor may have (a WebAssembly memory holds 2^30 float32s). */
export const MAX_TENSOR_SIZE = 2 ** 30;

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${what} must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size > MAX_TENSOR_SIZE) {
    throw new RangeError(`${what} [${shape.join(', ')}] holds ${size} values, more than a tensor may (${MAX_TENSOR_SIZE})`);
  }
}

function describeValue(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    // fall through (cycles, BigInt)
  }
  return typeName(v);
}

/**
 * Copies numbers into a new Float32Array, refusing anything that is not a number (strings,
 * null, booleans, nested arrays, BigInts): JavaScript would coerce them silently.
 */
function toFloat32(src: ArrayLike<unknown>, arg: string): Float32Array {
  if (src instanceof Float32Array) return src;
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    throw new TypeError(`${arg}: expected float values (a Float32Array or numbers), got a ${typeName(src)}; convert it with Float32Array.from(data, Number)`);
  }
  if (ArrayBuffer.isView(src)) return Float32Array.from(src as unknown as ArrayLike<number>);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v !== 'number') throw new TypeError(`${arg}[${i}]: expected a number, got ${typeName(v)}${typeof v === 'string' ? ` '${v.slice(0, 20)}'` : ''}`);
    out[i] = v;
  }
  return out;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Converts a TensorLike into a Tensor, naming `arg` in any error. */
export function toTensor(x: unknown, arg: string): Tensor {
  if (x instanceof Tensor) {
    // A Tensor is consistent by construction; a look-alike object is checked like any {data, shape}.
    if (Tensor.isConstructed(x)) return x;
  }
  if (Array.isArray(x)) {
    const shape: number[] = [];
    let probe: unknown = x;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    let k = 0;
    const walk = (v: unknown, dim: number, path: string): void => {
      if (dim === shape.length) {
        if (typeof v !== 'number') {
          throw new TypeError(`${arg}${path}: expected a number, got ${typeName(v)}`);
        }
        data[k++] = v;
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[dim]) {
        throw new RangeError(
          `${arg}${path}: expected an array of length ${shape[dim]} (shape [${shape.join(', ')}]), ` +
            `got ${Array.isArray(v) ? `length ${v.length}` : typeName(v)}`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${path}[${i}]`);
    };
    walk(x, 0, '');
    return new Tensor(data, shape);
  }
  if (x !== null && typeof x === 'object' && 'data' in x && 'shape' in x) {
    const { data, shape } = x as { data: unknown; shape: unknown };
    if (!Array.isArray(shape)) throw new TypeError(`${arg}.shape: expected an array, got ${typeName(shape)}`);
    if (!Array.isArray(data) && !(ArrayBuffer.isView(data) && !(data instanceof DataView))) {
      throw new TypeError(`${arg}.data: expected a Float32Array or an array of numbers, got ${typeName(data)}`);
    }
    checkShape(shape, `${arg}.shape`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const len = (data as ArrayLike<number>).length;
    if (len !== size) {
      throw new RangeError(`${arg}: shape [${shape.join(', ')}] holds ${size} values, but data has ${len}`);
    }
    return new Tensor(toFloat32(data as ArrayLike<unknown>, `${arg}.data`), shape);
  }
  throw new TypeError(`${arg}: expected a Tensor, nested arrays of numbers or {data, shape}, got ${typeName(x)}`);
}

/** Whether every value is finite (no NaN, no ±Infinity). */
export function allFinite(data: ArrayLike<number>): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return false;
  }
  return true;
}

/** Throws unless every value is finite. */
export function checkFinite(data: ArrayLike<number>, arg: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      throw new RangeError(`${arg}: expected finite numbers, got ${v} at flat index ${i}`);
    }
  }
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

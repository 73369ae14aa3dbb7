/** A dense float32 array with a shape: what goes into and comes out of every layer. */
export type NestedArray = number | readonly NestedArray[];

/** Anything a layer accepts as a float tensor. */
export type TensorLike =
  | Tensor
  | readonly NestedArray[]
  | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

export class Tensor {
  readonly data: Float32Array;
  readonly shape: number[];

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
    this.data = data;
    this.shape = [...shape];
  }

  /** Builds a tensor from nested arrays (shape inferred) or from flat data and a shape. */
  static from(values: TensorLike, shape?: readonly number[]): Tensor {
    if (values instanceof Tensor) return shape ? new Tensor(values.data, shape) : values;
    if (shape !== undefined) {
      const flat = Array.isArray(values) ? values.flat(Infinity as 1) : (values as { data: ArrayLike<number> }).data;
      return new Tensor(Float32Array.from(flat as ArrayLike<number>), shape);
    }
    return toTensor(values, 'values');
  }

  static zeros(shape: readonly number[]): Tensor {
    checkShape(shape, 'Tensor.zeros: shape');
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }

  get size(): number {
    return this.data.length;
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

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Converts a TensorLike into a Tensor, naming `arg` in any error. */
export function toTensor(x: unknown, arg: string): Tensor {
  if (x instanceof Tensor) return x;
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
    if (!(data instanceof Float32Array) && !Array.isArray(data) && !ArrayBuffer.isView(data)) {
      throw new TypeError(`${arg}.data: expected a Float32Array or an array of numbers, got ${typeName(data)}`);
    }
    checkShape(shape, `${arg}.shape`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const len = (data as ArrayLike<number>).length;
    if (len !== size) {
      throw new RangeError(`${arg}: shape [${shape.join(', ')}] holds ${size} values, but data has ${len}`);
    }
    return new Tensor(data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), shape);
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

/** What every tensor op shares: argument checks, dimension handling, and recording its node. */
import { Tensor, shapeStr, toTensor, type TensorLike } from '../tensor.js';
import { anyRecorded, record, type Grad } from './graph.js';

/** A tensor argument of an op, checked and converted (nested arrays and {data, shape} work too). */
export function tensorArg(fn: string, arg: string, t: unknown): Tensor {
  return toTensor(t as TensorLike, `${fn}: ${arg}`);
}

/** A dimension index for rank r: −r ≤ dim < r (negative counts from the end, as in PyTorch). */
export function dimArg(fn: string, dim: unknown, rank: number, extra = 0): number {
  const r = rank + extra;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new RangeError(`${fn}: dim must be an integer in [${-r}, ${r - 1}] for ${rank}-D input, got ${String(dim)}`);
  }
  return dim < 0 ? dim + r : dim;
}

export const product = (s: readonly number[], from = 0, to = s.length): number => {
  let p = 1;
  for (let i = from; i < to; i++) p *= s[i];
  return p;
};

/**
 * Makes the output tensor of an op and, when any input is recorded (and recording is on),
 * records `backward`: output gradient → one gradient per input (null: none needed).
 */
export function opResult(
  name: string, inputs: readonly (Tensor | null)[], data: Float32Array, shape: readonly number[],
  backward: (g: Float32Array, needs: readonly boolean[]) => Grad[],
): Tensor {
  const out = new Tensor(data, shape);
  if (anyRecorded(inputs)) record({ name, inputs, outputs: 1, backward: ([g], needs) => (g ? backward(g, needs) : []) }, [out]);
  return out;
}

export function sameShapes(fn: string, ts: readonly Tensor[], except: number | null): void {
  const s0 = ts[0].shape;
  ts.forEach((t, k) => {
    if (t.shape.length !== s0.length || t.shape.some((d, i) => i !== except && d !== s0[i])) {
      throw new RangeError(
        `${fn}: tensors[${k}] must have shape ${shapeStr(s0)}${except === null ? '' : ` (except dim ${except})`}, got ${shapeStr(t.shape)}`,
      );
    }
  });
}

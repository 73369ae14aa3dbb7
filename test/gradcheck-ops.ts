/**
 * Finite-difference checks of autograd ops (js backend: float64 arithmetic, float32 storage):
 * central differences with h = 1e-2 on inputs of size ~1 carry truncation and storage noise
 * ≲ 1e-4, so |numeric − autograd| ≤ 2e-3 + 1e-2·|autograd| (as in test/gradcheck.test.ts).
 */
import { Tensor, noGrad } from '../src/index.js';
import { record } from '../src/autograd/graph.js';
import { randomData } from './helpers.js';

/** A leaf whose gradient the test can read: a recorded tensor with a node that keeps what arrives. */
export function leaf(data: Float32Array, shape: number[]): { t: Tensor; grad: () => Float32Array } {
  const t = new Tensor(data, shape);
  let g = new Float32Array(data.length);
  record({ name: 'leaf', inputs: [], outputs: 1, backward: ([x]) => ((g = Float32Array.from(x as Float32Array)), []) }, [t]);
  return { t, grad: () => g };
}

export const gradOk = (num: number, ana: number): boolean => Math.abs(num - ana) <= 2e-3 + 1e-2 * Math.abs(ana);

/** d(Σ R ⊙ f(xs))/dxs by central differences on every element of every input: the mismatches. */
export function gradcheck(f: (xs: Tensor[]) => Tensor, shapes: number[][], seed = 1, h = 1e-2): string[] {
  const datas = shapes.map((s, k) => randomData(s.reduce((a, b) => a * b, 1), seed + k));
  const leaves = datas.map((d, k) => leaf(Float32Array.from(d), shapes[k]));
  const y = f(leaves.map((l) => l.t));
  const R = randomData(y.size, seed + 100);
  y.backward(new Tensor(R, y.shape));
  const val = (ds: Float32Array[]): number => {
    const out = noGrad(() => f(ds.map((d, k) => new Tensor(d, shapes[k]))));
    let s = 0;
    for (let i = 0; i < out.size; i++) s += out.data[i] * R[i];
    return s;
  };
  const bad: string[] = [];
  datas.forEach((d, k) => {
    const g = leaves[k].grad();
    for (let i = 0; i < d.length; i++) {
      const plus = datas.map((x) => Float32Array.from(x)), minus = datas.map((x) => Float32Array.from(x));
      plus[k][i] += h;
      minus[k][i] -= h;
      const num = (val(plus) - val(minus)) / (2 * h);
      if (!gradOk(num, g[i])) bad.push(`input ${k}[${i}]: numeric ${num} vs autograd ${g[i]}`);
    }
  });
  return bad;
}

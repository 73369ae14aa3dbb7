/**
 * The pure-TypeScript kernels: the test oracle and the "JS" side of the Wasm-vs-JS benchmark.
 * Written as a careful engineer would (typed arrays, no allocation, contiguous walks, dot
 * products register-blocked) — never deliberately slow. Arithmetic is float64 (JS numbers),
 * rounded to float32 when stored. One file per assembly/ file, with the same name.
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';
import { sigmoid } from './activations.js';
import { createCellKernels } from './cells.js';
import { createCellExKernels } from './cells-ex.js';
import { createCellExGradKernels } from './cells-ex-grad.js';
import { createGradKernels } from './cells-grad.js';
import { createGemmKernels } from './gemm.js';
import { createOptimKernels } from './optim.js';
import { createSequenceKernels } from './sequence.js';
import { createTransposeKernels } from './transpose.js';

export function createJsKernels(arena: Arena): Kernels {
  const gemm = createGemmKernels(arena);
  const cells = createCellKernels(arena, gemm.gemm);
  const grad = createGradKernels(arena);
  const cellsEx = createCellExKernels(arena, gemm.gemm, gemm.packedSize);
  const gradEx = createCellExGradKernels(arena, gemm.gemmEx);
  return {
    ...gemm,
    ...cells,
    ...grad,
    ...cellsEx,
    ...gradEx,
    ...createOptimKernels(arena),
    ...createTransposeKernels(arena),
    ...createSequenceKernels(arena, { ...cells, ...grad, ...cellsEx, ...gradEx, gemmEx: gemm.gemmEx, packedSize: gemm.packedSize }),
    embedding(out, table, ids, n, dim) {
      const f = arena.f32;
      const id = arena.i32;
      for (let i = 0; i < n; i++) {
        const src = (table >>> 2) + id[(ids >>> 2) + i] * dim;
        f.copyWithin((out >>> 2) + i * dim, src, src + dim);
      }
    },
    tanh(dst, src, n) {
      const f = arena.f32;
      for (let i = 0; i < n; i++) f[(dst >>> 2) + i] = Math.tanh(f[(src >>> 2) + i]);
    },
    sigmoid(dst, src, n) {
      const f = arena.f32;
      for (let i = 0; i < n; i++) f[(dst >>> 2) + i] = sigmoid(f[(src >>> 2) + i]);
    },
  };
}

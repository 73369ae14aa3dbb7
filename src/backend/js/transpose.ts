/** JS twin of assembly/transpose.ts. */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';

export function createTransposeKernels(arena: Arena): Pick<Kernels, 'transpose'> {
  return {
    transpose(dst, src, rows, cols) {
      const f = arena.f32;
      const d0 = dst >>> 2, s0 = src >>> 2;
      for (let r = 0; r < rows; r++) {
        const sr = s0 + r * cols;
        for (let c = 0; c < cols; c++) f[d0 + c * rows + r] = f[sr + c];
      }
    },
  };
}

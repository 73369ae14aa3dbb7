/** The transpose kernel on every Wasm build against the JS oracle, at sizes around the 8×8 block. */
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/backend.js';
import { compileWasm, defaultWasmUrl, instantiateWasmBackend } from '../src/backend/wasm-loader.js';
import { randomData } from './helpers.js';

const SIZES = [1, 3, 7, 8, 9, 16, 17, 33, 65];

describe.each(['wasm-simd', 'wasm', 'wasm-debug'] as const)('transpose on %s', (flavor) => {
  it('matches the oracle exactly and writes nothing past dst', async () => {
    const be = await instantiateWasmBackend(flavor === 'wasm' ? 'wasm' : 'wasm-simd', await compileWasm(defaultWasmUrl(flavor)));
    const js = createJsBackend();
    for (const rows of SIZES) {
      for (const cols of SIZES) {
        const n = rows * cols, src = randomData(n, rows * 100 + cols);
        const outs = [be, js].map((b) => {
          const s = b.arena.allocF32(n), d = b.arena.allocF32(n + 4);
          b.arena.write(s, src);
          b.arena.f32.fill(7, (d >> 2) + n, (d >> 2) + n + 4);
          b.kernels.transpose(d, s, rows, cols);
          const out = b.arena.read(d, n + 4);
          b.arena.free(s);
          b.arena.free(d);
          return out;
        });
        expect(Array.from(outs[0]), `${rows}×${cols}`).toEqual(Array.from(outs[1]));
        expect(Array.from(outs[0].subarray(n))).toEqual([7, 7, 7, 7]);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(outs[1][c * rows + r]).toBe(src[r * cols + c]);
      }
    }
  });
});

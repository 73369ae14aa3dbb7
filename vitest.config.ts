import { defineConfig } from 'vitest/config';

/**
 * Relaxed SIMD (the FMA build, build/wasm-rnn.relaxed.wasm) is off by default in Node 20's V8
 * and on in newer engines. When this process cannot validate a relaxed instruction, the test
 * workers (child processes: the default 'forks' pool) get --experimental-wasm-relaxed-simd, so
 * the relaxed build runs every kernel and PyTorch fixture test (test/loader.test.ts checks it).
 */
// (module (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11,
  0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);
const relaxedOn = WebAssembly.validate(RELAXED_PROBE);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    execArgv: relaxedOn ? [] : ['--experimental-wasm-relaxed-simd'],
  },
});

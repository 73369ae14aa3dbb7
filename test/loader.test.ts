/** The Wasm loader takes bytes, a compiled module, a URL or a path, without any loader library. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWasm, defaultWasmUrl, instantiateWasmBackend, simdSupported } from '../src/backend/wasm-loader.js';

describe('wasm loader', () => {
  const file = defaultWasmUrl('wasm-simd');

  it.each([
    ['a file URL', () => file],
    ['a path string', () => 'build/wasm-rnn.simd.wasm'],
    ['a file: URL string', () => file.href],
    ['bytes', () => readFileSync(file)],
  ])('compiles from %s', async (_n, source) => {
    const mod = await compileWasm(source());
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
    expect(exports).toEqual(expect.arrayContaining(['gemm', 'lstmStep', 'gruStep', 'rnnStep', 'packWeights', 'heapBase']));
    // The only import is the memory we pass: no AssemblyScript runtime, no abort().
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const be = await instantiateWasmBackend('wasm-simd', await compileWasm(mod));
    expect(be.arena.liveBytes).toBe(0);
  });

  it('reports a missing file clearly', async () => {
    await expect(compileWasm('build/does-not-exist.wasm')).rejects.toThrow(/does-not-exist\.wasm/);
  });

  it('detects SIMD once', () => {
    expect(simdSupported()).toBe(true);
    expect(simdSupported()).toBe(true);
  });
});

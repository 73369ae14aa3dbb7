/** The Wasm loader takes bytes, a compiled module, a URL or a path, without any loader library. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LSTM, backendInfo, ready, setBackend } from '../src/index.js';
import { backendInstance } from '../src/backend/index.js';
import {
  WASM_FILES,
  compileWasm,
  defaultWasmUrl,
  instantiateWasmBackend,
  relaxedSimdSupported,
  simdSupported,
  type WasmFlavor,
} from '../src/backend/wasm-loader.js';
import { KERNEL_NAMES, NON_KERNEL_EXPORTS } from '../src/backend/kernels.js';
import { createJsBackend } from '../src/backend/backend.js';

describe('the kernel contract', () => {
  it.each(Object.keys(WASM_FILES) as WasmFlavor[])('%s exports exactly the kernels of KERNEL_NAMES (and nothing unlisted)', async (flavor) => {
    if (flavor === 'wasm-relaxed' && !relaxedSimdSupported()) return;
    const mod = await compileWasm(defaultWasmUrl(flavor));
    const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    expect(names).toEqual([...KERNEL_NAMES, ...NON_KERNEL_EXPORTS].sort());
  });

  it('the JS backend implements exactly KERNEL_NAMES', () => {
    expect(Object.keys(createJsBackend().kernels).sort()).toEqual([...KERNEL_NAMES].sort());
  });
});

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

describe('relaxed SIMD (FMA) build', () => {
  const relaxedBytes = () => readFileSync(defaultWasmUrl('wasm-relaxed'));

  it('the probe agrees with validating the relaxed binary itself', () => {
    expect(WebAssembly.validate(relaxedBytes())).toBe(relaxedSimdSupported());
    expect(WebAssembly.validate(readFileSync(defaultWasmUrl('wasm-simd')))).toBe(true);
    expect(relaxedSimdSupported()).toBe(relaxedSimdSupported());
  });

  it('is on in the test workers (vitest.config.ts passes --experimental-wasm-relaxed-simd to Node 20)', () => {
    expect(relaxedSimdSupported(), `node ${process.version}, execArgv ${process.execArgv.join(' ')}`).toBe(true);
  });

  it('the relaxed binary really contains relaxed instructions, the simd binary none', () => {
    // f32x4.relaxed_madd is 0xfd 0x85 0x02; the GEMM tiles use it, the SIMD build must not.
    const count = (b: Uint8Array) => Buffer.from(b).toString('hex').split('fd8502').length - 1;
    expect(count(relaxedBytes())).toBeGreaterThan(0);
    expect(count(readFileSync(defaultWasmUrl('wasm-simd')))).toBe(0);
  });

  it.runIf(process.versions.node.startsWith('20.'))('Node 20 without the flag rejects the relaxed binary, accepts it with the flag', () => {
    const file = fileURLToPath(defaultWasmUrl('wasm-relaxed'));
    const script = `process.stdout.write(String(WebAssembly.validate(require('node:fs').readFileSync(${JSON.stringify(file)}))))`;
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })).toBe('false');
    expect(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script], { encoding: 'utf8' })).toBe('true');
  });

  it.runIf(relaxedSimdSupported())('wasm-simd runs plain SIMD by default; relaxedSimd: true opts into FMA', async () => {
    expect(backendInfo()).toEqual({ name: 'wasm-simd', binary: 'simd', ready: false, threads: 1 });
    await ready();
    expect(backendInfo()).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 20, seed: 1 });
    const x = { data: new Float32Array(30).map((_, i) => Math.sin(i)), shape: [5, 2, 3] };
    const y0 = lstm.forward(x).output.data;
    const simdBe = backendInstance();

    await ready({ relaxedSimd: true });
    expect(backendInfo()).toEqual({ name: 'wasm-simd', binary: 'relaxed-simd', ready: true, threads: 1 });
    expect(backendInstance()).not.toBe(simdBe);
    // The model follows to the relaxed instance; same numbers up to float32 rounding.
    const y1 = lstm.forward(x).output.data;
    expect(Array.from(y1).every((v, i) => Math.abs(v - y0[i]) < 1e-6)).toBe(true);

    await ready({ relaxedSimd: false });
    expect(backendInstance()).toBe(simdBe);
    expect(Array.from(lstm.forward(x).output.data)).toEqual(Array.from(y0));
    // …and plain SIMD equals the scalar build bit for bit.
    await setBackend('wasm');
    expect(backendInfo().binary).toBe('scalar');
    expect(Array.from(lstm.forward(x).output.data)).toEqual(Array.from(y0));
    await setBackend('wasm-simd');
    lstm.dispose();
    await expect(ready({ relaxedSimd: 'yes' as never })).rejects.toThrow(/relaxedSimd must be a boolean, got 'yes'/);
  });
});

describe('initSync (AudioWorklet-style, no await, no fetch)', () => {
  it('instantiates a compiled module synchronously and runs models at once, with the async path\'s bits', async () => {
    const { initSync, getBackend: current } = await import('../src/index.js');
    const mod = await compileWasm(defaultWasmUrl('wasm-simd'));
    const x = { data: Float32Array.from({ length: 3 * 2 * 4 }, (_, i) => Math.cos(i)), shape: [3, 2, 4] };
    await setBackend('wasm-simd');
    const want = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 1 }).forward(x).output.data;
    initSync(mod);
    expect(current()).toBe('wasm-simd');
    const got = new LSTM({ inputSize: 4, hiddenSize: 5, seed: 1 }).forward(x).output.data;
    expect(Array.from(got)).toEqual(Array.from(want));
    initSync(readFileSync(defaultWasmUrl('wasm')), { backend: 'wasm' });
    expect(current()).toBe('wasm');
    expect(backendInfo()).toMatchObject({ name: 'wasm', binary: 'scalar', ready: true });
    expect(() => initSync('x' as never)).toThrow(/initSync: module must be a WebAssembly.Module or its bytes, got 'x'/);
    expect(() => initSync(mod, { backend: 'js' } as never)).toThrow(/initSync: backend must be 'wasm-simd' or 'wasm'/);
    await setBackend('wasm-simd');
  });
});

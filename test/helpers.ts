import { readFileSync } from 'node:fs';
import { BACKEND_NAMES, ready, setBackend, type BackendBinary, type BackendName } from '../src/index.js';
import type { Backend } from '../src/backend/backend.js';
import {
  compileWasm,
  defaultWasmUrl,
  instantiateWasmBackend,
  relaxedSimdSupported,
  type WasmFlavor,
} from '../src/backend/wasm-loader.js';
import { Random } from '../src/random.js';

export interface Json { shape: number[]; data: number[] }

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export const backends: readonly BackendName[] = BACKEND_NAMES;

/**
 * A backend as the fidelity tests run it: a backend name, or 'wasm-simd-relaxed' — the
 * 'wasm-simd' backend on the relaxed-SIMD (FMA) binary, opted into with ready({ relaxedSimd: true }).
 * Plain 'wasm-simd' runs the plain SIMD binary (the default).
 */
export type TestBackend = BackendName | 'wasm-simd-relaxed';

export async function use(name: TestBackend): Promise<void> {
  if (name === 'wasm-simd' || name === 'wasm-simd-relaxed') {
    // Sets the preference first (the currently selected backend is already instantiated).
    await ready({ relaxedSimd: name === 'wasm-simd-relaxed' });
    await setBackend('wasm-simd');
  } else {
    await setBackend(name);
  }
}

/** The kernel build a test backend runs in this engine. */
export function expectedBinary(name: TestBackend): BackendBinary {
  if (name === 'js') return 'js';
  if (name === 'wasm') return 'scalar';
  return name === 'wasm-simd-relaxed' && relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
}

/** Largest |a − b| over two equally long arrays (the shapes are compared separately). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** The backends a test file runs on: all, or those named in BACKENDS=js,wasm. */
export function selectedBackends(): readonly BackendName[] {
  const env = process.env.BACKENDS;
  return env ? (env.split(',').filter((b) => b !== 'wasm-simd-relaxed') as BackendName[]) : backends;
}

/**
 * The backends the PyTorch fidelity tests (pytorch, train) run on: every backend, plus
 * 'wasm-simd-relaxed' where the engine supports relaxed SIMD — so both SIMD binaries meet the
 * fixtures. BACKENDS=… selects as for selectedBackends (it may name wasm-simd-relaxed).
 */
export function fidelityBackends(): readonly TestBackend[] {
  const env = process.env.BACKENDS;
  if (env) return env.split(',') as TestBackend[];
  const all: TestBackend[] = [...backends];
  if (relaxedSimdSupported()) all.splice(all.indexOf('wasm-simd') + 1, 0, 'wasm-simd-relaxed');
  return all;
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * The Wasm builds the kernel tests run: release SIMD, release scalar, debug SIMD — and the
 * relaxed-SIMD (FMA) release build where the engine supports relaxed SIMD (vitest.config.ts
 * turns it on in Node 20). The relaxed build is held to the same error bounds, but not to bit
 * identity with the others.
 */
export const WASM_FLAVORS: readonly ('wasm-simd' | 'wasm' | 'wasm-debug' | 'wasm-relaxed')[] = relaxedSimdSupported()
  ? ['wasm-simd', 'wasm', 'wasm-debug', 'wasm-relaxed']
  : ['wasm-simd', 'wasm', 'wasm-debug'];

/** A fresh backend (own memory and arena) on one Wasm build, through the package's own loader. */
export async function loadFlavor(flavor: WasmFlavor): Promise<Backend> {
  const mod = await compileWasm(defaultWasmUrl(flavor));
  if (flavor === 'wasm') return instantiateWasmBackend('wasm', mod, 'scalar');
  return instantiateWasmBackend('wasm-simd', mod, flavor === 'wasm-relaxed' ? 'relaxed-simd' : 'simd');
}

/** Deterministic uniform [0, 1) generator for test data. */
export function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

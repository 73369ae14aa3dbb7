import { readFileSync } from 'node:fs';
import { BACKEND_NAMES, setBackend, type BackendName } from '../src/index.js';
import type { Backend } from '../src/backend/backend.js';
import { compileWasm, defaultWasmUrl, instantiateWasmBackend, type WasmFlavor } from '../src/backend/wasm-loader.js';
import { Random } from '../src/random.js';

export interface Json { shape: number[]; data: number[] }

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export const backends: readonly BackendName[] = BACKEND_NAMES;

export async function use(name: BackendName): Promise<void> {
  await setBackend(name);
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
  return env ? (env.split(',') as BackendName[]) : backends;
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

/** The three Wasm builds the kernel tests run: release SIMD, release scalar, and debug SIMD. */
export const WASM_FLAVORS = ['wasm-simd', 'wasm', 'wasm-debug'] as const;

/** A fresh backend (own memory and arena) on one Wasm build, through the package's own loader. */
export async function loadFlavor(flavor: WasmFlavor): Promise<Backend> {
  return instantiateWasmBackend(flavor === 'wasm' ? 'wasm' : 'wasm-simd', await compileWasm(defaultWasmUrl(flavor)));
}

/** Deterministic uniform [0, 1) generator for test data. */
export function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

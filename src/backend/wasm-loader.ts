/**
 * Loads the AssemblyScript kernels with plain WebAssembly.instantiate (no loader library).
 * Node reads the .wasm file next to the package; browsers fetch it by URL relative to this
 * module; either can be overridden with bytes or a URL the user passes.
 */
import { Arena } from './arena.js';
import { ARENA_BASE, type Backend } from './backend.js';
import type { Kernels } from './kernels.js';

export type WasmSource = BufferSource | URL | string | WebAssembly.Module;

export const WASM_FILES = {
  'wasm-simd': 'wasm-rnn.simd.wasm',
  wasm: 'wasm-rnn.wasm',
  'wasm-debug': 'wasm-rnn.debug.wasm',
} as const;
export type WasmFlavor = keyof typeof WASM_FILES;

const PANEL = 16;

const isNode =
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

async function fetchBytes(url: URL | string): Promise<ArrayBuffer | Uint8Array> {
  const u = typeof url === 'string' ? new URL(url, import.meta.url) : url;
  if (isNode && u.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    return fs.readFile(u);
  }
  const res = await fetch(u);
  if (!res.ok) throw new Error(`wasm-rnn: could not fetch ${u.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** The default location of a flavor's .wasm: build/ at the package root (src/ and dist/ alike). */
export function defaultWasmUrl(flavor: WasmFlavor): URL {
  return new URL(`../../build/${WASM_FILES[flavor]}`, import.meta.url);
}

export async function compileWasm(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const bytes =
    typeof source === 'string' || source instanceof URL ? await fetchBytes(source) : source;
  return WebAssembly.compile(bytes as BufferSource);
}

/** A SIMD module cannot even compile where SIMD is off, so this is the feature test. */
export function simdSupported(): boolean {
  // (module (func (result v128) (v128.const i32x4 0 0 0 0)))
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

interface KernelExports {
  heapBase(): number;
  packWeights(dst: number, w: number, n: number, k: number): void;
  gemm(c: number, a: number, wp: number, bias: number, m: number, n: number, k: number): void;
  rnnStep: Kernels['rnnStep'];
  lstmStep: Kernels['lstmStep'];
  gruStep: Kernels['gruStep'];
  embedding: Kernels['embedding'];
  addBias: Kernels['addBias'];
  tanh: Kernels['tanh'];
  sigmoid: Kernels['sigmoid'];
}

/** Instantiates a compiled kernel module on a fresh memory and wraps it as a Backend. */
export async function instantiateWasmBackend(
  name: 'wasm-simd' | 'wasm',
  module: WebAssembly.Module,
): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const e = instance.exports as unknown as KernelExports;
  const heapBase = e.heapBase();
  if (heapBase > ARENA_BASE) {
    throw new Error(`wasm-rnn: module static data ends at ${heapBase}, above the arena base ${ARENA_BASE}`);
  }
  const arena = new Arena(memory, ARENA_BASE);
  const kernels: Kernels = {
    packedSize: (n, k) => Math.ceil(n / PANEL) * PANEL * k,
    packWeights: e.packWeights,
    gemm: e.gemm,
    rnnStep: e.rnnStep,
    lstmStep: e.lstmStep,
    gruStep: e.gruStep,
    embedding: e.embedding,
    addBias: e.addBias,
    tanh: e.tanh,
    sigmoid: e.sigmoid,
  };
  warmUp(arena, kernels);
  return { name, arena, kernels };
}

/**
 * V8 runs new Wasm code in its baseline tier first and swaps in optimized code later: a few
 * small calls at load time start that tier-up before users time anything.
 */
function warmUp(arena: Arena, k: Kernels): void {
  const H = 8, I = 8, B = 2;
  const floats = 4 * H * (I + H) * 2 + 4 * H * B * 4 + B * H * 4 + 64;
  const base = arena.allocF32(floats);
  const w = base, wp = w + 4 * 4 * H * H, g = wp + 4 * k.packedSize(4 * H, H);
  const h = g + 4 * 4 * H * B, c = h + 4 * B * H, s = c + 4 * B * H;
  try {
    for (let r = 0; r < 20; r++) {
      k.packWeights(wp, w, 4 * H, H);
      k.gemm(g, h, wp, 0, B, 4 * H, H);
      k.lstmStep(h, c, 0, H, g, h, c, wp, 0, s, B, H, 0, 0);
      k.gruStep(h, 0, H, g, h, wp, 0, s, B, H, 0, 0);
      k.rnnStep(h, 0, H, g, h, wp, 0, s, B, H, 0, 0, 0);
    }
  } finally {
    arena.free(base);
  }
}

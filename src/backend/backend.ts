import { Arena } from './arena.js';
import { createJsKernels } from './js-kernels.js';
import type { Kernels } from './kernels.js';

export type BackendName = 'wasm-simd' | 'wasm' | 'js';
export const BACKEND_NAMES: readonly BackendName[] = ['wasm-simd', 'wasm', 'js'];

/**
 * Which kernel build a backend runs: 'relaxed-simd' (build/wasm-rnn.relaxed.wasm, FMA),
 * 'simd' (build/wasm-rnn.simd.wasm), 'scalar' (build/wasm-rnn.wasm) or the pure-JS 'js'.
 * 'wasm-simd' runs 'relaxed-simd' where the engine supports it, else 'simd'.
 */
export type BackendBinary = 'relaxed-simd' | 'simd' | 'scalar' | 'js';

/** A kernel set bound to one linear memory and its arena. Many models share one backend. */
export interface Backend {
  readonly name: BackendName;
  /** The kernel build behind it. */
  readonly binary: BackendBinary;
  readonly arena: Arena;
  readonly kernels: Kernels;
}

/** Where the arena starts: the first 64 KiB hold the module's static data and keep 0 invalid. */
export const ARENA_BASE = 65536;

export function createJsBackend(): Backend {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
  const arena = new Arena(memory, ARENA_BASE);
  return { name: 'js', binary: 'js', arena, kernels: createJsKernels(arena) };
}

import { Arena } from './arena.js';
import { createJsKernels } from './js/index.js';
import type { Kernels } from './kernels.js';
import { runSequence, type SequenceRun } from './sequence.js';
import type { ThreadPool } from './threads.js';

export type BackendName = 'wasm-simd' | 'wasm' | 'js';
export const BACKEND_NAMES: readonly BackendName[] = ['wasm-simd', 'wasm', 'js'];

/**
 * Which kernel build a backend runs: 'relaxed-simd' (build/wasm-rnn.relaxed.wasm, FMA),
 * 'simd' (build/wasm-rnn.simd.wasm), 'simd-threads' (build/wasm-rnn.threads.wasm: the SIMD
 * kernels on a shared memory, plus workers), 'scalar' (build/wasm-rnn.wasm) or the pure-JS 'js'.
 * 'wasm-simd' runs 'simd' unless ready() opted into relaxed SIMD or threads.
 */
export type BackendBinary = 'relaxed-simd' | 'simd' | 'simd-threads' | 'scalar' | 'js';

/** A kernel set bound to one linear memory and its arena. Many models share one backend. */
export interface Backend {
  readonly name: BackendName;
  /** The kernel build behind it. */
  readonly binary: BackendBinary;
  readonly arena: Arena;
  readonly kernels: Kernels;
  /**
   * Present on the 'simd-threads' binary: the workers that run the parallel kernels (inference
   * forward and step) with the caller's thread. Everything else runs on the caller's thread.
   */
  readonly pool?: ThreadPool;
  /** Runs one recurrent layer direction over a sequence (see SequenceRun; threads decided here). */
  sequence(run: SequenceRun): void;
}

/** Where the arena starts: the first 64 KiB hold the module's static data and keep 0 invalid. */
export const ARENA_BASE = 65536;

/** The most a (non-shared) WebAssembly.Memory holds: 65536 pages of 64 KiB. */
export const MAX_MEMORY_BYTES = 2 ** 32;

/** Wraps a kernel set on a memory as a Backend. */
export function makeBackend(
  name: BackendName, binary: BackendBinary, arena: Arena, kernels: Kernels, pool?: ThreadPool,
): Backend {
  return { name, binary, arena, kernels, pool, sequence: (run) => runSequence(kernels, pool, run) };
}

export function createJsBackend(): Backend {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_MEMORY_BYTES / 65536 });
  const arena = new Arena(memory, ARENA_BASE, MAX_MEMORY_BYTES);
  return makeBackend('js', 'js', arena, createJsKernels(arena));
}

/**
 * Loads the AssemblyScript kernels with plain WebAssembly.instantiate (no loader library).
 * Node reads the .wasm file next to the package; browsers fetch it by URL relative to this
 * module; either can be overridden with bytes or a URL the user passes.
 */
import { Arena } from './arena.js';
import { ARENA_BASE, type Backend } from './backend.js';
import { KERNEL_NAMES, type Kernels } from './kernels.js';

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

/**
 * Resolves a user-given location: a URL with a scheme as is; otherwise a file path (Node,
 * relative to the working directory) or a URL relative to the page (browsers).
 */
async function resolveUrl(where: URL | string): Promise<URL> {
  if (where instanceof URL) return where;
  if (/^[a-z][a-z0-9+.-]+:/i.test(where)) return new URL(where);
  if (isNode) {
    const { pathToFileURL } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:url');
    return pathToFileURL(where);
  }
  const page = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  return new URL(where, page.document?.baseURI ?? page.location?.href);
}

async function compileFrom(u: URL): Promise<WebAssembly.Module> {
  if (isNode && u.protocol === 'file:') {
    const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    return WebAssembly.compile(await fs.readFile(u));
  }
  const res = await fetch(u);
  if (!res.ok) throw new Error(`wasm-rnn: could not fetch ${u.href}: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' && res.headers.get('content-type') === 'application/wasm') {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The default location of a flavor's .wasm: build/ at the package root (from src/ and dist/ alike). */
export function defaultWasmUrl(flavor: WasmFlavor): URL {
  // One literal `new URL(…, import.meta.url)` per file, so bundlers see and copy each asset.
  switch (flavor) {
    case 'wasm-simd':
      return new URL('../../build/wasm-rnn.simd.wasm', import.meta.url);
    case 'wasm':
      return new URL('../../build/wasm-rnn.wasm', import.meta.url);
    case 'wasm-debug':
      return new URL('../../build/wasm-rnn.debug.wasm', import.meta.url);
  }
}

/** Compiles a module from bytes, a compiled module, a URL, or a path/relative URL string. */
export async function compileWasm(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) return compileFrom(await resolveUrl(source));
  return WebAssembly.compile(source);
}

let simd: boolean | undefined;

/** A SIMD module cannot even compile where SIMD is off, so validating one is the feature test. */
export function simdSupported(): boolean {
  if (simd !== undefined) return simd;
  // (module (func (result v128) (v128.const i32x4 0 0 0 0)))
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  try {
    simd = WebAssembly.validate(probe);
  } catch {
    simd = false;
  }
  return simd;
}

/** Instantiates a compiled kernel module on a fresh memory and wraps it as a Backend. */
export async function instantiateWasmBackend(
  name: 'wasm-simd' | 'wasm',
  module: WebAssembly.Module,
): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const e = instance.exports as Record<string, unknown>;
  const heapBase = (e.heapBase as () => number)();
  if (heapBase > ARENA_BASE) {
    throw new Error(`wasm-rnn: module static data ends at ${heapBase}, above the arena base ${ARENA_BASE}`);
  }
  const arena = new Arena(memory, ARENA_BASE);
  const kernels = { packedSize: (n: number, k: number) => Math.ceil(n / PANEL) * PANEL * k } as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (typeof e[name] !== 'function') throw new Error(`wasm-rnn: the module lacks the kernel '${name}'`);
    kernels[name] = e[name];
  }
  warmUp(arena, kernels as unknown as Kernels);
  return { name, arena, kernels: kernels as unknown as Kernels };
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

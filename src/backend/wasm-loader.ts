/**
 * Loads the AssemblyScript kernels with plain WebAssembly.instantiate (no loader library).
 * Node reads the .wasm file next to the package; browsers fetch it by URL relative to this
 * module; either can be overridden with bytes or a URL the user passes.
 */
import { Arena } from './arena.js';
import { ARENA_BASE, MAX_MEMORY_BYTES, makeBackend, type Backend, type BackendBinary } from './backend.js';
import { KERNEL_NAMES, type Kernels } from './kernels.js';
import { CONTROL_BYTES, ThreadPool } from './threads.js';
import { isNode, nodeBuiltin } from '../node-builtin.js';

export type WasmSource = BufferSource | URL | string | WebAssembly.Module;

export const WASM_FILES = {
  'wasm-simd': 'wasm-rnn.simd.wasm',
  'wasm-relaxed': 'wasm-rnn.relaxed.wasm',
  wasm: 'wasm-rnn.wasm',
  'wasm-debug': 'wasm-rnn.debug.wasm',
  'wasm-threads': 'wasm-rnn.threads.wasm',
} as const;
export type WasmFlavor = keyof typeof WASM_FILES;

/**
 * Resolves a user-given location: a URL with a scheme as is; otherwise a file path (Node,
 * relative to the working directory) or a URL relative to the page (browsers).
 */
async function resolveUrl(where: URL | string): Promise<URL> {
  if (where instanceof URL) return where;
  if (/^[a-z][a-z0-9+.-]+:/i.test(where)) return new URL(where);
  if (isNode) return (await nodeBuiltin('url')).pathToFileURL(where);
  const page = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  return new URL(where, page.document?.baseURI ?? page.location?.href);
}

/**
 * Node compiles and instantiates synchronously. V8 compiles a module's functions on their first
 * call, so compiling is mostly validation (~1 ms for our 64 KB); the asynchronous API sends that
 * to a background thread and back through the event loop, which cost more than the work itself
 * in cold start (median of 21 fresh processes on a busy machine: 9.1 ms wall / 2.7 ms CPU
 * asynchronous, 6.2 / 2.1 synchronous). Browsers keep the asynchronous (streaming) API: a page's
 * main thread must not block, and Chromium refuses large synchronous compiles there.
 */
function compileBytes(bytes: BufferSource): WebAssembly.Module | Promise<WebAssembly.Module> {
  return isNode ? new WebAssembly.Module(bytes) : WebAssembly.compile(bytes);
}

function instantiate(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance | Promise<WebAssembly.Instance> {
  return isNode ? new WebAssembly.Instance(module, imports) : WebAssembly.instantiate(module, imports);
}

async function compileFrom(u: URL): Promise<WebAssembly.Module> {
  if (isNode && u.protocol === 'file:') return compileBytes((await nodeBuiltin('fs')).readFileSync(u));
  const res = await fetch(u);
  if (!res.ok) throw new Error(`wasm-rnn: could not fetch ${u.href}: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' && res.headers.get('content-type') === 'application/wasm') {
    return WebAssembly.compileStreaming(res);
  }
  return compileBytes(await res.arrayBuffer());
}

/** The default location of a flavor's .wasm: build/ at the package root (from src/ and dist/ alike). */
export function defaultWasmUrl(flavor: WasmFlavor): URL {
  // One literal `new URL(…, import.meta.url)` per file, so bundlers see and copy each asset.
  switch (flavor) {
    case 'wasm-simd':
      return new URL('../../build/wasm-rnn.simd.wasm', import.meta.url);
    case 'wasm-relaxed':
      return new URL('../../build/wasm-rnn.relaxed.wasm', import.meta.url);
    case 'wasm':
      return new URL('../../build/wasm-rnn.wasm', import.meta.url);
    case 'wasm-debug':
      // A test build that is not published: no literal `new URL(…, import.meta.url)`, so
      // bundlers do not look for it (webpack fails on an asset it cannot find).
      return new URL(WASM_FILES['wasm-debug'], defaultWasmUrl('wasm-simd'));
    case 'wasm-threads':
      return new URL('../../build/wasm-rnn.threads.wasm', import.meta.url);
  }
}

const DEPLOY_HINT =
  "Vite and webpack 5 copy the .wasm files that wasm-rnn names with new URL('…', import.meta.url); " +
  'esbuild does not: import them with --loader:.wasm=file and pass them, ready({ simdWasm, wasm }) ' +
  "(README: 'Bundlers'), or copy build/*.wasm and pass their URLs or bytes";

/**
 * Compiles a flavor from its default location (build/ beside dist/esm/). When that fails, the
 * error says how to deploy the file: the usual cause is a bundler that does not follow
 * `new URL(…, import.meta.url)`, or a bundle that is not an ES module (no import.meta.url).
 */
export async function compileDefaultWasm(flavor: WasmFlavor): Promise<WebAssembly.Module> {
  let url: URL;
  try {
    url = defaultWasmUrl(flavor);
  } catch (err) {
    throw new Error(`wasm-rnn: cannot locate ${WASM_FILES[flavor]}: import.meta.url is empty (this bundle is not an ES module). ${DEPLOY_HINT}`, { cause: err });
  }
  try {
    return await compileWasm(url);
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    throw new Error(`wasm-rnn: could not load ${WASM_FILES[flavor]} from its default location ${url.href} (${msg}). ${DEPLOY_HINT}`, { cause: err });
  }
}

/** Compiles a module from bytes, a compiled module, a URL, or a path/relative URL string. */
export async function compileWasm(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) return compileFrom(await resolveUrl(source));
  return compileBytes(source);
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

let relaxed: boolean | undefined;

/**
 * Relaxed SIMD (FMA): a module with one relaxed instruction fails to compile where it is off
 * (Node 20 without --experimental-wasm-relaxed-simd, Safari), so validating a one-instruction
 * module is the feature test — it agrees with validating build/wasm-rnn.relaxed.wasm itself.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed !== undefined) return relaxed;
  // (module (func (param v128 v128 v128) (result v128)
  //   (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))  — opcode 0xfd 0x85 0x02
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11,
    0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
  ]);
  try {
    relaxed = WebAssembly.validate(probe);
  } catch {
    relaxed = false;
  }
  return relaxed;
}

/**
 * Instantiates a compiled kernel module on a fresh memory and wraps it as a Backend. `binary`
 * records which build it is (default: 'scalar' for 'wasm', 'simd' for 'wasm-simd').
 */
export async function instantiateWasmBackend(
  name: 'wasm-simd' | 'wasm',
  module: WebAssembly.Module,
  binary: BackendBinary = name === 'wasm' ? 'scalar' : 'simd',
): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_MEMORY_BYTES / 65536 });
  const instance = await instantiate(module, { env: { memory } });
  const e = instance.exports as Record<string, unknown>;
  // No warm-up calls here: measured on Node 20, twenty small calls of every kernel did not make
  // the first real forward any faster (V8 tiers up on its own budget) and cost ~2 ms of ready().
  return makeBackend(name, binary, arenaFor(e, memory, MAX_MEMORY_BYTES), kernelsOf(e));
}

/**
 * instantiateWasmBackend, synchronously (new WebAssembly.Instance): for contexts that cannot
 * await or fetch, such as an AudioWorklet, given a module compiled elsewhere.
 */
export function instantiateWasmBackendSync(
  name: 'wasm-simd' | 'wasm',
  module: WebAssembly.Module,
  binary: BackendBinary = name === 'wasm' ? 'scalar' : 'simd',
): Backend {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_MEMORY_BYTES / 65536 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const e = instance.exports as Record<string, unknown>;
  return makeBackend(name, binary, arenaFor(e, memory, MAX_MEMORY_BYTES), kernelsOf(e));
}

/**
 * The shared memory's maximum (pages): 2 GiB. A shared memory must declare one, and engines
 * reserve all of it up front, so it stays below the 4 GiB of the one-thread builds.
 */
export const SHARED_MAX_PAGES = 32768;

/**
 * Instantiates build/wasm-rnn.threads.wasm on a shared memory and starts threads − 1 workers
 * on the same module and memory (see ThreadPool).
 */
export async function instantiateThreadsBackend(module: WebAssembly.Module, threads: number): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: SHARED_MAX_PAGES, shared: true });
  const instance = await instantiate(module, { env: { memory } });
  const e = instance.exports as Record<string, unknown>;
  const arena = arenaFor(e, memory, SHARED_MAX_PAGES * 65536);
  const ctl = arena.alloc(CONTROL_BYTES);
  arena.f32.fill(0, ctl >>> 2, (ctl + CONTROL_BYTES) >>> 2);
  const pool = await ThreadPool.start(threads, module, memory, ctl, e);
  return makeBackend('wasm-simd', 'simd-threads', arena, kernelsOf(e), pool);
}

function arenaFor(e: Record<string, unknown>, memory: WebAssembly.Memory, maxBytes: number): Arena {
  const heapBase = (e.heapBase as () => number)();
  if (heapBase > ARENA_BASE) {
    throw new Error(`wasm-rnn: module static data ends at ${heapBase}, above the arena base ${ARENA_BASE}`);
  }
  return new Arena(memory, ARENA_BASE, maxBytes);
}

function kernelsOf(e: Record<string, unknown>): Kernels {
  const kernels: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    if (typeof e[name] !== 'function') throw new Error(`wasm-rnn: the module lacks the kernel '${name}'`);
    kernels[name] = e[name];
  }
  return kernels as unknown as Kernels;
}

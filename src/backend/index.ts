/**
 * The backend registry: which kernel set new work runs on, and the one-time Wasm setup.
 * Each backend has one linear memory shared by every model that runs on it.
 *
 * 'wasm-simd' runs one of two binaries: the plain SIMD build, or — after ready({ relaxedSimd:
 * true }) and where the engine validates relaxed SIMD — the relaxed-SIMD build (fused
 * multiply-add in the GEMM tiles, build/wasm-rnn.relaxed.wasm). Instances are kept per binary, so switching binaries (ready({ relaxedSimd }))
 * gives a fresh instance; models move to it on their next call, as after setBackend.
 */
import {
  BACKEND_NAMES,
  createJsBackend,
  type Backend,
  type BackendBinary,
  type BackendName,
} from './backend.js';
import {
  compileDefaultWasm,
  compileWasm,
  instantiateThreadsBackend,
  instantiateWasmBackend,
  instantiateWasmBackendSync,
  relaxedSimdSupported,
  simdSupported,
  type WasmFlavor,
  type WasmSource,
} from './wasm-loader.js';
import { threadsSupported, type ThreadStats } from './threads.js';
export type { ThreadStats };
import type { ArenaStats } from './arena.js';

export type { Backend, BackendBinary, BackendName } from './backend.js';
export type { WasmSource } from './wasm-loader.js';
export { BACKEND_NAMES, relaxedSimdSupported, simdSupported, threadsSupported };

export interface ReadyOptions {
  /** Where to get the SIMD module: bytes, a compiled module, or a URL (default: next to the package). */
  simdWasm?: WasmSource;
  /** Where to get the relaxed-SIMD (FMA) module (default: next to the package). */
  relaxedWasm?: WasmSource;
  /** Where to get the non-SIMD module. */
  wasm?: WasmSource;
  /**
   * Whether 'wasm-simd' may run the relaxed-SIMD (FMA) build where the engine supports it
   * (default false: opt in). Its results differ from the plain SIMD build's in the last bits (one
   * rounding per multiply-add instead of two; hosts without FMA hardware round twice), and on two
   * ill-conditioned training fixtures that difference exceeds twice PyTorch's own error, so it is
   * not the default. `false` pins the plain SIMD build, bit-identical to the scalar 'wasm' backend.
   * Giving `simdWasm` without `relaxedWasm` also pins the plain SIMD build (the bytes you gave).
   */
  relaxedSimd?: boolean;
  /**
   * How many threads 'wasm-simd' runs inference on (default 1). With n > 1 it loads
   * build/wasm-rnn.threads.wasm on a shared memory and starts n − 1 workers that split every
   * forward() and step() of an RNN/LSTM/GRU with the caller's thread (the batch-1 recurrent
   * product is split so each core keeps its half of W_hh in its own L2). Results are
   * bit-identical to one thread. Training runs on the caller's thread. Needs SharedArrayBuffer:
   * Node, or a cross-origin isolated page (COOP/COEP headers). The threads spin briefly between
   * calls and at every time step: give them cores that are otherwise idle. 1 switches back.
   */
  threads?: number;
  /**
   * Whether the threads pause while the cores are busy (default true): when another process
   * keeps a core, threads that meet at every time step wait for each other and run slower than
   * one thread, so after calls in which an eighth of the barriers had to sleep, layers run on the
   * calling thread for 25 ms (doubling while it lasts, up to 500 ms). false: always use the threads.
   */
  adaptiveThreads?: boolean;
  /** Where to get the threads module (default: next to the package). */
  threadsWasm?: WasmSource;
}

/** Which backend is selected and which kernel build it runs (see backendInfo). */
export interface BackendInfo {
  name: BackendName;
  /** The binary in use, or — before ready() — the one ready() would load. */
  binary: BackendBinary;
  /** Whether that backend is instantiated. */
  ready: boolean;
  /** Threads that run inference (1 unless ready({ threads }) asked for more). */
  threads: number;
}

const instances: Partial<Record<BackendBinary, Backend>> = {};
const pending: Partial<Record<BackendBinary, Promise<Backend>>> = {};
/** The binary each backend name resolved to when it was last initialized. */
const resolved: Partial<Record<BackendName, BackendBinary>> = {};
const sources: Omit<ReadyOptions, 'relaxedSimd' | 'threads'> = {};
let allowRelaxed = false;
let threadCount = 1;
let adaptiveThreads = true;
/** Set when the default relaxed binary failed to load: do not retry it on every call. */
let relaxedFailed = false;
let current: BackendName | undefined;

function checkName(name: unknown): BackendName {
  if (typeof name !== 'string' || !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(
      `backend: expected one of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describe(name)}`,
    );
  }
  return name as BackendName;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** The backend used when none was chosen: SIMD Wasm where the engine validates it. */
export function defaultBackendName(): BackendName {
  return simdSupported() ? 'wasm-simd' : 'wasm';
}

/** The binary a backend name would load now. */
function wantedBinary(name: BackendName): BackendBinary {
  if (name === 'js') return 'js';
  if (name === 'wasm') return 'scalar';
  if (threadCount > 1) return 'simd-threads';
  const relaxedSource = sources.relaxedWasm !== undefined || (sources.simdWasm === undefined && !relaxedFailed);
  return allowRelaxed && relaxedSource && relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
}

function load(binary: BackendBinary): Promise<Backend> {
  const have = instances[binary];
  if (have && binary === 'simd-threads' && (have.pool?.threads !== threadCount || have.pool.closed)) {
    // Another thread count: a new instance (models move to it on their next call).
    have.pool?.close();
    delete instances[binary];
    delete pending[binary];
  } else if (have) return Promise.resolve(have);
  let p = pending[binary];
  if (!p) {
    p = (async () => {
      if (binary === 'js') return createJsBackend();
      const compile = (given: WasmSource | undefined, flavor: WasmFlavor) =>
        given !== undefined ? compileWasm(given) : compileDefaultWasm(flavor);
      if (binary === 'scalar') return instantiateWasmBackend('wasm', await compile(sources.wasm, 'wasm'));
      if (binary === 'simd-threads') {
        return instantiateThreadsBackend(await compile(sources.threadsWasm, 'wasm-threads'), threadCount);
      }
      const module = binary === 'relaxed-simd'
        ? await compile(sources.relaxedWasm, 'wasm-relaxed')
        : await compile(sources.simdWasm, 'wasm-simd');
      return instantiateWasmBackend('wasm-simd', module, binary);
    })();
    pending[binary] = p;
    p.then(
      (b) => (instances[binary] = b),
      () => delete pending[binary],
    );
  }
  return p;
}

async function init(name: BackendName): Promise<Backend> {
  if (name === 'wasm-simd' && !simdSupported()) {
    throw new Error("backend 'wasm-simd': this engine does not support WebAssembly SIMD; use 'wasm'");
  }
  const want = wantedBinary(name);
  let be: Backend;
  try {
    be = await load(want);
  } catch (err) {
    // The default relaxed binary may be missing where only the SIMD one was deployed: fall
    // back (once, remembered) to plain SIMD. Bytes or a URL the user gave fail loudly.
    if (want !== 'relaxed-simd' || sources.relaxedWasm !== undefined) throw err;
    relaxedFailed = true;
    be = await load('simd');
  }
  // A later ready() may have changed what this name should run while we loaded (say, threads:
  // 1 after a pending threads: 2): the latest configuration wins, and a threads instance
  // nobody wants any more stops its workers.
  if (be.binary === wantedBinary(name)) resolved[name] = be.binary;
  else if (be.binary === 'simd-threads' && instances['simd-threads'] === be) {
    be.pool?.close();
    delete instances['simd-threads'];
    delete pending['simd-threads'];
  }
  return be;
}

/** Bumped by every setBackend() call: only the latest call's selection sticks. */
let selections = 0;

/**
 * Selects the backend for all models; resolves once it is instantiated. When calls overlap
 * (not awaited), the last call wins, whichever finishes first.
 */
export async function setBackend(name: BackendName): Promise<void> {
  const n = checkName(name);
  const mine = ++selections;
  await init(n);
  if (mine === selections) current = n;
}

/** The name of the selected backend. */
export function getBackend(): BackendName {
  return current ?? defaultBackendName();
}

/**
 * Instantiates the selected backend's Wasm module once (later calls return at once, unless
 * `relaxedSimd` now selects the other SIMD binary).
 */
export async function ready(options: ReadyOptions = {}): Promise<void> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`ready: options must be an object, got ${describe(options)}`);
  }
  if (options.relaxedSimd !== undefined && typeof options.relaxedSimd !== 'boolean') {
    throw new TypeError(`ready: relaxedSimd must be a boolean, got ${describe(options.relaxedSimd)}`);
  }
  if (options.adaptiveThreads !== undefined && typeof options.adaptiveThreads !== 'boolean') {
    throw new TypeError(`ready: adaptiveThreads must be a boolean, got ${describe(options.adaptiveThreads)}`);
  }
  const th = options.threads;
  if (th !== undefined && (typeof th !== 'number' || !Number.isInteger(th) || th < 1 || th > MAX_THREADS)) {
    throw new RangeError(`ready: threads must be an integer from 1 to ${MAX_THREADS}, got ${describe(th)}`);
  }
  if (th !== undefined && th > 1 && !threadsSupported()) {
    throw new Error(
      `ready: threads = ${th} needs SharedArrayBuffer and workers; this page is not cross-origin isolated ` +
        '(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  }
  const name = getBackend();
  if (th !== undefined && th > 1 && name !== 'wasm-simd') {
    throw new Error(`ready: threads = ${th} needs the 'wasm-simd' backend, but '${name}' is selected`);
  }
  if (options.simdWasm !== undefined) sources.simdWasm = options.simdWasm;
  if (options.relaxedWasm !== undefined) {
    sources.relaxedWasm = options.relaxedWasm;
    relaxedFailed = false;
  }
  if (options.wasm !== undefined) sources.wasm = options.wasm;
  if (options.threadsWasm !== undefined) sources.threadsWasm = options.threadsWasm;
  if (options.relaxedSimd !== undefined) allowRelaxed = options.relaxedSimd;
  const prevThreads = threadCount;
  if (th !== undefined) threadCount = th;
  const mine = ++configurations;
  try {
    await init(name);
  } catch (err) {
    if (mine === configurations) threadCount = prevThreads;
    throw err;
  }
  current ??= name;
  if (options.adaptiveThreads !== undefined) adaptiveThreads = options.adaptiveThreads;
  const pool = instances['simd-threads']?.pool;
  if (pool) pool.adaptive = adaptiveThreads;
  if (threadCount === 1 && instances['simd-threads']) {
    // Back to one thread: stop the workers (models move to the one-thread instance on their next call).
    instances['simd-threads'].pool?.close();
    delete instances['simd-threads'];
    delete pending['simd-threads'];
  }
}

/** Bumped by every ready() call that gets past validation (a failed one restores only if it is the latest). */
let configurations = 0;

/** Upper bound for ready({ threads }). */
const MAX_THREADS = 64;

/**
 * What the thread pool of ready({ threads }) did since it started — parallel calls, barriers,
 * how often a thread had to sleep in one, calls the contention guard kept on one thread — or
 * null when no pool runs. Where threads do not pay, this says why: many sleeps or paused calls
 * mean the threads rarely ran at the same time (busy cores).
 */
export function threadStats(): ThreadStats | null {
  const pool = instances['simd-threads']?.pool;
  return pool && !pool.closed ? { ...pool.stats } : null;
}

/** The selected backend and the kernel build it runs ('relaxed-simd', 'simd', 'scalar' or 'js'). */
export function backendInfo(): BackendInfo {
  const name = getBackend();
  const bin = resolved[name];
  const be = bin !== undefined ? instances[bin] : undefined;
  if (be) return { name, binary: be.binary, ready: true, threads: be.pool?.threads ?? 1 };
  const binary = wantedBinary(name);
  return { name, binary, ready: name === 'js', threads: binary === 'simd-threads' ? threadCount : 1 };
}

export interface InitSyncOptions {
  /** Which backend the module is for (default 'wasm-simd': build/wasm-rnn.simd.wasm; 'wasm': build/wasm-rnn.wasm). */
  backend?: 'wasm-simd' | 'wasm';
}

/**
 * Instantiates a kernel module synchronously and selects its backend: for an AudioWorklet (or
 * any context that cannot fetch or await), given a `WebAssembly.Module` compiled elsewhere and
 * posted to it (modules are structured-cloneable), or the module's bytes. Models created
 * afterwards run on it at once.
 */
export function initSync(module: WebAssembly.Module | BufferSource, options: InitSyncOptions = {}): void {
  const fn = 'initSync';
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`);
  const name = options.backend ?? 'wasm-simd';
  if (name !== 'wasm-simd' && name !== 'wasm') throw new TypeError(`${fn}: backend must be 'wasm-simd' or 'wasm', got ${describe(name)}`);
  let mod: WebAssembly.Module;
  if (module instanceof WebAssembly.Module) mod = module;
  else if (module instanceof ArrayBuffer || ArrayBuffer.isView(module)) mod = new WebAssembly.Module(module);
  else throw new TypeError(`${fn}: module must be a WebAssembly.Module or its bytes, got ${describe(module)}`);
  const binary: BackendBinary = name === 'wasm' ? 'scalar' : 'simd';
  const be = instantiateWasmBackendSync(name, mod, binary);
  instances[binary] = be;
  resolved[name] = binary;
  if (name === 'wasm-simd') {
    allowRelaxed = false;
    threadCount = 1;
  }
  selections++;
  current = name;
}

/** The selected backend's linear memory: its size, what is live, and the high-water mark. */
export interface MemoryInfo extends ArenaStats {
  backend: BackendName;
}

/**
 * The selected backend's memory, for leak checks: a steady-state loop (training steps, streaming
 * step() calls, create/forward/dispose cycles) keeps `highWater` and `memoryBytes` flat.
 * Before the backend is ready, zeros.
 */
export function memoryInfo(): MemoryInfo {
  const name = getBackend();
  const bin = resolved[name];
  const be = bin !== undefined ? instances[bin] : name === 'js' ? backendInstance('js') : undefined;
  if (!be) return { backend: name, memoryBytes: 0, maxBytes: 0, liveBytes: 0, blocks: 0, highWater: 0 };
  return { backend: name, ...be.arena.stats() };
}

/** The live backend object (for layers); the js backend needs no setup. */
export function backendInstance(name: BackendName = getBackend()): Backend {
  const bin = resolved[name];
  const b = bin !== undefined ? instances[bin] : undefined;
  if (b) return b;
  if (name === 'js') {
    resolved.js = 'js';
    return (instances.js = createJsBackend());
  }
  throw new Error(`backend '${name}' is not ready: call \`await ready()\` (or \`await setBackend('${name}')\`) first`);
}

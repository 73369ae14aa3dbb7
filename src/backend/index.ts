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
  compileWasm,
  defaultWasmUrl,
  instantiateWasmBackend,
  relaxedSimdSupported,
  simdSupported,
  type WasmSource,
} from './wasm-loader.js';

export type { Backend, BackendBinary, BackendName } from './backend.js';
export type { WasmSource } from './wasm-loader.js';
export { BACKEND_NAMES, relaxedSimdSupported, simdSupported };

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
}

/** Which backend is selected and which kernel build it runs (see backendInfo). */
export interface BackendInfo {
  name: BackendName;
  /** The binary in use, or — before ready() — the one ready() would load. */
  binary: BackendBinary;
  /** Whether that backend is instantiated. */
  ready: boolean;
}

const instances: Partial<Record<BackendBinary, Backend>> = {};
const pending: Partial<Record<BackendBinary, Promise<Backend>>> = {};
/** The binary each backend name resolved to when it was last initialized. */
const resolved: Partial<Record<BackendName, BackendBinary>> = {};
const sources: Omit<ReadyOptions, 'relaxedSimd'> = {};
let allowRelaxed = false;
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
  const relaxedSource = sources.relaxedWasm !== undefined || (sources.simdWasm === undefined && !relaxedFailed);
  return allowRelaxed && relaxedSource && relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
}

function load(binary: BackendBinary): Promise<Backend> {
  const have = instances[binary];
  if (have) return Promise.resolve(have);
  let p = pending[binary];
  if (!p) {
    p = (async () => {
      if (binary === 'js') return createJsBackend();
      if (binary === 'scalar') return instantiateWasmBackend('wasm', await compileWasm(sources.wasm ?? defaultWasmUrl('wasm')));
      const src = binary === 'relaxed-simd'
        ? sources.relaxedWasm ?? defaultWasmUrl('wasm-relaxed')
        : sources.simdWasm ?? defaultWasmUrl('wasm-simd');
      return instantiateWasmBackend('wasm-simd', await compileWasm(src), binary);
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
  resolved[name] = be.binary;
  return be;
}

/** Selects the backend for all models; resolves once it is instantiated. */
export async function setBackend(name: BackendName): Promise<void> {
  const n = checkName(name);
  await init(n);
  current = n;
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
  if (options.simdWasm !== undefined) sources.simdWasm = options.simdWasm;
  if (options.relaxedWasm !== undefined) {
    sources.relaxedWasm = options.relaxedWasm;
    relaxedFailed = false;
  }
  if (options.wasm !== undefined) sources.wasm = options.wasm;
  if (options.relaxedSimd !== undefined) allowRelaxed = options.relaxedSimd;
  const name = getBackend();
  await init(name);
  current ??= name;
}

/** The selected backend and the kernel build it runs ('relaxed-simd', 'simd', 'scalar' or 'js'). */
export function backendInfo(): BackendInfo {
  const name = getBackend();
  const bin = resolved[name];
  const be = bin !== undefined ? instances[bin] : undefined;
  if (be) return { name, binary: be.binary, ready: true };
  return { name, binary: wantedBinary(name), ready: name === 'js' };
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

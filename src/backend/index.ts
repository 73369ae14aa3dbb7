/**
 * The backend registry: which kernel set new work runs on, and the one-time Wasm setup.
 * Each backend has one linear memory shared by every model that runs on it.
 */
import { BACKEND_NAMES, createJsBackend, type Backend, type BackendName } from './backend.js';
import {
  compileWasm,
  defaultWasmUrl,
  instantiateWasmBackend,
  simdSupported,
  type WasmSource,
} from './wasm-loader.js';

export type { Backend, BackendName } from './backend.js';
export type { WasmSource } from './wasm-loader.js';
export { BACKEND_NAMES, simdSupported };

export interface ReadyOptions {
  /** Where to get the SIMD module: bytes, a compiled module, or a URL (default: next to the package). */
  simdWasm?: WasmSource;
  /** Where to get the non-SIMD module. */
  wasm?: WasmSource;
}

const instances: Partial<Record<BackendName, Backend>> = {};
const pending: Partial<Record<BackendName, Promise<Backend>>> = {};
const sources: ReadyOptions = {};
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

async function init(name: BackendName): Promise<Backend> {
  const have = instances[name];
  if (have) return have;
  let p = pending[name];
  if (!p) {
    p = (async () => {
      if (name === 'js') return createJsBackend();
      if (name === 'wasm-simd' && !simdSupported()) {
        throw new Error("backend 'wasm-simd': this engine does not support WebAssembly SIMD; use 'wasm'");
      }
      const src = name === 'wasm-simd' ? sources.simdWasm : sources.wasm;
      const mod = await compileWasm(src ?? defaultWasmUrl(name));
      return instantiateWasmBackend(name, mod);
    })();
    pending[name] = p;
    p.then(
      (b) => (instances[name] = b),
      () => delete pending[name],
    );
  }
  return p;
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

/** Instantiates the selected backend's Wasm module once (later calls return at once). */
export async function ready(options: ReadyOptions = {}): Promise<void> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`ready: options must be an object, got ${describe(options)}`);
  }
  if (options.simdWasm !== undefined) sources.simdWasm = options.simdWasm;
  if (options.wasm !== undefined) sources.wasm = options.wasm;
  const name = getBackend();
  await init(name);
  current ??= name;
}

/** The live backend object (for layers); the js backend needs no setup. */
export function backendInstance(name: BackendName = getBackend()): Backend {
  const b = instances[name];
  if (b) return b;
  if (name === 'js') return (instances.js = createJsBackend());
  throw new Error(`backend '${name}' is not ready: call \`await ready()\` (or \`await setBackend('${name}')\`) first`);
}

/**
 * Node's built-in modules for the package's Node-only code paths — reading a .wasm file, worker
 * threads, saving and loading model files — reached without an `import` that a bundler could
 * see. The core bundle is also what browsers load, and a bundler that sees `import('node:fs')`
 * either fails (esbuild --platform=browser: `Could not resolve "node:fs"`), warns (Vite
 * externalises it for browser compatibility; webpack 5 cannot handle the `node:` scheme) or
 * needs a flag. Minifying drops `webpackIgnore` / `@vite-ignore` comments, so they cannot help.
 *
 *   import { isNode, nodeBuiltin } from '../node-builtin.js';
 *   if (isNode) { const fs = await nodeBuiltin('fs'); … }
 *
 * Where the module comes from:
 * - Node ≥ 20.16 (and other engines that implement it): `process.getBuiltinModule`, synchronous
 *   and cheap, which shows in cold start (measured on a busy machine: 0.04 ms, against ~10 ms for
 *   a first dynamic import of node:fs).
 * - Node 20.0–20.15: a dynamic `import()` whose code is made at run time (`new Function`), so no
 *   bundler parses it. Only Node before 20.16 ever runs it; browsers never do (`isNode` is false
 *   there), so a page whose Content-Security-Policy forbids eval is unaffected. Code that a
 *   test runner evaluates through node:vm may get no import() in code made at run time (vitest
 *   does so; it needs Node ≥ 20.19, where the first path applies).
 * Both give the same object: the module's exports (what `import fs from 'node:fs'` gives).
 *
 * Call it only behind `isNode`: elsewhere it rejects. Add a module to NodeBuiltins before using it.
 */
export interface NodeBuiltins {
  fs: typeof import('node:fs');
  'fs/promises': typeof import('node:fs/promises');
  path: typeof import('node:path');
  url: typeof import('node:url');
  worker_threads: typeof import('node:worker_threads');
}

/** Whether this is Node (or an engine that passes for it, such as Bun or Deno). */
export const isNode: boolean =
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

type GetBuiltin = (id: string) => unknown;
type Importer = (specifier: string) => Promise<{ default: unknown }>;
let importer: Importer | undefined;

/** Node's built-in module `node:<name>` (see the file comment). */
export async function nodeBuiltin<K extends keyof NodeBuiltins>(name: K): Promise<NodeBuiltins[K]> {
  if (!isNode) throw new Error(`wasm-rnn: node:${name} is only available in Node`);
  const getBuiltin = (process as { getBuiltinModule?: GetBuiltin }).getBuiltinModule;
  if (typeof getBuiltin === 'function') return getBuiltin(`node:${name}`) as NodeBuiltins[K];
  importer ??= new Function('specifier', 'return import(specifier)') as Importer;
  return (await importer(`node:${name}`)).default as NodeBuiltins[K];
}

/**
 * nodeBuiltin, synchronously, for the few Node-only paths that cannot await (fit()'s
 * checkpoints): process.getBuiltinModule only (Node ≥ 20.16); elsewhere it throws, naming `fn`.
 */
export function nodeBuiltinSync<K extends keyof NodeBuiltins>(name: K, fn: string): NodeBuiltins[K] {
  const getBuiltin = isNode ? (process as { getBuiltinModule?: GetBuiltin }).getBuiltinModule : undefined;
  if (typeof getBuiltin !== 'function') throw new Error(`${fn}: needs Node's node:${name} (Node ≥ 20.16, for process.getBuiltinModule)`);
  return getBuiltin(`node:${name}`) as NodeBuiltins[K];
}

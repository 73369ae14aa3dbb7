/**
 * Node's built-in modules without a static `import 'node:…'` (which would break browser
 * bundles): `process.getBuiltinModule` (Node ≥ 20.16), or undefined outside Node. Synchronous,
 * unlike src/node-builtin.ts's nodeBuiltin (which also reaches Node 20.0–20.15 through a dynamic
 * import): loadTfjs decides between the file system and fetch before anything is awaited.
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? (p.getBuiltinModule(id) as T | undefined) : undefined;
}

/**
 * Node's built-in modules without a static `import 'node:…'` (which would break browser
 * bundles): `process.getBuiltinModule` (Node ≥ 20.16), or undefined outside Node.
 * TODO: use the shared nodeBuiltin() helper once the core has it.
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? (p.getBuiltinModule(id) as T | undefined) : undefined;
}

/**
 * nodeBuiltin(): Node's built-ins without an import a bundler could see — through
 * process.getBuiltinModule, or on Node 20.0–20.15 (simulated by removing it) through an import
 * made at run time. Both give the module's exports, the object `import x from 'node:x'` gives.
 * (test/package.test.ts runs the published bundle down both paths; test/bundlers.test.ts checks
 * that no bundler sees a node: specifier.)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsPromises from 'node:fs/promises';
import path from 'node:path';
import url from 'node:url';
import workerThreads from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { isNode, nodeBuiltin, type NodeBuiltins } from '../src/node-builtin.js';

const EXPECTED: { [K in keyof NodeBuiltins]: unknown } = {
  fs,
  'fs/promises': fsPromises,
  path,
  url,
  worker_threads: workerThreads,
};
const NAMES = Object.keys(EXPECTED) as (keyof NodeBuiltins)[];
const built = new URL('../dist/node-builtin.js', import.meta.url);

describe('nodeBuiltin', () => {
  it('knows it runs in Node', () => {
    expect(isNode).toBe(true);
    expect(typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule).toBe('function');
  });

  it.each(NAMES)('node:%s through process.getBuiltinModule', async (name) => {
    expect(await nodeBuiltin(name)).toBe(EXPECTED[name]);
  });

  // In a process of its own: the test runner evaluates modules in a way that gives code made
  // with new Function no dynamic import(), which Node itself does.
  it('without process.getBuiltinModule (Node 20.0–20.15): the same modules, through import()', () => {
    const script = `
      const { nodeBuiltin } = await import(${JSON.stringify(built.href)});
      process.getBuiltinModule = undefined;
      const names = ${JSON.stringify(NAMES)};
      const same = [];
      for (const n of names) same.push((await nodeBuiltin(n)) === (await import('node:' + n)).default);
      console.log(JSON.stringify(same));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(NAMES.map(() => true));
  });

  it('the built module imports no node: module, statically or dynamically', () => {
    const js = fs.readFileSync(built, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(js).not.toMatch(/\bimport\s*\(\s*['"`]node:|\bfrom\s*['"`]node:|\bimport\s*['"`]node:/);
    expect(js).toMatch(/new Function\('specifier', 'return import\(specifier\)'\)/);
  });
});

/**
 * saveFile / loadFile for Node: save() written to a temporary file in the same directory,
 * flushed to disk, then renamed over the target — a crash mid-write leaves the old file (or
 * none), never a truncated model. In browsers, use save()/load() with a download, IndexedDB or
 * `load(new Uint8Array(await (await fetch(url)).arrayBuffer()))`.
 */
import type { Module } from '../layers/module.js';
import { typeName } from '../tensor.js';
import { isNode, nodeBuiltin, nodeBuiltinSync } from '../node-builtin.js';
import { load, save, type LoadOptions, type SaveOptions } from './save.js';

type Fs = typeof import('node:fs');

/** node:fs, without an import statement a browser bundler would try to resolve. */
async function fsModule(fn: string): Promise<Fs> {
  if (!isNode) throw new Error(`${fn}: needs Node's file system; in a browser use save()/load() with bytes`);
  return nodeBuiltin('fs');
}

function pathArg(fn: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${fn}: path must be a non-empty string, got ${typeName(path)}`);
  return path;
}

/** Writes save(model, options) to `path` atomically (temporary file, fsync, rename). */
export async function saveFile(model: Module, path: string, options: SaveOptions = {}): Promise<void> {
  const fn = 'saveFile';
  pathArg(fn, path);
  const bytes = save(model, options);
  const fs = await fsModule(fn);
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.promises.rename(tmp, path);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** saveFile, synchronously (the same temporary file, fsync and rename): for checkpoints inside fit(). */
export function saveFileSync(model: Module, path: string, options: SaveOptions = {}): void {
  const fn = 'saveFileSync';
  pathArg(fn, path);
  const bytes = save(model, options);
  const fs = nodeBuiltinSync('fs', fn);
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads a file written by saveFile (or any safetensors file, with `{ into }`) and load()s it. */
export async function loadFile<M extends Module = Module>(path: string, options: LoadOptions<M> = {}): Promise<M> {
  const fn = 'loadFile';
  pathArg(fn, path);
  const fs = await fsModule(fn);
  const buf = await fs.promises.readFile(path);
  return load(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), options);
}

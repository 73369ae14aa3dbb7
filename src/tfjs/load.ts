/**
 * loadTfjs: reads model.json and the weight shards its `weightsManifest` lists (paths relative
 * to model.json, as tfjs's own loaders resolve them): from files in Node, over fetch() for URLs
 * (and for relative paths in browsers). Every size is bounded before it is read: model.json
 * by MAX_MODEL_JSON_BYTES, the shards together by what the manifest describes.
 */
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import type * as NodeUrl from 'node:url';
import { TfjsError, isObject, q, show } from './errors.js';
import { importTfjs, manifestSpecs, type TfjsModel } from './import.js';
import { nodeBuiltin } from './node.js';
import { checkManifest } from './weights.js';

/** model.json is refused above this size (a Keras topology is kilobytes). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
/** At most this many weight files. */
const MAX_SHARDS = 65_536;

export interface LoadTfjsOptions {
  /** The fetch() to use for URLs (default: globalThis.fetch), e.g. one that adds headers. */
  fetch?: (url: string) => Promise<Response>;
}

/** Reads the bytes at a location, refusing more than `limit`. */
interface Reader {
  read(at: string, limit: number, what: string): Promise<Uint8Array>;
  resolve(base: string, rel: string): string;
}

/**
 * Loads a Layers model from `model.json` (a path in Node, a file: or http(s): URL, or in a
 * browser a URL relative to the page) and its weight shards, then imports it (importTfjs).
 * A path to a folder reads the folder's model.json.
 */
export async function loadTfjs(urlOrPath: string | URL, options: LoadTfjsOptions = {}): Promise<TfjsModel> {
  if (!isObject(options)) throw new TypeError(`loadTfjs: options must be an object, got ${show(options)}`);
  for (const k of Object.keys(options)) if (k !== 'fetch') throw new TypeError(`loadTfjs: unknown option ${q(k)}; expected 'fetch'`);
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError(`loadTfjs: fetch must be a function, got ${show(options.fetch)}`);
  const { reader, at } = await locate(urlOrPath, options);
  const json = parseJson(await reader.read(at, MAX_MODEL_JSON_BYTES, 'model.json'), at);
  if (!isObject(json)) throw new TfjsError(`loadTfjs: ${at} must hold a JSON object {modelTopology, weightsManifest}, got ${show(json)}`);
  if (json.modelTopology === undefined) throw new TfjsError(`loadTfjs: ${at} has no modelTopology (is it a model.json written by model.save or tensorflowjs_converter?)`);
  const manifest = json.weightsManifest ?? [];
  const specs = manifestSpecs(manifest);
  // Checked before any shard is read: the shards must hold exactly these bytes.
  const total = checkManifest(specs, 'loadTfjs: weightsManifest[*].weights').reduce((a, e) => a + e.bytes, 0);
  const paths = shardPaths(manifest as unknown[]);
  const shards: ArrayBuffer[] = [];
  let read = 0;
  for (const p of paths) {
    const bytes = await reader.read(reader.resolve(at, p), total - read, `weight file ${q(p)}`);
    read += bytes.byteLength;
    shards.push(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer);
  }
  if (read !== total) throw new TfjsError(`loadTfjs: the weight files hold ${read} bytes, but the weightsManifest describes ${total}`);
  return importTfjs({ modelTopology: json.modelTopology, format: json.format as string | undefined, weightSpecs: specs as never, weightData: shards });
}

function parseJson(bytes: Uint8Array, at: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new TfjsError(`loadTfjs: ${at} is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Every group's paths, in order, each a relative path inside model.json's folder. */
function shardPaths(manifest: unknown[]): string[] {
  const out: string[] = [];
  manifest.forEach((g, i) => {
    const paths = (g as Record<string, unknown>).paths;
    if (!Array.isArray(paths)) throw new TfjsError(`loadTfjs: weightsManifest[${i}].paths must be an array of file names, got ${show(paths)}`);
    paths.forEach((p: unknown, j) => {
      const at = `weightsManifest[${i}].paths[${j}]`;
      if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p.includes('\0')) throw new TfjsError(`loadTfjs: ${at} must be a file name, got ${show(p)}`);
      if (/^[a-z][a-z0-9+.-]*:/i.test(p) || /^[/\\]/.test(p) || p.split(/[/\\]/).includes('..')) {
        throw new TfjsError(`loadTfjs: ${at} ${q(p)} must be a relative path inside model.json's folder`);
      }
      out.push(p);
    });
  });
  if (out.length > MAX_SHARDS) throw new TfjsError(`loadTfjs: the weightsManifest lists ${out.length} weight files, more than ${MAX_SHARDS}`);
  return out;
}

async function locate(src: unknown, options: LoadTfjsOptions): Promise<{ reader: Reader; at: string }> {
  let url: URL | null = null;
  if (src instanceof URL) url = src;
  // A scheme of two or more letters makes a URL (http:, file:, blob:, data:); C:\… is a path.
  else if (typeof src === 'string' && /^[a-z][a-z0-9+.-]+:/i.test(src)) {
    try {
      url = new URL(src);
    } catch {
      throw new TypeError(`loadTfjs: urlOrPath ${q(src)} is not a valid URL`);
    }
  } else if (typeof src !== 'string' || src.length === 0) {
    throw new TypeError(`loadTfjs: urlOrPath must be a path or URL of model.json, got ${show(src)}`);
  }
  const fs = nodeBuiltin<typeof NodeFs>('node:fs/promises');
  if (url === null) {
    if (fs) return { reader: fileReader(fs), at: await modelJsonPath(fs, src as string) };
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    if (!base) throw new TypeError(`loadTfjs: ${q(src as string)} is a relative path, but there is neither a file system nor a page URL to resolve it against`);
    url = new URL(src as string, base);
  }
  if (url.protocol === 'file:') {
    const nodeUrl = nodeBuiltin<typeof NodeUrl>('node:url');
    if (!fs || !nodeUrl) throw new TypeError(`loadTfjs: ${q(url.href)} is a file: URL, which needs Node's file system`);
    return { reader: fileReader(fs), at: await modelJsonPath(fs, nodeUrl.fileURLToPath(url)) };
  }
  const f = options.fetch ?? (globalThis as { fetch?: (u: string) => Promise<Response> }).fetch;
  if (typeof f !== 'function') throw new TypeError(`loadTfjs: ${q(url.href)} is a URL, but there is no fetch() here`);
  return { reader: urlReader(f), at: url.href };
}

async function modelJsonPath(fs: typeof NodeFs, p: string): Promise<string> {
  const path = nodeBuiltin<typeof NodePath>('node:path') as typeof NodePath;
  try {
    if ((await fs.stat(p)).isDirectory()) return path.join(p, 'model.json');
  } catch {
    // A missing file is reported by the read, with its path.
  }
  return p;
}

function fileReader(fs: typeof NodeFs): Reader {
  const path = nodeBuiltin<typeof NodePath>('node:path') as typeof NodePath;
  return {
    resolve: (base, rel) => path.join(path.dirname(base), rel),
    async read(at, limit, what) {
      let size: number;
      try {
        const st = await fs.stat(at);
        if (!st.isFile()) throw new TfjsError(`loadTfjs: ${what} ${q(at)} is not a file`);
        size = st.size;
      } catch (err) {
        if (err instanceof TfjsError) throw err;
        throw new TfjsError(`loadTfjs: cannot read ${what} ${q(at)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (size > limit) throw new TfjsError(`loadTfjs: ${what} ${q(at)} has ${size} bytes, more than ${limit === MAX_MODEL_JSON_BYTES ? 'model.json may have' : 'the weightsManifest describes (beyond the files before it)'} (${limit})`);
      const bytes = await fs.readFile(at);
      if (bytes.byteLength !== size) throw new TfjsError(`loadTfjs: ${what} ${q(at)} changed while it was read`);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}

function urlReader(f: (url: string) => Promise<Response>): Reader {
  return {
    resolve: (base, rel) => {
      try {
        return new URL(rel, base).href;
      } catch {
        throw new TfjsError(`loadTfjs: cannot resolve weight file ${q(rel)} against ${q(base)}`);
      }
    },
    async read(at, limit, what) {
      let res: Response;
      try {
        res = await f(at);
      } catch (err) {
        throw new TfjsError(`loadTfjs: fetching ${what} ${q(at)} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!res || typeof res !== 'object' || !res.ok) {
        throw new TfjsError(`loadTfjs: fetching ${what} ${q(at)} failed: HTTP ${res?.status ?? '?'} ${res?.statusText ?? ''}`.trimEnd());
      }
      const declared = Number(res.headers?.get?.('content-length') ?? NaN);
      const tooMany = (n: number): TfjsError =>
        new TfjsError(`loadTfjs: ${what} ${q(at)} has ${n}${Number.isFinite(declared) ? '' : ' or more'} bytes, more than ${limit === MAX_MODEL_JSON_BYTES ? 'model.json may have' : 'the weightsManifest describes (beyond the files before it)'} (${limit})`);
      if (Number.isFinite(declared) && declared > limit) {
        await res.body?.cancel().catch(() => undefined);
        throw tooMany(declared);
      }
      if (!res.body) {
        const buf = new Uint8Array(await res.arrayBuffer());
        if (buf.byteLength > limit) throw tooMany(buf.byteLength);
        return buf;
      }
      // Streamed, so a server that sends more than it should is cut off at the limit.
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.byteLength;
        if (n > limit) {
          await reader.cancel().catch(() => undefined);
          throw tooMany(n);
        }
        chunks.push(value);
      }
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.byteLength;
      }
      return out;
    },
  };
}

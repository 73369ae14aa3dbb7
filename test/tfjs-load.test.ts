/**
 * loadTfjs: model.json and its weight shards from files (a path, a folder, a file: URL) and over
 * HTTP (Node's fetch against a local server; a custom fetch), on the committed fixtures
 * (test/fixtures/generate_tfjs.mjs: tfjs's own predict is the expected output). Broken or
 * hostile files are refused with sizes checked before anything is read.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../src/index.js';
import { loadTfjs, MAX_MODEL_JSON_BYTES, TfjsError, type TfjsModel } from '../src/tfjs/index.js';
import { maxAbsDiff } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/tfjs/', import.meta.url));
const sigmoid = join(FIXTURES, 'classifier-sigmoid');
const expected = JSON.parse(readFileSync(join(sigmoid, 'expected.json'), 'utf8')) as { input: { shape: number[]; data: number[] }; output: { shape: number[]; data: number[] } };

let tmp = '';
let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  await ready();
  tmp = mkdtempSync(join(tmpdir(), 'wasm-rnn-tfjs-'));
  cpSync(FIXTURES, tmp, { recursive: true });
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/endless.bin') {
      // No content-length: a body that never ends.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (res.write(chunk)) { /* fill the socket */ }
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    try {
      const body = readFileSync(join(tmp, decodeURIComponent(url.pathname)));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
  rmSync(tmp, { recursive: true, force: true });
});

function expectFixture(m: TfjsModel): void {
  const y = m.predict({ data: Float32Array.from(expected.input.data), shape: expected.input.shape });
  expect([...y.shape]).toEqual(expected.output.shape);
  expect(maxAbsDiff(y.data, expected.output.data)).toBeLessThan(2e-6);
  m.dispose();
}

async function loadError(src: string | URL, options?: object): Promise<Error> {
  try {
    (await loadTfjs(src, options as never)).dispose();
  } catch (err) {
    return err as Error;
  }
  throw new Error('loadTfjs accepted it');
}

/** A copy of the sigmoid fixture in its own folder, with model.json edited. */
function variant(name: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = join(tmp, name);
  cpSync(sigmoid, dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  edit(json);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

describe('loadTfjs reads model.json and its shards', () => {
  it('from a path, a folder, a file: URL string and a URL object', async () => {
    expectFixture(await loadTfjs(join(sigmoid, 'model.json')));
    expectFixture(await loadTfjs(sigmoid));
    expectFixture(await loadTfjs(pathToFileURL(join(sigmoid, 'model.json')).href));
    expectFixture(await loadTfjs(pathToFileURL(join(sigmoid, 'model.json'))));
  });

  it('over HTTP with fetch, the shards resolved relative to model.json', async () => {
    requests.length = 0;
    expectFixture(await loadTfjs(`${base}/classifier-sigmoid/model.json`));
    expect(requests).toEqual(['/classifier-sigmoid/model.json', ...[1, 2, 3, 4, 5].map((k) => `/classifier-sigmoid/group1-shard${k}of5.bin`)]);
  });

  it('through a fetch of the caller\'s (a browser\'s, one with headers, …)', async () => {
    const seen: string[] = [];
    const fetch = async (url: string): Promise<Response> => {
      seen.push(url);
      const path = new URL(url).pathname.replace(/^\/models\//, '');
      return new Response(readFileSync(join(sigmoid, path)));
    };
    expectFixture(await loadTfjs('https://cdn.example/models/model.json', { fetch }));
    expect(seen[1]).toBe('https://cdn.example/models/group1-shard1of5.bin');
  });

  it("a model with TF.js's default hard_sigmoid gates matches tfjs's own output", async () => {
    const dir = join(FIXTURES, 'classifier-default');
    const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    const m = await loadTfjs(dir);
    const y = m.predict({ data: Float32Array.from(want.input.data), shape: want.input.shape });
    expect([...y.shape]).toEqual(want.output.shape);
    expect(maxAbsDiff(y.data, want.output.data)).toBeLessThan(2e-6);
    m.dispose();
  });
});

describe('loadTfjs refuses broken and hostile files', () => {
  it('missing files, non-JSON, JSON that is not a model', async () => {
    expect((await loadError(join(tmp, 'nope', 'model.json'))).message).toMatch(/^loadTfjs: cannot read model\.json '.*nope\/model\.json': ENOENT/);
    const notJson = join(tmp, 'not-json.json');
    writeFileSync(notJson, '{"modelTopology": ');
    expect((await loadError(notJson)).message).toMatch(/^loadTfjs: .*not-json\.json is not UTF-8 JSON: /);
    const latin = join(tmp, 'latin1.json');
    writeFileSync(latin, Buffer.from([0x7b, 0xe9, 0x7d]));
    expect((await loadError(latin)).message).toMatch(/is not UTF-8 JSON/);
    const arr = join(tmp, 'array.json');
    writeFileSync(arr, '[1, 2]');
    expect((await loadError(arr)).message).toMatch(/^loadTfjs: .*array\.json must hold a JSON object \{modelTopology, weightsManifest\}, got \[1,2\]/);
    const noTopo = join(tmp, 'no-topology.json');
    writeFileSync(noTopo, '{"weightsManifest": []}');
    expect((await loadError(noTopo)).message).toMatch(/has no modelTopology \(is it a model\.json written by model\.save or tensorflowjs_converter\?\)/);
    expect((await loadError(`${base}/nope/model.json`)).message).toMatch(/^loadTfjs: fetching model\.json 'http:\/\/127\.0\.0\.1:\d+\/nope\/model\.json' failed: HTTP 404/);
    expect((await loadError('http://127.0.0.1:1/model.json')).message).toMatch(/^loadTfjs: fetching model\.json 'http:\/\/127\.0\.0\.1:1\/model\.json' failed: /);
  });

  it('shard paths outside model.json\'s folder', async () => {
    for (const p of ['../classifier-default/group1-shard1of5.bin', '/etc/passwd', 'https://evil.example/w.bin', 'C:\\w.bin', 'a/../../w.bin']) {
      const dir = variant('paths', (j) => ((j.weightsManifest as { paths: string[] }[])[0].paths[0] = p));
      const err = await loadError(dir);
      expect(err.message, p).toMatch(/^loadTfjs: weightsManifest\[0\]\.paths\[0\] '.*' must be a relative path inside model\.json's folder$/);
    }
    const dir = variant('paths2', (j) => ((j.weightsManifest as { paths: unknown[] }[])[0].paths[0] = 7));
    expect((await loadError(dir)).message).toMatch(/weightsManifest\[0\]\.paths\[0\] must be a file name, got 7/);
    const none = variant('paths3', (j) => delete (j.weightsManifest as { paths?: unknown }[])[0].paths);
    expect((await loadError(none)).message).toMatch(/weightsManifest\[0\]\.paths must be an array of file names, got undefined/);
  });

  it('shards that are missing, short, or longer than the manifest says (checked before reading)', async () => {
    const missing = variant('missing', () => undefined);
    rmSync(join(missing, 'group1-shard3of5.bin'));
    expect((await loadError(missing)).message).toMatch(/^loadTfjs: cannot read weight file 'group1-shard3of5\.bin' '.*missing\/group1-shard3of5\.bin': ENOENT/);
    const short = variant('short', () => undefined);
    truncateSync(join(short, 'group1-shard5of5.bin'), 100);
    expect((await loadError(short)).message).toBe('loadTfjs: the weight files hold 900 bytes, but the weightsManifest describes 928');
    const long = variant('long', () => undefined);
    // A sparse 8 GiB shard: refused from its size, never read.
    truncateSync(join(long, 'group1-shard2of5.bin'), 8 * 2 ** 30);
    const t0 = performance.now();
    expect((await loadError(long)).message).toMatch(/^loadTfjs: weight file 'group1-shard2of5\.bin' '.*' has 8589934592 bytes, more than the weightsManifest describes \(beyond the files before it\) \(728\)$/);
    expect(performance.now() - t0).toBeLessThan(500);
    const big = join(tmp, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, MAX_MODEL_JSON_BYTES + 1);
    expect((await loadError(big)).message).toMatch(/has 67108865 bytes, more than model\.json may have \(67108864\)/);
    const hostile = variant('hostile', (j) => ((j.weightsManifest as { weights: { shape: number[] }[] }[])[0].weights[0].shape = [2 ** 20, 2 ** 20]));
    expect((await loadError(hostile)).message).toMatch(/^loadTfjs: weightsManifest\[\*\]\.weights\[0\] \('embedding_Embedding\d+\/embeddings'\): shape \[1048576, 1048576\] holds 1099511627776 values/);
  });

  it('over HTTP: a declared length or a streamed body beyond the manifest', async () => {
    const longDir = join(tmp, 'http-long');
    cpSync(sigmoid, longDir, { recursive: true });
    writeFileSync(join(longDir, 'group1-shard1of5.bin'), Buffer.alloc(5000));
    expect((await loadError(`${base}/http-long/model.json`)).message).toMatch(/^loadTfjs: weight file 'group1-shard1of5\.bin' 'http:.*' has 5000 bytes, more than the weightsManifest describes/);
    variant('endless', (j) => ((j.weightsManifest as { paths: string[] }[])[0].paths = ['endless.bin']));
    const fetch = async (url: string): Promise<Response> => {
      if (url.endsWith('model.json')) return new Response(readFileSync(join(tmp, 'endless', 'model.json')));
      return globalThis.fetch(`${base}/endless.bin`);
    };
    const t0 = performance.now();
    expect((await loadError('https://models.example/endless/model.json', { fetch })).message).toMatch(/^loadTfjs: weight file 'endless\.bin' 'https:\/\/models\.example\/endless\/endless\.bin' has \d+ or more bytes, more than the weightsManifest describes/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a model.json at a URL its shards cannot be resolved against', async () => {
    const fetch = async (): Promise<Response> => new Response(readFileSync(join(sigmoid, 'model.json')));
    expect((await loadError('blob:https://app.example/5f2c', { fetch })).message).toBe("loadTfjs: cannot resolve weight file 'group1-shard1of5.bin' against 'blob:https://app.example/5f2c'");
  });

  it('bad arguments', async () => {
    await expect(loadTfjs(7 as never)).rejects.toThrow(/^loadTfjs: urlOrPath must be a path or URL of model\.json, got 7$/);
    await expect(loadTfjs('')).rejects.toThrow(TypeError);
    await expect(loadTfjs('http://[bad/model.json')).rejects.toThrow(/^loadTfjs: urlOrPath 'http:\/\/\[bad\/model\.json' is not a valid URL$/);
    await expect(loadTfjs(sigmoid, { fetchh: 1 } as never)).rejects.toThrow(/^loadTfjs: unknown option 'fetchh'; expected 'fetch'$/);
    await expect(loadTfjs(sigmoid, { fetch: 'no' } as never)).rejects.toThrow(/^loadTfjs: fetch must be a function, got 'no'$/);
    await expect(loadTfjs(sigmoid, null as never)).rejects.toThrow(/^loadTfjs: options must be an object, got null$/);
  });
});

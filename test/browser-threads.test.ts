/**
 * ready({ threads: 2 }) in a real browser: headless Debian Chromium, driven by playwright-core,
 * loads test/browser/threads.html (the published ESM bundle dist/esm/index.js) twice:
 *
 *  - from a cross-origin isolated server (examples/serve.js with { crossOriginIsolated: true }:
 *    COOP same-origin + COEP require-corp). The page computes reference outputs on one thread
 *    (wasm-simd) for an LSTM, a GRU with batch 3, h0 and lengths, a 2-layer bidirectional LSTM,
 *    an RNN and 20 streamed step() calls of an LSTM, then switches to two threads
 *    (build/wasm-rnn.threads.wasm on a shared memory + one Worker from a Blob URL), recomputes
 *    with the same models and compares the float bits, then goes back to one thread and
 *    compares again. Every model is large enough to be split across threads, and the page
 *    counts the thread pool's parallel calls so that "identical" cannot mean "never threaded".
 *  - from a plain server (the default options): ready({ threads: 2 }) must reject with
 *    "not cross-origin isolated" and leave the backend on one thread, still computing the
 *    same bits.
 *
 * Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium
 * (`apt-get install -y chromium`); without it the test fails unless WASM_RNN_SKIP_BROWSER=1,
 * which skips it.
 */
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';

const REQUIRED = ['dist/esm/index.js', 'build/wasm-rnn.simd.wasm', 'build/wasm-rnn.threads.wasm'];
const PAGE = '/test/browser/threads.html';
const THREADS = 2;
/** The models of threads.html, in order. */
const MODELS = [
  'LSTM I32 H128 T16 B2',
  'GRU I24 H160 T12 B3, h0, lengths [12, 5, 9]',
  'LSTM I20 H128 2 layers bidirectional batchFirst B2 T10, lengths [10, 6]',
  'RNN tanh I16 H200 T8 B1',
  'LSTM I32 H128 B1: 20 streamed step() calls',
];
/** Output arrays per model: output, h (, c) — or 20 step outputs, h and c. */
const ARRAYS = [3, 2, 3, 2, 22];
/**
 * The fewest parallel calls each model makes on the pool: forward() one per layer and direction
 * (the recurrence; the input projection may be another), step() one per layer and step.
 */
const MIN_PARALLEL_CALLS = [1, 1, 4, 1, 20];

type Info = { name: string; binary: string; ready: boolean; threads: number };
interface Compared { name: string; ms: number; parallelCalls: number; hash: string; difference: string }
interface PageRun {
  userAgent: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  threadsSupported: boolean;
  hardwareConcurrency: number;
  backend: string;
  infoOne: Info;
  reference: (Omit<Compared, 'difference'> & { arrays: { length: number; nonZero: number; finite: boolean }[] })[];
  threadsError?: string;
  readyThreadsMs: number;
  infoThreads: Info;
  crossOriginIsolatedAfter: boolean;
  threaded: Compared[];
  workersStarted: string[];
  infoBack: Info;
  workersTerminated: number;
  back: Compared[];
  memories: boolean[];
  totalMs: number;
}
interface Served {
  server: Server;
  url: string;
  requests: { method: string; path: string; status: number }[];
}

describe.skipIf(SKIP_BROWSER)('browser: ready({ threads: 2 }) in headless Chromium', () => {
  const servers: Served[] = [];
  let browser: Browser | undefined;
  let isolated: PageRun;
  let plain: PageRun;
  let isolatedServer: Served;
  let plainServer: Served;
  const wallMs: Record<string, number> = {};
  const problems: string[] = [];

  async function serve(crossOriginIsolated: boolean): Promise<Served> {
    const requests: Served['requests'] = [];
    const options = { crossOriginIsolated, onRequest: (r: Served['requests'][number]) => requests.push(r) };
    const { server, url } = (await startStaticServer(ROOT, options)) as { server: Server; url: string };
    const s = { server, url, requests };
    servers.push(s);
    return s;
  }

  /** Opens threads.html from `base` in a new tab, runs it, collects its problems as `label: …`. */
  async function runPage(base: string, label: string): Promise<PageRun> {
    const page: Page = await browser!.context.newPage();
    collectProblems(page, problems, label);
    const t0 = performance.now();
    try {
      await page.goto(`${base}${PAGE}`, { waitUntil: 'load', timeout: 60_000 });
      await page
        .waitForFunction(() => typeof (window as unknown as { runThreads?: unknown }).runThreads === 'function', null, { timeout: 60_000 })
        .catch((e: Error) => {
          throw new Error(`${label}: test page never defined runThreads: ${problems.join('; ') || e.message}`);
        });
      return await page.evaluate(
        (n) => (window as unknown as { runThreads(n: number): Promise<PageRun> }).runThreads(n),
        THREADS,
      );
    } finally {
      wallMs[label] = performance.now() - t0;
      await page.close().catch(() => {});
    }
  }

  beforeAll(async () => {
    requireBrowserSetup(REQUIRED);
    isolatedServer = await serve(true);
    plainServer = await serve(false);
    browser = await launchChromium();
    // One after the other: the isolated run's two threads should have the machine's cores.
    isolated = await runPage(isolatedServer.url, 'isolated');
    plain = await runPage(plainServer.url, 'not isolated');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const { server } of servers) await new Promise<void>((ok) => server.close(() => ok()));
    if (isolated) {
      const sum = (rs: { ms: number }[]): string => rs.reduce((s, r) => s + r.ms, 0).toFixed(0);
      console.log(
        `browser threads: ${isolated.threaded.filter((r) => r.difference === '').length}/${MODELS.length} models ` +
          `bit-identical on ${isolated.infoThreads.threads} threads (${isolated.infoThreads.binary}); ` +
          `1 thread ${sum(isolated.reference)} ms, ${THREADS} threads ${sum(isolated.threaded)} ms ` +
          `(ready ${isolated.readyThreadsMs.toFixed(0)} ms), back on 1 thread ${sum(isolated.back)} ms; ` +
          `pages ${Object.entries(wallMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}; ` +
          `hardwareConcurrency ${isolated.hardwareConcurrency}; ${isolated.userAgent}`,
      );
    }
  }, 60_000);

  describe('cross-origin isolated', () => {
    it('the page is cross-origin isolated and SharedArrayBuffer exists', () => {
      expect(isolated.crossOriginIsolated).toBe(true);
      expect(isolated.sharedArrayBuffer).toBe(true);
      expect(isolated.threadsSupported).toBe(true);
    });

    it(`ready({ threads: ${THREADS} }) runs the threads binary on a shared memory with ${THREADS - 1} Blob-URL worker`, () => {
      expect(isolated.backend).toBe('wasm-simd');
      expect(isolated.infoOne).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(isolated.threadsError, 'ready({ threads }) rejected').toBeUndefined();
      expect(isolated.infoThreads).toEqual({ name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: THREADS });
      expect(isolated.crossOriginIsolatedAfter).toBe(true);
      expect(isolated.workersStarted).toEqual(Array(THREADS - 1).fill('blob:'));
      // One plain memory (the one-thread SIMD instance), then the threads build's shared one.
      expect(isolated.memories, 'WebAssembly.Memory constructed (shared?)').toEqual([false, true]);
      const wasmGets = isolatedServer.requests.filter((r) => r.path.endsWith('.wasm'));
      expect(wasmGets).toEqual([
        { method: 'GET', path: '/build/wasm-rnn.simd.wasm', status: 200 },
        { method: 'GET', path: '/build/wasm-rnn.threads.wasm', status: 200 },
      ]);
    });

    it('the one-thread reference outputs are non-trivial', () => {
      expect(isolated.reference.map((r) => r.name)).toEqual(MODELS);
      isolated.reference.forEach((r, i) => {
        expect(r.arrays, r.name).toHaveLength(ARRAYS[i]);
        r.arrays.forEach((a, k) => {
          expect(a.length, `${r.name} [${k}] length`).toBeGreaterThan(0);
          expect(a.finite, `${r.name} [${k}] finite`).toBe(true);
          // Most of a recurrent layer's outputs are nonzero (the GRU's padded rows are zeros).
          expect(a.nonZero, `${r.name} [${k}]: ${a.nonZero} of ${a.length} nonzero`).toBeGreaterThan(a.length / 2);
        });
        expect(r.parallelCalls, `${r.name}: parallel calls on one thread`).toBe(0);
      });
      // Different models, different outputs (a page that returned one array five times would not).
      expect(new Set(isolated.reference.map((r) => r.hash)).size).toBe(MODELS.length);
    });

    it.each(MODELS.map((name, i) => [name, i] as const))(`%s: bit-identical on ${THREADS} threads`, (name, i) => {
      const r = isolated.threaded[i];
      expect(r?.name).toBe(name);
      // The model really ran on the pool, so "identical" does not mean "never threaded".
      expect(r.parallelCalls, 'parallel calls to the thread pool').toBeGreaterThanOrEqual(MIN_PARALLEL_CALLS[i]);
      expect(r.difference, `bits differ from one thread's at ${r.difference}`).toBe('');
      expect(r.hash).toBe(isolated.reference[i].hash);
    });

    it('ready({ threads: 1 }) stops the worker; the same models give the same bits on one thread', () => {
      expect(isolated.infoBack).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(isolated.workersTerminated).toBe(THREADS - 1);
      expect(isolated.back.map((r) => r.name)).toEqual(MODELS);
      for (const r of isolated.back) {
        expect(r.parallelCalls, r.name).toBe(0);
        expect(r.difference, `${r.name}: bits differ at ${r.difference}`).toBe('');
      }
    });
  });

  describe('not cross-origin isolated', () => {
    it(`ready({ threads: ${THREADS} }) rejects: not cross-origin isolated`, () => {
      expect(plain.crossOriginIsolated).toBe(false);
      expect(plain.threadsSupported).toBe(false);
      expect(plain.threadsError, 'ready({ threads }) did not reject').toBeDefined();
      expect(plain.threadsError).toContain('not cross-origin isolated');
      expect(plain.threadsError).toContain(`threads = ${THREADS}`);
    });

    it('stays on one thread, starts no worker and loads no threads binary', () => {
      expect(plain.infoOne).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(plain.infoThreads).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(plain.infoBack).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(plain.workersStarted).toEqual([]);
      expect(plain.memories, 'WebAssembly.Memory constructed (shared?)').toEqual([false]);
      expect(plainServer.requests.filter((r) => r.path.endsWith('.wasm')).map((r) => r.path)).toEqual(['/build/wasm-rnn.simd.wasm']);
    });

    it('computes the same bits as the isolated page, before and after the rejection', () => {
      expect(plain.reference.map((r) => r.hash)).toEqual(isolated.reference.map((r) => r.hash));
      for (const r of [...plain.threaded, ...plain.back]) {
        expect(r.parallelCalls, r.name).toBe(0);
        expect(r.difference, `${r.name}: bits differ at ${r.difference}`).toBe('');
      }
    });
  });

  it('logged no console errors, page errors or failed requests', () => {
    expect(problems).toEqual([]);
  });
});

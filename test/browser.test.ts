/**
 * The published ESM bundle (dist/esm/index.js + build/*.wasm) in a real browser: headless Debian Chromium,
 * driven by playwright-core, loads test/browser/index.html from a local static server, selects
 * the wasm-simd backend (the loader fetches build/wasm-rnn.simd.wasm relative to the module;
 * the relaxed-SIMD build is opt-in) and runs
 * every LSTM and GRU PyTorch fixture with the tolerance of test/pytorch.test.ts.
 *
 * Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium
 * (`apt-get install -y chromium`); without it the test fails unless WASM_RNN_SKIP_BROWSER=1,
 * which skips it.
 */
import { statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';
import { fixture, maxAbs, type Json } from './helpers.js';

const REQUIRED = [
  'dist/esm/index.js',
  'build/wasm-rnn.simd.wasm',
  'build/wasm-rnn.relaxed.wasm',
  'build/wasm-rnn.wasm',
];
const MODES = ['LSTM', 'GRU'] as const;
const EPS32 = 2 ** -23;

type Key = 'output' | 'h' | 'c';
interface Case {
  name: string;
  mode: string;
  expected: Record<Key, Json>;
  torch32MaxAbsErr: Record<Key, number>;
}
interface PageResult {
  name: string;
  mode: string;
  error?: string;
  keys: Partial<Record<Key, { shape: number[]; expectedShape: number[]; err: number }>>;
}
interface PageRun {
  backend: string;
  backendAfter: string;
  info: { name: string; binary: string; ready: boolean; threads: number };
  simdSupported: boolean;
  relaxedSimdSupported: boolean;
  ms: number;
  runMs: number;
  userAgent: string;
  compiled: { fn: string; kind: string; byteLength?: number; url?: string }[];
  wasmResources: string[];
  results: PageResult[];
}

/** Same as test/pytorch.test.ts: twice PyTorch's float32 error, floored at 8 ulps of the output's scale. */
function tolerance(c: Case, key: Key): number {
  return Math.max(2 * c.torch32MaxAbsErr[key], 8 * EPS32 * Math.max(1, maxAbs(c.expected[key].data)));
}

const cases = fixture<{ cases: Case[] }>('rnn.json').cases.filter((c) => (MODES as readonly string[]).includes(c.mode));
describe.skipIf(SKIP_BROWSER)('browser: ESM build in headless Chromium (wasm-simd)', () => {
  let server: Server | undefined;
  let baseUrl = '';
  let browser: Browser | undefined;
  let page: Page | undefined;
  let run: PageRun;
  let wallMs = 0;
  const requests: { method: string; path: string; status: number }[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    requireBrowserSetup(REQUIRED);
    ({ server, url: baseUrl } = await startStaticServer(ROOT, { onRequest: (r: (typeof requests)[number]) => requests.push(r) }));
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    collectProblems(page, problems);

    const t0 = performance.now();
    await page.goto(`${baseUrl}/test/browser/index.html`, { waitUntil: 'load', timeout: 60_000 });
    await page
      .waitForFunction(() => typeof (window as unknown as { runFixtures?: unknown }).runFixtures === 'function', null, { timeout: 60_000 })
      .catch((e: Error) => {
        throw new Error(`test page never defined runFixtures: ${problems.join('; ') || e.message}`);
      });
    run = await page.evaluate(
      (modes) => (window as unknown as { runFixtures(m: string[]): Promise<PageRun> }).runFixtures(modes),
      [...MODES],
    );
    wallMs = performance.now() - t0;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
    if (run) {
      const worst = worstRatio(run.results);
      console.log(
        `browser: ${run.results.length} cases on ${run.backend} (${run.info.binary}) in ${run.runMs.toFixed(0)} ms ` +
          `(backend setup ${run.ms.toFixed(0)} ms, page total ${wallMs.toFixed(0)} ms); ` +
          `largest error/tolerance ${worst.ratio.toFixed(3)} (${worst.where}); ${run.userAgent}`,
      );
    }
  }, 60_000);

  it('Chromium validates relaxed SIMD (on by default)', () => {
    expect(run.simdSupported).toBe(true);
    expect(run.relaxedSimdSupported, run.userAgent).toBe(true);
  });

  it('selects wasm-simd and compiles the plain SIMD module (relaxed SIMD is opt-in)', () => {
    const binary = 'simd';
    const file = 'wasm-rnn.simd.wasm';
    expect(run.backend).toBe('wasm-simd');
    expect(run.backendAfter).toBe('wasm-simd');
    expect(run.info).toEqual({ name: 'wasm-simd', binary, ready: true, threads: 1 });
    // The loader fetched that one file relative to dist/esm/ and nothing else…
    const wasmGets = requests.filter((r) => r.path.endsWith('.wasm'));
    expect(wasmGets).toEqual([{ method: 'GET', path: `/build/${file}`, status: 200 }]);
    expect(run.wasmResources).toEqual([`/build/${file}`]);
    // …and those bytes (or that response, should the loader stream) are what was compiled.
    const size = statSync(join(ROOT, 'build', file)).size;
    const compiled = run.compiled.filter((c) => c.kind !== 'module');
    expect(compiled, JSON.stringify(run.compiled)).toHaveLength(1);
    const [only] = compiled;
    if (only.kind === 'bytes') expect(only.byteLength, 'compiled byte length').toBe(size);
    else expect(only.url ?? '', 'compiled response').toMatch(new RegExp(`/build/${file.replace(/\./g, '\\.')}$`));
  });

  it(`ran every ${MODES.join('/')} fixture case (at least 30)`, () => {
    expect(run.results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
    expect(run.results.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const r = run.results.find((x) => x.name === name);
    expect(r, 'case missing from the page results').toBeDefined();
    expect(r!.error, 'threw in the browser').toBeUndefined();
    const keys: Key[] = c.mode === 'LSTM' ? ['output', 'h', 'c'] : ['output', 'h'];
    expect(Object.keys(r!.keys).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const got = r!.keys[key]!;
      expect(got.shape, key).toEqual(c.expected[key].shape);
      expect(got.expectedShape, key).toEqual(c.expected[key].shape);
      expect(got.err, `${key}: error ${got.err} vs PyTorch float32 ${c.torch32MaxAbsErr[key]}`).toBeLessThanOrEqual(tolerance(c, key));
    }
  });

  it('logged no console errors, page errors or failed requests', () => {
    expect(problems).toEqual([]);
  });
});

function worstRatio(results: PageResult[]): { ratio: number; where: string } {
  let ratio = 0, where = '-';
  for (const r of results) {
    const c = cases.find((x) => x.name === r.name);
    if (!c) continue;
    for (const [key, v] of Object.entries(r.keys) as [Key, { err: number }][]) {
      const q = v.err / tolerance(c, key);
      if (q > ratio) (ratio = q), (where = `${r.name} ${key}`);
    }
  }
  return { ratio, where };
}

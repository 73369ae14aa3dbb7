/**
 * wasm-rnn/tfjs in a real browser (headless Debian Chromium, as test/browser.test.ts): the
 * published bundles load a committed TF.js model (test/fixtures/tfjs) through fetch, resolving
 * its path and its shards' paths against the page, and predict tfjs's numbers.
 *
 * Needs `npm run build` first and /usr/bin/chromium; WASM_RNN_SKIP_BROWSER=1 skips it.
 */
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';

interface Run {
  backend: string;
  hasProcess: boolean;
  isCoreTensor: boolean;
  shape: number[];
  err: number;
  modules: string[];
  defaultModel: string;
  missing: string;
  importTfjs: string;
}

describe.skipIf(SKIP_BROWSER)('browser: wasm-rnn/tfjs in headless Chromium', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let run: Run;
  const requests: { method: string; path: string; status: number }[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    requireBrowserSetup(['dist/esm/index.js', 'dist/esm/tfjs.js', 'build/wasm-rnn.simd.wasm']);
    let url: string;
    ({ server, url } = await startStaticServer(ROOT, { onRequest: (r: (typeof requests)[number]) => requests.push(r) }));
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    collectProblems(page, problems);
    await page.goto(`${url}/test/browser/tfjs.html`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => typeof (window as unknown as { runTfjs?: unknown }).runTfjs === 'function', null, { timeout: 60_000 });
    run = await page.evaluate(() => (window as unknown as { runTfjs(): Promise<Run> }).runTfjs());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
  }, 60_000);

  it('loads model.json and its five shards relative to the page and predicts tfjs\'s numbers', () => {
    expect(run.hasProcess).toBe(false);
    expect(run.backend).toBe('wasm-simd');
    expect(run.isCoreTensor).toBe(true);
    expect(run.shape).toEqual([2, 2]);
    expect(run.err).toBeLessThan(2e-6);
    expect(run.modules).toEqual(['Embedding', 'LSTM', 'FinalHidden', 'MergeDirections', 'Linear', 'Softmax']);
    const got = requests.filter((r) => r.path.startsWith('/test/fixtures/tfjs/classifier-sigmoid/')).map((r) => r.path);
    expect(got).toEqual([
      '/test/fixtures/tfjs/classifier-sigmoid/expected.json',
      '/test/fixtures/tfjs/classifier-sigmoid/model.json',
      ...[1, 2, 3, 4, 5].map((k) => `/test/fixtures/tfjs/classifier-sigmoid/group1-shard${k}of5.bin`),
    ]);
  });

  it('refuses what it does not support, and a missing file, with its own messages', () => {
    expect(run.defaultModel).toBe('imported');
    expect(run.missing).toMatch(/^loadTfjs: fetching model\.json 'http:\/\/127\.0\.0\.1:\d+\/test\/fixtures\/tfjs\/missing\/model\.json' failed: HTTP 404/);
  });

  it('logged no errors but the 404 it asked for', () => {
    // loadTfjs reads bodies as streams (to cut off one longer than the manifest says), and
    // Chromium reports a streamed fetch as ERR_ABORTED to the DevTools protocol even when the
    // body was read to its end (the numbers above came from those bytes; the server sent 200).
    const streamed = (p: string): boolean => /^request failed: .*\/test\/fixtures\/tfjs\/classifier-\w+\/[\w.-]+ \(net::ERR_ABORTED\)$/.test(p);
    expect(problems.filter((p) => !/missing\/model\.json/.test(p) && !streamed(p))).toEqual([]);
    expect(requests.filter((r) => r.path.startsWith('/test/fixtures/tfjs/classifier-')).every((r) => r.status === 200)).toBe(true);
  });
});

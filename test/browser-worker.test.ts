/**
 * wasm-rnn/worker in headless Chromium: test/browser/worker.html imports dist/esm/worker.js,
 * which starts dist/esm/worker-main.js as a module Web Worker; a forward, a short fit (events
 * streamed to the page) and generate (pieces streamed) there must equal the same models run on
 * the page, bit for bit. Needs `npm run build` and /usr/bin/chromium (WASM_RNN_SKIP_BROWSER=1 skips).
 */
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';

interface Failure {
  name: string;
  message: string;
}
interface PageRun {
  info: { name: string; binary: string; ready: boolean; threads: number };
  infoHere: PageRun['info'];
  forwardIsTensor: boolean;
  forwardShape: number[];
  forwardSame: boolean;
  steps: { loss: number; resolvedBefore: boolean }[];
  fitSteps: number;
  fitStepsHere: number;
  lossesSame: boolean;
  lossFell: boolean;
  weightsSame: boolean;
  text: string;
  textHere: string;
  pieces: number;
  piecesJoin: boolean;
  savedSame: boolean;
  detached: number;
  unknownClass: Failure;
  badArgument: Failure;
  badArgumentHere: Failure;
  afterTerminate: Failure;
  workers: { url: string; type: string }[];
}

describe.skipIf(SKIP_BROWSER)('browser: wasm-rnn/worker in a module Web Worker (Chromium)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let run: PageRun;
  const problems: string[] = [];
  const requests: { path: string; status: number }[] = [];

  beforeAll(async () => {
    requireBrowserSetup(['dist/esm/index.js', 'dist/esm/worker.js', 'dist/esm/worker-main.js', 'build/wasm-rnn.simd.wasm']);
    let url: string;
    ({ server, url } = await startStaticServer(ROOT, { onRequest: (r: { path: string; status: number }) => requests.push(r) }));
    browser = await launchChromium();
    const page: Page = await browser.context.newPage();
    collectProblems(page, problems);
    await page.goto(`${url}/test/browser/worker.html`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => typeof (window as unknown as { runWorker?: unknown }).runWorker === 'function', null, { timeout: 60_000 })
      .catch((e: Error) => {
        throw new Error(`worker.html never defined runWorker: ${problems.join('; ') || e.message}`);
      });
    run = await page.evaluate(() => (window as unknown as { runWorker(): Promise<PageRun> }).runWorker());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
  });

  it('spawns dist/esm/worker-main.js as one module worker, which loads the SIMD build', () => {
    expect(problems).toEqual([]);
    expect(run.workers).toEqual([{ url: '/dist/esm/worker-main.js', type: 'module' }]);
    expect(run.info).toEqual(run.infoHere);
    expect(run.info).toMatchObject({ name: 'wasm-simd', binary: 'simd', ready: true });
    expect(requests.filter((r) => r.path.endsWith('.wasm')).map((r) => [r.path, r.status])).toContainEqual(['/build/wasm-rnn.simd.wasm', 200]);
  });

  it('a forward in the worker equals the page, bit for bit, as a Tensor', () => {
    expect(run.forwardIsTensor).toBe(true);
    expect(run.forwardShape).toEqual([7, 2, 16]);
    expect(run.forwardSame).toBe(true);
  });

  it('fit streams every step before it resolves and trains exactly as on the page', () => {
    expect(run.fitSteps).toBeGreaterThan(4);
    expect(run.fitSteps).toBe(run.fitStepsHere);
    expect(run.steps).toHaveLength(run.fitSteps);
    expect(run.steps.every((s) => !s.resolvedBefore)).toBe(true);
    expect(run.lossesSame).toBe(true);
    expect(run.lossFell).toBe(true);
    expect(run.weightsSame).toBe(true);
  });

  it('generate streams pieces that join to the text generateText writes on the page; save() loads on the page', () => {
    expect(run.text.length).toBeGreaterThan(10);
    expect(run.pieces).toBeGreaterThan(10);
    expect(run.piecesJoin).toBe(true);
    expect(run.text).toBe(run.textHere);
    expect(run.savedSame).toBe(true);
  });

  it('transfer() detaches the page buffer; errors keep the core class and message; terminate() ends calls', () => {
    expect(run.detached).toBe(0);
    expect(run.unknownClass.name).toBe('TypeError');
    expect(run.unknownClass.message).toMatch(/^create: 'Nope' is not a registered class/);
    expect(run.badArgument).toEqual(run.badArgumentHere);
    expect(run.badArgument.message).toMatch(/LSTM\.forward/);
    expect(run.afterTerminate.message).toMatch(/spawnWorker: the worker was terminated/);
  });
});

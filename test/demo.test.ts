/**
 * The browser demo (examples/browser/, as `node examples/serve.js` serves it) in headless Debian
 * Chromium, driven through its buttons like a user: it trains the character model in its Web
 * Worker until the smoothed loss has fallen LOSS_DROP nats below the mean of the first steps
 * (within TRAIN_BUDGET_S), with no long task on the page's thread over MAX_LONG_TASK_MS
 * meanwhile; it generates non-empty streamed text; the streaming forecaster beats persistence;
 * the model saved to IndexedDB survives a reload and generates the same text with the same
 * seed, and so does its .safetensors download, in the page and in Node. A screenshot of the
 * trained page is written to the temp folder (the path is printed).
 *
 * Needs `npm run build` first and /usr/bin/chromium (WASM_RNN_SKIP_BROWSER=1 skips it).
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { load, ready, type LanguageModel } from '../src/index.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';

/**
 * Measured here (2 cores shared with other work, Chromium, LSTM 1×128, 6–16k tokens/s): the
 * first 5 steps average 3.76 nats; the smoothed loss is 1.26 below that after 2 s of training,
 * 1.49 after 4 s, 1.72 after 6 s and 1.86 after 10 s. Falling 1.5 nats within 30 s leaves room
 * for a machine 5× slower.
 */
const FIRST_STEPS = 5;
const LOSS_DROP = 1.5;
const TRAIN_BUDGET_S = 30;
/** A frozen tab is one whose tasks run for seconds; the page's own work (chart, forecaster) is a few ms a frame. */
const MAX_LONG_TASK_MS = 200;
/** Readings before the forecaster's error (over the last 200) is compared with persistence's. */
const FORECAST_READINGS = 800;

interface LongTask { start: number; duration: number; inSpan: boolean }
interface Sample { prefix: string; maxTokens: number; temperature: number; seed: number; text: string; pieces: number }
interface DemoState {
  status: string;
  notes: string[];
  page: { name: string; binary: string; ready: boolean; threads: number } | null;
  worker: { name: string; binary: string; ready: boolean; threads: number } | null;
  losses: { step: number; loss: number; t: number }[];
  smoothed: number;
  tokensPerSecond: number;
  longTasks: { tasks: LongTask[]; spans: [number, number | null][] };
  samples: Sample[];
  saved?: { bytes: number; steps: number };
  loaded?: { bytes: number };
  lm: { running: boolean; steps: number; trainSeconds: number } | null;
  forecast: { stats(): { points: number; maeModel: number; maePersistence: number; stepMs: number } } | null;
}
type W = Window & { demo: DemoState };

describe.skipIf(SKIP_BROWSER)('the browser demo (examples/browser) in headless Chromium', () => {
  let server: Server | undefined;
  let baseUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  const measured: Record<string, unknown> = {};

  const state = () => page.evaluate(() => {
    const d = (window as unknown as W).demo;
    return {
      status: d.status, notes: d.notes, page: d.page, worker: d.worker, smoothed: d.smoothed, tokensPerSecond: d.tokensPerSecond,
      losses: d.losses, longTasks: d.longTasks.tasks, spans: d.longTasks.spans, samples: d.samples, saved: d.saved, loaded: d.loaded,
      running: d.lm?.running ?? false, steps: d.lm?.steps ?? 0, trainSeconds: d.lm?.trainSeconds ?? 0,
      forecast: d.forecast?.stats() ?? null,
    };
  });

  async function openDemo(): Promise<void> {
    await page.goto(`${baseUrl}/examples/browser/`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => document.body.dataset.status !== 'running', null, { timeout: 60_000 });
    const s = await state();
    expect(s.status, `${s.notes.join('; ')} ${problems.join('; ')}`).toBe('ready');
  }

  /** Clicks Generate with these settings and resolves to the sample once it has been streamed. */
  async function generate(seed: number, temperature: number, length: number): Promise<Sample & { shown: string }> {
    const before = (await state()).samples.length;
    await page.fill('#seed', String(seed));
    await page.fill('#length', String(length));
    await page.locator('#temperature').evaluate((el, t) => {
      (el as HTMLInputElement).value = String(t);
      el.dispatchEvent(new Event('input'));
    }, temperature);
    await page.click('#generate');
    await page.waitForFunction((n) => (window as unknown as W).demo.samples.length > n, before, { timeout: 30_000 });
    const sample = (await state()).samples[before];
    return { ...sample, shown: await page.locator('#sample').innerText() };
  }

  beforeAll(async () => {
    requireBrowserSetup(['dist/esm/index.js', 'dist/esm/worker.js', 'build/wasm-rnn.simd.wasm', 'examples/data/moby-dick.txt']);
    ({ server, url: baseUrl } = await startStaticServer(ROOT));
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 1000 });
    collectProblems(page, problems);
    page.on('console', (msg) => {
      if (msg.type() === 'warning') problems.push(`console.warn: ${msg.text()}`);
    });
    await openDemo();
  }, 90_000);

  afterAll(async () => {
    console.log(`demo: ${JSON.stringify(measured)}`);
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
  }, 60_000);

  it('says which backend and binary run, in the worker and on the page', async () => {
    const s = await state();
    expect(s.worker).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
    expect(s.page).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
    expect(s.notes).toEqual([]);
    const panel = await page.locator('#backend').innerText();
    expect(panel).toMatch(/training worker\s+wasm-simd · simd binary · 1 thread/);
    expect(panel).toMatch(/relaxed SIMD\s+yes/);
    expect(panel).toMatch(/threads\s+no: page not cross-origin isolated/);
  });

  it(`trains in the worker until the loss falls ${LOSS_DROP} nats, the page never blocked ${MAX_LONG_TASK_MS} ms`, async () => {
    await page.click('#train');
    const t0 = Date.now();
    await page
      .waitForFunction(
        ([k, drop]) => {
          const d = (window as unknown as W).demo;
          if (d.losses.length < k + 20) return false;
          const first = d.losses.slice(0, k).reduce((s, l) => s + l.loss, 0) / k;
          return first - d.smoothed >= drop;
        },
        [FIRST_STEPS, LOSS_DROP] as const,
        { timeout: TRAIN_BUDGET_S * 1000, polling: 250 },
      )
      .catch(async () => {
        const s = await state();
        throw new Error(`the loss did not fall ${LOSS_DROP} nats in ${TRAIN_BUDGET_S} s: ${s.losses.length} steps, smoothed ${s.smoothed}`);
      });
    const s = await state();
    const first = s.losses.slice(0, FIRST_STEPS).reduce((a, l) => a + l.loss, 0) / FIRST_STEPS;
    Object.assign(measured, {
      secondsToDrop: (Date.now() - t0) / 1000, steps: s.steps, firstLoss: +first.toFixed(3), smoothed: +s.smoothed.toFixed(3),
      tokensPerSecond: Math.round(s.tokensPerSecond),
    });
    expect(s.running).toBe(true);
    expect(first - s.smoothed).toBeGreaterThanOrEqual(LOSS_DROP);
    expect(s.tokensPerSecond).toBeGreaterThan(0);
    // The page showed it: the stats line and a drawn chart.
    expect(Number(await page.locator('#s-step').innerText())).toBeGreaterThan(FIRST_STEPS);
    const shown = await page.evaluate(() => ({ loss: document.getElementById('s-loss')!.textContent, smoothed: (window as unknown as W).demo.smoothed }));
    expect(shown.loss).toBe(shown.smoothed.toFixed(3));
    const inked = await page.locator('#loss-chart').evaluate((c) => {
      const cv = c as HTMLCanvasElement, data = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let blue = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && data[i + 2] > 150 && data[i] < 80) blue++;
      return blue;
    });
    expect(inked, 'pixels of the smoothed loss line').toBeGreaterThan(200);

    await page.click('#train'); // pause
    await page.waitForFunction(() => !(window as unknown as W).demo.lm!.running, null, { timeout: 10_000 });
    await page.waitForTimeout(500); // the observer reports a task after it ended
    const after = await state();
    // Training was one span, from the click to the end of the last slice: the tasks checked are those that overlapped it.
    expect(after.spans).toHaveLength(1);
    expect(after.spans[0][1]! - after.spans[0][0]).toBeGreaterThan(1000);
    const tasks = after.longTasks.filter((t) => t.inSpan);
    const longest = Math.max(0, ...tasks.map((t) => t.duration));
    Object.assign(measured, { longTasksWhileTraining: tasks.length, longestTaskMs: Math.round(longest) });
    expect(longest, JSON.stringify(tasks)).toBeLessThan(MAX_LONG_TASK_MS);
    // The measurement is live: a task that blocks the page for 150 ms (training paused) is seen.
    await page.evaluate(() => new Promise<void>((done) => setTimeout(() => {
      const t = performance.now();
      while (performance.now() - t < 150);
      done();
    })));
    await page.waitForFunction(() => (window as unknown as W).demo.longTasks.tasks.some((t) => !t.inSpan && t.duration >= 140), null, { timeout: 5_000 });
  }, (TRAIN_BUDGET_S + 20) * 1000);

  it('generates non-empty text while it trains, streamed as it is sampled', async () => {
    await page.click('#train'); // resume: the request waits at most one training slice in the worker
    const g = await generate(7, 0.8, 200);
    await page.click('#train');
    await page.waitForFunction(() => !(window as unknown as W).demo.lm!.running, null, { timeout: 10_000 });
    Object.assign(measured, { sample: g.text.slice(0, 80), pieces: g.pieces });
    expect(g.text.length).toBeGreaterThan(0);
    expect(g.text.length).toBeLessThanOrEqual(200);
    expect(g.pieces, 'the text arrived in more than one piece').toBeGreaterThan(1);
    expect(g.shown).toBe(`${g.prefix}${g.text}`);
    // A trained model writes mostly letters and spaces, not noise.
    expect((g.text.match(/[a-z ]/gi) ?? []).length / g.text.length).toBeGreaterThan(0.7);
  }, 40_000);

  it('the streaming forecaster runs one reading at a time and beats persistence', async () => {
    // 60 readings a second (2 a frame at most): it has learned the signal after about 500.
    await page.waitForFunction((n) => (window as unknown as W).demo.forecast!.stats().points >= n, FORECAST_READINGS, { timeout: 30_000 });
    const f = (await state()).forecast!;
    Object.assign(measured, { forecast: { points: f.points, mae: +f.maeModel.toFixed(4), persistence: +f.maePersistence.toFixed(4), ms: +f.stepMs.toFixed(2) } });
    expect(f.points).toBeGreaterThanOrEqual(FORECAST_READINGS);
    expect(f.maeModel).toBeLessThan(0.8 * f.maePersistence);
  }, 40_000);

  it('takes a screenshot of the trained page', async () => {
    const path = join(tmpdir(), 'wasm-rnn-demo.png');
    await page.screenshot({ path, fullPage: true });
    measured.screenshot = path;
  });

  it('saves to IndexedDB, and after a reload the loaded model writes the same text with the same seed', async () => {
    const before = await generate(11, 0.9, 120);
    await page.click('#save');
    await page.waitForFunction(() => (window as unknown as W).demo.saved !== undefined, null, { timeout: 20_000 });
    const saved = (await state()).saved!;
    expect(saved.bytes).toBeGreaterThan(1000);

    await openDemo(); // a fresh page: a new worker with a new, untrained model
    const untrained = await generate(11, 0.9, 120);
    expect(untrained.text).not.toBe(before.text);
    await page.click('#load');
    await page.waitForFunction(() => (window as unknown as W).demo.loaded !== undefined, null, { timeout: 20_000 });
    expect((await state()).loaded!.bytes).toBe(saved.bytes);
    const after = await generate(11, 0.9, 120);
    expect(after.text).toBe(before.text);
    expect(await page.locator('#save-status').innerText()).toMatch(/^loaded the model saved/);
  }, 60_000);

  it('downloads a .safetensors that Node loads (same text with the same seed), and opens it back in the page', async () => {
    const before = await generate(5, 0.6, 100);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('char-lm.safetensors');
    const file = join(tmpdir(), `wasm-rnn-demo-${process.pid}.safetensors`);
    await download.saveAs(file);
    try {
      // The same file in Node: the core's load() with the tokenizer inside, the same SIMD kernels.
      await ready();
      const lm = load(readFileSync(file)) as LanguageModel;
      expect(lm.generateText(before.prefix, { maxTokens: 100, temperature: 0.6, seed: 5 })).toBe(before.text);
      lm.dispose();
      await page.click('#new-model');
      await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('new '), null, { timeout: 20_000 });
      expect((await generate(5, 0.6, 100)).text).not.toBe(before.text);
      await page.setInputFiles('#open', file);
      await page.waitForFunction(() => /^loaded wasm-rnn-demo-\d+\.safetensors; training continues/.test(document.getElementById('save-status')!.textContent!), null, { timeout: 20_000 });
      expect((await generate(5, 0.6, 100)).text).toBe(before.text);
    } finally {
      rmSync(file, { force: true });
    }
  }, 60_000);

  it('falls back gracefully: threads asked for on a page that is not cross-origin isolated', async () => {
    const other = await browser!.context.newPage();
    try {
      collectProblems(other, problems, '?threads=2');
      await other.goto(`${baseUrl}/examples/browser/?threads=2`, { waitUntil: 'load', timeout: 60_000 });
      await other.waitForFunction(() => document.body.dataset.status !== 'running', null, { timeout: 60_000 });
      const s = await other.evaluate(() => {
        const d = (window as unknown as W).demo;
        return { status: d.status, notes: d.notes, worker: d.worker };
      });
      expect(s.status).toBe('ready');
      expect(s.worker).toEqual({ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 });
      expect(s.notes).toEqual([expect.stringMatching(/^worker with \{"threads":2\} failed \(ready: threads = 2 needs SharedArrayBuffer.*\); using the defaults$/)]);
      expect(await other.locator('#backend').innerText()).toMatch(/note\s+worker with/);
      expect(await other.locator('#want-threads').inputValue()).toBe('2');
    } finally {
      await other.close();
    }
  }, 60_000);

  it('logged no console errors or warnings, page errors or failed requests', () => {
    expect(problems).toEqual([]);
  });
});

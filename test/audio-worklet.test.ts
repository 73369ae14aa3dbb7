/**
 * examples/audio-worklet/ in headless Chromium: the noise-gate processor — imported by
 * audioWorklet.addModule as an ES module, set up with initSync(module) and load(bytes) inside an
 * AudioWorkletGlobalScope (no fetch, no TextDecoder), one GRU step per render quantum — renders
 * a test signal in an OfflineAudioContext; its output equals the same model run in Node on the
 * same input, bit for bit (the same SIMD kernels, and JavaScript's IEEE double arithmetic around
 * them), and the gate does its job: the SNR against the clean tones rises by at least 3 dB
 * (measured: 8.7 → 13.0 dB on this signal). The live page's Start button is clicked too.
 *
 * Needs `npm run build` first and /usr/bin/chromium (WASM_RNN_SKIP_BROWSER=1 skips).
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
// @ts-ignore -- plain JS
import { NoiseGate } from '../examples/audio-worklet/noise-gate.js';
// @ts-ignore -- plain JS
import { snrDb, testSignal } from '../examples/audio-worklet/signal.js';
import { load, setBackend, type Sequential } from '../src/index.js';
import { ROOT, SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';

const RATE = 48000;
const SECONDS = 3; // 144 000 samples: 1125 render quanta exactly
const MODEL = 'examples/audio-worklet/noise-gate.safetensors';
const MIN_GAIN_DB = 3;

interface Signal { noisy: Float32Array; clean: Float32Array }

describe.skipIf(SKIP_BROWSER)('AudioWorklet noise gate (examples/audio-worklet) in headless Chromium', () => {
  let server: Server | undefined;
  let baseUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  const signal: Signal = testSignal({ seconds: SECONDS, sampleRate: RATE, seed: 3 });
  let browserOut: Float32Array;
  let nodeOut: Float32Array;

  beforeAll(async () => {
    requireBrowserSetup(['dist/esm/index.js', 'build/wasm-rnn.simd.wasm', MODEL]);
    // Node: the same model and the same gate code on the default plain-SIMD kernels.
    await setBackend('wasm-simd');
    const model = load(readFileSync(join(ROOT, MODEL))) as Sequential;
    nodeOut = new NoiseGate(model).run(signal.noisy, 128);
    model.dispose();

    ({ server, url: baseUrl } = await startStaticServer(ROOT));
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    collectProblems(page, problems);
    await page.goto(`${baseUrl}/examples/audio-worklet/index.html`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => typeof (window as unknown as { renderOffline?: unknown }).renderOffline === 'function', null, { timeout: 60_000 });
    const samples = await page.evaluate(async ({ noisy, rate }) => {
      const w = window as unknown as { renderOffline(x: Float32Array, rate: number): Promise<Float32Array> };
      return Array.from(await w.renderOffline(new Float32Array(noisy), rate));
    }, { noisy: Array.from(signal.noisy), rate: RATE });
    browserOut = Float32Array.from(samples);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
  }, 60_000);

  it('renders every sample, with no page errors', () => {
    expect(problems).toEqual([]);
    expect(browserOut.length).toBe(signal.noisy.length);
  });

  it("equals the same model run in Node, bit for bit", () => {
    const a = new Uint32Array(browserOut.buffer), b = new Uint32Array(nodeOut.buffer);
    let differ = 0, first = -1;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        differ++;
        if (first < 0) first = i;
      }
    }
    expect(differ, first < 0 ? '' : `first difference at sample ${first}: ${browserOut[first]} vs ${nodeOut[first]}`).toBe(0);
  });

  it(`removes noise: the SNR against the clean tones rises by at least ${MIN_GAIN_DB} dB`, () => {
    const before = snrDb(signal.noisy, signal.clean), after = snrDb(browserOut, signal.clean);
    console.log(`AudioWorklet noise gate: SNR ${before.toFixed(2)} dB in, ${after.toFixed(2)} dB out`);
    expect(after - before).toBeGreaterThanOrEqual(MIN_GAIN_DB);
  });

  it('the live page starts (Start: an AudioContext with the gate) and reports its offline check', async () => {
    await page.click('#start');
    await page.waitForFunction(() => /offline check: SNR/.test(document.getElementById('out')!.textContent ?? '') ||
      /error/.test(document.getElementById('out')!.textContent ?? ''), null, { timeout: 60_000 });
    const text = await page.textContent('#out');
    expect(text).toMatch(/playing at \d+ Hz/);
    const m = /SNR (-?[\d.]+) dB in, (-?[\d.]+) dB out/.exec(text ?? '');
    expect(m, text ?? '').not.toBeNull();
    expect(Number(m![2]) - Number(m![1])).toBeGreaterThanOrEqual(MIN_GAIN_DB);
    await page.click('#start'); // stops (closes the context)
    expect(problems).toEqual([]);
  }, 90_000);
});

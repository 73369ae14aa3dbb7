/**
 * examples/audio-worklet/ in headless Chromium: the noise-gate processor — imported by
 * audioWorklet.addModule as an ES module, set up with initSync(module) and load(bytes) inside an
 * AudioWorkletGlobalScope (no fetch, no TextDecoder), one GRU step per render quantum — renders
 * a test signal in an OfflineAudioContext; its output equals the same model run in Node on the
 * same input, bit for bit (the same SIMD kernels, and JavaScript's IEEE double arithmetic around
 * them), and the gate does its job: the SNR against the clean tones rises by at least 3 dB
 * (measured: 8.7 → 13.0 dB on this signal). The live page's Start button is clicked too.
 *
 * README.md's "Real-time audio: AudioWorklet" section runs too: its two code blocks (a one-file
 * processor.js and the page's setup.js), taken from README.md at test time, are written into a
 * temporary served root outside the repository with the layout their relative URLs expect
 * (examples/audio-worklet/ beside dist/esm/ and build/), and render the same signal; their
 * output must equal the example's bit for bit. The section's claims about the worklet's global
 * scope (no fetch, import(), TextDecoder or URL) and its SNR figures are checked as well.
 *
 * Needs `npm run build` first and /usr/bin/chromium (WASM_RNN_SKIP_BROWSER=1 skips).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
import { readmeBlock } from './tarball.js';

const RATE = 48000;
const SECONDS = 3; // 144 000 samples: 1125 render quanta exactly
const MODEL = 'examples/audio-worklet/noise-gate.safetensors';
const MIN_GAIN_DB = 3;

interface Signal { noisy: Float32Array; clean: Float32Array }

const README_SECTION = '## Real-time audio: AudioWorklet';
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_PROCESSOR = readmeBlock(readme, README_SECTION, 'js', '// processor.js');
const README_SETUP = readmeBlock(readme, README_SECTION, 'js', '// setup.js');

/**
 * The only changes made to the README's setup.js, each [README text, replacement]: the offline
 * context the README's own comment names instead of a live AudioContext, and `source` (which
 * the README leaves to the reader) defined as a buffer source of the test signal.
 */
const SETUP_SUBSTITUTIONS: ReadonlyArray<readonly [string, string]> = [
  ['new AudioContext()', 'new OfflineAudioContext(1, length, 48000)'],
  ['source.connect(gate)', 'const source = new AudioBufferSourceNode(context, { buffer: bufferOf(context, input) });\nsource.connect(gate)'],
];
/** Put before the README's setup.js: the `length` its comment uses, and the test signal. */
const SETUP_PRELUDE = `// test/audio-worklet.test.ts: the test signal, set by the test before it imports this module.
const input = window.readmeInput, length = input.length;
function bufferOf(context, samples) {
  const buffer = context.createBuffer(1, samples.length, context.sampleRate);
  buffer.copyToChannel(samples, 0);
  return buffer;
}
`;
/** Put after it: start the source and render. */
const SETUP_EPILOGUE = `
// test/audio-worklet.test.ts: render offline; the importer reads the output.
source.start(0);
export const rendered = (await context.startRendering()).getChannelData(0);
`;

/** README setup.js with SETUP_SUBSTITUTIONS applied, each of which must occur exactly once. */
function readmeSetupForTest(): string {
  let code = README_SETUP;
  for (const [from, to] of SETUP_SUBSTITUTIONS) {
    const count = code.split(from).length - 1;
    if (count !== 1) throw new Error(`README ${README_SECTION}: setup.js should contain '${from}' once (the test replaces it), found ${count}`);
    code = code.replace(from, to);
  }
  return SETUP_PRELUDE + code + SETUP_EPILOGUE;
}

/**
 * An AudioWorklet module that reports what the worklet's global scope offers, for the README's
 * "no fetch, no import(), no TextDecoder, no URL".
 */
const SCOPE_PROBE = `const dynamicImport = (async () => {
  try {
    await import('./probe-target.js');
    return 'resolved';
  } catch (err) {
    return 'rejected: ' + err;
  }
})();
registerProcessor('scope-probe', class extends AudioWorkletProcessor {
  constructor() {
    super();
    dynamicImport.then((dynamicImport) => this.port.postMessage({
      fetch: typeof fetch, TextDecoder: typeof TextDecoder, URL: typeof URL, dynamicImport,
    }));
  }
  process() { return false; }
});
`;

/** The page the README's setup.js belongs to; runReadmeSetup(samples) imports it and resolves to its output. */
const README_PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>README AudioWorklet blocks</title>
<script type="module">
  window.runReadmeSetup = async (samples) => {
    window.readmeInput = samples;
    return (await import('./setup.js')).rendered;
  };
</script>
`;

interface ScopeReport { fetch: string; TextDecoder: string; URL: string; dynamicImport: string }

/**
 * A temporary root (outside the repository, so a failed run leaves nothing behind) laid out as
 * the README blocks' relative URLs expect: examples/audio-worklet/{processor,setup}.js from the
 * README beside the example's model, two levels below copies of dist/esm and build.
 */
function writeReadmeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'wasm-rnn-readme-worklet-'));
  const copy = (path: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    copyFileSync(join(ROOT, path), join(root, path));
  };
  for (const path of ['dist/esm/index.js', 'build/wasm-rnn.simd.wasm', 'build/wasm-rnn.wasm', MODEL]) copy(path);
  const dir = join(root, 'examples/audio-worklet');
  writeFileSync(join(dir, 'processor.js'), README_PROCESSOR);
  writeFileSync(join(dir, 'setup.js'), readmeSetupForTest());
  writeFileSync(join(dir, 'scope-probe.js'), SCOPE_PROBE);
  writeFileSync(join(dir, 'probe-target.js'), 'export const loaded = true;\n');
  writeFileSync(join(dir, 'index.html'), README_PAGE);
  return root;
}

describe.skipIf(SKIP_BROWSER)('AudioWorklet noise gate (examples/audio-worklet) in headless Chromium', () => {
  let server: Server | undefined;
  let baseUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  const signal: Signal = testSignal({ seconds: SECONDS, sampleRate: RATE, seed: 3 });
  let browserOut: Float32Array;
  let nodeOut: Float32Array;
  let readmeRoot: string | undefined;
  let readmeServer: Server | undefined;
  const readmeProblems: string[] = [];
  let readmeOut: Float32Array;
  let scope: ScopeReport;

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

    // The README's blocks, on a page of their own in the temporary root.
    readmeRoot = writeReadmeRoot();
    let readmeUrl: string;
    ({ server: readmeServer, url: readmeUrl } = await startStaticServer(readmeRoot));
    const readmePage = await browser.context.newPage();
    collectProblems(readmePage, readmeProblems, 'README blocks');
    await readmePage.goto(`${readmeUrl}/examples/audio-worklet/index.html`, { waitUntil: 'load', timeout: 60_000 });
    // The README's processor reports no errors (it never posts 'ready' if setup throws), so a
    // broken block shows as a render that never ends: give up early and say what the page saw.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const readmeSamples = await Promise.race([
      readmePage.evaluate(async ({ noisy }) => {
        const w = window as unknown as { runReadmeSetup(x: Float32Array): Promise<Float32Array> };
        return Array.from(await w.runReadmeSetup(new Float32Array(noisy)));
      }, { noisy: Array.from(signal.noisy) }),
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`the README blocks did not finish rendering in 60 s; page problems: ${JSON.stringify(readmeProblems)}`)), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    readmeOut = Float32Array.from(readmeSamples);
    scope = await readmePage.evaluate(async () => {
      const context = new OfflineAudioContext(1, 128, 48000);
      await context.audioWorklet.addModule('./scope-probe.js');
      const probe = new AudioWorkletNode(context, 'scope-probe');
      return new Promise<ScopeReport>((ok) => { probe.port.onmessage = ({ data }) => ok(data as ScopeReport); });
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((ok) => server!.close(() => ok()));
    if (readmeServer) await new Promise<void>((ok) => readmeServer!.close(() => ok()));
    if (readmeRoot) rmSync(readmeRoot, { recursive: true, force: true });
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

  it("README: the section's SNR figures are this signal's, to the printed digit", () => {
    const m = /the SNR against the clean tones rises from (-?[\d.]+) to (-?[\d.]+) dB/.exec(readme.replace(/\s+/g, ' '));
    expect(m, 'README: "the SNR against the clean tones rises from X to Y dB"').not.toBeNull();
    expect([m![1], m![2]]).toEqual([snrDb(signal.noisy, signal.clean).toFixed(1), snrDb(browserOut, signal.clean).toFixed(1)]);
  });

  it("README: the worklet scope has no fetch, import(), TextDecoder or URL, as the section says", () => {
    expect(readme.replace(/\s+/g, ' ')).toContain('no `fetch`, no `import()` (static imports only), no `TextDecoder`, no `URL`');
    expect({ ...scope, dynamicImport: scope.dynamicImport.split(':')[0] }, `import(): ${scope.dynamicImport}`).toEqual({
      fetch: 'undefined', TextDecoder: 'undefined', URL: 'undefined', dynamicImport: 'rejected',
    });
  });

  it("README: its processor.js and setup.js blocks render every sample, with no page errors", () => {
    expect(readmeProblems).toEqual([]);
    expect(readmeOut.length).toBe(signal.noisy.length);
  });

  it("README: its blocks' output equals the example's, bit for bit", () => {
    const a = new Uint32Array(readmeOut.buffer), b = new Uint32Array(browserOut.buffer);
    let differ = 0, first = -1;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        differ++;
        if (first < 0) first = i;
      }
    }
    expect(differ, first < 0 ? '' : `first difference at sample ${first}: ${readmeOut[first]} vs ${browserOut[first]}`).toBe(0);
  });

  it(`README: its gate removes noise too (SNR up by at least ${MIN_GAIN_DB} dB)`, () => {
    const before = snrDb(signal.noisy, signal.clean), after = snrDb(readmeOut, signal.clean);
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

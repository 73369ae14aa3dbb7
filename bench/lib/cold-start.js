/**
 * Cold start: import of the published bundle + ready() + the first forward of a small LSTM
 * (LSTM inputSize 8, hiddenSize 32, one layer; a [16, 1, 8] sequence), in Node (a fresh process
 * per run) and in Chromium (a fresh browser context — its own renderer, no HTTP or code cache —
 * per run, on a page served from localhost with no-store). Medians of the runs, by part:
 *   import   the bundle's import (Node: read + compile + evaluate; Chromium: fetch too, which
 *            is reported on its own as downloads.bundle, and downloads.wasm within ready)
 *   ready    ready(): read/fetch, compile and instantiate the SIMD .wasm, set up the backend
 *   first    new LSTM(…) (seeded initialisation) + its first forward (packs the weights, plans
 *            the workspace, compiles the kernels it calls: V8 compiles Wasm functions lazily)
 * Node also reports the process's CPU time over the same span (all threads: V8 compiles on
 * background threads too), which a busy machine inflates less than the wall time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pageResult, withChromium } from './chromium.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const PARTS = ['import', 'ready', 'first'];

/** What Node times (bench/cold-start.html times the same steps in Chromium). */
const NODE_BODY = `
const t0 = clock();
const m = await import(BUNDLE);
const t1 = clock();
await m.ready();
const t2 = clock();
const lstm = new m.LSTM({ inputSize: 8, hiddenSize: 32, seed: 0 });
lstm.forward({ data: new Float32Array(16 * 8).fill(0.5), shape: [16, 1, 8] });
const t3 = clock();
const parts = { import: t1[0] - t0[0], ready: t2[0] - t1[0], first: t3[0] - t2[0], total: t3[0] - t0[0] };
process.stdout.write(JSON.stringify({ parts, cpu: t3[1] - t0[1] }));
`;

function summarise(runs, extra = {}) {
  const parts = Object.fromEntries([...PARTS, 'total'].map((p) => [p, median(runs.map((r) => r.parts[p]))]));
  const out = { medianMs: parts.total, minMs: Math.min(...runs.map((r) => r.parts.total)), parts, runs: runs.length, ...extra };
  if (runs[0].cpu !== undefined) out.cpuMs = median(runs.map((r) => r.cpu));
  return out;
}

/**
 * Node: a fresh process per run. Node's ESM loader costs ~7 ms on its first file import (ours
 * or anyone's), so a tiny file is imported first and only our own cost is timed.
 */
export function coldStartNode(root, runs = 7) {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-cold-'));
  try {
    const warm = join(dir, 'warm.mjs');
    writeFileSync(warm, 'export default 0;\n');
    const bundle = pathToFileURL(join(root, 'dist/esm/index.js')).href;
    const script = join(dir, 'cold.mjs');
    writeFileSync(script, `await import(${JSON.stringify(pathToFileURL(warm).href)});
const BUNDLE = ${JSON.stringify(bundle)};
const clock = () => { const u = process.cpuUsage(); return [performance.now(), (u.user + u.system) / 1000]; };
clock(); // Node sets up performance and cpuUsage on first use: not ours to time
${NODE_BODY}`);
    const results = [];
    for (let i = 0; i < runs; i++) results.push(JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })));
    return summarise(results, { node: process.version });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Chromium (Debian's /usr/bin/chromium through playwright-core), or null when it is missing. Each
 * run opens the page in a new browser context, so nothing compiled or cached by an earlier run is
 * reused; the page is served from localhost with Cache-Control: no-store.
 */
export async function coldStartBrowser(root, runs = 7) {
  return withChromium(root, {}, async ({ browser, url }) => {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await pageResult(browser, url, '/bench/cold-start.html', 'coldStart', 60_000));
    const downloads = { bundle: median(results.map((r) => r.downloads.bundle)), wasm: median(results.map((r) => r.downloads.wasm)) };
    return summarise(results, { browser: `Chromium ${browser.version()}`, downloads });
  });
}

/** One line per environment, for the console. */
export function describeColdStart(name, c) {
  if (!c) return `${name}: not measured`;
  const p = c.parts;
  const cpu = c.cpuMs === undefined ? '' : `; CPU ${c.cpuMs.toFixed(1)} ms`;
  const dl = c.downloads ? `; downloads from localhost: bundle ${c.downloads.bundle.toFixed(1)}, .wasm ${c.downloads.wasm.toFixed(1)}` : '';
  return `${name}: ${c.medianMs.toFixed(1)} ms (import ${p.import.toFixed(1)} + ready ${p.ready.toFixed(1)} + new LSTM and first forward ${p.first.toFixed(1)}; min ${c.minMs.toFixed(1)}${cpu}${dl}; median of ${c.runs})`;
}

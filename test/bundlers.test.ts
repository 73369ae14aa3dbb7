/**
 * The package as users bundle it for browsers. The packed tarball is installed into an empty
 * project; the README's app ("Bundlers") is built with Vite (build, and the dev server), webpack 5
 * and esbuild with the configurations the README gives, beside the README's plain
 * `<script type="module">` page and the demo page the package ships; the same app through
 * wasm-rnn/worker (its LSTM in a worker the bundler built from the package's worker-main.js) is
 * built with Vite and webpack 5 and served by Vite's dev server. Every page runs in headless
 * Chromium and must print what the same app prints in Node; no build may warn, and no bundle may
 * contain a Node built-in's specifier.
 *
 * Needs `npm run build` first (npm test does it) and /usr/bin/chromium (WASM_RNN_SKIP_BROWSER=1
 * skips this file, as it does the other browser tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore -- a plain JS script without type declarations
import { startStaticServer } from '../examples/serve.js';
import { SKIP_BROWSER, collectProblems, launchChromium, requireBrowserSetup, type Browser } from './browser-harness.js';
import { BIN, ROOT, packAndInstall, readmeBlock, run, type Packed, type RunResult } from './tarball.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BUNDLERS = '### Bundlers';
const MAIN = readmeBlock(readme, BUNDLERS, 'js', '// main.js\n');
const MAIN_ESBUILD = readmeBlock(readme, BUNDLERS, 'js', '// main.js for esbuild\n');
const INDEX = readmeBlock(readme, BUNDLERS, 'html');
const WEBPACK_CONFIG = readmeBlock(readme, BUNDLERS, 'js', '// webpack.config.mjs\n');
const PLAIN_PAGE = readmeBlock(readme, '## Use it in the browser', 'html');
const ESBUILD_ARGS = ['main.js', '--bundle', '--platform=browser', '--format=esm', '--loader:.wasm=file', '--outdir=dist'];

/** The README's app with its LSTM in a wasm-rnn/worker worker: it must print what the README's app prints. */
const WORKER_APP = `
import { spawnWorker } from 'wasm-rnn/worker';

const w = await spawnWorker();
const lstm = await w.create('LSTM', { inputSize: 3, hiddenSize: 4, seed: 0 });
const { output } = await lstm.call('forward', [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]);
const values = Array.from(output.data, (v) => v.toFixed(6)).join(' ');
document.getElementById('out').textContent = \`\${(await w.info()).binary} output [\${output.shape}]: \${values}\`;
`;

/** A quoted `node:` specifier, but for the one inside the worker's source text (a string the worker evaluates in Node). */
const NODE_SPECIFIER = /["'`]node:(?!worker_threads'\)\.parentPort)[a-z_/]+["'`]|__vite-browser-external/;

interface PageRun {
  text: string;
  /** body[data-status] and the text of #backend, for pages that have them (the demo). */
  status?: string;
  backend?: string;
  problems: string[];
  wasm: { url: string; status: number }[];
}

let packed: Packed;
let browser: Browser | undefined;
const servers: Server[] = [];
const children: ChildProcess[] = [];
const builds: Record<string, RunResult> = {};
const pages: Record<string, PageRun> = {};
let expected = '';
const timings: string[] = [];

/** Writes files into a folder of the project. */
function app(dir: string, files: Record<string, string>): string {
  const at = join(packed.project, dir);
  mkdirSync(at, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(at, name), body);
  return at;
}

async function serve(root: string): Promise<string> {
  const { server, url } = await startStaticServer(root);
  servers.push(server);
  return url;
}

/**
 * Opens a page, waits until #out no longer says "running…" (or, for a page that says so, until
 * body[data-status] is done or error), and collects what happened.
 */
async function visit(url: string): Promise<PageRun> {
  const page: Page = await browser!.context.newPage();
  const problems: string[] = [];
  const wasm: PageRun['wasm'] = [];
  collectProblems(page, problems);
  page.on('console', (msg) => {
    if (msg.type() === 'warning') problems.push(`console.warn: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('.wasm')) wasm.push({ url: new URL(res.url()).pathname, status: res.status() });
  });
  try {
    // An uncaught error ends the wait too: such a page never prints.
    const failed = new Promise<void>((resolve) => page.once('pageerror', () => resolve()));
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    const printed = page
      .waitForFunction(
        () => {
          const status = document.body?.dataset.status;
          return status !== undefined ? status !== 'running' : document.getElementById('out')?.textContent !== 'running…';
        },
        null,
        { timeout: 30_000 },
      )
      .then(() => {}, () => void problems.push('the page never printed its output'));
    await Promise.race([printed, failed]);
    // Browsers ask for /favicon.ico by themselves; the README's pages do not name one.
    const own = problems.filter((m) => !m.includes('/favicon.ico'));
    const shown = await page.evaluate(() => ({
      text: document.getElementById('out')?.textContent ?? '',
      status: document.body?.dataset.status,
      backend: (document.getElementById('backend') as HTMLElement | null)?.innerText,
    }));
    return { ...shown, problems: own, wasm };
  } finally {
    await page.close();
  }
}

/** The .js files a build wrote. */
function outputJs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.js')) out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Starts `node <script> 0` and resolves to the URL it prints (examples/serve.js). */
function startServeJs(script: string, cwd: string): Promise<string> {
  const child = spawn(process.execPath, [script, '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /open (http:\/\/\S+?)\/examples\/browser\//.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}): ${out}`)));
  });
}

describe.skipIf(SKIP_BROWSER)('bundlers: the packed package in Vite, webpack 5, esbuild and a plain module page (Chromium)', () => {
  beforeAll(async () => {
    requireBrowserSetup(['dist/esm/index.js', 'build/wasm-rnn.simd.wasm']);
    const t0 = performance.now();
    const lap = (what: string) => timings.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    packed = await packAndInstall('bundlers');
    const vite = app('vite', { 'main.js': MAIN, 'index.html': INDEX });
    const webpack = app('webpack', { 'main.js': MAIN, 'webpack.config.mjs': WEBPACK_CONFIG });
    const esbuild = app('esbuild', { 'main.js': MAIN_ESBUILD });
    const esbuildPlain = app('esbuild-no-loader', { 'main.js': MAIN });
    app('.', { 'index.html': PLAIN_PAGE });
    const node = app('node', { 'run.mjs': NODE_RUNNER });
    // With its charset: the worker app prints after the load event, and Vite's dev server sends no charset, so 'running…' would read as mojibake and end the wait at once.
    const viteWorker = app('vite-worker', { 'main.js': WORKER_APP, 'index.html': INDEX.replace('<!doctype html>\n', '$&<meta charset="utf-8">\n') });
    const webpackWorker = app('webpack-worker', { 'main.js': WORKER_APP, 'webpack.config.mjs': WEBPACK_CONFIG });

    lap('packed');
    const [b, e] = await Promise.all([
      launchChromium(),
      (async () => {
        const [vb, wb, eb, ep, n, vw, ww] = await Promise.all([
          run(process.execPath, [join(BIN, 'vite'), 'build'], { cwd: vite }),
          run(process.execPath, [join(BIN, 'webpack')], { cwd: webpack }),
          run(join(BIN, 'esbuild'), ESBUILD_ARGS, { cwd: esbuild }),
          run(join(BIN, 'esbuild'), ESBUILD_ARGS.filter((a) => !a.startsWith('--loader')), { cwd: esbuildPlain }),
          run(process.execPath, ['run.mjs', '../vite/main.js'], { cwd: node }),
          run(process.execPath, [join(BIN, 'vite'), 'build'], { cwd: viteWorker }),
          run(process.execPath, [join(BIN, 'webpack')], { cwd: webpackWorker }),
        ]);
        Object.assign(builds, { vite: vb, webpack: wb, esbuild: eb, 'esbuild-no-loader': ep, 'vite-worker': vw, 'webpack-worker': ww });
        lap('built');
        return n.stdout.trim();
      })(),
    ]);
    browser = b;
    expected = e;
    for (const dir of ['webpack', 'esbuild', 'esbuild-no-loader', 'webpack-worker']) {
      app(`${dir}/dist`, { 'index.html': INDEX.replace('<script type="module" src="./main.js">', dir.startsWith('webpack') ? '<script src="./main.js">' : '$&') });
    }

    lap('browser up');
    pages['vite build'] = await visit(await serve(join(vite, 'dist')));
    pages.webpack = await visit(await serve(join(webpack, 'dist')));
    pages.esbuild = await visit(await serve(join(esbuild, 'dist')));
    pages['esbuild without the loader'] = await visit(await serve(join(esbuildPlain, 'dist')));
    pages['vite build, worker'] = await visit(await serve(join(viteWorker, 'dist')));
    pages['webpack, worker'] = await visit(await serve(join(webpackWorker, 'dist')));
    pages['plain module'] = await visit(`${await serve(packed.project)}/`);
    const shippedServer = await startServeJs('node_modules/wasm-rnn/examples/serve.js', packed.project);
    pages['shipped demo'] = await visit(`${shippedServer}/examples/browser/`);

    lap('static pages');
    const { createServer } = await import('vite');
    const logs: string[] = [];
    const log = (level: string) => (msg: string) => logs.push(`${level}: ${msg}`);
    for (const [name, root] of [['vite dev server', vite], ['vite dev server, worker', viteWorker]]) {
      const dev = await createServer({
        root,
        configFile: false,
        logLevel: 'info',
        customLogger: {
          info: () => {}, warn: log('warn'), warnOnce: log('warn'), error: log('error'), clearScreen: () => {},
          hasErrorLogged: () => false, hasWarned: false,
        },
        server: { host: '127.0.0.1', port: 0, strictPort: true },
      });
      try {
        await dev.listen();
        pages[name] = await visit(dev.resolvedUrls!.local[0]);
        pages[name].problems.push(...logs.splice(0));
      } finally {
        await dev.close();
      }
    }
    lap('vite dev server');
  }, 180_000);

  afterAll(async () => {
    console.log(`bundlers: ${timings.join(', ')}`);
    await browser?.close();
    for (const s of servers) await new Promise<void>((ok) => s.close(() => ok()));
    for (const c of children) c.kill();
    packed?.remove();
  }, 60_000);

  it('the app prints its LSTM output in Node (the reference)', () => {
    expect(expected).toMatch(/^simd output \[2,4\]: (-?\d\.\d{6} ){7}-?\d\.\d{6}$/);
  });

  it.each(['vite build', 'vite dev server', 'webpack', 'esbuild', 'plain module'])('%s: Chromium prints the same output, fetching one .wasm', (name) => {
    const p = pages[name];
    expect(p.problems, name).toEqual([]);
    if (name === 'plain module') expect(p.text).toBe('output [2,16]');
    else expect(p.text).toBe(expected);
    expect(p.wasm, 'the .wasm responses').toHaveLength(1);
    expect(p.wasm[0].status).toBe(200);
    expect(p.wasm[0].url).toMatch(/wasm-rnn\.simd[-.\w]*\.wasm$|\/[0-9a-f]{20}\.wasm$/);
  });

  it.each(['vite build, worker', 'webpack, worker', 'vite dev server, worker'])('%s: the LSTM in a wasm-rnn/worker worker prints the same output', (name) => {
    const p = pages[name];
    expect(p.problems, name).toEqual([]);
    expect(p.text).toBe(expected);
  });

  it('the demo page the package ships runs from node_modules with the shipped server', () => {
    // Its worker, page scripts and text all come from the tarball (test/demo.test.ts trains with it).
    const p = pages['shipped demo'];
    expect(p.problems).toEqual([]);
    expect(p.status, p.backend).toBe('ready');
    expect(p.backend).toMatch(/training worker\s+wasm-simd · simd binary · 1 thread/);
    expect(p.backend).toMatch(/this page \(forecaster\)\s+wasm-simd · simd binary · 1 thread/);
  });

  it('esbuild without the .wasm loader: builds quietly, and ready() says what to do', () => {
    const p = pages['esbuild without the loader'];
    expect(p.text).toBe('running…');
    const message = p.problems.find((m) => m.startsWith('page error'));
    expect(message, p.problems.join('\n')).toMatch(/could not load wasm-rnn\.simd\.wasm from its default location .*esbuild does not.*--loader:\.wasm=file/s);
  });

  it.each(['vite', 'webpack', 'esbuild', 'esbuild-no-loader', 'vite-worker', 'webpack-worker'])('%s: the build prints no warning', (name) => {
    const { stdout, stderr } = builds[name];
    const out = `${stdout}\n${stderr}`;
    expect(out).not.toMatch(/warn|externali[sz]ed|\(!\)|▲/i);
    if (name.startsWith('webpack')) expect(out).toMatch(/compiled successfully/);
  });

  it.each(['vite', 'webpack', 'esbuild', 'esbuild-no-loader', 'vite-worker', 'webpack-worker'])('%s: no Node built-in reaches the bundle', (name) => {
    const files = outputJs(join(packed.project, name, 'dist'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const js = readFileSync(f, 'utf8');
      expect(NODE_SPECIFIER.exec(js)?.[0], relative(packed.project, f)).toBeUndefined();
      expect(js, relative(packed.project, f)).toMatch(/LSTM/);
    }
  });

  it('the README documents the commands tested here', () => {
    expect(readme).toContain(`npx esbuild ${ESBUILD_ARGS.join(' ')}`);
    expect(readme).toContain('npx vite build');
    expect(readme).toContain('npx webpack');
  });
});

/** Runs a browser app in Node with a stand-in `document` and prints what it shows. */
const NODE_RUNNER = `
const out = { textContent: 'running…' };
globalThis.document = { getElementById: () => out };
await import(process.argv[2]);
console.log(out.textContent);
`;

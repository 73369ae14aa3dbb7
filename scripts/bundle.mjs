// Bundles the published entry points with esbuild: the core (dist/esm/index.js) and the
// optional entries, which import the core at run time (so `wasm-rnn/onnx` shares its classes
// and backend registry) instead of bundling a second copy of it.
import { chmodSync, readFileSync } from 'node:fs';
import { build as esbuild } from 'esbuild';
import { bundledPackages, writeNotices } from './notices.mjs';

/** Third-party package folder → the bundles that contain its code (for dist/THIRD-PARTY-NOTICES.md). */
const thirdParty = new Map();
async function build(options) {
  const { metafile } = await esbuild({ ...options, metafile: true });
  for (const dir of bundledPackages(metafile)) {
    if (!thirdParty.has(dir)) thirdParty.set(dir, new Set());
    thirdParty.get(dir).add(options.outfile);
  }
}

const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  minify: true,
  keepNames: true, // error messages and stack traces name LSTM, GRU, … not minified names
  lineLimit: 160, // an uncaught error prints one short line, not the whole bundle
  sourcemap: true,
  external: ['node:*'],
  logLevel: 'warning',
};

/** Resolves an optional entry's `../index.js` (the core barrel) to the published core file. */
const coreExternal = {
  name: 'core-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};

/**
 * The .wasm files the core locates with `new URL('../../build/x.wasm', import.meta.url)`, the
 * pattern Vite, webpack and Rollup follow to copy them. lineLimit may break a string literal
 * with a backslash-newline, which is valid JavaScript but hides the literal from Vite's
 * pattern (it then warns and copies nothing): the core is built with the first line limit from
 * 160 on at which every such literal comes out whole (a break between tokens is harmless).
 */
const WASM_ASSETS = ['wasm-rnn.simd.wasm', 'wasm-rnn.relaxed.wasm', 'wasm-rnn.wasm', 'wasm-rnn.threads.wasm'];
/** The pattern as Vite matches it: whitespace (a line break) may stand between the tokens, not inside the string. */
const assetUrl = (file) => new RegExp(String.raw`\bnew\s+URL\s*\(\s*"\.\./\.\./build/${file.replace(/\./g, '\\.')}"\s*,\s*import\.meta\.url\s*\)`);

async function buildCore() {
  const outfile = 'dist/esm/index.js';
  for (let lineLimit = common.lineLimit; lineLimit < common.lineLimit + 40; lineLimit++) {
    await build({ ...common, lineLimit, entryPoints: ['src/index.ts'], outfile });
    const js = readFileSync(outfile, 'utf8');
    if (WASM_ASSETS.every((f) => assetUrl(f).test(js))) return;
  }
  throw new Error(`bundle: ${outfile} never kept every new URL(…, import.meta.url) of ${WASM_ASSETS.join(', ')} whole`);
}

await buildCore();
await build({ ...common, entryPoints: ['src/onnx/index.ts'], outfile: 'dist/esm/onnx.js', mainFields: ['main'], plugins: [coreExternal] });
await build({ ...common, entryPoints: ['src/tfjs/index.ts'], outfile: 'dist/esm/tfjs.js', plugins: [coreExternal] });

/** worker-main.js imports wasm-rnn/worker's bundle (src/worker/main.ts's `./index.js`) at run time. */
const workerExternal = {
  name: 'worker-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
      args.importer.endsWith('/src/worker/main.ts') ? { path: './worker.js', external: true } : undefined);
  },
};
// wasm-rnn/worker with comlink bundled in (the package keeps no runtime dependencies). The
// literal `new Worker(new URL('./worker-main.js', import.meta.url), …)` must come out whole for
// Vite and webpack to find the worker script.
const workerUrl = /\bnew\s+Worker\s*\(\s*new\s+URL\s*\(\s*"\.\/worker-main\.js"\s*,\s*import\.meta\.url\s*\)/;
await build({ ...common, entryPoints: ['src/worker/index.ts'], outfile: 'dist/esm/worker.js', mainFields: ['module', 'main'], plugins: [coreExternal] });
if (!workerUrl.test(readFileSync('dist/esm/worker.js', 'utf8'))) throw new Error('bundle: dist/esm/worker.js lost new Worker(new URL("./worker-main.js", import.meta.url))');
await build({ ...common, entryPoints: ['src/worker/main.ts'], outfile: 'dist/esm/worker-main.js', plugins: [workerExternal] });

/** The CLI's imports of the core barrel (`../index.js` from src/cli/) become the published core, at run time. */
const cliCoreExternal = {
  name: 'cli-core-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
      args.importer.includes('/src/cli/') ? { path: '../esm/index.js', external: true } : undefined);
  },
};

// The `wasm-rnn` command (package.json bin): Node only, with cli-progress bundled in so the
// package keeps no runtime dependencies; CommonJS dependencies get a require for Node's modules.
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/cli/wasm-rnn.js',
  platform: 'node',
  external: [],
  plugins: [cliCoreExternal],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
chmodSync('dist/cli/wasm-rnn.js', 0o755);
writeNotices(thirdParty, 'dist/THIRD-PARTY-NOTICES.md');

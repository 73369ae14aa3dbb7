// Bundles the published entry points with esbuild: the core (dist/esm/index.js) and the
// optional entries, which import the core at run time (so `wasm-rnn/onnx` shares its classes
// and backend registry) instead of bundling a second copy of it.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

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

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/esm/index.js' });
await build({ ...common, entryPoints: ['src/onnx/index.ts'], outfile: 'dist/esm/onnx.js', mainFields: ['main'], plugins: [coreExternal] });

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

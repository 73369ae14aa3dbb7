// Bundles the published entry points with esbuild: the core (dist/esm/index.js) and the
// optional entries, which import the core at run time (so `wasm-rnn/onnx` shares its classes
// and backend registry) instead of bundling a second copy of it.
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
await build({ ...common, entryPoints: ['src/tfjs/index.ts'], outfile: 'dist/esm/tfjs.js', plugins: [coreExternal] });

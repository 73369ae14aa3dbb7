// `npm start` (after the build): the Wasm vs plain-JS table, then a character language model
// trained on the bundled Moby Dick chapters for 30 s with a progress bar, saved, and sampled at
// two temperatures — each step the `wasm-rnn` command a user would type.
import { spawnSync } from 'node:child_process';

const cli = new URL('../dist/cli/wasm-rnn.js', import.meta.url).pathname;
const t0 = performance.now();
const run = (...args) => {
  console.log(`\n$ wasm-rnn ${args.map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run('bench', '--quick');
run('train', '--time', '30', '--out', 'char-lm.safetensors', '--sample', '0');
run('generate', 'char-lm.safetensors', '--prefix', 'Call me', '--temperature', '0.5', '--length', '300', '--seed', '1');
run('generate', 'char-lm.safetensors', '--prefix', 'Call me', '--temperature', '1', '--length', '300', '--seed', '1');
console.log(`\nnpm start: ${((performance.now() - t0) / 1000).toFixed(0)} s after the build. The model is in char-lm.safetensors;`);
console.log('`npx wasm-rnn train --help` lists the settings (the default trains for 60 s).');

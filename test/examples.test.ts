/** The README's examples run as written (against the built package in dist/). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const run = (file: string, ...args: string[]): string =>
  execFileSync(process.execPath, [file, ...args], { cwd: root, encoding: 'utf8' });

describe('examples', () => {
  it('the build exists (npm test builds first)', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build`').toBe(true);
  });

  it('examples/node.mjs', () => {
    const out = run('examples/node.mjs');
    expect(out).toMatch(/output \[ 20, 4, 32 \] h \[ 2, 4, 32 \] c \[ 2, 4, 32 \]/);
    expect(out).toMatch(/streamed h\[0\.\.3\]/);
  });

  it('examples/load-pytorch.mjs reproduces the PyTorch model it loads', () => {
    // PyTorch 1.13 printed these for examples/from-pytorch.py's model on the same input.
    const out = run('examples/load-pytorch.mjs', 'examples/lstm.json');
    expect(out).toContain("first values [ '0.028289', '-0.084092', '-0.052797', '-0.031929' ]");
  });

  it('examples/from-safetensors.mjs runs a PyTorch safetensors file and writes it back byte for byte', () => {
    const out = run('examples/from-safetensors.mjs');
    const diff = Number(/max \|ours − PyTorch\| ([\d.e+-]+)/.exec(out)?.[1]);
    expect(diff).toBeLessThan(2e-7);
    expect(out).toContain('byte-identical to the PyTorch file: true');
  });

  it('examples/threads.mjs (the README threads snippet)', () => {
    const out = run('examples/threads.mjs');
    expect(out).toMatch(/binary: 'simd-threads', ready: true, threads: 2/);
    expect(out).toMatch(/output \[ 64, 256 \]\nstep h\[0\.\.3\] \[ '-?\d\.\d{4}', '-?\d\.\d{4}', '-?\d\.\d{4}' \]\n1 \[ 64, 256 \]/);
  });

  it('examples/train-step.mjs (the README training snippet)', () => {
    expect(run('examples/train-step.mjs')).toMatch(/loss [\d.]+ grad norm [\d.]+ dx \[ 5, 2, 3 \]/);
  });

  it('examples/classify.mjs (the README autograd snippet) learns its task', () => {
    const out = run('examples/classify.mjs');
    expect(out).toMatch(/step 150: loss [\d.]+/);
    const acc = Number(/held-out accuracy ([\d.]+)/.exec(out)?.[1]);
    expect(acc).toBeGreaterThan(0.9);
  });

  it('examples/audio-worklet/train.mjs trains the noise gate that the example ships, byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-gate-'));
    try {
      const file = join(dir, 'gate.safetensors');
      const out = run('examples/audio-worklet/train.mjs', file);
      const [, before, after] = /held-out SNR: ([\d.]+) dB in, ([\d.]+) dB out/.exec(out) ?? [];
      expect(Number(after) - Number(before), out).toBeGreaterThan(3);
      expect(readFileSync(file).equals(readFileSync(`${root}examples/audio-worklet/noise-gate.safetensors`)), 'the committed model is stale: rerun train.mjs').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('examples/save-load.mjs (the README save/load snippet)', () => {
    const out = run('examples/save-load.mjs');
    expect(out).toContain('LanguageModel {"vocabSize":65,"embeddingDim":32,"hiddenSize":128,"numLayers":1,"cell":"lstm","dropout":0}');
    expect(out).toMatch(/resumed at step 0/);
  });

  it('errors from the published bundle name the class the user wrote, and an uncaught one prints a short line', () => {
    const bundle = new URL('../dist/esm/index.js', import.meta.url).href;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { LSTM, GRU } from ${JSON.stringify(bundle)};
      class MyGRU extends GRU {}
      for (const m of [new LSTM({ inputSize: 3, hiddenSize: 2 }), new MyGRU({ inputSize: 3, hiddenSize: 2 })]) {
        try { m.forward([[1, 2]]); } catch (e) { console.log(e.message); }
        try { m.step(new Float32Array(3), null); } catch (e) { console.log(e.message); }
      }
    `], { encoding: 'utf8' });
    expect(out).toMatch(/^LSTM\.forward: x's last dimension must be inputSize = 3, got 2/m);
    expect(out).toMatch(/^LSTM\.step: state must be/m);
    expect(out).toMatch(/^MyGRU\.forward: /m);
    expect(out).toMatch(/^MyGRU\.step: /m);
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--input-type=module', '-e', `import { LSTM } from ${JSON.stringify(bundle)}; new LSTM({ inputSize: 3, hiddenSize: 2 }).forward([[1, 2]]);`], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      stderr = (e as { stderr: string }).stderr;
    }
    expect(stderr).toMatch(/RangeError: LSTM\.forward/);
    expect(Math.max(...stderr.split('\n').map((l) => l.length))).toBeLessThan(400);
  });

  it('examples/train-char-lm.mjs learns its text', () => {
    const out = run('examples/train-char-lm.mjs');
    const losses = [...out.matchAll(/epoch \d+: loss ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(8);
    expect(losses[7]).toBeLessThan(losses[0] / 4);
    expect(out).toMatch(/sample: "the /);
  });

  it('examples/text-generation.mjs (the README text-generation snippet) learns, generates, streams and round-trips its tokenizer', () => {
    const out = run('examples/text-generation.mjs');
    expect(Number(/held-out perplexity ([\d.]+) per character/.exec(out)?.[1])).toBeLessThan(8);
    expect(out).toMatch(/^greedy: ".+"$/m);
    expect(out).toMatch(/^sampled: ".*"$/m);
    expect(out).toMatch(/^after "The whal" the most likely character is "e"$/m);
    expect(out).toContain('loaded with its tokenizer: true');
  });
});

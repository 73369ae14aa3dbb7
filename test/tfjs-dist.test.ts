/**
 * The published wasm-rnn/tfjs entry (after `npm run build`): dist/esm/tfjs.js imports the core
 * from dist/esm/index.js at run time (one set of classes, one backend registry), carries no
 * static Node import (browser bundles stay clean), and the README's snippet runs as written.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const built = existsSync(new URL('dist/esm/tfjs.js', root)) && existsSync(new URL('dist/esm/index.js', root));
const fixture = fileURLToPath(new URL('test/fixtures/tfjs/classifier-sigmoid/', root));

describe.skipIf(!built)('the built wasm-rnn/tfjs entry (npm run build)', () => {
  it('shares the core bundle\'s classes: loadTfjs builds core layers, predict returns core tensors', async () => {
    const core = await import(new URL('dist/esm/index.js', root).href);
    const tfjs = await import(new URL('dist/esm/tfjs.js', root).href);
    await core.ready();
    const m = await tfjs.loadTfjs(fixture);
    expect(m.module).toBeInstanceOf(core.Sequential);
    expect(m.module.at(1)).toBeInstanceOf(core.LSTM);
    const want = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));
    const y = m.predict(want.input);
    expect(y).toBeInstanceOf(core.Tensor);
    y.data.forEach((v: number, i: number) => expect(Math.abs(v - want.output.data[i])).toBeLessThan(2e-6));
    m.dispose();
  });

  it('imports the core instead of bundling it, and no Node module statically', () => {
    const coreJs = readFileSync(new URL('dist/esm/index.js', root), 'utf8');
    const tfjsJs = readFileSync(new URL('dist/esm/tfjs.js', root), 'utf8');
    expect(coreJs).not.toMatch(/importTfjs|weightsManifest/);
    expect(tfjsJs).toMatch(/from"\.\/index\.js"/);
    expect(tfjsJs).not.toMatch(/wasm-rnn\.simd\.wasm/);
    expect(tfjsJs).not.toMatch(/(import|from)\s*["']node:/);
    expect(tfjsJs).not.toMatch(/@tensorflow/);
  });

  it('is exported as wasm-rnn/tfjs', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.exports['./tfjs']).toEqual({ types: './dist/tfjs/index.d.ts', import: './dist/esm/tfjs.js', default: './dist/esm/tfjs.js' });
    expect(pkg.files).toContain('dist/esm/tfjs.js');
    expect(existsSync(new URL('dist/tfjs/index.d.ts', root))).toBe(true);
  });

  it("runs the README's TensorFlow.js snippet as written", () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const section = readme.slice(readme.indexOf('\n## TensorFlow.js / Keras'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const tfjsMain = pathToFileURL(createRequire(import.meta.url).resolve('@tensorflow/tfjs')).href;
    const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-tfjs-'));
    try {
      const file = join(dir, 'readme-tfjs.mjs');
      const src = (code as string)
        .replace("from 'wasm-rnn/tfjs'", `from '${new URL('dist/esm/tfjs.js', root).href}'`)
        .replace("from 'wasm-rnn'", `from '${new URL('dist/esm/index.js', root).href}'`)
        .replace("from '@tensorflow/tfjs'", `from '${tfjsMain}'`);
      writeFileSync(file, src);
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = out.trim().split('\n').filter((l) => !/tfjs-node|====|^$/.test(l));
      const m = /^\[ 2, 3 \] max \|ours − tfjs\| = (\S+)$/.exec(lines[lines.length - 2]);
      expect(m, out).not.toBeNull();
      expect(Number((m as RegExpExecArray)[1])).toBeLessThan(1e-6);
      expect(lines[lines.length - 1]).toBe('Embedding → LSTM → FinalHidden → MergeDirections → Linear → Softmax');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

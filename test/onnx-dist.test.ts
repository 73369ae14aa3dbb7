/**
 * The published entry points (after `npm run build`): wasm-rnn/onnx (dist/esm/onnx.js) carries
 * the protobuf code but imports the core from dist/esm/index.js at run time, so both share one
 * set of classes and one backend registry; the core bundle carries no ONNX code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const built = existsSync(new URL('dist/esm/onnx.js', root)) && existsSync(new URL('dist/esm/index.js', root));

describe.skipIf(!built)('the built wasm-rnn/onnx entry (npm run build)', () => {
  it('shares the core bundle\'s classes and backend: instanceof holds across both', async () => {
    const core = await import(new URL('dist/esm/index.js', root).href);
    const onnx = await import(new URL('dist/esm/onnx.js', root).href);
    await core.ready();
    const lstm = new core.LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    // exportOnnx recognises the core's LSTM class (it would refuse a foreign copy).
    const model = await onnx.importOnnx(onnx.exportOnnx(lstm));
    const x = new core.Tensor(Float32Array.from({ length: 2 * 1 * 3 }, (_, i) => Math.sin(i)), [2, 1, 3]);
    const out = model.run({ input: x });
    expect(out.output).toBeInstanceOf(core.Tensor);
    expect(Array.from(out.output.data)).toEqual(Array.from(lstm.forward(x).output.data));
    model.dispose();
    lstm.dispose();
  });

  it('keeps the protobuf runtime out of the core bundle', () => {
    const coreJs = readFileSync(new URL('dist/esm/index.js', root), 'utf8');
    const onnxJs = readFileSync(new URL('dist/esm/onnx.js', root), 'utf8');
    expect(coreJs).not.toMatch(/ModelProto|protobuf/);
    expect(onnxJs).toMatch(/ModelProto/);
    // The onnx entry imports the core instead of bundling it.
    expect(onnxJs).toMatch(/from"\.\/index\.js"/);
    expect(onnxJs).not.toMatch(/wasm-rnn\.simd\.wasm/);
  });

  it('is exported as wasm-rnn/onnx', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.exports['./onnx']).toEqual({ types: './dist/onnx/index.d.ts', import: './dist/esm/onnx.js', default: './dist/esm/onnx.js' });
    expect(pkg.files).toContain('dist/esm/onnx.js');
    expect(existsSync(new URL('dist/onnx/index.d.ts', root))).toBe(true);
  });

  it("runs the README's ONNX snippet as written", () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const section = readme.slice(readme.indexOf('\n## ONNX'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-onnx-'));
    try {
      const file = join(dir, 'readme-onnx.mjs');
      const src = (code as string)
        .replace("from 'wasm-rnn/onnx'", `from '${new URL('dist/esm/onnx.js', root).href}'`)
        .replace("from 'wasm-rnn'", `from '${new URL('dist/esm/index.js', root).href}'`);
      writeFileSync(file, src);
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
      expect(out).toBe("[ 'input' ] [ 'output', 'h_n', 'c_n' ]\n[ 5, 2, 16 ] [ 2, 2, 16 ] [ 2, 2, 16 ]\nsame as forward: true\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The published tarball (`npm pack` of the build): exactly the files of the allowlist below,
 * nothing in it that points at a file it does not ship, publint and arethetypeswrong clean, its
 * types compile in a project that has nothing else installed, and — installed into an empty
 * project — the README's Node snippets run, also down the path of Node 20.0–20.15 (no
 * process.getBuiltinModule).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, packAndInstall, readmeBlock, run, type Packed } from './tarball.js';

/**
 * Every file the tarball may hold: a string must be there, a pattern may match several.
 * Shipping something new means adding it here and to package.json "files".
 */
const SHIPPED: readonly (string | RegExp)[] = [
  'package.json',
  'README.md',
  'LICENSE',
  // The licences of the third-party code the bundles contain (written by scripts/bundle.mjs).
  'dist/THIRD-PARTY-NOTICES.md',
  // The core, wasm-rnn/onnx, wasm-rnn/tfjs and wasm-rnn/worker (with the script its workers run):
  // one minified ES module each, with its source map.
  'dist/esm/index.js',
  'dist/esm/index.js.map',
  'dist/esm/onnx.js',
  'dist/esm/onnx.js.map',
  'dist/esm/tfjs.js',
  'dist/esm/tfjs.js.map',
  'dist/esm/worker.js',
  'dist/esm/worker.js.map',
  'dist/esm/worker-main.js',
  'dist/esm/worker-main.js.map',
  // tsc's declarations, the CLI's excepted.
  'dist/index.d.ts',
  'dist/onnx/index.d.ts',
  'dist/tfjs/index.d.ts',
  'dist/worker/index.d.ts',
  /^dist\/(?!cli\/)[a-z0-9/_-]+\.d\.ts$/,
  // The kernels (not the debug build, which only the tests load).
  'build/wasm-rnn.simd.wasm',
  'build/wasm-rnn.relaxed.wasm',
  'build/wasm-rnn.wasm',
  'build/wasm-rnn.threads.wasm',
  // What the README's browser section runs from an installed copy: the server and the demo page.
  'examples/serve.js',
  'examples/browser/index.html',
  'examples/browser/app.js',
  'examples/browser/backends.js',
  'examples/browser/chart.js',
  'examples/browser/char-lm.js',
  'examples/browser/long-tasks.js',
  'examples/browser/model-store.js',
  'examples/browser/stream-forecast.js',
  // The CLI (package.json bin): its bundle, and the corpus its `train` uses by default.
  'dist/cli/wasm-rnn.js',
  'dist/cli/wasm-rnn.js.map',
  'examples/data/moby-dick.txt',
];

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** `new URL("…", import.meta.url)` as Vite matches it (whitespace between the tokens, none inside the string). */
const ASSET_URL = /\bnew\s+URL\s*\(\s*"([^"]+)"\s*,\s*import\.meta\.url\s*\)/g;

let packed: Packed;
const pkgDir = () => join(packed.project, 'node_modules', 'wasm-rnn');
const shipped = (p: string) => packed.files.includes(posix.normalize(p));
const text = (p: string) => readFileSync(join(pkgDir(), p), 'utf8');

beforeAll(async () => {
  packed = await packAndInstall('pack');
}, 120_000);

afterAll(() => packed?.remove());

describe('the tarball', () => {
  it('holds exactly the allowlisted files', () => {
    const unexpected = packed.files.filter((f) => !SHIPPED.some((s) => (typeof s === 'string' ? s === f : s.test(f))));
    expect(unexpected, 'files in the tarball that the allowlist does not name').toEqual([]);
    const missing = SHIPPED.filter((s): s is string => typeof s === 'string').filter((f) => !shipped(f));
    expect(missing, 'allowlisted files missing from the tarball').toEqual([]);
  });

  it('ships the licences of the third-party code its bundles contain', () => {
    const notices = text('dist/THIRD-PARTY-NOTICES.md');
    for (const [name, license, bundle] of [
      ['comlink', 'Apache-2.0', 'dist/esm/worker.js'],
      ['protobufjs', 'BSD-3-Clause', 'dist/esm/onnx.js'],
      ['onnx-proto', 'MIT', 'dist/esm/onnx.js'],
      ['cli-progress', 'MIT', 'dist/cli/wasm-rnn.js'],
    ]) {
      expect(notices, name).toMatch(new RegExp(`^- ${name} [\\d.]+ \\(${license}\\), in .*${bundle.replace(/[./]/g, '\\$&')}`, 'm'));
      expect(notices, `${name}'s licence text`).toMatch(new RegExp(`^## ${name} [\\d.]+\\n\\n\`\`\`\\n\\S`, 'm'));
    }
    // The core bundles nobody else's code.
    expect(notices).not.toMatch(/, in [^\n]*dist\/esm\/index\.js/);
  });

  it('has an MIT LICENSE, as package.json says', () => {
    const pkg = JSON.parse(text('package.json'));
    expect(pkg.license).toBe('MIT');
    expect(text('LICENSE')).toMatch(/^MIT License\n/);
  });

  it('package.json points only at shipped files (main, types, exports, typesVersions, bin)', () => {
    const pkg = JSON.parse(text('package.json'));
    const targets: string[] = [pkg.main, pkg.types];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    walk(pkg.typesVersions);
    walk(pkg.bin);
    for (const t of targets) {
      if (t.includes('*')) {
        const prefix = posix.normalize(t.slice(0, t.indexOf('*')));
        expect(packed.files.some((f) => f.startsWith(prefix)), `${t} matches no shipped file`).toBe(true);
      } else {
        expect(shipped(t), `${t} is not shipped`).toBe(true);
      }
    }
    if (pkg.bin) expect(Object.keys(pkg.bin).length).toBeGreaterThan(0);
  });

  it('the JS bundles import nothing but each other, name only shipped .wasm files and ship their source maps (with the sources inside)', () => {
    for (const file of ['dist/esm/index.js', 'dist/esm/onnx.js', 'dist/esm/tfjs.js', 'dist/esm/worker.js', 'dist/esm/worker-main.js']) {
      const js = text(file);
      const here = posix.dirname(file);
      const specifiers = [
        ...js.matchAll(/(?:^|;)\s*(?:import|export)\s*(?:[\w$*{},\s]*?from\s*)?"([^"]+)"/gm),
        ...js.matchAll(/\bimport\(\s*["'`]([^"'`]+)["'`]\s*\)/g),
      ].map((m) => m[1]);
      expect(file === 'dist/esm/index.js' || specifiers.length > 0, `${file}: found no import`).toBe(true);
      for (const s of specifiers) {
        expect(s, `${file} imports ${s}`).toMatch(/^\.\.?\//);
        expect(shipped(posix.join(here, s)), `${file} imports ${s}, not shipped`).toBe(true);
      }
      for (const [, u] of js.matchAll(ASSET_URL)) {
        expect(shipped(posix.join(here, u)), `${file} names ${u}, not shipped`).toBe(true);
      }
      const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(js)?.[1];
      expect(map, `${file} has no sourceMappingURL`).toBeDefined();
      expect(shipped(posix.join(here, map!)), `${file}'s map ${map}`).toBe(true);
      const sm = JSON.parse(text(posix.join(here, map!))) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(sm.sourcesContent?.length, `${map}: sourcesContent`).toBe(sm.sources.length);
      expect(sm.sourcesContent!.every((c) => typeof c === 'string')).toBe(true);
    }
    // Every asset the core names with new URL(…, import.meta.url), for bundlers to copy.
    const named = [...text('dist/esm/index.js').matchAll(ASSET_URL)].map((m) => posix.join('dist/esm', m[1]));
    expect(named.sort()).toEqual(packed.files.filter((p) => p.startsWith('build/')));
  });

  /**
   * Follows what files reference, from `start`: every file reached must be shipped; `refs(f)`
   * lists the relative paths a file loads (each must be relative). Returns the files reached.
   */
  function shippedClosure(start: string[], refs: (f: string, src: string) => string[] | null): Set<string> {
    const todo = start.map((p) => posix.normalize(p));
    const seen = new Set<string>();
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      expect(shipped(f), `${f} is not shipped`).toBe(true);
      for (const r of refs(f, text(f).replace(/\/\*[\s\S]*?\*\//g, '')) ?? []) {
        expect(r, `${f} loads '${r}', which is not a shipped relative path`).toMatch(/^\.\.?\//);
        todo.push(posix.join(posix.dirname(f), r));
      }
    }
    return seen;
  }

  it('the declarations reachable from the entry points import only shipped declarations', () => {
    const pkg = JSON.parse(text('package.json'));
    const seen = shippedClosure(
      [pkg.types, pkg.exports['./onnx'].types, pkg.exports['./tfjs'].types, pkg.exports['./worker'].types],
      (f, dts) => {
        expect(dts, `${f}: triple-slash references`).not.toMatch(/\/\/\/\s*<reference/);
        return [...dts.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1].replace(/\.js$/, '.d.ts'));
      },
    );
    expect(seen.size).toBeGreaterThan(20);
  });

  it('the demo page loads only shipped files (its scripts, their imports, the text it fetches)', () => {
    const seen = shippedClosure(['examples/browser/index.html'], (f, src) =>
      f.startsWith('dist/') // the bundles' own imports are checked above
        ? null
        : [
          ...src.matchAll(/<script[^>]*\ssrc="([^"]+)"/g),
          ...src.matchAll(/\bfrom\s*'([^']+)'/g),
          ...src.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
          ...src.matchAll(/\bfetch\(\s*'([^']+)'/g),
        ].map((m) => m[1]));
    for (const f of ['examples/browser/app.js', 'dist/esm/index.js', 'dist/esm/worker.js', 'examples/data/moby-dick.txt']) {
      expect(seen.has(f), `the demo reaches ${f}`).toBe(true);
    }
  });

  it("names in the README only the installed package's files it ships", () => {
    const named = [...readme.matchAll(/node_modules\/wasm-rnn\/([\w./-]+)/g)].map((m) => m[1].replace(/\/$/, ''));
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) {
      expect(packed.files.some((f) => f === p || f.startsWith(`${p}/`)), `README names node_modules/wasm-rnn/${p}`).toBe(true);
    }
  });
});

describe('linters', () => {
  it('publint --strict: no errors, warnings or suggestions', async () => {
    const { stdout } = await run(join(BIN, 'publint'), ['run', packed.tarball, '--strict'], { cwd: packed.dir });
    expect(stdout).toContain('All good!');
  }, 60_000);

  // Ignored: 'cjs-resolves-to-esm' — the package is ESM only ("type": "module", an ES module bundle,
  // no "require" condition), so a CommonJS `require` resolves to ESM by design. Node ≥ 20.19 and
  // ≥ 22.12 can require() it anyway (it has no top-level await); older ones use import().
  it('@arethetypeswrong/cli: no problems (but ESM-only by design)', async () => {
    const { stdout } = await run(join(BIN, 'attw'), [packed.tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped'], {
      cwd: packed.dir,
    });
    expect(stdout).toContain('No problems found');
  }, 60_000);
});

describe('installed into an empty project', () => {
  it("runs the README's Node snippet (examples/node.mjs)", async () => {
    const snippet = readmeBlock(readme, '## Use it from Node', 'js');
    // The example in the repository is the same code, importing the checkout's build.
    const example = readFileSync(join(ROOT, 'examples/node.mjs'), 'utf8');
    expect(example.replace(/^\/\/.*\n/, '').replace("from '../dist/index.js'", "from 'wasm-rnn'")).toBe(snippet);
    writeFileSync(join(packed.project, 'node.mjs'), snippet);
    const { stdout } = await run(process.execPath, ['node.mjs'], { cwd: packed.project });
    expect(stdout).toMatch(/^wasm-simd output \[ 20, 4, 32 \] h \[ 2, 4, 32 \] c \[ 2, 4, 32 \]\n/);
    expect(stdout).toMatch(/streamed h\[0\.\.3\]/);
  }, 60_000);

  it("runs the README's ONNX snippet (wasm-rnn/onnx)", async () => {
    writeFileSync(join(packed.project, 'onnx.mjs'), readmeBlock(readme, '## ONNX', 'js'));
    const { stdout } = await run(process.execPath, ['onnx.mjs'], { cwd: packed.project });
    expect(stdout).toMatch(/same as forward: true/);
  }, 60_000);

  it("runs the README's worker snippet (wasm-rnn/worker on worker_threads), also without process.getBuiltinModule", async () => {
    const snippet = readmeBlock(readme, '## Off the main thread: `wasm-rnn/worker`', 'js');
    writeFileSync(join(packed.project, 'worker.mjs'), snippet);
    // The fallback path: the page and the worker both lack process.getBuiltinModule (an --import hook runs in each).
    writeFileSync(join(packed.project, 'no-builtin.mjs'), 'process.getBuiltinModule = undefined;\n');
    const [native, fallback] = await Promise.all([
      run(process.execPath, ['worker.mjs'], { cwd: packed.project }),
      run(process.execPath, ['--import', './no-builtin.mjs', 'worker.mjs'], { cwd: packed.project }),
    ]);
    expect(native.stdout).toMatch(/^\{ name: 'wasm-simd', binary: 'simd', ready: true, threads: 1 \}\n(epoch \d loss \d\.\d{3}\n){4}\d+ steps\n".+" true\ntrue \[ 5, 1, \d+ \] 0\ntrue\n$/);
    expect(fallback.stdout).toBe(native.stdout);
  }, 60_000);

  it('works without process.getBuiltinModule (Node 20.0–20.15): reads the .wasm, resolves paths, starts workers', async () => {
    const script = `
      const run = async (lib) => {
        await lib.ready({ threads: 1, simdWasm: 'node_modules/wasm-rnn/build/wasm-rnn.simd.wasm' }); // a path: node:url
        const lstm = new lib.LSTM({ inputSize: 8, hiddenSize: 64, seed: 3 });
        const x = { data: Float32Array.from({ length: 12 * 8 }, (_, i) => Math.sin(i)), shape: [12, 8] };
        const one = Array.from(lstm.forward(x).output.data);
        await lib.ready({ threads: 2 }); // node:worker_threads
        const two = Array.from(lstm.forward(x).output.data);
        const info = lib.backendInfo();
        await lib.ready({ threads: 1 });
        return { one, two, info };
      };
      const mode = process.argv[2];
      if (mode === 'fallback') process.getBuiltinModule = undefined;
      const got = await run(await import('wasm-rnn'));
      console.log(JSON.stringify({ mode, has: typeof process.getBuiltinModule, ...got }));
    `;
    writeFileSync(join(packed.project, 'builtins.mjs'), script);
    const [native, fallback] = await Promise.all(
      ['native', 'fallback'].map(async (mode) => JSON.parse((await run(process.execPath, ['builtins.mjs', mode], { cwd: packed.project })).stdout)),
    );
    expect(native.has).toBe('function');
    expect(fallback.has).toBe('undefined');
    expect(fallback.info).toEqual({ name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: 2 });
    expect(fallback.one).toEqual(native.one);
    expect(fallback.two).toEqual(native.one);
  }, 60_000);

  it('its types compile with nothing else installed (strict, no skipLibCheck, no @types/node)', async () => {
    const consumer = `
      import { LSTM, ready, type RNNResult, type ReadyOptions } from 'wasm-rnn';
      import { exportOnnx, importOnnx, type OnnxModel } from 'wasm-rnn/onnx';
      import { spawnWorker, transfer, type RemoteModel } from 'wasm-rnn/worker';
      const options: ReadyOptions = { simdWasm: new Uint8Array(8), threads: 1 };
      export async function main(): Promise<number> {
        await ready(options);
        const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
        const r: RNNResult = lstm.forward([[0.5, 0.25]]);
        const m: OnnxModel = await importOnnx(exportOnnx(lstm));
        m.dispose();
        const w = await spawnWorker({ backend: 'wasm-simd' });
        const lm: RemoteModel = await w.create('LanguageModel', { vocabSize: 5, embeddingDim: 2, hiddenSize: 3 });
        const ids: Int32Array = await lm.generate([1, 2], { maxTokens: 3 }, (id: number) => void id);
        const text: string = await lm.generate('ab', {}, (piece: string) => void piece);
        const out = await lm.call<{ output: { shape: number[] } }>('forward', transfer({ data: new Float32Array(4), shape: [4] }, []));
        await w.terminate();
        return r.output.shape.length + ids.length + text.length + out.output.shape.length;
      }
    `;
    writeFileSync(join(packed.project, 'consumer.ts'), consumer);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    // Node's resolution (bundler resolution of the same exports is attw's 'bundler' column);
    // no @types/node; our declarations checked, TypeScript's own lib files not.
    const compilerOptions = {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [],
      strict: true, skipLibCheck: false, skipDefaultLibCheck: true, noEmit: true,
    };
    writeFileSync(join(packed.project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    await run(process.execPath, [tsc, '-p', '.'], { cwd: packed.project });
  }, 60_000);
});

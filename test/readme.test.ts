/**
 * Every ```js block of README.md runs somewhere. The table below names each block (its heading
 * and first line) and says where: either another test file runs it (and that file must name the
 * block's heading, so the table cannot claim a test that never looks at the README), or it runs
 * here, as users get it: the packed tarball (`npm pack` of the build) installed into an empty
 * project, whose node_modules/wasm-rnn a temporary folder links to — so `'wasm-rnn'`,
 * `'wasm-rnn/onnx'` and `'wasm-rnn/tfjs'` resolve through package.json's exports to the shipped
 * files, and a block that needs a file the tarball lacks fails.
 *
 * A block that leaves variables to the reader (`names`, `trainRows`, `sources`, …) gets a prelude
 * that defines them with small real data; a training budget is shrunk only by a substitution
 * listed here and asserted to occur in the block, so an edit to the README cannot skip it
 * silently. Preludes never call ready(): a block that needs the kernels must ask for them itself
 * (except a block that continues the one before it, which did). A postlude observes what the
 * block made, and the checks hold it to the claims in the block's comments.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, packAndInstall, readmeBlocks, type Packed, type ReadmeBlock } from './tarball.js';

/** The installed tarball (set in beforeAll). */
let packed: Packed | undefined;

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BLOCKS = readmeBlocks(README, 'js');
const keyOf = (b: { heading: string; first: string }): string => `${b.heading} » ${b.first}`;

/** A block another test file runs. */
interface Elsewhere {
  heading: string;
  first: string;
  /** The test files that run it; each must contain the heading (and `marker`). */
  files: string[];
  /** How those files pick the block when it is not the first under its heading: the start of its first line. */
  marker?: string;
}

/** A block run here. */
interface Here {
  heading: string;
  first: string;
  /** Why the prelude may call ready(): the block continues an earlier one that did. */
  continues?: string;
  /** Defines the block's free variables (never ready(), see above). */
  prelude?: string;
  /** [README text, replacement]: each must occur in the block exactly once. */
  substitutions?: Array<[string, string]>;
  /** Observes what the block made: `observe({...})` prints a JSON line the checks read. */
  postlude?: string;
  /** A file the README says this block is: its text, less its leading comment and with `'wasm-rnn'` for the checkout's dist, must equal the block. */
  example?: string;
  check(run: { stdout: string; seen: Record<string, unknown> }): void;
}

const ELSEWHERE: Elsewhere[] = [
  { heading: '## Use it from Node', first: "import { LSTM, Linear, ready, getBackend } from 'wasm-rnn';", files: ['test/package.test.ts'] },
  { heading: '### Bundlers', first: '// main.js', files: ['test/bundlers.test.ts'] },
  { heading: '### Bundlers', first: '// webpack.config.mjs', files: ['test/bundlers.test.ts'], marker: '// webpack.config.mjs' },
  { heading: '### Bundlers', first: '// main.js for esbuild', files: ['test/bundlers.test.ts'], marker: '// main.js for esbuild' },
  {
    heading: '## Real-time audio: AudioWorklet',
    first: "// processor.js, loaded with audioWorklet.addModule(); from an installed package import",
    files: ['test/audio-worklet.test.ts'],
  },
  {
    heading: '## Real-time audio: AudioWorklet',
    first: '// setup.js, a module of a page in the same folder (fetch() and addModule() resolve against the page)',
    files: ['test/audio-worklet.test.ts'],
    marker: '// setup.js',
  },
  {
    heading: '## Off the main thread: `wasm-rnn/worker`',
    first: "import { CharTokenizer, Tensor, lmBatches, load, ready } from 'wasm-rnn';",
    files: ['test/package.test.ts'],
  },
  { heading: '## ONNX', first: "import { LSTM, ready } from 'wasm-rnn';", files: ['test/package.test.ts', 'test/onnx-dist.test.ts'] },
  { heading: '## TensorFlow.js / Keras', first: "import * as tf from '@tensorflow/tfjs';", files: ['test/tfjs-dist.test.ts'] },
];

/** Prints what a postlude observed, as one line the checks find. */
const OBSERVE = "const observe = (o) => console.log('@@' + JSON.stringify(o));\n";

/** 20 female and 20 male first names, lower case; labels index ['female', 'male']. */
const NAMES_PRELUDE = `
const names = [
  'emma', 'olivia', 'sophia', 'isabella', 'mia', 'charlotte', 'amelia', 'harper', 'evelyn', 'abigail',
  'emily', 'ella', 'elizabeth', 'camila', 'luna', 'sofia', 'avery', 'mila', 'aria', 'scarlett',
  'noah', 'liam', 'oliver', 'elijah', 'james', 'william', 'benjamin', 'lucas', 'henry', 'theodore',
  'jack', 'levi', 'alexander', 'jackson', 'mateo', 'daniel', 'michael', 'mason', 'sebastian', 'ethan',
];
const labels = names.map((_, i) => (i < 20 ? 0 : 1));
`;

/**
 * 240 days of a synthetic daily count (a weekly cycle on a slow trend, seeded noise) with its
 * calendar (day of week, one-hot): F = 8 columns, births first. The first 160 days train; the
 * test windows cover days 104–239 (scaled by a scaler fitted as the block fits its own, on the
 * same rows); history is the training days and covariates the calendar of the 30 days after.
 */
const SERIES_PRELUDE = `
import * as lib from 'wasm-rnn';
const days = Array.from({ length: 240 }, (_, i) => new Date(Date.UTC(1987, 0, 1 + i)));
const cal = lib.calendarFeatures(days, { features: ['dayOfWeek'], encoding: { dayOfWeek: 'onehot' } });
const C = cal.shape[1], F = 1 + C;
let seed = 1;
const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
const rows = days.map((_, i) => [1000 + i + 150 * Math.sin((2 * Math.PI * i) / 7) + 40 * noise(), ...cal.data.subarray(i * C, (i + 1) * C)]);
const trainRows = rows.slice(0, 160);
const testWindows = lib.slidingWindows(new lib.StandardScaler().fit(trainRows).transform(rows.slice(104)), { window: 56, horizon: 14, targetColumns: [0] });
const history = trainRows;
const covariates = rows.slice(160, 190).map((r) => r.slice(1));
`;

/**
 * 50 dates in four formats (every month in each of 'september 11 1994', '3.5.2001', 'Mar 5 2001'
 * and '5th of March 2001') and their ISO 8601 form; the block's translate() inputs are checked to
 * use only characters the sources have (its tokenizer has no '<unk>').
 */
const DATES_PRELUDE = `
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const nth = (d) => d + (d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th');
const sources = [], targets = [];
for (let i = 0; i < 50; i++) {
  const m = 1 + (i % 12), d = 1 + ((i * 11) % 28), y = 1950 + ((i * 37) % 100), name = MONTHS[m - 1];
  const format = Math.floor(i / 12) % 4;
  sources.push([\`\${name.toLowerCase()} \${d} \${y}\`, \`\${d}.\${m}.\${y}\`, \`\${name.slice(0, 3)} \${d} \${y}\`, \`\${nth(d)} of \${name} \${y}\`][format]);
  targets.push(\`\${y}-\${String(m).padStart(2, '0')}-\${String(d).padStart(2, '0')}\`);
}
for (const s of ['september 11 1994', '3.5.2001', 'Mar 5 2001', '5th of March 2001']) {
  for (const ch of s) if (!sources.some((x) => x.includes(ch))) throw new Error(\`prelude: no source has \${JSON.stringify(ch)}\`);
}
`;

const HERE: Here[] = [
  {
    heading: '## Bring weights from PyTorch, and take them back',
    first: '// examples/from-safetensors.mjs',
    postlude: 'observe({ identical: Buffer.compare(Buffer.from(out), bytes) === 0, bytes: out.length });',
    check: ({ seen }) => {
      expect(seen.identical, 'writeSafetensors: "byte-identical to the PyTorch file"').toBe(true);
    },
  },
  {
    heading: '## Bring weights from PyTorch, and take them back',
    first: '// examples/load-pytorch.mjs',
    postlude: `
const { output } = lstm.forward({ data: new Float32Array(5 * 8).fill(0.5), shape: [5, 8] });
observe({ shape: output.shape, first: Array.from(output.data.subarray(0, 4), (v) => v.toFixed(6)) });`,
    check: ({ seen }) => {
      // PyTorch 1.13 printed these for examples/from-pytorch.py's model on the same input (see test/examples.test.ts).
      expect(seen).toEqual({ shape: [5, 32], first: ['0.028289', '-0.084092', '-0.052797', '-0.031929'] });
    },
  },
  {
    heading: '## Train',
    first: "import { Adam, Embedding, FinalHidden, LSTM, Linear, Sequential, crossEntropy, padSequences, ready } from 'wasm-rnn';",
    // sample(n): the task examples/classify.mjs defines — does a digit sequence (length 3–12) contain a 7?
    prelude: `
let seed = 7;
const digit = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % 10;
const sample = (n) => {
  const sequences = Array.from({ length: n }, () => Array.from({ length: 3 + (digit() % 10) }, digit));
  return { sequences, labels: sequences.map((s) => Number(s.includes(7))) };
};`,
    substitutions: [['step <= 150', 'step <= 10']],
    postlude: `
model.eval();
const probe = padSequences(sample(8).sequences);
const logits = model.forward({ data: probe.data, shape: probe.shape }, { lengths: probe.lengths });
observe({ shape: logits.shape, steps: optimizer.stepCount, names: Object.keys(model.stateDict()).slice(0, 2) });`,
    check: ({ seen }) => {
      expect(seen).toEqual({ shape: [8, 2], steps: 10, names: ['0.weight', '1.weight_ih_l0'] });
    },
  },
  {
    heading: '## Train',
    first: "import { LSTM, Adam, clipGradNorm, mse, ready } from 'wasm-rnn';",
    example: 'examples/train-step.mjs',
    check: ({ stdout }) => {
      expect(stdout).toMatch(/^loss [\d.]+ grad norm [\d.]+ dx \[ 5, 2, 3 \]\n$/);
    },
  },
  {
    heading: '## Save, load, resume',
    first: "import { Adam, LanguageModel, load, save, saveFile, loadFile, ready } from 'wasm-rnn';",
    postlude: `
import { statSync as statOf } from 'node:fs';
observe({
  class: again.constructor.name,
  sameConfig: JSON.stringify(again.getConfig()) === JSON.stringify(lm.getConfig()),
  roundTrip: Buffer.compare(Buffer.from(save(again)), Buffer.from(bytes)) === 0,
  file: statOf('lm.safetensors').size > bytes.length,
  step: optimizer.stepCount,
});`,
    check: ({ seen }) => {
      // The file holds the optimizer's state too, so it is larger than the weights alone.
      expect(seen).toEqual({ class: 'LanguageModel', sameConfig: true, roundTrip: true, file: true, step: 0 });
    },
  },
  {
    heading: '## Generate text',
    first: "import { readFileSync } from 'node:fs';",
    substitutions: [
      ['step < 300', 'step < 20'],
      ['++step === 300', '++step === 20'],
    ],
    postlude: `
const greedy = (m) => m.generateText('Call me', { maxTokens: 20, temperature: 0 });
observe({ logits: logits.constructor.name, length: logits.length, vocab: tokenizer.vocabSize, tokenizerSaved: greedy(again) === greedy(lm) });`,
    check: ({ stdout, seen }) => {
      const m = /^held-out perplexity (\d+\.\d\d) per character\n/.exec(stdout);
      expect(m, stdout).not.toBeNull();
      const vocab = seen.vocab as number;
      // Even 20 steps learn the character frequencies: below a uniform guess over the vocabulary.
      expect(Number(m?.[1])).toBeLessThan(vocab);
      expect(seen).toEqual({ logits: 'Float32Array', length: vocab, vocab, tokenizerSaved: true });
    },
  },
  {
    heading: '### SequenceClassifier (many-to-one)',
    first: "import { AdamW, CharTokenizer, SequenceClassifier, fit, ready, sequenceBatches } from 'wasm-rnn';",
    prelude: NAMES_PRELUDE,
    substitutions: [['epochs: 15', 'epochs: 2']],
    postlude: `
const ids = model.predict(['emma', 'noah']), proba = model.predictProba(['emma', 'noah']);
observe({
  type: ids.constructor.name, ids: Array.from(ids), classes: model.classes,
  proba: proba.constructor.name, shape: proba.shape,
  argmax: [0, 1].map((r) => (proba.data[2 * r + 1] > proba.data[2 * r] ? 1 : 0)),
  rowSums: [0, 1].map((r) => +(proba.data[2 * r] + proba.data[2 * r + 1]).toFixed(5)),
});`,
    check: ({ seen }) => {
      // "Int32Array [0, 1]" needs the full 15 epochs on the full name lists: here the type and length.
      expect(seen.type).toBe('Int32Array');
      expect(seen.ids).toHaveLength(2);
      expect(seen.ids).toEqual(seen.argmax);
      expect(seen.classes).toEqual(['female', 'male']);
      expect(seen.proba).toBe('Tensor');
      expect(seen.shape).toEqual([2, 2]);
      expect(seen.rowSums).toEqual([1, 1]);
    },
  },
  {
    heading: '### Forecaster (time series)',
    first: "import { Adam, Forecaster, StandardScaler, fit, ready, slidingWindows, windowBatches } from 'wasm-rnn';",
    prelude: SERIES_PRELUDE,
    substitutions: [['epochs: 20', 'epochs: 2']],
    postlude: `
const errors = model.evaluate(testWindows), ahead = model.forecast(history, 30, { covariates });
observe({ keys: Object.keys(errors).sort(), errors, windows: testWindows.B, type: ahead.constructor.name, shape: ahead.shape, finite: ahead.data.every(Number.isFinite) });`,
    check: ({ seen }) => {
      expect(seen.keys).toEqual(['count', 'mae', 'mape', 'rmse']);
      const errors = seen.errors as { mae: number; rmse: number; mape: number; count: number };
      expect(errors.count).toBe((seen.windows as number) * 14);
      // "in births per day": the data's units (a count near 1000 ± 150), not the scaler's (±2).
      expect(errors.mae).toBeGreaterThan(10);
      expect(errors.rmse).toBeGreaterThanOrEqual(errors.mae);
      expect(errors.mape).toBeLessThan(1);
      expect(seen).toMatchObject({ type: 'Tensor', shape: [30, 1], finite: true });
    },
  },
  {
    heading: '### Seq2Seq (encoder–decoder)',
    first: "import { Adam, CharTokenizer, Seq2Seq, fit, ready, seq2seqBatches } from 'wasm-rnn';",
    prelude: DATES_PRELUDE,
    // The block's budget (2 epochs of batches of 128) is one batch an epoch on 50 pairs: no substitution.
    postlude: `
const one = model.translate('september 11 1994');
const two = model.translate(['3.5.2001', 'Mar 5 2001'], { beamSize: 3, maxLen: 12 });
const beams = model.beamSearch('5th of March 2001', { beamSize: 4 });
observe({
  one, two, beams: beams.length,
  beam: Object.fromEntries(Object.entries(beams[0]).map(([k, v]) => [k, v?.constructor.name])),
  sorted: beams.every((b, i) => i === 0 || beams[i - 1].score >= b.score),
});`,
    check: ({ seen }) => {
      // '1994-09-11' needs the full training set; two steps on 50 pairs give a string in the target alphabet.
      expect(typeof seen.one).toBe('string');
      expect(seen.one).toMatch(/^[\d-]*$/);
      expect(seen.two).toHaveLength(2);
      for (const t of seen.two as unknown[]) expect(t).toMatch(/^[\d-]{0,12}$/);
      expect(seen.beams).toBeGreaterThanOrEqual(1);
      expect(seen.beams).toBeLessThanOrEqual(4);
      expect(seen.beam).toEqual({ ids: 'Int32Array', text: 'String', logProb: 'Number', score: 'Number', finished: 'Boolean' });
      expect(seen.sorted).toBe(true);
    },
  },
  {
    heading: '## Cell variants',
    first: "import { GRU, LSTM, RNN } from 'wasm-rnn';",
    prelude: 'const inputSize = 3, hiddenSize = 4;\n',
    postlude: `
const peep = new LSTM({ inputSize, hiddenSize, peepholes: true });
let clipped = '';
try { new RNN({ inputSize, hiddenSize, clip: 3 }).train(); } catch (e) { clipped = e.message; }
observe({ peephole: peep.stateDict().weight_peephole_l0?.shape, config: peep.getConfig().peepholes, clipped });`,
    check: ({ seen }) => {
      expect(seen.peephole, 'weight_peephole_l{k} [3, H]').toEqual([3, 4]);
      expect(seen.config, 'getConfig() lists the options that differ from PyTorch').toBe(true);
      expect(seen.clipped, 'train() refuses clip, naming the option').toMatch(/clip/);
    },
  },
  {
    heading: '## Backends',
    first: "import { LSTM, backendInfo, ready } from 'wasm-rnn';",
    example: 'examples/threads.mjs',
    check: ({ stdout }) => {
      expect(stdout).toMatch(
        /^\{ name: 'wasm-simd', binary: 'simd-threads', ready: true, threads: 2 \}\noutput \[ 64, 256 \]\nstep h\[0\.\.3\] \[ '-?\d\.\d{4}', '-?\d\.\d{4}', '-?\d\.\d{4}' \]\n1 \[ 64, 256 \]\n$/,
      );
    },
  },
  {
    heading: '## ONNX',
    first: "const model = await importOnnx(readFileSync('char.onnx'));",
    continues: "the section's first block: its imports and ready()",
    // char.onnx: what the block's torch.onnx.export call wrote, committed as a fixture, and the tokens PyTorch ran it on.
    prelude: `
import { copyFileSync, readFileSync } from 'node:fs';
import { ready } from 'wasm-rnn';
import { importOnnx } from 'wasm-rnn/onnx';
await ready();
copyFileSync('test/fixtures/onnx/torch_char_model_opset17.onnx', 'char.onnx');
const torchCase = JSON.parse(readFileSync('test/fixtures/onnx/cases.json', 'utf8')).cases.find((c) => c.name === 'torch_char_model_opset17');
const [T, B] = torchCase.inputs[0].shape, ids = torchCase.inputs[0].data;
`,
    postlude: `
const want = torchCase.expected.logits;
observe({ shape: logits.shape, want: want.shape, err: Math.max(...logits.data.map((v, i) => Math.abs(v - want.data[i]))) });`,
    check: ({ seen }) => {
      expect(seen.shape).toEqual([7, 2, 11]);
      expect(seen.shape).toEqual(seen.want);
      expect(seen.err).toBeLessThan(1e-5);
    },
  },
  {
    heading: '## TensorFlow.js / Keras',
    first: "import { loadTfjs } from 'wasm-rnn/tfjs';",
    // models/classifier: a TF.js Layers model saved by @tensorflow/tfjs (model.json and five shards).
    prelude: `
import { cpSync } from 'node:fs';
cpSync('test/fixtures/tfjs/classifier-sigmoid', 'models/classifier', { recursive: true });
`,
    substitutions: [
      [
        "const m2 = await loadTfjs('/models/classifier/model.json'); // in a browser: fetched relative to the page",
        '// (the browser line: test/browser-tfjs.test.ts loads model.json relative to a page in Chromium)',
      ],
    ],
    // The block only loads; predicting needs the kernels, which the section's first block awaited.
    postlude: `
import { readFileSync as readText } from 'node:fs';
import { ready as readyKernels } from 'wasm-rnn';
await readyKernels();
const want = JSON.parse(readText('models/classifier/expected.json', 'utf8'));
const y = m.predict(want.input);
observe({ shape: y.shape, want: want.output.shape, err: Math.max(...y.data.map((v, i) => Math.abs(v - want.output.data[i]))), modules: m.module.getConfig().layers.map((l) => l.class) });`,
    check: ({ seen }) => {
      expect(seen.shape).toEqual(seen.want);
      expect(seen.err).toBeLessThan(2e-6);
      expect(seen.modules).toEqual(['Embedding', 'LSTM', 'FinalHidden', 'MergeDirections', 'Linear', 'Softmax']);
    },
  },
];

function blockOf(entry: { heading: string; first: string }): ReadmeBlock {
  const found = BLOCKS.filter((b) => keyOf(b) === keyOf(entry));
  if (found.length !== 1) throw new Error(`README: expected one \`\`\`js block under '${entry.heading}' starting '${entry.first}', found ${found.length}`);
  return found[0];
}

/** The block with the substitutions made, each of which must occur exactly once. */
function substituted(entry: Here, body: string): string {
  let code = body;
  for (const [from, to] of entry.substitutions ?? []) {
    const count = code.split(from).length - 1;
    if (count !== 1) throw new Error(`README '${entry.heading}': the block should contain '${from}' once (the test replaces it), found ${count}`);
    code = code.replace(from, to);
  }
  return code;
}

/** Runs a module in a fresh folder laid out as described above; its stdout, or an error with the code and both streams. */
function runModule(code: string, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-readme-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    if (!packed) throw new Error('the tarball is not installed (beforeAll failed)');
    symlinkSync(join(packed.project, 'node_modules', 'wasm-rnn'), join(dir, 'node_modules', 'wasm-rnn'), 'dir');
    // The blocks read files relative to a clone's root (examples/data/…, test/fixtures/…).
    symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'), 'dir');
    symlinkSync(join(ROOT, 'test'), join(dir, 'test'), 'dir');
    writeFileSync(join(dir, 'block.mjs'), code);
    return execFileSync(process.execPath, ['block.mjs'], { cwd: dir, encoding: 'utf8', timeout: 45_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const numbered = code.split('\n').map((l, i) => `${String(i + 1).padStart(3)} ${l}`).join('\n');
    throw new Error(`README block ${label} failed: ${e.message}\n${numbered}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README.md: every ```js block runs in a test', () => {
  beforeAll(async () => {
    packed = await packAndInstall('readme');
  }, 120_000);
  afterAll(() => packed?.remove());

  it('the build exists (npm test builds first)', () => {
    expect(() => readFileSync(join(ROOT, 'dist/esm/index.js')), 'run `npm run build`').not.toThrow();
  });

  it('every block is in exactly one table, and every table entry is a block of README.md', () => {
    expect(BLOCKS.length).toBeGreaterThan(0);
    const readmeKeys = BLOCKS.map(keyOf);
    expect(new Set(readmeKeys).size, 'two blocks share a heading and first line: make their first lines differ').toBe(readmeKeys.length);
    const tableKeys = [...ELSEWHERE, ...HERE].map(keyOf);
    expect(new Set(tableKeys).size, 'a block is listed twice').toBe(tableKeys.length);
    const unlisted = readmeKeys.filter((k) => !tableKeys.includes(k));
    expect(unlisted, 'README blocks no test runs: add them to ELSEWHERE (naming the test) or HERE').toEqual([]);
    const stale = tableKeys.filter((k) => !readmeKeys.includes(k));
    expect(stale, 'table entries with no such README block (heading or first line changed?)').toEqual([]);
  });

  describe('run by other test files', () => {
    it.each(ELSEWHERE.map((e) => [keyOf(e), e] as const))('%s', (_, entry) => {
      const block = blockOf(entry);
      if (entry.marker !== undefined) expect(block.first.startsWith(entry.marker), 'marker is the start of the first line').toBe(true);
      // readmeBlock(readme, heading, 'js') without a start string picks the first block under the heading.
      expect(block.index === 0 || entry.marker !== undefined, 'a block after the first under its heading needs the marker its test picks it by').toBe(true);
      for (const file of entry.files) {
        const text = readFileSync(join(ROOT, file), 'utf8');
        expect(text, `${file} reads README.md`).toMatch(/README/);
        expect(text.includes(entry.heading), `${file} names the heading '${entry.heading}'`).toBe(true);
        if (entry.marker !== undefined) expect(text.includes(entry.marker), `${file} picks the block by '${entry.marker}'`).toBe(true);
      }
    });
  });

  describe('run here', () => {
    it.each(HERE.map((e) => [keyOf(e), e] as const))('%s', (label, entry) => {
      const block = blockOf(entry);
      if (/\bready\(/.test(entry.prelude ?? '')) expect(entry.continues, 'a prelude calls ready() only for a block that continues one that did').toBeDefined();
      if (entry.example !== undefined) {
        const example = readFileSync(join(ROOT, entry.example), 'utf8').replace(/^(\/\/.*\n)+/, '').replaceAll("from '../dist/index.js'", "from 'wasm-rnn'");
        expect(example, `README '${entry.heading}' says this block is ${entry.example}`).toBe(block.body);
      }
      const code = `${entry.prelude ?? ''}\n${substituted(entry, block.body)}\n${OBSERVE}${entry.postlude ?? ''}\n`;
      const stdout = runModule(code, label);
      const observed = stdout.split('\n').filter((l) => l.startsWith('@@'));
      if (entry.postlude !== undefined) expect(observed, `the postlude observed once:\n${stdout}`).toHaveLength(1);
      const seen = observed.length ? (JSON.parse(observed[0].slice(2)) as Record<string, unknown>) : {};
      entry.check({ stdout: stdout.split('\n').filter((l) => !l.startsWith('@@')).join('\n'), seen });
    });
  });
});

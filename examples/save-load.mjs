// Save a model (and its optimizer), load it back, resume. Run: npm run build && node examples/save-load.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, LanguageModel, load, save, saveFile, loadFile, ready } from '../dist/index.js';

await ready();
const lm = new LanguageModel({ vocabSize: 65, embeddingDim: 32, hiddenSize: 128 });
const bytes = save(lm); // safetensors: weights + class + config + format version
const again = load(bytes); // a LanguageModel with the same configuration and weights
console.log(again.constructor.name, JSON.stringify(again.getConfig()), `${bytes.length} bytes`);

const optimizer = new Adam(lm, { lr: 1e-3 });
const path = join(mkdtempSync(join(tmpdir(), 'wasm-rnn-')), 'lm.safetensors');
await saveFile(lm, path, { optimizer }); // Node: temp file, fsync, rename
await loadFile(path, { into: lm, optimizer }); // resume exactly where it stopped
console.log('resumed at step', optimizer.stepCount);

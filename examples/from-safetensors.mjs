// A PyTorch model saved with safetensors (`save_file(model.state_dict(), path)`) runs here, and
// goes back. The file is a fixture written by test/fixtures/generate_safetensors.py from
// torch.nn modules; cases.json holds PyTorch's (float64) logits for it.
// Run: npm run build && node examples/from-safetensors.mjs
import { readFileSync } from 'node:fs';
import { LanguageModel, load, readSafetensors, ready, writeSafetensors } from '../dist/index.js';

await ready();
const bytes = readFileSync('test/fixtures/safetensors/charlm_lstm_V11E6H8.safetensors');

// Embedding(11, 6) → LSTM(6, 8, 2 layers) → Linear(8, 11), attributes embedding / rnn / linear.
const lm = new LanguageModel({ vocabSize: 11, embeddingDim: 6, hiddenSize: 8, numLayers: 2 });
load(bytes, { into: lm }); // or: lm.loadStateDict(readSafetensors(bytes).tensors)

const { ids, expected } = JSON.parse(readFileSync('test/fixtures/safetensors/cases.json', 'utf8')).cases
  .find((c) => c.name === 'charlm_lstm_V11E6H8');
const { logits } = lm.forward(ids);
const diff = Math.max(...logits.data.map((v, i) => Math.abs(v - expected.logits.data[i])));
console.log('logits', logits.shape, 'max |ours − PyTorch|', diff.toExponential(1));

// Back to PyTorch: load_state_dict(load_file(path), strict=True) reads these bytes.
const out = writeSafetensors(lm.stateDict(), readSafetensors(bytes).metadata);
console.log('byte-identical to the PyTorch file:', Buffer.compare(Buffer.from(out), bytes) === 0);

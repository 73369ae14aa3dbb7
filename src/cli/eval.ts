/** `wasm-rnn eval`: the perplexity of a saved language model on a text file. */
import type { CommandSpec } from './args.js';
import { UsageError } from './args.js';
import { WordTokenizer } from '../index.js';
import { loadLanguageModel, useBackend } from './common.js';
import { readText } from './train.js';

export const EVAL: CommandSpec = {
  name: 'eval',
  summary: "Perplexity of a saved model on a text file: exp of the mean cross-entropy of each token given the ones before it.",
  positionals: [
    { name: 'model', help: 'the .safetensors file' },
    { name: 'text', help: 'a UTF-8 text file (tokens outside the vocabulary count as <unk>)' },
  ],
  options: [
    { name: 'tail', type: 'number', min: 0, max: 1, above: true, help: "only the last fraction of the text (train's --val split: --tail 0.1)" },
    { name: 'json', type: 'flag', help: 'print one JSON object' },
    { name: 'backend', type: 'string', choices: ['wasm-simd', 'wasm', 'js'], help: 'kernels (default: wasm-simd where supported)' },
  ],
};

export interface EvalResult {
  perplexity: number;
  tokens: number;
  seconds: number;
}

export async function evaluate(opts: Record<string, unknown>, positionals: string[]): Promise<EvalResult> {
  const [modelPath, textPath] = positionals;
  const text = readText('eval', textPath);
  await useBackend(opts.backend as string | undefined);
  const lm = await loadLanguageModel('eval', modelPath);
  try {
    if (!lm.tokenizer) throw new UsageError(`wasm-rnn eval: '${modelPath}' has no tokenizer (save a LanguageModel built with { tokenizer })`);
    let ids = lm.tokenizer.encode(text);
    const tail = opts.tail as number | undefined;
    // The same split as train's --val: the last floor(n · tail) tokens.
    if (tail !== undefined) ids = ids.subarray(ids.length - Math.floor(ids.length * tail));
    if (ids.length < 2) throw new UsageError(`wasm-rnn eval: '${textPath}' holds ${ids.length} token${ids.length === 1 ? '' : 's'}${tail ? ' in its tail' : ''}; at least 2 are needed`);
    const t0 = performance.now();
    const perplexity = lm.perplexity(ids);
    const seconds = (performance.now() - t0) / 1000;
    const unit = lm.tokenizer instanceof WordTokenizer ? 'word' : 'character';
    if (opts.json) console.log(JSON.stringify({ perplexity, tokens: ids.length, unit, seconds }));
    else console.log(`perplexity ${perplexity.toFixed(3)} per ${unit} over ${ids.length} tokens of ${textPath}${tail ? ` (last ${tail})` : ''} (${seconds.toFixed(1)} s)`);
    return { perplexity, tokens: ids.length, seconds };
  } finally {
    lm.dispose();
  }
}

/** `wasm-rnn generate`: continues a prefix with a saved language model. */
import type { CommandSpec } from './args.js';
import { UsageError } from './args.js';
import { loadLanguageModel, useBackend } from './common.js';

export const GENERATE: CommandSpec = {
  name: 'generate',
  summary: 'Continues a prefix with a model saved by `wasm-rnn train`, and prints prefix and continuation.',
  positionals: [{ name: 'model', help: 'the .safetensors file' }],
  options: [
    { name: 'prefix', type: 'string', default: 'Call me', help: 'the text to continue (read by one forward)' },
    { name: 'length', type: 'int', min: 1, default: 300, help: 'tokens to generate at most' },
    { name: 'temperature', type: 'number', min: 0, default: 0.8, help: '0: greedy; below 1: safer, above 1: wilder' },
    { name: 'top-k', type: 'int', min: 1, help: 'sample among the k most likely tokens only' },
    { name: 'top-p', type: 'number', min: 0, max: 1, above: true, help: 'sample from the smallest set of tokens holding this probability' },
    { name: 'seed', type: 'int', min: 0, help: 'the same seed gives the same text (default: random)' },
    { name: 'stop', type: 'string', help: 'stop before this text (e.g. a newline: --stop "$(printf \'\\n\')")' },
    { name: 'backend', type: 'string', choices: ['wasm-simd', 'wasm', 'js'], help: 'kernels (default: wasm-simd where supported)' },
  ],
};

export async function generate(opts: Record<string, unknown>, positionals: string[]): Promise<string> {
  await useBackend(opts.backend as string | undefined);
  const lm = await loadLanguageModel('generate', positionals[0]);
  try {
    if (!lm.tokenizer) throw new UsageError(`wasm-rnn generate: '${positionals[0]}' has no tokenizer (save a LanguageModel built with { tokenizer })`);
    const prefix = opts.prefix as string;
    if (prefix === '') throw new UsageError('wasm-rnn generate: --prefix must not be empty (the model needs a token to start from)');
    const text = lm.generateText(prefix, {
      maxTokens: opts.length as number,
      temperature: opts.temperature as number,
      ...(opts['top-k'] !== undefined ? { topK: opts['top-k'] as number } : {}),
      ...(opts['top-p'] !== undefined ? { topP: opts['top-p'] as number } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed as number } : {}),
      ...(opts.stop !== undefined && opts.stop !== '' ? { stop: opts.stop as string } : {}),
    });
    const all = `${prefix}${text}`;
    console.log(all);
    return all;
  } finally {
    lm.dispose();
  }
}

/**
 * `wasm-rnn train`: a language model on a text file (by default the bundled chapters of Moby
 * Dick) for a time budget. The loop is truncated BPTT over sequential batches (B parallel
 * streams, T steps per batch, the state carried across batches without gradient), Adam with
 * gradient clipping and a cosine learning-rate decay over the budget, the perplexity of the
 * held-out tail of the text every few seconds, and the best model saved with saveFile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import {
  Adam, CharTokenizer, LanguageModel, WordTokenizer, clipGradNorm, lmBatches, saveFile, type TokenBatch,
} from '../index.js';
import { UsageError, type CommandSpec } from './args.js';
import { useBackend } from './common.js';

/** The bundled corpus, beside the package's dist/ (the CLI runs from dist/cli/). */
export const BUNDLED_CORPUS = fileURLToPath(new URL('../../examples/data/moby-dick.txt', import.meta.url));

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Trains a language model on a text file and saves it (safetensors, with its tokenizer).',
  positionals: [{ name: 'text', optional: true, help: 'a UTF-8 text file (default: the bundled Moby Dick, chapters 1–20)' }],
  options: [
    { name: 'out', type: 'string', metavar: 'PATH', default: 'char-lm.safetensors', help: 'where to save the model (the best by validation)' },
    { name: 'time', type: 'number', metavar: 'SECONDS', min: 0, above: true, default: 60, help: 'training time budget, validation included' },
    { name: 'steps', type: 'int', min: 1, help: 'stop after this many steps (also shapes the learning-rate schedule)' },
    { name: 'cell', type: 'string', choices: ['lstm', 'gru', 'rnn'], default: 'lstm', help: 'recurrent cell' },
    { name: 'hidden', type: 'int', min: 1, default: 256, help: 'hidden size' },
    { name: 'embedding', type: 'int', min: 1, default: 64, help: 'embedding size' },
    { name: 'layers', type: 'int', min: 1, default: 1, help: 'stacked recurrent layers' },
    { name: 'dropout', type: 'number', min: 0, max: 0.95, default: 0, help: 'dropout between stacked layers' },
    { name: 'batch', type: 'int', min: 1, default: 16, help: 'parallel streams per batch' },
    { name: 'seq-len', type: 'int', min: 1, default: 32, help: 'time steps per batch (truncated BPTT length)' },
    { name: 'lr', type: 'number', min: 0, above: true, default: 0.01, help: 'Adam learning rate at the start' },
    { name: 'min-lr', type: 'number', min: 0, default: 0.0005, help: 'learning rate at the end (cosine decay over the budget)' },
    { name: 'clip', type: 'number', min: 0, above: true, default: 1, help: 'gradient norm clipping' },
    { name: 'tokenizer', type: 'string', choices: ['char', 'word'], default: 'char', help: 'characters, or lower-cased words and punctuation' },
    { name: 'max-vocab', type: 'int', min: 2, default: 10000, help: 'word tokenizer: the most frequent words kept (the rest are <unk>)' },
    { name: 'val', type: 'number', min: 0, max: 0.5, above: true, default: 0.1, help: 'fraction of the text held out at its end for validation' },
    { name: 'validate-every', type: 'number', metavar: 'SECONDS', min: 0, above: true, default: 15, help: 'validation (and checkpoint) interval' },
    { name: 'seed', type: 'int', min: 0, default: 0, help: 'seed of the weights and the batch offsets' },
    { name: 'backend', type: 'string', choices: ['wasm-simd', 'wasm', 'js'], help: 'kernels (default: wasm-simd where supported)' },
    { name: 'sample', type: 'int', metavar: 'N', min: 0, default: 200, help: 'print N generated tokens at the end (0: none)' },
    { name: 'no-progress', type: 'flag', help: 'no progress bar (it only shows on a terminal anyway)' },
  ],
  notes: [
    'Validation perplexity is exp of the mean cross-entropy per token of the held-out text, read as one stream.',
    'Stop early with Ctrl-C: the current step finishes, the model is validated and saved.',
  ],
};

export interface TrainSummary {
  steps: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  valPerplexity: number;
  bestValPerplexity: number;
  out: string;
}

/** Reads a text file for a command, or throws a UsageError naming it. */
export function readText(cmd: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`wasm-rnn ${cmd}: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.length === 0) throw new UsageError(`wasm-rnn ${cmd}: '${path}' is empty`);
  return text;
}

export async function train(opts: Record<string, unknown>, positionals: string[]): Promise<TrainSummary> {
  const num = (k: string): number => opts[k] as number;
  const path = positionals[0] ?? BUNDLED_CORPUS;
  if (positionals[0] === undefined && !existsSync(BUNDLED_CORPUS)) {
    throw new UsageError(`wasm-rnn train: the bundled corpus (${BUNDLED_CORPUS}) is missing: give a text file`);
  }
  const text = readText('train', path);
  await useBackend(opts.backend as string | undefined);

  const tokenizer = opts.tokenizer === 'word'
    ? new WordTokenizer().fit(text, { specials: ['<unk>'], maxSize: num('max-vocab') })
    : new CharTokenizer().fit(text, { specials: ['<unk>'] });
  const ids = tokenizer.encode(text);
  const B = num('batch'), T = num('seq-len');
  const nVal = Math.floor(ids.length * num('val'));
  const trainIds = ids.subarray(0, ids.length - nVal), valIds = ids.subarray(ids.length - nVal);
  if (trainIds.length < B * T + 1 || valIds.length < 2) {
    throw new UsageError(
      `wasm-rnn train: '${path}' is too short: ${ids.length} tokens, ${trainIds.length} for training (batch·seq-len + 1 = ${B * T + 1} needed) and ${valIds.length} held out (2 needed)`,
    );
  }
  const lm = new LanguageModel({
    tokenizer, embeddingDim: num('embedding'), hiddenSize: num('hidden'), numLayers: num('layers'),
    cell: opts.cell as 'lstm' | 'gru' | 'rnn', dropout: num('dropout'), seed: num('seed'),
  });
  const lr0 = num('lr'), lrEnd = Math.min(num('min-lr'), lr0), clip = num('clip');
  const optimizer = new Adam(lm, { lr: lr0 });
  const budget = num('time'), maxSteps = opts.steps as number | undefined, every = num('validate-every');
  const out = opts.out as string;
  const unit = opts.tokenizer === 'word' ? 'word' : 'character';

  const log = (s: string): void => {
    if (barActive) multibar?.log(`${s}\n`);
    else console.log(s);
  };
  console.log(
    `training a${opts.cell === 'lstm' ? 'n' : ''} ${String(opts.cell).toUpperCase()} ${num('layers')}×${num('hidden')} (embedding ${num('embedding')}, ${lm.parameters().reduce((n, p) => n + p.size, 0)} parameters) ` +
      `on ${path === BUNDLED_CORPUS ? 'Moby Dick, chapters 1–20' : path}: ${trainIds.length} ${unit}s, vocabulary ${tokenizer.vocabSize}, ` +
      `${valIds.length} held out; batch ${B} × ${T}, Adam lr ${lr0} → ${lrEnd}, clip ${clip}, ` +
      `${maxSteps ? `${maxSteps} steps or ` : ''}${budget} s`,
  );

  const tty = process.stderr.isTTY === true && opts['no-progress'] !== true;
  const multibar = tty
    ? new cliProgress.MultiBar({
      format: ' {bar} {percentage}% | loss {loss} | ppl {ppl} | val {val} | {tps} tok/s | {elapsed} s, {left} s left',
      barsize: 24, hideCursor: true, clearOnComplete: false, fps: 8,
    }, cliProgress.Presets.shades_classic)
    : null;
  const bar = multibar ? multibar.create(1000, 0, { loss: '–', ppl: '–', val: '–', tps: '–', elapsed: '0', left: String(budget) }) : null;
  let barActive = bar !== null;
  const stopBar = (): void => {
    if (barActive) multibar?.stop();
    barActive = false;
  };

  let stopRequested = false;
  const onSigint = (): void => {
    stopRequested = true;
  };
  process.once('SIGINT', onSigint);

  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  let steps = 0, tokens = 0, trainSeconds = 0, epoch = 0, smooth = NaN;
  let best = Infinity, last = NaN, nextValidation = every, validatedAt = -1, yieldedAt = 0;
  const progress = (): number => Math.min(1, Math.max(elapsed() / budget, maxSteps ? steps / maxSteps : 0));
  const validate = async (): Promise<void> => {
    validatedAt = steps;
    const ppl = lm.perplexity(valIds);
    last = ppl;
    const improved = ppl < best;
    if (improved) {
      best = ppl;
      await saveFile(lm, out);
    }
    log(`${elapsed().toFixed(1).padStart(6)} s  step ${String(steps).padStart(5)}  train ppl ${Math.exp(smooth).toFixed(2)}  val ppl ${ppl.toFixed(3)}${improved ? `  saved ${out}` : ''}`);
    if (barActive) bar?.update({ val: ppl.toFixed(2) });
  };

  let batches: TokenBatch[] = [];
  let next = 0;
  try {
    while (!stopRequested && progress() < 1) {
      if (next === batches.length) {
        batches = lmBatches(trainIds, { batchSize: B, seqLen: T, mode: 'sequential', seed: num('seed'), epoch: epoch++ });
        next = 0;
        lm.resetState();
      }
      const ts = performance.now();
      optimizer.lr = lrEnd + (lr0 - lrEnd) * 0.5 * (1 + Math.cos(Math.PI * progress()));
      optimizer.zeroGrad();
      const r = lm.trainBatch(batches[next++]);
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at step ${steps + 1} (loss ${r.loss}): try a smaller --lr or --clip`);
      clipGradNorm(lm, clip);
      optimizer.step();
      steps++;
      tokens += r.tokens;
      trainSeconds += (performance.now() - ts) / 1000;
      smooth = Number.isNaN(smooth) ? r.loss : 0.95 * smooth + 0.05 * r.loss;
      if (elapsed() >= nextValidation) {
        await validate();
        nextValidation = elapsed() + every;
      }
      bar?.update(Math.round(progress() * 1000), {
        loss: smooth.toFixed(3), ppl: Math.exp(smooth).toFixed(2), tps: Math.round(tokens / trainSeconds),
        elapsed: elapsed().toFixed(0), left: Math.max(0, budget - elapsed()).toFixed(0),
      });
      // Let the event loop run now and then: Ctrl-C and the progress bar's redraws need it.
      if (elapsed() - yieldedAt > 0.1) {
        await new Promise((resolve) => setImmediate(resolve));
        yieldedAt = elapsed();
      }
    }
    stopBar();
    if (validatedAt !== steps) await validate();
  } finally {
    process.removeListener('SIGINT', onSigint);
    stopBar();
  }
  const seconds = elapsed();
  const summary: TrainSummary = {
    steps, tokens, seconds, tokensPerSecond: tokens / trainSeconds, valPerplexity: last, bestValPerplexity: best, out,
  };
  console.log(
    `done: ${steps} steps, ${tokens} tokens in ${seconds.toFixed(1)} s (${Math.round(summary.tokensPerSecond)} tokens/s while training); ` +
      `validation perplexity ${last.toFixed(3)} per ${unit} (best ${best.toFixed(3)}, saved in ${out})`,
  );
  const n = num('sample');
  if (n > 0) {
    const prefix = opts.tokenizer === 'word' ? 'call me' : 'Call me';
    console.log(`sample (temperature 0.7): ${prefix}${lm.generateText(prefix, { maxTokens: n, temperature: 0.7, seed: num('seed') })}`);
  }
  optimizer.dispose();
  lm.dispose();
  return summary;
}

/**
 * The `wasm-rnn` command: train, generate, eval, bench. Bad arguments print one line on stderr
 * and exit with code 2; a failure while working prints one line and exits with code 1.
 * (bin.ts runs it; the tests call main() in-process too.)
 */
import { readFileSync } from 'node:fs';
import { UsageError, helpText, parseArgs, type CommandSpec } from './args.js';
import { EVAL, evaluate } from './eval.js';
import { GENERATE, generate } from './generate.js';
import { BENCH, speed } from './speed.js';
import { TRAIN, train } from './train.js';

interface Command {
  spec: CommandSpec;
  run(opts: Record<string, unknown>, positionals: string[]): Promise<unknown>;
}

const COMMANDS: Record<string, Command> = {
  train: { spec: TRAIN, run: train },
  generate: { spec: GENERATE, run: generate },
  eval: { spec: EVAL, run: evaluate },
  bench: { spec: BENCH, run: (o) => speed({ quick: o.quick === true, json: o.json === true }) },
};

const USAGE = `usage: wasm-rnn <command> [options]

Recurrent language models in WebAssembly (RNN, LSTM, GRU with PyTorch's semantics).

commands:
  train      train a language model on a text file (default: the bundled Moby Dick chapters)
  generate   continue a prefix with a saved model
  eval       perplexity of a saved model on a text file
  bench      the Wasm vs plain-JS speed table

'wasm-rnn <command> --help' lists a command's options. Examples:
  wasm-rnn train --time 60 --out char-lm.safetensors
  wasm-rnn generate char-lm.safetensors --prefix "Call me" --temperature 0.7 --seed 1
  wasm-rnn eval char-lm.safetensors examples/data/moby-dick.txt --tail 0.1`;

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs one command line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError(`wasm-rnn: missing command (${Object.keys(COMMANDS).join(', ')}; see 'wasm-rnn --help')`);
    if (name === '--help' || name === '-h' || name === 'help') {
      console.log(USAGE);
      return 0;
    }
    if (name === '--version' || name === '-v') {
      console.log(version());
      return 0;
    }
    const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!cmd) throw new UsageError(`wasm-rnn: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}; see 'wasm-rnn --help')`);
    const { opts, positionals, help } = parseArgs(cmd.spec, rest);
    if (help) {
      console.log(helpText(cmd.spec));
      return 0;
    }
    await cmd.run(opts, positionals);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as Error;
    const prefix = err instanceof UsageError || err.message.startsWith('wasm-rnn') ? '' : `wasm-rnn${name ? ` ${name}` : ''}: `;
    // One line: the first line of the message (a model error may quote more).
    console.error(`${prefix}${err.message.split('\n')[0]}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

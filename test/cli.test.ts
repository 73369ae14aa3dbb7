/**
 * The `wasm-rnn` command as published (dist/cli/wasm-rnn.js, built by `npm run build`): train on
 * a small file, generate from the saved model, eval it; and, in-process through the same main()
 * (a process start costs more than the check), --help and bad arguments: one line on stderr,
 * exit code 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LSTM, save } from '../src/index.js';
import { main } from '../src/cli/main.js';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist/cli/wasm-rnn.js');
const dir = mkdtempSync(join(tmpdir(), 'wasm-rnn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
/** The published executable in a process of its own. */
const run = (...args: string[]): Run => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
/** The same command line through main() in this process (paths relative to `dir`). */
const call = async (...args: string[]): Promise<Run> => {
  let stdout = '', stderr = '';
  const out = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += `${a.join(' ')}\n`));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += `${a.join(' ')}\n`));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.chdir(cwd);
    out.mockRestore();
    err.mockRestore();
  }
};

// Chapters 1 and 2 of the bundled corpus: small enough to train on in a second.
const text = readFileSync(join(root, 'examples/data/moby-dick.txt'), 'utf8').slice(0, 20_000);
const textFile = join(dir, 'two-chapters.txt');
writeFileSync(textFile, text);

describe('wasm-rnn', () => {
  it('is built, executable, and bundles cli-progress while importing the core at run time', () => {
    expect(existsSync(cli), 'run `npm run build`').toBe(true);
    const src = readFileSync(cli, 'utf8');
    expect(src.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(src).toContain('from"../esm/index.js"');
    expect(src).not.toMatch(/from"cli-progress"|require\("cli-progress"\)/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[]; dependencies?: unknown };
    expect(pkg.bin).toEqual({ 'wasm-rnn': 'dist/cli/wasm-rnn.js' });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/cli/wasm-rnn.js', 'examples/data/moby-dick.txt']));
    expect(pkg.dependencies).toBeUndefined();
  });

  it('trains on a text file, saves the model, generates from it reproducibly, and evaluates it', () => {
    const model = join(dir, 'm.safetensors');
    const t = run('train', textFile, '--steps', '80', '--time', '50', '--hidden', '64', '--embedding', '16', '--batch', '8',
      '--seq-len', '32', '--validate-every', '50', '--out', model, '--sample', '40', '--seed', '3');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^training an LSTM 1×64 \(embedding 16, \d+ parameters\) on .*two-chapters\.txt: 18000 characters, vocabulary (\d+), 2000 held out/m);
    const vocab = Number(/vocabulary (\d+)/.exec(t.stdout)![1]);
    const m = /done: 80 steps, 20480 tokens in [\d.]+ s \(\d+ tokens\/s while training\); validation perplexity ([\d.]+) per character \(best ([\d.]+), saved in /.exec(t.stdout);
    expect(m, t.stdout).not.toBeNull();
    const best = Number(m![2]);
    // It learned: a uniform guess scores the vocabulary size (≈ 60 here); unigram frequencies ≈ 25.
    expect(best).toBeLessThan(vocab / 3);
    expect(t.stdout).toMatch(/sample \(temperature 0\.7\): Call me/);
    expect(existsSync(model)).toBe(true);

    const g1 = run('generate', model, '--prefix', 'The whale', '--length', '60', '--temperature', '0.8', '--top-k', '10', '--seed', '5');
    const g2 = run('generate', model, '--prefix', 'The whale', '--length', '60', '--temperature', '0.8', '--top-k', '10', '--seed', '5');
    expect(g1.code).toBe(0);
    expect(g1.stdout.startsWith('The whale')).toBe(true);
    expect(g1.stdout.length).toBeGreaterThan('The whale'.length + 20);
    expect(g2.stdout).toBe(g1.stdout);
    const greedy = run('generate', model, '--temperature', '0', '--length', '30', '--stop', '.');
    expect(greedy.code).toBe(0);
    expect(greedy.stdout.startsWith('Call me')).toBe(true);
    expect(greedy.stdout.slice('Call me'.length)).not.toContain('.');

    // eval --tail 0.1 reads what train held out: the same perplexity train reported for the saved model.
    const e = run('eval', model, textFile, '--tail', '0.1', '--json');
    expect(e.code).toBe(0);
    const r = JSON.parse(e.stdout) as { perplexity: number; tokens: number; unit: string };
    expect(r.tokens).toBe(2000);
    expect(r.unit).toBe('character');
    expect(r.perplexity.toFixed(3)).toBe(best.toFixed(3));
    expect(run('eval', model, textFile).stdout).toMatch(/^perplexity [\d.]+ per character over 20000 tokens of .*two-chapters\.txt \([\d.]+ s\)\n$/);
  });

  it('Ctrl-C stops training after the current step, then validates and saves', async () => {
    const model = join(dir, 'interrupted.safetensors');
    const child = spawn(process.execPath, [cli, 'train', textFile, '--time', '120', '--hidden', '32', '--embedding', '8', '--out', model, '--sample', '0'], { cwd: dir });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const t0 = Date.now();
    await new Promise<void>((resolve) => child.stdout.on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('training an LSTM')) resolve();
    }));
    setTimeout(() => child.kill('SIGINT'), 300);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(stdout).toMatch(/^done: \d+ steps, .* saved in .*interrupted\.safetensors\)$/m);
    expect(existsSync(model)).toBe(true);
  });

  it('--help on each command', async () => {
    const top = await call('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^usage: wasm-rnn <command> \[options\]/);
    for (const cmd of ['train', 'generate', 'eval', 'bench']) {
      const h = await call(cmd, '--help');
      expect(h.code, cmd).toBe(0);
      expect(h.stdout, cmd).toMatch(new RegExp(`^usage: wasm-rnn ${cmd}`));
      expect(h.stdout, cmd).toContain('--help');
    }
    expect((await call('train', '--help')).stdout).toMatch(/--seq-len N +time steps per batch \(truncated BPTT length\) \(default 32\)/);
    expect((await call('generate', '-h')).stdout).toMatch(/--top-p X/);
    expect((await call('--version')).stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it.each([
    [[], /^wasm-rnn: missing command \(train, generate, eval, bench; see 'wasm-rnn --help'\)$/],
    [['frobnicate'], /^wasm-rnn: unknown command 'frobnicate'/],
    [['train', '--hidden', 'big'], /^wasm-rnn train: --hidden must be an integer, got 'big'$/],
    [['train', '--hidden', '0'], /^wasm-rnn train: --hidden must be an integer ≥ 1, got '0'$/],
    [['train', '--lr', '-1'], /^wasm-rnn train: --lr must be a number > 0, got '-1'$/],
    [['train', '--val', '0.9'], /^wasm-rnn train: --val must be a number in \(0, 0\.5\], got '0\.9'$/],
    [['train', '--cell', 'transformer'], /^wasm-rnn train: --cell must be one of lstm, gru, rnn, got 'transformer'$/],
    [['train', '--batch'], /^wasm-rnn train: --batch needs a value$/],
    [['train', '--bogus'], /^wasm-rnn train: unknown option '--bogus' \(see 'wasm-rnn train --help'\)$/],
    [['train', 'a.txt', 'b.txt'], /^wasm-rnn train: unexpected argument 'b\.txt'/],
    [['train', 'no-such-file.txt'], /^wasm-rnn train: cannot read 'no-such-file\.txt': ENOENT$/],
    [['generate'], /^wasm-rnn generate: missing <model>/],
    [['generate', 'missing.safetensors'], /^wasm-rnn generate: cannot read 'missing\.safetensors': ENOENT$/],
    [['generate', 'm.safetensors', '--top-p', '0'], /^wasm-rnn generate: --top-p must be a number in \(0, 1\], got '0'$/],
    [['generate', 'm.safetensors', '--temperature', 'hot'], /^wasm-rnn generate: --temperature must be a number, got 'hot'$/],
    [['eval', 'm.safetensors'], /^wasm-rnn eval: missing <text>/],
    [['bench', '--fast'], /^wasm-rnn bench: unknown option '--fast'/],
    [['train', '--quick=1'], /^wasm-rnn train: unknown option '--quick'/],
  ])('%j: one line on stderr, exit code 2', async (args, message) => {
    const r = await call(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message as RegExp);
  });

  it('the published executable exits with code 2 and one line on a bad argument, 0 on --help', () => {
    const bad = run('train', '--hidden', 'big');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("wasm-rnn train: --hidden must be an integer, got 'big'\n");
    expect(run('generate', '--help').code).toBe(0);
  });

  it('a file that is not a language model is an error of its own (exit code 1 for a broken file, 2 for another class)', async () => {
    writeFileSync(join(dir, 'junk.safetensors'), 'not a model');
    const junk = await call('generate', 'junk.safetensors');
    expect(junk.code).toBe(1);
    expect(junk.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(junk.stderr).toMatch(/^wasm-rnn generate: 'junk\.safetensors' is not a model file this version reads: /);
    writeFileSync(join(dir, 'lstm.safetensors'), save(new LSTM({ inputSize: 2, hiddenSize: 3 })));
    const lstm = await call('eval', 'lstm.safetensors', textFile);
    expect(lstm.code).toBe(2);
    expect(lstm.stderr).toBe("wasm-rnn eval: 'lstm.safetensors' holds a LSTM, not a LanguageModel\n");
    const tiny = await call('train', textFile, '--batch', '400', '--seq-len', '50');
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/^wasm-rnn train: '.*two-chapters\.txt' is too short: 20000 tokens, 18000 for training \(batch·seq-len \+ 1 = 20001 needed\)/);
  });
});

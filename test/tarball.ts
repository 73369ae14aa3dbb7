/**
 * What the packaging tests share: the package as npm publishes it (`npm pack` of the built
 * checkout) installed into an empty temporary project, the way a user gets it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'node_modules', '.bin');

const execFileP = promisify(execFile);

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; rejects with its output when it exits non-zero. */
export async function run(file: string, args: readonly string[], options: { cwd: string; timeout?: number }): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(file, [...args], {
      cwd: options.cwd,
      encoding: 'utf8',
      timeout: options.timeout ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${options.cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

export interface Packed {
  /** A temporary folder holding the tarball and the project it is installed in. */
  dir: string;
  tarball: string;
  /** The tarball's files, as `npm pack --json` lists them (paths relative to the package). */
  files: string[];
  /** An empty project (`"type": "module"`) with the tarball installed: node_modules/wasm-rnn. */
  project: string;
  /** Removes the folder. */
  remove(): void;
}

/**
 * Packs the checkout (its build must exist: `npm test` builds first) and installs the tarball
 * into an empty project, offline: the package has no dependencies, so nothing is downloaded.
 */
export async function packAndInstall(prefix: string): Promise<Packed> {
  if (!existsSync(join(ROOT, 'dist/esm/index.js'))) throw new Error('no build: run `npm run build` first (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), `wasm-rnn-${prefix}-`));
  try {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const tarball = join(dir, info.filename);
    const project = join(dir, 'app');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2) + '\n');
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], { cwd: project });
    return {
      dir,
      tarball,
      files: info.files.map((f) => f.path).sort(),
      project,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The body of the first fenced block of `lang` after `heading` in the README. */
export function readmeBlock(readme: string, heading: string, lang: string, startsWith = ''): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading '${heading}'`);
  const next = readme.slice(at + heading.length + 2).search(/\n#{1,3} /);
  const section = readme.slice(at, next < 0 ? undefined : at + heading.length + 2 + next);
  for (const m of section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))) {
    if (m[1].startsWith(startsWith)) return m[1];
  }
  throw new Error(`README section '${heading}' has no \`\`\`${lang} block starting with '${startsWith}'`);
}

/** A fenced code block of the README, with where it stands. */
export interface ReadmeBlock {
  /** The heading line it stands under (`## Train`, `### Forecaster (time series)`). */
  heading: string;
  /** Its first line: with the heading, what names it. */
  first: string;
  /** Its text, as readmeBlock returns it (every line with its newline). */
  body: string;
  /** Its place among the blocks of `lang` under the same heading, from 0. */
  index: number;
}

/**
 * Every fenced block of `lang` in the README, in order. Fences are tracked line by line, so a
 * `# comment` inside a shell or Python block is not taken for a heading.
 */
export function readmeBlocks(readme: string, lang: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let fence: { lang: string; lines: string[] } | null = null;
  for (const line of readme.split('\n')) {
    if (fence) {
      if (line.startsWith('```')) {
        if (fence.lang === lang) {
          const body = fence.lines.map((l) => `${l}\n`).join('');
          const index = blocks.filter((b) => b.heading === heading).length;
          blocks.push({ heading, first: fence.lines[0] ?? '', body, index });
        }
        fence = null;
      } else {
        fence.lines.push(line);
      }
    } else if (line.startsWith('```')) {
      fence = { lang: line.slice(3).trim(), lines: [] };
    } else if (/^#{1,6} /.test(line)) {
      heading = line;
    }
  }
  if (fence) throw new Error(`README: a \`\`\`${fence.lang} block under '${heading}' is never closed`);
  return blocks;
}

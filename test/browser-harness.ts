/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (headless, a
 * throwaway profile), the checks that it and the build exist, and the collection of a page's
 * problems (console errors, page errors, failed requests, HTTP errors).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** WASM_RNN_SKIP_BROWSER=1 skips the browser tests (otherwise a missing Chromium fails them). */
export const SKIP_BROWSER = process.env.WASM_RNN_SKIP_BROWSER === '1';
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Throws a message saying what to install or build when Chromium or one of `files` is missing. */
export function requireBrowserSetup(files: readonly string[]): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's Chromium (\`apt-get install -y chromium\`) ` +
        'or set WASM_RNN_SKIP_BROWSER=1 to skip the browser test',
    );
  }
  const missing = files.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` before the browser test (npm test does)`);
  }
}

export interface Browser {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile (playwright-core refuses --user-data-dir in args). */
export async function launchChromium(): Promise<Browser> {
  const profileDir = mkdtempSync(join(tmpdir(), 'wasm-rnn-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 60_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => {});
        rmSync(profileDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profileDir, { recursive: true, force: true });
    throw err;
  }
}

/** Appends the page's console errors, page errors, failed requests and HTTP errors to `problems`. */
export function collectProblems(page: Page, problems: string[], label = ''): void {
  const p = label ? `${label}: ` : '';
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${p}console.error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`${p}page error: ${err.stack ?? err.message}`));
  page.on('requestfailed', (req) => problems.push(`${p}request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${p}HTTP ${res.status()} for ${res.url()}`);
  });
}

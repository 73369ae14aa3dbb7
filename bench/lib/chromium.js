/**
 * Debian's Chromium (/usr/bin/chromium) through playwright-core, on the package root served from
 * localhost by examples/serve.js, for the benchmark's browser rows. withChromium(root, options,
 * fn) calls fn({ browser, url }) and closes both afterwards; it returns null (and calls nothing)
 * when Chromium or playwright-core is missing.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export async function withChromium(root, { crossOriginIsolated = false } = {}, fn) {
  let chromium, startStaticServer;
  try {
    ({ chromium } = await import('playwright-core'));
    ({ startStaticServer } = await import(pathToFileURL(join(root, 'examples/serve.js')).href));
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const { server, url } = await startStaticServer(root, { crossOriginIsolated });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    return await fn({ browser, url });
  } finally {
    await browser.close();
    await new Promise((ok) => server.close(ok));
  }
}

/** Opens `path` in a new browser context and waits for the page to set window[key]. */
export async function pageResult(browser, url, path, key, timeout = 120_000) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${url}${path}`);
    return await page.waitForFunction((k) => window[k], key, { timeout }).then((h) => h.jsonValue());
  } finally {
    await context.close();
  }
}

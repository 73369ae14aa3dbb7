#!/usr/bin/env node
/**
 * A tiny read-only static file server for trying wasm-rnn in a browser (no dependencies).
 *
 *   npm run build && node examples/serve.js [port] [--root DIR] [--cross-origin-isolated]
 *
 * serves the package root (or DIR) on http://127.0.0.1:<port>/ (default 8080; 0 picks a free
 * port) and prints the URL of the demo page. The published package ships this file and the
 * demo page: `node node_modules/wasm-rnn/examples/serve.js` works from an installed copy, and
 * `--root .` serves your own folder (say, a page that imports
 * ./node_modules/wasm-rnn/dist/esm/index.js). Browsers only run ES modules and fetch .wasm
 * over HTTP, not from file://, hence this script. test/browser.test.ts and
 * test/browser-threads.test.ts reuse startStaticServer.
 *
 * Cross-origin isolation (for `ready({ threads })`, which needs SharedArrayBuffer): the option
 * `{ crossOriginIsolated: true }` of createStaticServer/startStaticServer (the CLI flag
 * --cross-origin-isolated) adds `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp` to every response, so pages served from it have
 * `crossOriginIsolated === true` (on http://127.0.0.1 or localhost, which count as secure
 * contexts). Under require-corp a page may only load same-origin resources or cross-origin ones
 * that opt in (CORS or Cross-Origin-Resource-Policy); everything this server serves is
 * same-origin, so it needs no CORP header. Off by default: plain responses, as before.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.wat': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Creates (does not start) an HTTP server that serves the files under rootDir read-only:
 * GET only, no directory listings (a directory serves its index.html), no dotfiles, and no
 * path that resolves (also through symlinks) outside rootDir.
 *
 * With `crossOriginIsolated: true` every response (errors and redirects too) also carries the
 * COOP/COEP headers that make a page cross-origin isolated (see the header comment).
 *
 * @param {string} rootDir
 * @param {{ onRequest?: (info: { method: string, path: string, status: number }) => void, crossOriginIsolated?: boolean }} [options]
 * @returns {import('node:http').Server}
 */
export function createStaticServer(rootDir, options = {}) {
  const root = resolve(rootDir);
  const rootReal = realpath(root);
  rootReal.catch(() => {}); // a missing root answers 404 per request, not an unhandled rejection
  const { onRequest, crossOriginIsolated = false } = options;
  const isolation = crossOriginIsolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {};

  return createServer((req, res) => {
    const method = req.method ?? '';
    let logged = false;
    const reply = (status, headers = {}, body) => {
      if (!logged) {
        logged = true;
        onRequest?.({ method, path: req.url ?? '', status });
      }
      res.writeHead(status, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...isolation, ...headers });
      return body;
    };
    const fail = (status, message, headers = {}) =>
      res.end(reply(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, `${status} ${message}\n`));

    if (method !== 'GET') return fail(405, 'Method Not Allowed', { Allow: 'GET' });

    let rawPath, pathname;
    try {
      rawPath = new URL(req.url ?? '/', 'http://localhost').pathname;
      pathname = decodeURIComponent(rawPath);
    } catch {
      return fail(400, 'Bad Request');
    }
    // Refuse NUL bytes, backslashes (Windows separators) and any '.'-prefixed segment: that
    // covers '..' as well as dotfiles such as .git and .env.
    const segments = pathname.split('/').filter((s) => s !== '');
    if (pathname.includes('\0') || pathname.includes('\\') || segments.some((s) => s.startsWith('.'))) {
      return fail(403, 'Forbidden');
    }

    (async () => {
      let file = join(root, ...segments);
      if (file !== root && !file.startsWith(root + sep)) return fail(403, 'Forbidden');
      let info;
      try {
        info = await stat(file);
        if (info.isDirectory()) {
          // Relative imports in the page resolve against the URL, so /dir must become /dir/.
          if (!pathname.endsWith('/')) return res.end(reply(301, { Location: `${rawPath}/` }));
          file = join(file, 'index.html');
          info = await stat(file);
        }
        const real = await realpath(file);
        const base = await rootReal;
        if (real !== base && !real.startsWith(base + sep)) return fail(403, 'Forbidden');
      } catch {
        return fail(404, 'Not Found');
      }
      if (!info.isFile()) return fail(404, 'Not Found');
      const type = MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      reply(200, { 'Content-Type': type, 'Content-Length': info.size });
      const stream = createReadStream(file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    })().catch(() => {
      if (!res.headersSent) fail(500, 'Internal Server Error');
      else res.destroy();
    });
  });
}

/**
 * Starts a server for rootDir on host:port (port 0 = any free port) and resolves to it and
 * its base URL, e.g. http://127.0.0.1:8080.
 *
 * @param {string} rootDir
 * @param {{ host?: string, port?: number, onRequest?: (info: { method: string, path: string, status: number }) => void, crossOriginIsolated?: boolean }} [options]
 * @returns {Promise<{ server: import('node:http').Server, url: string }>}
 */
export function startStaticServer(rootDir, options = {}) {
  const { host = '127.0.0.1', port = 0, ...rest } = options;
  const server = createStaticServer(rootDir, rest);
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const addr = server.address();
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      ok({ server, url: `http://${shown}:${addr.port}` });
    });
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));
  const usage = 'usage: node examples/serve.js [port] [--root DIR] [--cross-origin-isolated]';
  const args = process.argv.slice(2);
  const isolated = args.includes('--cross-origin-isolated');
  const at = args.indexOf('--root');
  const root = at >= 0 ? args[at + 1] : undefined;
  const positional = args.filter((a, i) => a !== '--cross-origin-isolated' && (at < 0 || (i !== at && i !== at + 1)));
  const port = Number(positional[0] ?? process.env.PORT ?? 8080);
  if ((at >= 0 && !root) || positional.length > 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${usage}   (got ${args.join(' ') || `PORT=${process.env.PORT}`})`);
    process.exit(2);
  }
  const served = resolve(root ?? packageRoot);
  const { url } = await startStaticServer(served, {
    port,
    crossOriginIsolated: isolated,
    onRequest: ({ method, path, status }) => console.log(`${status} ${method} ${path}`),
  });
  console.log(`wasm-rnn: serving ${served} (read-only${isolated ? ', cross-origin isolated' : ''})`);
  if (root === undefined) console.log(`open ${url}/examples/browser/   (in a clone, run \`npm run build\` first; Ctrl+C to stop)`);
  else console.log(`open ${url}/   (Ctrl+C to stop)`);
}

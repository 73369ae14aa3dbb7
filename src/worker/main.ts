// worker-main.js: the worker script spawnWorker() starts by default; it serves the built-in classes.
// No top-level await: bundlers build workers as classic scripts by default (Vite's 'iife').
import { serveWorker } from './index.js';

serveWorker().catch((err: unknown) => {
  // Thrown outside the promise, so that it reaches the page as the worker's error event.
  setTimeout(() => {
    throw err;
  });
});

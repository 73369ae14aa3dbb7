// worker-main.js: the worker script spawnWorker() starts by default; it serves the built-in classes.
import { serveWorker } from './index.js';

await serveWorker();

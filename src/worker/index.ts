/**
 * wasm-rnn/worker: models in a worker (a Web Worker in browsers, worker_threads in Node), so
 * inference and training run off the main thread. spawnWorker() starts one; its handles forward
 * calls with a promise API (comlink underneath, bundled in), Tensors and buffers moving across;
 * fit's events and generate's tokens stream back as they happen. serveWorker() is what the
 * worker script runs (worker-main.js, or your own that registers its own classes first).
 */
export { spawnWorker, ModelWorker, RemoteModel } from './spawn.js';
export type { SpawnOptions, ModelConfigs, RemoteFitOptions, FitCallbacks, RemoteGenerateOptions } from './spawn.js';
export { serveWorker } from './serve.js';
export { transfer } from './codec.js';

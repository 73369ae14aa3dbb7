/**
 * The worker's side: the models it holds (by handle), each with the optimizer setOptimizer gave
 * it, and the calls spawnWorker's handles make on them. Every call answers { ok, value } or
 * { ok: false, error }, so the page rethrows the core's error with its class and message.
 * Callbacks (fit's events, generate's tokens) are the page's functions, reached through comlink
 * proxies: the worker does not wait for them while it computes, but it answers a call only after
 * the page has received every event of it.
 */
import { expose, releaseProxy, transfer as moveOnReply, type Endpoint } from 'comlink';
import {
  Adam, AdamW, LanguageModel, Module, RMSprop, SGD, backendInfo, createModel, fit, load, ready, save, setBackend,
  type BackendInfo, type FitResult, type Optimizer,
} from '../index.js';
import { isNode, nodeBuiltin } from '../node-builtin.js';
import { decode, encode, wireError } from './codec.js';
import type { InitOptions, ModelRef, Reply, WorkerApi } from './protocol.js';

interface Held {
  model: Module;
  optimizer: Optimizer | null;
}

/** A page-side function reached through a comlink proxy: calling it posts an event and returns a promise. */
type Remote<F extends (...a: never[]) => unknown> = ((...a: Parameters<F>) => Promise<unknown>) & { [releaseProxy](): void };
type Listener = Remote<(info: unknown) => void>;

const OPTIMIZERS: Record<string, new (model: Module, options: never) => Optimizer> = {
  adam: Adam, adamw: AdamW, sgd: SGD, rmsprop: RMSprop,
};

const held = new Map<number, Held>();
let nextId = 1;

function entry(fn: string, id: number): Held {
  const h = held.get(id);
  if (!h) throw new Error(`${fn}: the model was disposed (or never created in this worker)`);
  return h;
}

function keep(model: Module): ModelRef {
  const id = nextId++;
  held.set(id, { model, optimizer: null });
  return { id, className: model.constructor.name };
}

function dispose(id: number): Reply {
  const h = held.get(id);
  if (h) {
    held.delete(id);
    h.optimizer?.dispose();
    h.model.dispose();
  }
  return { ok: true, value: undefined };
}

/** The value as a reply whose buffers move to the page. */
function reply(fn: string, where: string, value: unknown, self?: Module): Reply {
  const e = encode(fn, where, value, 'page', true, self);
  return moveOnReply({ ok: true, value: e.value }, e.transfer);
}

/** Runs one call, turning a thrown error into a reply. */
async function guard(run: () => Reply | Promise<Reply>): Promise<Reply> {
  try {
    return await run();
  } catch (err) {
    return { ok: false, error: wireError(err) };
  }
}

/**
 * Events sent while the worker computes: each call posts at once; settle() waits until the page
 * has handled them all (their results are ignored), then frees the proxies.
 */
function relay(listeners: ReadonlyArray<Listener | undefined>) {
  const sent: Promise<unknown>[] = [];
  return {
    to: (l: Listener | undefined) => (l ? (info: unknown) => void sent.push(l(info)) : undefined),
    async settle(): Promise<void> {
      await Promise.allSettled(sent);
      for (const l of listeners) l?.[releaseProxy]();
    },
  };
}

const api = {
  init: (options: InitOptions) => guard(async () => {
    if (options.backend !== undefined) await setBackend(options.backend);
    await ready(options.threads !== undefined ? { threads: options.threads } : {});
    return { ok: true, value: backendInfo() };
  }),

  info: () => guard((): Reply => ({ ok: true, value: backendInfo() satisfies BackendInfo })),

  create: (name: string, config: unknown) => guard((): Reply => {
    const model = createModel(name, decode(config) as Record<string, unknown>, 'create');
    return { ok: true, value: keep(model) };
  }),

  load: (bytes: Uint8Array) => guard((): Reply => ({ ok: true, value: keep(load(bytes)) })),

  call: (id: number, method: string, args: unknown[]) => guard(async () => {
    const { model } = entry('call', id);
    const cls = model.constructor.name;
    const f = (model as unknown as Record<string, unknown>)[method];
    if (typeof method !== 'string' || method.startsWith('_') || method === 'constructor' || typeof f !== 'function') {
      throw new TypeError(`call: ${cls} has no public method ${typeof method === 'string' ? `'${method}'` : String(method)}`);
    }
    if (method === 'dispose') return dispose(id);
    const out = await (f as (...a: unknown[]) => unknown).apply(model, decode(args) as unknown[]);
    return reply('call', `${cls}.${method}()'s result`, out, model);
  }),

  setOptimizer: (id: number, name: string, options: unknown) => guard((): Reply => {
    const fn = 'setOptimizer';
    const h = entry(fn, id);
    const C = typeof name === 'string' ? OPTIMIZERS[name.toLowerCase()] : undefined;
    if (!C) throw new TypeError(`${fn}: name must be one of ${Object.keys(OPTIMIZERS).map((k) => `'${k}'`).join(', ')}, got ${typeof name === 'string' ? `'${name}'` : String(name)}`);
    const next = new C(h.model, (options ?? {}) as never);
    h.optimizer?.dispose();
    h.optimizer = next;
    return { ok: true, value: undefined };
  }),

  fit: (id: number, options: Record<string, unknown>, onStep?: Listener, onValidation?: Listener, onEpoch?: Listener) => {
    const events = relay([onStep, onValidation, onEpoch]);
    return guard(async () => {
      const fn = 'fit';
      const h = entry(fn, id);
      try {
        if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${options === null ? 'null' : typeof options}`);
        if ('optimizer' in options) throw new TypeError(`${fn}: the optimizer lives in the worker: set it with setOptimizer(name, options), not options.optimizer`);
        if (!h.optimizer) throw new Error(`${fn}: the model has no optimizer yet: call setOptimizer(name, options) first`);
        const result: FitResult = fit(h.model as never, {
          ...(decode(options) as Record<string, unknown>),
          optimizer: h.optimizer, onStep: events.to(onStep), onValidation: events.to(onValidation), onEpoch: events.to(onEpoch),
        } as never);
        return { ok: true, value: result } as Reply;
      } finally {
        await events.settle();
      }
    });
  },

  generate: (id: number, prefix: unknown, options: Record<string, unknown> | undefined, onToken?: Listener) => {
    const events = relay([onToken]);
    return guard(async () => {
      const fn = 'generate';
      const { model } = entry(fn, id);
      try {
        if (!(model instanceof LanguageModel)) throw new TypeError(`${fn}: the model is a ${model.constructor.name}, which has no generate() (a LanguageModel has)`);
        const send = events.to(onToken);
        const opts = { ...(decode(options ?? {}) as Record<string, unknown>) };
        const out = typeof prefix === 'string'
          ? model.generateText(prefix, { ...opts, ...(send ? { onText: send } : {}) })
          : model.generate(prefix as ArrayLike<number>, { ...opts, ...(send ? { onToken: send } : {}) });
        return reply(fn, 'the generated tokens', out);
      } finally {
        await events.settle();
      }
    });
  },

  save: (id: number, options: { optimizer?: boolean; metadata?: Record<string, string> } = {}) => guard((): Reply => {
    const h = entry('save', id);
    if (options.optimizer && !h.optimizer) throw new Error('save: { optimizer: true }, but the model has no optimizer (setOptimizer first)');
    const bytes = save(h.model, { ...(options.metadata ? { metadata: options.metadata } : {}), ...(options.optimizer ? { optimizer: h.optimizer! } : {}) });
    return reply('save', 'the saved bytes', bytes);
  }),

  loadWeights: (id: number, bytes: Uint8Array, options: { optimizer?: boolean; strict?: boolean } = {}) => guard((): Reply => {
    const h = entry('loadWeights', id);
    if (options.optimizer && !h.optimizer) throw new Error('loadWeights: { optimizer: true }, but the model has no optimizer (setOptimizer first)');
    load(bytes, { into: h.model, ...(options.strict !== undefined ? { strict: options.strict } : {}), ...(options.optimizer ? { optimizer: h.optimizer! } : {}) });
    return { ok: true, value: undefined };
  }),

  dispose: (id: number) => guard((): Reply => dispose(id)),
} satisfies WorkerApi;


/** What `nodeBuiltin('worker_threads')` gives, as far as serving needs it. */
interface WorkerThreads {
  isMainThread: boolean;
  parentPort: Endpoint | null;
}

/**
 * Makes the current worker (a Web Worker, or a Node worker_threads worker) answer the calls of
 * spawnWorker's handles. A worker script of your own can import its Module subclasses, call
 * registerModel for them, and then serveWorker(). Resolves once serving (Node looks its port up).
 */
export async function serveWorker(): Promise<void> {
  const fn = 'serveWorker';
  if (isNode) {
    const wt = (await nodeBuiltin('worker_threads')) as unknown as WorkerThreads;
    if (wt.isMainThread || !wt.parentPort) throw new Error(`${fn}: not in a worker thread: run this in the script that spawnWorker({ url }) starts`);
    expose(api, wt.parentPort);
    return;
  }
  const g = globalThis as { WorkerGlobalScope?: unknown };
  if (typeof g.WorkerGlobalScope === 'undefined') throw new Error(`${fn}: not in a Web Worker: run this in the script that spawnWorker({ url }) starts`);
  expose(api, globalThis as unknown as Endpoint);
}

/**
 * The page's side: spawnWorker starts a worker running worker-main.js (or your own script that
 * calls serveWorker), and its handles forward each call through comlink. Results come back with
 * their Tensors rebuilt from this side's core and their buffers moved, not copied; errors come
 * back as the core's errors (same class and message).
 */
import { proxy, transfer as moveWith, wrap, type Endpoint, type Remote } from 'comlink';
import {
  NonFiniteError,
  type BackendInfo, type BackendName, type EpochInfo, type FitOptions, type FitResult, type ForecasterOptions, type GRUOptions,
  type GenerateOptions, type LSTMOptions, type LanguageModelOptions, type RNNOptions, type Seq2SeqOptions, type SequenceClassifierOptions,
  type StepInfo, type ValidationInfo,
} from '../index.js';
import { isNode, nodeBuiltin } from '../node-builtin.js';
import { decode, encode, type Encoded, type WireError } from './codec.js';
import type { CallName, ModelRef, Reply, WorkerApi } from './protocol.js';

export interface SpawnOptions {
  /** The worker script (default: the package's worker-main.js). Yours must call serveWorker(). */
  url?: string | URL;
  /** The backend the worker selects before ready() (default: the core's default). */
  backend?: BackendName;
  /** ready({ threads }) in the worker: threads for inference (SharedArrayBuffer needed in browsers). */
  threads?: number;
}

/** Configurations of the built-in classes create() builds, by name (any registered name is accepted). */
export interface ModelConfigs {
  LSTM: LSTMOptions;
  GRU: GRUOptions;
  RNN: RNNOptions;
  LanguageModel: LanguageModelOptions;
  SequenceClassifier: SequenceClassifierOptions;
  Forecaster: ForecasterOptions;
  Seq2Seq: Seq2SeqOptions;
  Linear: { inFeatures: number; outFeatures: number; bias?: boolean };
}

/** fit()'s options as they cross to the worker: batches as arrays, the optimizer from setOptimizer. */
export type RemoteFitOptions = Omit<FitOptions<unknown>, 'optimizer' | 'scheduler' | 'train' | 'validation' | 'onStep' | 'onValidation' | 'onEpoch'> & {
  train: readonly unknown[];
  validation?: readonly unknown[];
};

/** fit()'s callbacks, called on this side as the worker reports; their return values are ignored. */
export interface FitCallbacks {
  onStep?: (info: StepInfo) => void;
  onValidation?: (info: ValidationInfo) => void;
  onEpoch?: (info: EpochInfo) => void;
}

export type RemoteGenerateOptions = Omit<GenerateOptions, 'onToken'>;

/** What worker-main.js is, next to this file. */
const WORKER_MAIN = './worker-main.js';

/** Rebuilds a worker error with the core's class, so `instanceof RangeError` holds on this side too. */
function rethrow(e: WireError): never {
  let err: Error;
  const f = e.fields ?? {};
  if (e.name === 'NonFiniteError') err = new NonFiniteError(f.what as never, f.step as number, f.value as number);
  else {
    const C = { TypeError, RangeError, SyntaxError } as Record<string, ErrorConstructor>;
    err = new (C[e.name] ?? Error)(e.message);
    if (!(e.name in C) && e.name !== 'Error') err.name = e.name;
  }
  err.message = e.message;
  if (e.stack) err.stack = `${err.stack}\n    in the worker: ${e.stack}`;
  throw err;
}

interface Channel {
  api: Remote<WorkerApi>;
  /** Rejects when the worker dies or is terminated. */
  closed: Promise<never>;
  busy(delta: 1 | -1): void;
  /** After init: the worker is up (later worker errors are not load failures). */
  started(): void;
  terminate(): Promise<void>;
}

/** Each ModelWorker's connection (kept out of the class, so its declarations name no comlink type). */
const channels = new WeakMap<ModelWorker, Channel>();

/** Sends one call and unwraps its reply. */
async function send(w: ModelWorker, name: CallName, ...args: unknown[]): Promise<unknown> {
  const ch = channels.get(w)!;
  ch.busy(1);
  try {
    const f = ch.api[name] as unknown as (...a: unknown[]) => Promise<Reply>;
    const r = await Promise.race([f(...args), ch.closed]);
    if (!r.ok) rethrow(r.error);
    return r.value;
  } finally {
    ch.busy(-1);
  }
}

/** A worker started by spawnWorker: makes models in it. */
export class ModelWorker {
  /** Made by spawnWorker(). */
  private constructor() {}

  /** backendInfo() in the worker. */
  async info(): Promise<BackendInfo> {
    return (await send(this, 'info')) as BackendInfo;
  }

  /**
   * A new model in the worker: any class load() can build (LanguageModel, LSTM, GRU, RNN, Linear,
   * Sequential, SequenceClassifier, Forecaster, Seq2Seq, … and those given to registerModel in
   * the worker), from its configuration — for most classes their constructor's options.
   */
  async create<N extends string>(name: N, config?: N extends keyof ModelConfigs ? ModelConfigs[N] : Record<string, unknown>): Promise<RemoteModel> {
    return this.#model((await send(this, 'create', name, arg(encode('create', 'config', config ?? {}, 'worker', false)))) as ModelRef);
  }

  /** load(bytes) in the worker (save()'s bytes): the bytes move to the worker (this side's are detached). */
  async load(bytes: Uint8Array): Promise<RemoteModel> {
    return this.#model((await send(this, 'load', ...moved('load', bytes))) as ModelRef);
  }

  /** Stops the worker at once; calls in flight reject. */
  terminate(): Promise<void> {
    return channels.get(this)!.terminate();
  }

  #model(ref: ModelRef): RemoteModel {
    return Reflect.construct(RemoteModel, [this, ref]) as RemoteModel;
  }
}

/** bytes as a call argument that moves (a view of part of a buffer is copied first: the rest stays usable). */
function moved(fn: string, bytes: Uint8Array): [unknown] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array (from save()), got ${bytes === null ? 'null' : typeof bytes}`);
  return [arg(encode(fn, 'bytes', bytes, 'worker', true))];
}

/** An encoded argument, with its buffers marked for comlink to transfer. */
function arg(e: Encoded): unknown {
  return e.transfer.length > 0 ? moveWith(e.value as object, e.transfer) : e.value;
}

/** A model living in a worker. */
export class RemoteModel {
  readonly #w: ModelWorker;
  readonly #id: number;
  /** The model's class (LanguageModel, LSTM, …). */
  readonly className: string;

  /** Made by ModelWorker.create() and load(). */
  private constructor(w: ModelWorker, ref: ModelRef) {
    this.#w = w;
    this.#id = ref.id;
    this.className = ref.className;
  }

  /**
   * Calls a public method by name with these arguments (Tensors, typed arrays and plain data;
   * transfer() marks buffers to move). Tensors in the result arrive as Tensors; the model itself
   * (e.g. from train()) arrives as this handle.
   */
  async call<R = any>(method: string, ...args: unknown[]): Promise<R> {
    const e = arg(encode('call', `${method}'s arguments`, args, 'worker', false));
    return decode(await send(this.#w, 'call', this.#id, method, e), this) as R;
  }

  /** Makes the model's optimizer ('adam', 'adamw', 'sgd' or 'rmsprop' with its options), over all its parameters; fit() uses it. */
  async setOptimizer(name: 'adam' | 'adamw' | 'sgd' | 'rmsprop', options: Record<string, unknown> = {}): Promise<void> {
    await send(this.#w, 'setOptimizer', this.#id, name, arg(encode('setOptimizer', 'options', options, 'worker', false)));
  }

  /**
   * fit() in the worker with the optimizer of setOptimizer (it persists: train in slices with
   * maxSeconds, and pause between them). The callbacks run here as events; one that throws makes
   * fit() reject with its error once training in the worker ends. Resolves with fit's result.
   */
  async fit(options: RemoteFitOptions, callbacks: FitCallbacks = {}): Promise<FitResult> {
    const fn = 'fit';
    const { onStep, onValidation, onEpoch, ...rest } = { ...(options as RemoteFitOptions & FitCallbacks) };
    const cbs = { onStep: callbacks.onStep ?? onStep, onValidation: callbacks.onValidation ?? onValidation, onEpoch: callbacks.onEpoch ?? onEpoch };
    const e = encode(fn, 'options', rest, 'worker', false);
    const failure: { error?: unknown } = {};
    const listen = (name: string, f: ((info: never) => void) | undefined) => {
      if (f === undefined) return undefined;
      if (typeof f !== 'function') throw new TypeError(`${fn}: ${name} must be a function, got ${typeof f}`);
      return proxy((info: never) => {
        if (!('error' in failure)) {
          try {
            f(info);
          } catch (err) {
            failure.error = err;
          }
        }
      });
    };
    const l = [listen('onStep', cbs.onStep), listen('onValidation', cbs.onValidation), listen('onEpoch', cbs.onEpoch)];
    const r = await send(this.#w, 'fit', this.#id, arg(e), ...l);
    if ('error' in failure) throw failure.error;
    return r as FitResult;
  }

  /**
   * Generates in the worker: from a string with generateText (resolves with the text), from ids
   * with generate (resolves with an Int32Array). onToken gets each final piece (text) or id as
   * it is produced; the pieces join to the result.
   */
  generate(prefix: string, options?: RemoteGenerateOptions, onToken?: (piece: string) => void): Promise<string>;
  generate(prefix: ArrayLike<number>, options?: RemoteGenerateOptions, onToken?: (id: number) => void): Promise<Int32Array>;
  async generate(prefix: string | ArrayLike<number>, options: RemoteGenerateOptions = {}, onToken?: (piece: never) => void): Promise<string | Int32Array> {
    const fn = 'generate';
    const { onToken: inOptions, ...rest } = { ...(options as GenerateOptions) };
    const f = onToken ?? inOptions;
    if (f !== undefined && typeof f !== 'function') throw new TypeError(`${fn}: onToken must be a function, got ${typeof f}`);
    const e = encode(fn, 'options', rest, 'worker', false);
    const p = encode(fn, 'prefix', prefix, 'worker', false);
    const failure: { error?: unknown } = {};
    const listener = f && proxy((piece: never) => {
      if ('error' in failure) return;
      try {
        f(piece);
      } catch (err) {
        failure.error = err;
      }
    });
    const r = await send(this.#w, 'generate', this.#id, p.value, arg({ value: e.value, transfer: [...e.transfer, ...p.transfer] }), listener);
    if ('error' in failure) throw failure.error;
    return r as string | Int32Array;
  }

  /** save(model) in the worker — with { optimizer: true } its optimizer state too; the bytes move here. */
  async save(options: { optimizer?: boolean; metadata?: Record<string, string> } = {}): Promise<Uint8Array> {
    return (await send(this.#w, 'save', this.#id, arg(encode('save', 'options', options, 'worker', false)))) as Uint8Array;
  }

  /** load(bytes, { into: model }) in the worker (with { optimizer: true } into its optimizer too); the bytes move. */
  async loadWeights(bytes: Uint8Array, options: { optimizer?: boolean; strict?: boolean } = {}): Promise<void> {
    await send(this.#w, 'loadWeights', this.#id, ...moved('loadWeights', bytes), arg(encode('loadWeights', 'options', options, 'worker', false)));
  }

  /** Frees the model (and its optimizer) in the worker. */
  async dispose(): Promise<void> {
    await send(this.#w, 'dispose', this.#id);
  }
}

/** Node's Worker, as far as this file uses it. */
interface NodeWorker {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: string, f: (...a: never[]) => void): void;
  off(event: string, f: (...a: never[]) => void): void;
  once(event: string, f: (...a: never[]) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/** A Node Worker (an EventEmitter) as the EventTarget-like endpoint comlink talks to. */
function nodeEndpoint(w: NodeWorker): Endpoint {
  const listeners = new Map<unknown, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => w.postMessage(message, transfer),
    addEventListener(_type: string, h: EventListenerOrEventListenerObject) {
      const l = (data: unknown) => {
        const ev = { data } as MessageEvent;
        if (typeof h === 'function') h(ev);
        else h.handleEvent(ev);
      };
      listeners.set(h, l);
      w.on('message', l);
    },
    removeEventListener(_type: string, h: EventListenerOrEventListenerObject) {
      const l = listeners.get(h);
      if (l) w.off('message', l);
      listeners.delete(h);
    },
  };
}

function checkSpawnOptions(fn: string, options: unknown): SpawnOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  const o = options as SpawnOptions;
  for (const k of Object.keys(o)) {
    if (!['url', 'backend', 'threads'].includes(k)) throw new TypeError(`${fn}: unknown option '${k}'; expected 'url', 'backend' or 'threads'`);
  }
  if (o.url !== undefined && typeof o.url !== 'string' && !(o.url instanceof URL)) throw new TypeError(`${fn}: url must be a string or a URL, got ${typeof o.url}`);
  return o;
}

/**
 * Starts a worker (a module Web Worker in browsers, a worker_threads worker in Node) running
 * worker-main.js, or `url` — a script of yours that calls serveWorker(). Resolves when the
 * worker's `ready()` (with `backend` and `threads`) has finished; rejects with the worker's
 * error if that, or loading the script, fails.
 */
export async function spawnWorker(options: SpawnOptions = {}): Promise<ModelWorker> {
  const fn = 'spawnWorker';
  const { url, backend, threads } = checkSpawnOptions(fn, options);
  let fail!: (err: Error) => void;
  const closed = new Promise<never>((_, reject) => (fail = reject));
  closed.catch(() => {}); // observed by the calls in flight, if any
  let ch: Channel;
  if (isNode) {
    const wt = (await nodeBuiltin('worker_threads')) as unknown as { Worker: new (u: string | URL) => NodeWorker };
    const here = import.meta.url; // not inline: bundlers would take `new URL(…, import.meta.url)` here for an asset
    const target = url === undefined ? new URL(WORKER_MAIN, here) : typeof url === 'string' && url.startsWith('file:') ? new URL(url) : url;
    const worker = new wt.Worker(target);
    worker.on('error', (err: Error) => fail(err));
    worker.on('exit', (code: number) => fail(new Error(`${fn}: the worker exited (code ${code})`)));
    let inFlight = 0;
    ch = {
      api: wrap<WorkerApi>(nodeEndpoint(worker)),
      closed,
      // An idle worker does not keep Node running (as a page's does not keep it open).
      busy: (d) => ((inFlight += d) === 0 ? worker.unref() : d === 1 && inFlight === 1 ? worker.ref() : undefined),
      started: () => {},
      async terminate() {
        fail(new Error(`${fn}: the worker was terminated`));
        await worker.terminate();
      },
    };
  } else {
    const W = (globalThis as { Worker?: typeof Worker }).Worker;
    if (typeof W !== 'function') throw new Error(`${fn}: this environment has no Worker`);
    // The literal `new Worker(new URL('./worker-main.js', import.meta.url), { type: 'module' })`
    // is what Vite and webpack recognise to bundle the worker script.
    const worker = url === undefined
      ? new Worker(new URL('./worker-main.js', import.meta.url), { type: 'module' })
      : new W(url, { type: 'module' });
    const early = (ev: Event) => {
      const msg = (ev as ErrorEvent).message;
      fail(new Error(`${fn}: the worker script ${url ?? WORKER_MAIN} failed to load${msg ? `: ${msg}` : ' (see the console)'}`));
    };
    worker.addEventListener('error', early);
    ch = {
      api: wrap<WorkerApi>(worker),
      closed,
      busy: () => {},
      started: () => worker.removeEventListener('error', early),
      async terminate() {
        fail(new Error(`${fn}: the worker was terminated`));
        worker.terminate();
      },
    };
  }
  const w = Reflect.construct(ModelWorker, []) as ModelWorker;
  channels.set(w, ch);
  try {
    await send(w, 'init', { ...(backend !== undefined ? { backend } : {}), ...(threads !== undefined ? { threads } : {}) });
  } catch (err) {
    await ch.terminate();
    throw err;
  }
  ch.started();
  return w;
}

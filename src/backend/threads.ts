/**
 * A pool of worker threads that run the kernels of build/wasm-rnn.threads.wasm together with
 * the caller's thread, on one shared WebAssembly.Memory.
 *
 * Protocol (Int32 words of a 64-byte aligned control block in the shared memory):
 *   [0..6]   the kernels' barrier (arrivals, generation, sleepers, whether the caller's thread
 *            may Atomics.wait — Node and browser workers may, a page's main thread may not —
 *            the poison word a failing thread sets so that the others stop, and two counters:
 *            how often a thread had to sleep in a barrier, how many barriers were passed)
 *   [16]     command sequence number, bumped by the caller for every parallel call
 *   [17]     which kernel (index into PARALLEL_KERNELS; −1 = quit)
 *   [18]     number of arguments; [19] how many workers sleep on [16]
 *   [32…]    the arguments (all int32: byte offsets and sizes)
 * A call writes the arguments, bumps [16] (waking sleeping workers), then runs the kernel as
 * thread 0; every kernel ends with a barrier, so when it returns every worker is done with it.
 * Between calls a worker spins on [16] for about a millisecond (so back-to-back calls such as
 * streaming steps do not pay a wake-up), then sleeps in Atomics.wait.
 */

import { isNode, nodeBuiltin } from '../node-builtin.js';

/** The exports that take (tid, nth, bar, …) and end with a barrier. */
export const PARALLEL_KERNELS = ['gemmPart', 'seq'] as const;
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];

const POISON = 4, SLEPT = 5, BARRIERS = 6, SEQ = 16, FN = 17, ARGC = 18, SLEEPERS = 19, ARGS = 32;
export const CONTROL_BYTES = 256;

/**
 * The worker's code, run as a classic script (Node: `eval`; browsers: a Blob URL), so the
 * package stays one file. It instantiates the module on the shared memory and serves calls.
 */
const WORKER_SOURCE = `
'use strict';
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const on = (f) => typeof require === 'function' ? port.on('message', f) : (self.onmessage = (e) => f(e.data));
on((msg) => {
  const { module, memory, ctl, tid, nth, names } = msg;
  let fns;
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    fns = names.map((n) => instance.exports[n]);
  } catch (err) {
    port.postMessage({ error: String(err && err.message || err) });
    return;
  }
  const I = new Int32Array(memory.buffer, ctl, ${CONTROL_BYTES / 4});
  // Read before announcing readiness: the first call may bump the sequence number right after.
  let seen = Atomics.load(I, ${SEQ});
  port.postMessage({ ready: true });
  const now = () => performance.now();
  for (;;) {
    let spins = 0, t0 = 0;
    while (Atomics.load(I, ${SEQ}) === seen) {
      if ((++spins & 1023) === 0) {
        if (t0 === 0) t0 = now();
        else if (now() - t0 > 1) {
          Atomics.add(I, ${SLEEPERS}, 1);
          Atomics.wait(I, ${SEQ}, seen);
          Atomics.sub(I, ${SLEEPERS}, 1);
          spins = 0; t0 = 0;
        }
      }
    }
    seen = Atomics.load(I, ${SEQ});
    const fn = I[${FN}];
    if (fn < 0) return;
    const a = I.subarray(${ARGS}, ${ARGS} + I[${ARGC}]);
    try {
      fns[fn](tid, nth, ctl, ...a);
    } catch (err) {
      Atomics.store(I, ${POISON}, 1);
      Atomics.notify(I, 1);
      port.postMessage({ error: String(err && err.message || err) });
      return;
    }
  }
});
`;

interface WorkerLike {
  postMessage(msg: unknown): void;
  terminate(): unknown;
}

/** Whether this context can share a WebAssembly.Memory with workers. */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (isNode) return true;
  return g.crossOriginIsolated === true && typeof g.Worker === 'function';
}

/** Whether this thread may block in Atomics.wait (a browser page's main thread may not). */
function callerMayWait(): boolean {
  if (isNode) return true;
  const g = globalThis as { WorkerGlobalScope?: unknown };
  return typeof g.WorkerGlobalScope !== 'undefined';
}

/**
 * Falls back to one thread while the cores are busy. Threads that meet at a barrier twice per
 * time step only pay off when they run at the same time; when another process holds a core,
 * each barrier waits for a descheduled thread and a forward gets several times slower than on
 * one thread (measured: LSTM H256 batch 1 with a busy-looping process beside it, 5.9 ms on one
 * thread, 18–23 ms on two). The signal is the barrier sleeps: a thread sleeps after ~0.1 ms of
 * spinning. On a calm machine about 2% of the barriers sleep, in bursts; beside a busy-looping
 * process about 30% do (measured, LSTM H256 batch 1, forward and step()). When at least an
 * eighth of the barriers of the last calls (at least 256 barriers) slept, the pool pauses —
 * callers run on one thread — for 25 ms, doubling on each
 * contended retry up to 500 ms (a retry costs one contended window: a few ms for step() calls,
 * one slow call for long forwards; the cap keeps a passing burst, such as V8 compiling at
 * start-up, from costing more than half a second of one-thread speed); a calm
 * window resets it.
 */
export class ContentionGuard {
  private backoffMs = 0;
  private resumeAt = -Infinity;
  private sleeps = 0;
  private barriers = 0;

  /**
   * Records one parallel call: its barrier sleeps and barriers, at time `now` (ms). Calls are
   * pooled until they add up to WINDOW barriers (a step() call has two, a forward two per time
   * step), then judged together.
   */
  record(sleeps: number, barriers: number, now: number): void {
    this.sleeps += sleeps;
    this.barriers += barriers;
    if (this.barriers < WINDOW) return;
    if (this.sleeps * 8 >= this.barriers) {
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs > 0 ? this.backoffMs * 2 : MIN_BACKOFF_MS);
      this.resumeAt = now + this.backoffMs;
    } else {
      this.backoffMs = 0;
    }
    this.sleeps = this.barriers = 0;
  }

  /** Whether a call at time `now` may use the threads. */
  allows(now: number): boolean {
    return now >= this.resumeAt;
  }
}
const WINDOW = 256;
const MIN_BACKOFF_MS = 25, MAX_BACKOFF_MS = 500;

/** What a pool did since it started (see threadStats()). */
export interface ThreadStats {
  /** Threads taking part in a call, the caller's included. */
  threads: number;
  /** Parallel calls run on the threads. */
  calls: number;
  /** Barriers those calls passed (two per time step of a forward, two per step() call). */
  barriers: number;
  /** How often a thread slept in one of them (a healthy pool: well under 1%). */
  sleeps: number;
  /** Calls large enough for the threads that ran on one thread because the contention guard had paused the pool. */
  pausedCalls: number;
}

export class ThreadPool {
  private readonly ctlView: Int32Array;
  private readonly fns: ((...args: number[]) => void)[];
  private seq = 0;
  /** Set by close() and by a failed call: the pool no longer runs anything. */
  closed = false;
  /** Pauses the pool while its threads keep missing each other (see ContentionGuard). */
  readonly guard = new ContentionGuard();
  /** false: never pause (ready({ adaptiveThreads: false })). */
  adaptive = true;
  /** Counters since the pool started (threads is filled in by the constructor). */
  readonly stats: ThreadStats;

  private constructor(
    /** Threads taking part in a call, the caller's included. */
    readonly threads: number,
    /** Byte offset of the control block (the barrier words are its first 28 bytes). */
    readonly ctl: number,
    memory: WebAssembly.Memory,
    exports: Record<string, unknown>,
    private readonly workers: WorkerLike[],
  ) {
    this.ctlView = new Int32Array(memory.buffer, ctl, CONTROL_BYTES / 4);
    this.ctlView[3] = callerMayWait() ? 1 : 0;
    this.fns = PARALLEL_KERNELS.map((n) => exports[n] as (...args: number[]) => void);
    this.stats = { threads, calls: 0, barriers: 0, sleeps: 0, pausedCalls: 0 };
  }

  /**
   * Starts threads − 1 workers on `module` + the shared `memory` and waits until each has
   * instantiated it. `ctl` is a zeroed 64-byte aligned block of CONTROL_BYTES in that memory.
   */
  static async start(
    threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number,
    exports: Record<string, unknown>,
  ): Promise<ThreadPool> {
    const workers: WorkerLike[] = [];
    try {
      const started: Promise<void>[] = [];
      for (let tid = 1; tid < threads; tid++) {
        const { worker, ready } = await spawn();
        workers.push(worker);
        worker.postMessage({ module, memory, ctl, tid, nth: threads, names: [...PARALLEL_KERNELS] });
        started.push(ready);
      }
      await Promise.all(started);
    } catch (err) {
      for (const w of workers) w.terminate();
      throw err;
    }
    return new ThreadPool(threads, ctl, memory, exports, workers);
  }

  /** Runs a parallel kernel on every thread; returns when all are done. */
  run(kernel: ParallelKernel, ...args: number[]): void {
    if (this.closed) throw new Error('wasm-rnn: the thread pool was closed');
    const I = this.ctlView;
    I[FN] = PARALLEL_KERNELS.indexOf(kernel);
    I[ARGC] = args.length;
    for (let i = 0; i < args.length; i++) I[ARGS + i] = args[i];
    Atomics.store(I, SEQ, ++this.seq);
    if (Atomics.load(I, SLEEPERS) !== 0) Atomics.notify(I, SEQ);
    try {
      this.fns[I[FN]](0, this.threads, this.ctl, ...args);
      const sleeps = Atomics.exchange(I, SLEPT, 0), barriers = Atomics.exchange(I, BARRIERS, 0);
      const st = this.stats;
      st.calls++;
      st.barriers += barriers;
      st.sleeps += sleeps;
      this.guard.record(sleeps, barriers, performance.now());
    } catch (err) {
      // A thread failed mid-call (the others are stuck at a barrier): poison, stop them all.
      const worker = Atomics.load(I, POISON) !== 0;
      Atomics.store(I, POISON, 1);
      Atomics.notify(I, 1);
      this.close();
      throw new Error(
        `wasm-rnn: ${worker ? 'a worker thread' : 'the calling thread'} failed in the parallel kernel '${kernel}' ` +
          `(${(err as Error).message}); the thread pool is closed — call ready({ threads }) to start a new one`,
      );
    }
  }

  /** Whether a parallel call now would run on the threads (open, and not paused by the guard). */
  get available(): boolean {
    if (this.closed) return false;
    if (!this.adaptive || this.guard.allows(performance.now())) return true;
    this.stats.pausedCalls++;
    return false;
  }

  /** Stops the workers (they exit at once; a pool is not reusable). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const I = this.ctlView;
    I[FN] = -1;
    Atomics.store(I, SEQ, ++this.seq);
    Atomics.notify(I, SEQ);
    for (const w of this.workers) w.terminate();
  }
}

async function spawn(): Promise<{ worker: WorkerLike; ready: Promise<void> }> {
  if (isNode) {
    const wt = await nodeBuiltin('worker_threads');
    const worker = new wt.Worker(WORKER_SOURCE, { eval: true });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { ready?: boolean; error?: string }) => {
        if (!m.ready) return reject(new Error(`wasm-rnn: a worker could not start: ${m.error}`));
        // Once started, idle workers must not keep the process alive.
        worker.unref();
        resolve();
      });
      worker.once('error', reject);
    });

    return { worker, ready };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const W = (globalThis as unknown as { Worker: new (u: string) => Worker }).Worker;
  const worker = new W(url);
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ready?: boolean; error?: string }>) => {
      URL.revokeObjectURL(url);
      if (e.data.ready) resolve();
      else reject(new Error(`wasm-rnn: a worker could not start: ${e.data.error}`));
    };
    worker.onerror = (e) => reject(new Error(`wasm-rnn: a worker could not start: ${e.message}`));
  });
  return { worker, ready };
}

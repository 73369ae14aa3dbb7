/** The calls a page makes on its worker (serve.ts answers them, spawn.ts sends them), and their replies. */
import type { BackendName } from '../index.js';
import type { WireError } from './codec.js';

export const CALLS = ['init', 'info', 'create', 'load', 'call', 'setOptimizer', 'fit', 'generate', 'save', 'loadWeights', 'dispose'] as const;
export type CallName = (typeof CALLS)[number];

/** Every call answers { ok, value } or { ok: false, error }: the page rethrows with the core's class. */
export type Reply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** The worker's side, as comlink exposes it. */
export type WorkerApi = Record<CallName, (...args: never[]) => Promise<Reply>>;

/** A model handle as the page receives it. */
export interface ModelRef {
  id: number;
  className: string;
}

export interface InitOptions {
  backend?: BackendName;
  threads?: number;
}

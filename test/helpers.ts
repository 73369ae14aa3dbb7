import { readFileSync } from 'node:fs';
import { BACKEND_NAMES, setBackend, type BackendName } from '../src/index.js';

export interface Json { shape: number[]; data: number[] }

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export const backends: readonly BackendName[] = BACKEND_NAMES;

export async function use(name: BackendName): Promise<void> {
  await setBackend(name);
}

/** Largest |a − b| over two equally long arrays (the shapes are compared separately). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

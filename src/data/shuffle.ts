/** Seeded, per-epoch orders for the batchers: the same (seed, epoch) gives the same order. */
import { Random } from '../random.js';
import { nonNegativeInt, seed as seedOption } from './checks.js';

/** A generator for one epoch: seed and epoch hashed together (murmur3's finaliser) so neighbours differ. */
export function epochRandom(fn: string, seed: unknown, epoch: unknown): Random {
  const s = seedOption(fn, seed);
  const e = nonNegativeInt(fn, 'epoch', epoch, 0);
  let h = Math.imul(s | 0, 0x9e3779b1) ^ Math.imul((s / 2 ** 32) | 0, 0x85ebca77) ^ Math.imul(e | 0, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Random((h ^ (h >>> 16)) >>> 0);
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(a: { length: number; [i: number]: T }, rng: Random): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** 0, 1, …, n − 1. */
export function range(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

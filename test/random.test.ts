/** The seeded generator draws exactly the numbers of the reference mulberry32 (uint32 state). */
import { describe, expect, it } from 'vitest';
import { Random } from '../src/random.js';

/** mulberry32 as published, with the state as a uint32: what Random drew before it kept an int32. */
function reference(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, uniform: (lo: number, hi: number) => lo + (hi - lo) * next() };
}

const SEEDS = [0, 1, 7, 12345, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -1, -(2 ** 31), 0x5bd1e995, 1.5, -2.5, NaN, Infinity];

describe('Random', () => {
  it.each(SEEDS)('seed %s: next(), uniform() and normal() draw the reference sequence', (seed) => {
    const r = new Random(seed), a = reference(seed), b = reference(seed);
    for (let i = 0; i < 2000; i++) {
      if (i % 3 === 0) expect(r.next()).toBe(a.next());
      else expect(r.uniform(-0.25, 0.75)).toBe(a.uniform(-0.25, 0.75));
    }
    // normal() draws two uniforms per value (more when one is 0).
    const n = new Random(seed);
    for (let i = 0; i < 200; i++) {
      const u = b.next(), v = b.next();
      expect(n.normal()).toBe(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
  });

  it.each(SEEDS)('seed %s: fillUniform() writes what uniform() calls would, and leaves the state after them', (seed) => {
    const a = new Random(seed), b = new Random(seed);
    for (const n of [0, 1, 7, 1000]) {
      const got = new Float32Array(n);
      a.fillUniform(got, -0.125, 0.375);
      const want = Float32Array.from({ length: n }, () => b.uniform(-0.125, 0.375));
      expect(got).toEqual(want);
      expect(a.state).toBe(b.state);
    }
    expect(a.next()).toBe(b.next());
  });

  it('next() is in [0, 1) and uniform(lo, hi) in [lo, hi)', () => {
    const r = new Random(99);
    for (let i = 0; i < 10_000; i++) {
      const x = r.next(), y = r.uniform(-3, 2);
      expect(x >= 0 && x < 1).toBe(true);
      expect(y >= -3 && y < 2).toBe(true);
    }
  });
});

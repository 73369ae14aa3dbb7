/**
 * A small seeded generator (mulberry32) for reproducible initialisation.
 *
 * The state is kept as an int32 (the same 32 bits as the uint32 of the reference algorithm), and
 * uniform() does its own step instead of calling next(): a new layer draws one value per
 * parameter while V8 still interprets the code, where every call and every number above 2^31
 * (a heap allocation) counts — cold start's "new LSTM" took about a quarter less CPU time so.
 */
export class Random {
  private s: number;
  constructor(seed: number = (Math.random() * 2 ** 32) >>> 0) {
    this.s = seed | 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** The generator's whole state (an unsigned 32-bit integer): save it to resume the same sequence. */
  get state(): number {
    return this.s >>> 0;
  }

  set state(v: number) {
    this.s = v | 0;
  }

  /** Uniform in [lo, hi): lo + (hi − lo) · next(). */
  uniform(lo: number, hi: number): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  /**
   * Fills `out` with uniform values in [lo, hi): the same numbers as out.length uniform() calls,
   * in one loop, which V8 compiles on the spot (on-stack replacement) where a call per value runs
   * interpreted at a layer's first construction.
   */
  fillUniform(out: Float32Array, lo: number, hi: number): void {
    const d = hi - lo;
    let s = this.s;
    for (let i = 0; i < out.length; i++) {
      let t = (s = (s + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = lo + d * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
    }
    this.s = s;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

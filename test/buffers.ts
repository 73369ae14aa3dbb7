/** Test buffers mirrored across several backends' arenas, for comparing kernels side by side. */
import type { Arena } from '../src/backend/arena.js';

export const CANARY = 12345.5;
export const PAD = 16;

/** Anything with an arena: a Backend, or a test's own wrapper of one. */
export interface HasArena {
  readonly name: string;
  readonly arena: Arena;
}

/**
 * One buffer allocated in several backends (the same data in each), with PAD canary floats
 * before and after it to catch out-of-bounds writes.
 */
export class Buf {
  readonly ptr: number[];
  private readonly block: number[];
  constructor(
    private readonly bs: readonly HasArena[],
    readonly n: number,
    data?: ArrayLike<number>,
  ) {
    this.block = bs.map((b) => b.arena.allocF32(n + 2 * PAD));
    this.ptr = this.block.map((p) => p + 4 * PAD);
    const canary = new Float32Array(PAD).fill(CANARY);
    bs.forEach((b, i) => {
      b.arena.write(this.block[i], canary);
      b.arena.write(this.ptr[i] + 4 * n, canary);
      if (data) b.arena.write(this.ptr[i], data);
    });
  }
  read(i: number): Float32Array {
    return this.bs[i].arena.read(this.ptr[i], this.n);
  }
  write(data: ArrayLike<number>): void {
    this.bs.forEach((b, i) => b.arena.write(this.ptr[i], data));
  }
  checkCanaries(): void {
    this.bs.forEach((b, i) => {
      const before = b.arena.read(this.block[i], PAD);
      const after = b.arena.read(this.ptr[i] + 4 * this.n, PAD);
      for (let j = 0; j < PAD; j++) {
        if (before[j] !== CANARY || after[j] !== CANARY) {
          throw new Error(`${b.name}: write outside buffer (${this.n} floats) at pad ${j}`);
        }
      }
    });
  }
  free(): void {
    this.bs.forEach((b, i) => b.arena.free(this.block[i]));
  }
}

/** Int32 buffer in several backends. */
export class IBuf {
  readonly ptr: number[];
  constructor(
    private readonly bs: readonly HasArena[],
    data: ArrayLike<number>,
  ) {
    this.ptr = bs.map((b) => {
      const p = b.arena.alloc(4 * Math.max(1, data.length));
      b.arena.i32.set(data, p >> 2);
      return p;
    });
  }
  free(): void {
    this.bs.forEach((b, i) => b.arena.free(this.ptr[i]));
  }
}

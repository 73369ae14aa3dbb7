/**
 * A first-fit allocator over one WebAssembly.Memory, planned from TypeScript.
 *
 * Blocks are 64-byte aligned (no cache-line straddles). Offsets below `base` are never handed
 * out, so 0 can mean "absent" in kernel calls. `memory.grow` detaches every view of the old
 * buffer, so views are only ever derived through `f32`/`i32`, which re-check the buffer.
 * Offsets run up to the memory's maximum (4 GiB; 2 GiB for the threads build's shared memory):
 * typed-array indices are `off >>> 2`, never `off >> 2` (negative past 2^31).
 */
const ALIGN = 64;
const PAGE = 65536;

/** What an arena holds, for leak checks and diagnostics (see memoryInfo()). */
export interface ArenaStats {
  /** The linear memory's current size in bytes. */
  memoryBytes: number;
  /** The most the memory may grow to. */
  maxBytes: number;
  /** Bytes in live blocks. */
  liveBytes: number;
  /** Live blocks. */
  blocks: number;
  /** Highest end of any block ever handed out (a steady-state loop keeps it flat). */
  highWater: number;
}

/** An allocation the memory cannot hold; callers rethrow it naming the model and what it was for. */
export class OutOfMemoryError extends RangeError {
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(bytes: number, maxBytes: number, have: number) {
    super(`alloc: cannot reserve ${formatBytes(bytes)}: the WebAssembly memory holds ${formatBytes(have)} and may grow to at most ${formatBytes(maxBytes)}`);
    this.name = 'OutOfMemoryError';
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** 1536 → '1.5 KB', 2^31 → '2 GiB' (powers of two in GiB, the rest in decimal units). */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GiB`;
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)} KB`;
  return `${n} bytes`;
}

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private f32View: Float32Array;
  private i32View: Int32Array;
  /** Free blocks sorted by offset: [offset, size] pairs. */
  private readonly freeList: Array<[number, number]> = [];
  private readonly sizes = new Map<number, number>();
  private topOff: number;
  /** Highest end of any block ever handed out. */
  highWater: number;
  private scratchBlock = 0;
  private scratchBytes = 0;
  /** The memory's declared maximum in bytes. */
  readonly maxBytes: number;

  constructor(memory: WebAssembly.Memory, base: number, maxBytes = 2 ** 32) {
    this.memory = memory;
    this.maxBytes = maxBytes;
    this.base = Math.ceil(base / ALIGN) * ALIGN;
    this.topOff = this.base;
    this.highWater = this.base;
    this.buffer = memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  /** Float32 view of the whole memory, valid until the next allocation. Index = byteOffset >>> 2. */
  get f32(): Float32Array {
    if (this.buffer !== this.memory.buffer) this.refresh();
    return this.f32View;
  }

  /** Int32 view of the whole memory, valid until the next allocation. */
  get i32(): Int32Array {
    if (this.buffer !== this.memory.buffer) this.refresh();
    return this.i32View;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  /** Bytes currently handed out (sum of live block sizes). */
  get liveBytes(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }

  /** Where the next block would go if no free hole fits it (the end of the used region). */
  get top(): number {
    return this.topOff;
  }

  /** Whether `off` is the start of a live block. */
  isLive(off: number): boolean {
    return this.sizes.has(off);
  }

  stats(): ArenaStats {
    return {
      memoryBytes: this.memory.buffer.byteLength,
      maxBytes: this.maxBytes,
      liveBytes: this.liveBytes,
      blocks: this.sizes.size,
      highWater: this.highWater,
    };
  }

  /** Reserves `bytes` (rounded up to 64) and returns the block's byte offset. */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`alloc: bytes must be a non-negative integer, got ${bytes}`);
    }
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.freeList.length; i++) {
      const [off, len] = this.freeList[i];
      if (len < size) continue;
      if (len === size) this.freeList.splice(i, 1);
      else this.freeList[i] = [off + size, len - size];
      this.sizes.set(off, size);
      return off;
    }
    const off = this.topOff;
    const end = off + size;
    const have = this.memory.buffer.byteLength;
    if (end > this.maxBytes) throw new OutOfMemoryError(bytes, this.maxBytes, have);
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        // The engine refused (its own limit, or the machine's memory).
        throw new OutOfMemoryError(bytes, Math.min(this.maxBytes, have), have);
      }
    }
    this.topOff = end;
    if (end > this.highWater) this.highWater = end;
    this.sizes.set(off, size);
    return off;
  }

  /** Allocates `n` float32s and zero-fills them. */
  allocF32(n: number): number {
    const off = this.alloc(n * 4);
    this.f32.fill(0, off >>> 2, (off >>> 2) + n);
    return off;
  }

  /** Returns a block to the arena. Freeing 0 is a no-op. */
  free(off: number): void {
    if (off === 0) return;
    const size = this.sizes.get(off);
    if (size === undefined) throw new Error(`free: ${off} is not a live block`);
    this.sizes.delete(off);
    let lo = 0;
    let hi = this.freeList.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeList[mid][0] < off) lo = mid + 1;
      else hi = mid;
    }
    this.freeList.splice(lo, 0, [off, size]);
    // Coalesce with neighbours.
    if (lo + 1 < this.freeList.length) {
      const [o, s] = this.freeList[lo];
      const [o2, s2] = this.freeList[lo + 1];
      if (o + s === o2) this.freeList.splice(lo, 2, [o, s + s2]);
    }
    if (lo > 0) {
      const [o0, s0] = this.freeList[lo - 1];
      const [o, s] = this.freeList[lo];
      if (o0 + s0 === o) this.freeList.splice(lo - 1, 2, [o0, s0 + s]);
    }
    // Give the tail back to the bump pointer.
    const last = this.freeList[this.freeList.length - 1];
    if (last && last[0] + last[1] === this.topOff) {
      this.topOff = last[0];
      this.freeList.pop();
    }
  }

  /**
   * A block of at least `bytes` shared by short-lived computations (losses, norms): reused
   * across calls and grown when a larger one is asked for. Valid until the next scratch() call.
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      const block = this.alloc(bytes);
      this.free(this.scratchBlock);
      this.scratchBlock = block;
      this.scratchBytes = Math.ceil(bytes / ALIGN) * ALIGN;
    }
    return this.scratchBlock;
  }

  /** Copies `src` into the memory at byte offset `off`. */
  write(off: number, src: ArrayLike<number>): void {
    this.f32.set(src, off >>> 2);
  }

  /** Copies `n` floats from byte offset `off` into a new Float32Array the caller owns. */
  read(off: number, n: number): Float32Array {
    return this.f32.slice(off >>> 2, (off >>> 2) + n);
  }
}

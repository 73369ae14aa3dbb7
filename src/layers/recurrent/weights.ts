/**
 * The packed copies of a recurrent layer's weights in the backend's panel layout: W_ih and
 * W_hh for forward (packWeights), W_ihᵀ and W_hhᵀ for backward (packRows). Packed once per
 * change of the weights, one block each, reused by every call. A cell whose last gate blocks
 * take another recurrent input (Cell.hBlocks < gates: the GRU with the reset before the
 * product) gets W_hh in two pieces, its rows [0, hBlocks·H) and then the rest, each packed on
 * its own and the second right after the first (the kernels find it by packedSize).
 */
import type { Backend } from '../../backend/index.js';
import type { ParamSpec } from '../module.js';

/** The parameters of one (layer, direction), k = layer·D + direction. */
export interface DirectionParams {
  wIh: ParamSpec;
  wHh: ParamSpec;
  bIh: ParamSpec | null;
  bHh: ParamSpec | null;
  /** LSTM peephole weights [3, H] (rows i, f, o), or null. */
  peep: ParamSpec | null;
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** One packed set (forward or transposed): a block and the byte offset of each matrix in it. */
class PackedSet {
  block = 0;
  fresh = false;
  private readonly ih: number[] = [];
  private readonly hh: number[] = [];

  constructor(private readonly transposed: boolean) {}

  /** `hRows`: W_hh's rows packed as the first piece (all of them: one piece). */
  ensure(
    be: Backend, dirs: readonly DirectionParams[], ptr: (s: ParamSpec) => number, alloc: (bytes: number) => number,
    hRows: number,
  ): void {
    if (this.fresh) return;
    const ks = be.kernels;
    const size = (n: number, k: number): number => (this.transposed ? ks.packedSize(k, n) : ks.packedSize(n, k));
    if (this.block === 0) {
      let off = 0;
      for (let i = 0; i < dirs.length; i++) {
        const [n, k] = dirs[i].wIh.shape, [, h] = dirs[i].wHh.shape;
        this.ih[i] = off;
        off = align64(off + size(n, k) * 4);
        this.hh[i] = off;
        off = align64(off + (size(hRows, h) + (n > hRows ? size(n - hRows, h) : 0)) * 4);
      }
      this.block = alloc(off);
    }
    const pack = (dst: number, w: number, n: number, k: number): void =>
      this.transposed ? ks.packRows(dst, w, n, k) : ks.packWeights(dst, w, n, k);
    for (let i = 0; i < dirs.length; i++) {
      const { wIh, wHh } = dirs[i];
      const [n, k] = wIh.shape, [, h] = wHh.shape;
      pack(this.block + this.ih[i], ptr(wIh), n, k);
      const hh = this.block + this.hh[i];
      pack(hh, ptr(wHh), Math.min(n, hRows), h);
      if (n > hRows) pack(hh + size(hRows, h) * 4, ptr(wHh) + hRows * h * 4, n - hRows, h);
    }
    this.fresh = true;
  }

  ihAt(k: number): number {
    return this.block + this.ih[k];
  }

  hhAt(k: number): number {
    return this.block + this.hh[k];
  }

  release(be: Backend): void {
    be.arena.free(this.block);
    this.block = 0;
    this.fresh = false;
  }
}

export class PackedWeights {
  /** W_ih, W_hh packed for x·W_ihᵀ and h·W_hhᵀ. */
  readonly forward = new PackedSet(false);
  /** W_ihᵀ, W_hhᵀ packed for dX = dG·W_ih and dh = dG·W_hh. */
  readonly backward = new PackedSet(true);

  /** The weights changed: repack on next use. */
  invalidate(): void {
    this.forward.fresh = false;
    this.backward.fresh = false;
  }

  release(be: Backend): void {
    this.forward.release(be);
    this.backward.release(be);
  }
}

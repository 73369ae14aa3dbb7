/**
 * Named float32 buffers laid out one after another in one block, each rounded up to 16 floats
 * (64 bytes), so a workspace is one allocation with a pointer per name (llm.c's
 * ActivationTensors). A size may be a list (one buffer per layer, say).
 */
type Sizes = Record<string, number | readonly number[]>;
export type Addresses<S extends Sizes> = { [K in keyof S]: S[K] extends number ? number : number[] };

const pad16 = (n: number): number => Math.ceil(n / 16) * 16;

export interface Layout<S extends Sizes> {
  /** Floats the whole layout takes. */
  readonly floats: number;
  /** Byte addresses of every buffer for a block at byte address `base` (0-size buffers: 0). */
  at(base: number): Addresses<S>;
}

export function layout<S extends Sizes>(sizes: S): Layout<S> {
  let floats = 0;
  const offsets: Record<string, number | number[]> = {};
  const take = (n: number): number => {
    if (n === 0) return -1;
    const at = floats;
    floats += pad16(n);
    return at;
  };
  for (const [name, size] of Object.entries(sizes)) {
    offsets[name] = typeof size === 'number' ? take(size) : size.map(take);
  }
  return {
    floats,
    at(base: number): Addresses<S> {
      const addr = (f: number): number => (f < 0 ? 0 : base + f * 4);
      const out: Record<string, number | number[]> = {};
      for (const [name, off] of Object.entries(offsets)) out[name] = typeof off === 'number' ? addr(off) : off.map(addr);
      return out as Addresses<S>;
    },
  };
}

/** The error importOnnx and OnnxModel.run throw for a model they cannot read or do not support. */
export class OnnxError extends Error {
  /** The node the problem is in (its name, or `#index (OpType)` when it has none), if any. */
  readonly node?: string;

  constructor(message: string, node?: string) {
    super(message);
    this.name = 'OnnxError';
    if (node !== undefined) this.node = node;
  }
}

/** `'name'` quoted for messages, with control characters and overlong names made harmless. */
export function q(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `'${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean}'`;
}

/** The shortest decimal that reads back as the same float32 (attributes are float32: 0.6, not 0.6000000238). */
export function f32(v: number): string {
  for (let p = 1; p < 10; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

/** The error importTfjs and loadTfjs throw for a model they cannot read or do not support. */
export class TfjsError extends Error {
  /** The Keras layer the problem is in — `layer 'lstm_1' (LSTM)` — if any. */
  readonly layer?: string;

  constructor(message: string, layer?: string) {
    super(message);
    this.name = 'TfjsError';
    if (layer !== undefined) this.layer = layer;
  }
}

/** `'name'` quoted for messages, with control characters and overlong names made harmless. */
export function q(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `'${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean}'`;
}

/** A JSON value as a short string for messages (strings quoted, long values cut). */
export function show(v: unknown): string {
  if (typeof v === 'string') return q(v);
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  // Large values are described, not serialized (a hostile file may hold millions of entries).
  if (Array.isArray(v) && v.length > 32) return `an array of ${v.length}`;
  if (isObject(v) && Object.keys(v).length > 32) return `an object with ${Object.keys(v).length} keys`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  if (s === undefined) return typeof v;
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Whether a value is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A shape as messages print it: [3, 16]. */
export function dims(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

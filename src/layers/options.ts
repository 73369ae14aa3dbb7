/** Constructor-option checks shared by the layers: each names the option and what came. */
import { MAX_MEMORY_BYTES } from '../backend/backend.js';
import { formatBytes } from '../backend/arena.js';
import { typeName } from '../tensor.js';

export function checkOptions(layer: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${layer}: options must be an object, got ${typeName(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      const hint = camel !== key && allowed.includes(camel) ? ` (did you mean '${camel}'?)` : '';
      throw new TypeError(`${layer}: unknown option '${key}'${hint}; expected ${oneOf(allowed)}`);
    }
  }
}

/** 'a' · 'a' or 'b' · one of 'a', 'b', 'c' */
export function oneOf(names: readonly string[]): string {
  const q = names.map((k) => `'${k}'`);
  if (q.length <= 2) return q.join(' or ');
  return `one of ${q.join(', ')}`;
}

export function positiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${layer}: ${name} must be a positive integer, got ${fmt(v)}`);
  }
  return v;
}

export function bool(layer: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${layer}: ${name} must be a boolean, got ${fmt(v)}`);
  return v;
}

export function seedOf(layer: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new TypeError(`${layer}: seed must be an integer, got ${fmt(v)}`);
  }
  return v;
}

export function fmt(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  return typeName(v);
}

/**
 * Refuses at construction a layer whose parameters cannot fit in a WebAssembly memory (4 GiB),
 * before anything is allocated. `copies` counts the parameter block plus the packed copies the
 * kernels run on. `args` names the sizes the user gave, for the message.
 */
export function checkFits(layer: string, args: Record<string, number>, floats: number, copies: number): void {
  if (floats * 4 * copies <= MAX_MEMORY_BYTES) return;
  const given = Object.entries(args).map(([k, v]) => `${k} = ${v}`).join(', ');
  throw new RangeError(
    `${layer}: ${given} give ${floats.toPrecision(3)} parameters (${formatBytes(floats * 4)}` +
      `${copies > 1 ? `, ${formatBytes(floats * 4 * copies)} with the packed copies the kernels run on` : ''}), ` +
      `more than a WebAssembly memory holds (${formatBytes(MAX_MEMORY_BYTES)})`,
  );
}

/**
 * checkOptions for options that PyTorch users may spell PyTorch's way: each alias (e.g.
 * `weight_decay`) is accepted for its camelCase name (`weightDecay`); giving both is an error.
 * Returns the options under their canonical names.
 */
export function aliasOptions<T extends object>(
  fn: string, opts: unknown, allowed: readonly string[], aliases: Readonly<Record<string, string>>,
): T {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${fn}: options must be an object, got ${typeName(opts)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(opts)) {
    const name = aliases[key] ?? key;
    if (!allowed.includes(name)) {
      throw new TypeError(`${fn}: unknown option '${key}'; expected ${oneOf(allowed)}`);
    }
    if (name in out) throw new TypeError(`${fn}: option '${name}' is given twice (as '${name}' and as '${key}')`);
    out[name] = value;
  }
  return out as T;
}

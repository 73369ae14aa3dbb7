/** Constructor-option checks shared by the layers: each names the option and what came. */
import { typeName } from '../tensor.js';

export function checkOptions(layer: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${layer}: options must be an object, got ${typeName(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${layer}: unknown option '${key}'; expected one of ${allowed.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
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

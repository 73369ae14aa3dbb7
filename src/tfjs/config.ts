/**
 * A Keras layer's `config`, read the way Keras writes it and TF.js saves it (snake_case keys;
 * camelCase keys, which tfjs also reads, are accepted as the same names). Every key is either
 * used, known not to matter for inference (initializers, regularizers, constraints, dropout
 * inside recurrent cells, …), or refused by name: nothing is silently ignored.
 */
import { TfjsError, isObject, q, show } from './errors.js';

/** Keys that only matter for training or for building the Keras model, on every layer. */
const COMMON_KEYS = ['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_shape', 'input_shape', 'batch_size'];
const IGNORED_SUFFIXES = ['_initializer', '_regularizer', '_constraint'];

function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export class KerasConfig {
  private readonly map = new Map<string, unknown>();

  /** `label` names the layer in messages: `layer 'lstm_1' (LSTM)`. */
  constructor(raw: unknown, readonly label: string) {
    if (!isObject(raw)) throw new TfjsError(`importTfjs: ${label}: config must be an object, got ${show(raw)}`, label);
    for (const [k, v] of Object.entries(raw)) {
      const key = snake(k);
      if (this.map.has(key)) throw new TfjsError(`importTfjs: ${label}: option ${q(key)} is given twice (as ${q(k)} too)`, label);
      this.map.set(key, v);
    }
  }

  fail(message: string): never {
    throw new TfjsError(`importTfjs: ${this.label}: ${message}`, this.label);
  }

  get(key: string): unknown {
    return this.map.get(key);
  }

  /** Whether the key is present with a value other than null. */
  has(key: string): boolean {
    return this.map.get(key) !== undefined && this.map.get(key) !== null;
  }

  /**
   * Refuses every key that is not in `used`, the common keys, or an initializer / regularizer /
   * constraint (training only). `ignored` lists the layer's own keys that do not change its
   * inference numbers.
   */
  accept(used: readonly string[], ignored: readonly string[] = [], dtypes: readonly string[] = ['float32']): void {
    for (const k of this.map.keys()) {
      if (used.includes(k) || ignored.includes(k) || COMMON_KEYS.includes(k) || IGNORED_SUFFIXES.some((s) => k.endsWith(s))) continue;
      this.fail(`option ${q(k)} is not supported`);
    }
    this.dtype(dtypes);
  }

  private dtype(allowed: readonly string[]): void {
    const v = this.get('dtype');
    if (v === undefined || v === null) return;
    // Keras 3 writes a DTypePolicy object; Keras 2 and TF.js a string.
    const name = isObject(v) ? (isObject(v.config) ? v.config.name : undefined) : v;
    if (typeof name !== 'string' || !allowed.includes(name)) {
      this.fail(`dtype ${show(name ?? v)} is not supported (supported: ${allowed.map(q).join(', ')})`);
    }
  }

  /** Refuses a key unless absent, null, false, 0, '' or an empty list/object (its default). */
  off(key: string, why = ''): void {
    const v = this.get(key);
    const unset = v === undefined || v === null || v === false || v === 0 || v === '' ||
      (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
    if (!unset) this.fail(`${key}=${show(v)} is not supported${why ? ` (${why})` : ''}`);
  }

  positiveInt(key: string): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) this.fail(`${key} must be a positive integer, got ${show(v)}`);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(`${key} must be true or false, got ${show(v)}`);
    return v;
  }

  number(key: string, dflt: number): number {
    const v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${key} must be a number, got ${show(v)}`);
    return v;
  }

  /**
   * An activation's name in snake_case ('hard_sigmoid', 'tanh', …), from a string ('tanh',
   * TF.js's 'hardSigmoid') or a serialized object (TF.js `{class_name}`; Keras 3
   * `{class_name: 'function', config: 'tanh'}`).
   */
  activation(key: string, dflt: string): string {
    let v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (isObject(v)) v = typeof v.config === 'string' ? v.config : v.class_name;
    if (typeof v !== 'string' || v.length === 0) this.fail(`${key} must name an activation, got ${show(this.get(key))}`);
    return snake(v[0].toLowerCase() + v.slice(1));
  }
}

/**
 * The CLI's argument parser: each command declares its positionals and options once, and the
 * same table parses `--name value` / `--name=value` / flags, checks types and ranges, and
 * writes `--help`. A bad argument is a UsageError: one line on stderr and exit code 2.
 */

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionValue = string | number | boolean | undefined;

export interface OptionSpec {
  /** Long name without the dashes: 'seq-len'. */
  name: string;
  /** 'int' and 'number' are checked against min/max; 'flag' takes no value. */
  type: 'int' | 'number' | 'string' | 'flag';
  help: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** min is exclusive (a number > min). */
  above?: boolean;
  /** The value's name in --help: --hidden N. */
  metavar?: string;
}

export interface PositionalSpec {
  name: string;
  help: string;
  optional?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /** Lines after the option table in --help. */
  notes?: readonly string[];
}

export interface Parsed {
  /** Options by name (dashes kept: opts['seq-len']), defaults filled in. */
  opts: Record<string, OptionValue>;
  positionals: string[];
  help: boolean;
}

const HELP: OptionSpec = { name: 'help', type: 'flag', help: 'show this help' };

function checkValue(cmd: string, o: OptionSpec, raw: string): string | number {
  const where = `wasm-rnn ${cmd}: --${o.name}`;
  if (o.type === 'string') {
    if (o.choices && !o.choices.includes(raw)) {
      throw new UsageError(`${where} must be one of ${o.choices.join(', ')}, got '${raw}'`);
    }
    return raw;
  }
  const v = raw.trim() === '' ? NaN : Number(raw);
  const kind = o.type === 'int' ? 'an integer' : 'a number';
  if (!Number.isFinite(v) || (o.type === 'int' && !Number.isSafeInteger(v))) throw new UsageError(`${where} must be ${kind}, got '${raw}'`);
  const lo = o.min !== undefined && (o.above ? v <= o.min : v < o.min);
  const hi = o.max !== undefined && v > o.max;
  if (lo || hi) {
    const range = o.max === undefined ? `${o.above ? '>' : '≥'} ${o.min}` : `in ${o.above ? '(' : '['}${o.min}, ${o.max}]`;
    throw new UsageError(`${where} must be ${kind} ${range}, got '${raw}'`);
  }
  return v;
}

/** Parses argv (after the command name) against the command's table. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const options = [...spec.options, HELP];
  const byName = new Map(options.map((o) => [o.name, o]));
  const opts: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (onlyPositionals || !a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    if (a === '-h') {
      opts.help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`wasm-rnn ${spec.name}: unknown option '${a}' (see 'wasm-rnn ${spec.name} --help')`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = byName.get(name);
    if (!o) throw new UsageError(`wasm-rnn ${spec.name}: unknown option '--${name}' (see 'wasm-rnn ${spec.name} --help')`);
    if (o.type === 'flag') {
      if (eq >= 0) throw new UsageError(`wasm-rnn ${spec.name}: --${name} takes no value`);
      opts[name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // A negative number is a value; another option is not.
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`wasm-rnn ${spec.name}: --${name} needs a value${o.metavar ? ` (${o.metavar})` : ''}`);
      }
      raw = next;
      i++;
    }
    opts[name] = checkValue(spec.name, o, raw);
  }
  const help = opts.help === true;
  if (!help) {
    const required = spec.positionals.filter((p) => !p.optional).length;
    if (positionals.length < required) {
      throw new UsageError(`wasm-rnn ${spec.name}: missing <${spec.positionals[positionals.length].name}> (see 'wasm-rnn ${spec.name} --help')`);
    }
    if (positionals.length > spec.positionals.length) {
      throw new UsageError(`wasm-rnn ${spec.name}: unexpected argument '${positionals[spec.positionals.length]}' (see 'wasm-rnn ${spec.name} --help')`);
    }
  }
  for (const o of spec.options) if (opts[o.name] === undefined && o.default !== undefined) opts[o.name] = o.default;
  return { opts, positionals, help };
}

/** The command's --help text. */
export function helpText(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  const lines = [`usage: wasm-rnn ${spec.name}${pos ? ` ${pos}` : ''} [options]`, '', spec.summary, ''];
  const rows: Array<[string, string]> = spec.positionals.map((p) => [`  ${p.optional ? `[${p.name}]` : `<${p.name}>`}`, p.help]);
  for (const o of [...spec.options, HELP]) {
    const value = o.type === 'flag' ? '' : ` ${o.metavar ?? (o.choices ? o.choices.join('|') : o.type === 'string' ? 'TEXT' : o.type === 'number' ? 'X' : 'N')}`;
    const dflt = o.default !== undefined && o.type !== 'flag' ? ` (default ${o.default === '' ? "''" : o.default})` : '';
    rows.push([`  --${o.name}${value}`, `${o.help}${dflt}`]);
  }
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  for (const [l, r] of rows) lines.push(l.length + 2 > w ? `${l}\n${' '.repeat(w)}${r}` : `${l.padEnd(w)}${r}`);
  if (spec.notes) lines.push('', ...spec.notes);
  return lines.join('\n');
}

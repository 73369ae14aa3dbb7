/**
 * Calendar features of timestamps — the covariates a forecaster of daily or hourly data wants:
 * day of week, day of year, month, … as one-hot columns, sin/cos pairs on the unit circle (so
 * Sunday sits next to Monday and 31 December next to 1 January) or plain indices.
 *
 * All fields are read in UTC. A Date or a number (ms since the epoch) is an instant, read in UTC;
 * an ISO string with an offset ('…Z', '…+02:00') is converted to UTC; an ISO string without one
 * ('2024-03-01', '2024-03-01T10:00') is taken as written — its wall-clock fields are the features —
 * unlike `new Date(string)`, which reads date-times without an offset in the machine's time zone.
 * Values follow pandas: dayOfWeek 0 = Monday … 6 = Sunday, dayOfYear 1…366, dayOfMonth 1…31,
 * month 1…12, hour 0…23, minute 0…59.
 */
import { Tensor } from '../tensor.js';
import { checkSize, fmt, quotedList, readOptions, typeName } from './checks.js';

export type CalendarFeature = 'minute' | 'hour' | 'dayOfWeek' | 'dayOfMonth' | 'dayOfYear' | 'month';
export type CalendarEncoding = 'onehot' | 'sincos' | 'index';
export type DateLike = Date | string | number;

export interface CalendarOptions {
  /** Default ['dayOfWeek', 'dayOfYear']. Columns come in this order. */
  features?: readonly CalendarFeature[];
  /** One encoding for all features, or one per feature. Default 'sincos'. */
  encoding?: CalendarEncoding | Partial<Record<CalendarFeature, CalendarEncoding>>;
}

/** A Tensor [N, columns] that names its columns. */
export type CalendarTable = Tensor & { columns: string[] };

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  dayOfWeek: number;
  dayOfYear: number;
}

interface Spec {
  /** The smallest value, and how many values one-hot encodes. */
  first: number;
  classes: number;
  value(d: Fields): number;
  /** Values in one turn of the circle (sin/cos). */
  period(d: Fields): number;
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysInMonth = (y: number, m: number): number => (m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

const SPECS: Record<CalendarFeature, Spec> = {
  minute: { first: 0, classes: 60, value: (d) => d.minute, period: () => 60 },
  hour: { first: 0, classes: 24, value: (d) => d.hour, period: () => 24 },
  dayOfWeek: { first: 0, classes: 7, value: (d) => d.dayOfWeek, period: () => 7 },
  dayOfMonth: { first: 1, classes: 31, value: (d) => d.day, period: (d) => daysInMonth(d.year, d.month) },
  dayOfYear: { first: 1, classes: 366, value: (d) => d.dayOfYear, period: (d) => (isLeap(d.year) ? 366 : 365) },
  month: { first: 1, classes: 12, value: (d) => d.month, period: () => 12 },
};
const FEATURES = Object.keys(SPECS) as CalendarFeature[];
const ENCODINGS: readonly CalendarEncoding[] = ['onehot', 'sincos', 'index'];

/** ms since the epoch of a UTC wall-clock time (Date.UTC maps years 0…99 to 1900…1999; this does not). */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

const ISO = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function parseIso(fn: string, where: string, s: string): number {
  const m = ISO.exec(s);
  const bad = (why: string): never => {
    throw new RangeError(`${fn}: ${where} must be an ISO 8601 date such as '2024-03-01' or '2024-03-01T10:00:00Z', got ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)}${why}`);
  };
  if (!m) return bad('');
  const [y, mo, d, h = 0, mi = 0, sec = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => (v === undefined ? undefined : Number(v))) as number[];
  if (mo < 1 || mo > 12) bad(` (month ${mo})`);
  if (d < 1 || d > daysInMonth(y, mo)) bad(` (day ${d} of a month of ${daysInMonth(y, mo)})`);
  if (h > 23 || mi > 59 || sec > 59) bad(' (time out of range)');
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let offset = 0;
  const z = m[8];
  if (z && z !== 'Z') {
    const oh = Number(z.slice(1, 3)), om = z.length > 3 ? Number(z.slice(-2)) : 0;
    if (oh > 23 || om > 59) bad(' (offset out of range)');
    offset = (z[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const t = utcMs(y, mo, d, h, mi, sec, ms) - offset * 60_000;
  if (!Number.isFinite(t)) bad(' (out of the range of a Date)');
  return t;
}

function fieldsOf(fn: string, where: string, v: unknown): Fields {
  let t: number;
  if (v instanceof Date) {
    t = v.getTime();
    if (Number.isNaN(t)) throw new RangeError(`${fn}: ${where} is an invalid Date`);
  } else if (typeof v === 'string') t = parseIso(fn, where, v);
  else if (typeof v === 'number') {
    if (!Number.isFinite(t = v) || Number.isNaN(new Date(v).getTime())) {
      throw new RangeError(`${fn}: ${where} must be a time in ms since the epoch within a Date's range, got ${v}`);
    }
  } else throw new TypeError(`${fn}: ${where} must be a Date, an ISO 8601 string or ms since the epoch, got ${fmt(v)}`);
  const d = new Date(t);
  const year = d.getUTCFullYear(), month = d.getUTCMonth() + 1, day = d.getUTCDate();
  return {
    year,
    month,
    day,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    dayOfWeek: (d.getUTCDay() + 6) % 7,
    dayOfYear: Math.round((utcMs(year, month, day, 0, 0, 0, 0) - utcMs(year, 1, 1, 0, 0, 0, 0)) / 86_400_000) + 1,
  };
}

/** Calendar features of each date: a Tensor [N, columns] with the column names in `columns`. */
export function calendarFeatures(dates: readonly DateLike[], options: CalendarOptions = {}): CalendarTable {
  const fn = 'calendarFeatures';
  if (!Array.isArray(dates)) throw new TypeError(`${fn}: dates must be an array of Dates, ISO strings or ms since the epoch, got ${typeName(dates)}`);
  readOptions(fn, options, ['features', 'encoding']);
  const features: readonly CalendarFeature[] = options.features ?? ['dayOfWeek', 'dayOfYear'];
  if (!Array.isArray(features as unknown) || features.length === 0) {
    throw new TypeError(`${fn}: features must be a non-empty array of ${quotedList(FEATURES)}, got ${Array.isArray(features) ? 'an empty array' : fmt(features)}`);
  }
  features.forEach((f: unknown, i) => {
    if (typeof f !== 'string' || !(FEATURES as string[]).includes(f)) throw new RangeError(`${fn}: features[${i}] must be ${quotedList(FEATURES)}, got ${fmt(f)}`);
    if (features.indexOf(f as CalendarFeature) !== i) throw new RangeError(`${fn}: features[${i}] repeats '${f}'`);
  });
  const enc = options.encoding ?? 'sincos';
  const encodingOf = (f: CalendarFeature): CalendarEncoding => {
    const e: unknown = typeof enc === 'object' && enc !== null ? (enc[f] ?? 'sincos') : enc;
    if (typeof e !== 'string' || !(ENCODINGS as string[]).includes(e)) {
      throw new RangeError(`${fn}: encoding${typeof enc === 'object' && enc !== null ? `.${f}` : ''} must be ${quotedList(ENCODINGS)}, got ${fmt(e)}`);
    }
    return e as CalendarEncoding;
  };
  if (typeof enc === 'object' && enc !== null) {
    for (const k of Object.keys(enc)) {
      if (!features.includes(k as CalendarFeature)) throw new RangeError(`${fn}: encoding.${k} names no feature of features (${quotedList(features)})`);
    }
  }
  const plan = features.map((f) => ({ f, spec: SPECS[f], enc: encodingOf(f) }));
  const columns: string[] = [];
  for (const { f, spec, enc: e } of plan) {
    if (e === 'index') columns.push(f);
    else if (e === 'sincos') columns.push(`${f}.sin`, `${f}.cos`);
    else for (let c = 0; c < spec.classes; c++) columns.push(`${f}=${spec.first + c}`);
  }
  const N = dates.length, C = columns.length;
  checkSize(fn, 'the table', N * C);
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    const d = fieldsOf(fn, `dates[${i}]`, dates[i]);
    let c = i * C;
    for (const { spec, enc: e } of plan) {
      const v = spec.value(d);
      if (e === 'index') out[c++] = v;
      else if (e === 'sincos') {
        const angle = (2 * Math.PI * (v - spec.first)) / spec.period(d);
        out[c++] = Math.sin(angle);
        out[c++] = Math.cos(angle);
      } else {
        out[c + v - spec.first] = 1;
        c += spec.classes;
      }
    }
  }
  return Object.assign(new Tensor(out, [N, C]), { columns });
}

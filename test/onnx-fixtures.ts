/** The committed ONNX fixtures (test/fixtures/generate_onnx.py) and how the tests compare against them. */
import { readFileSync } from 'node:fs';
import type { OnnxFeed } from '../src/onnx/index.js';
import { maxAbs } from './helpers.js';

export interface Arr {
  shape: number[];
  data: number[];
}

export interface OnnxCase {
  name: string;
  kind: 'node' | 'spec' | 'torch';
  model: string;
  opset: number;
  inputs: (Arr & { name: string; dtype: 'float32' | 'int32' | 'int64' })[];
  /** The float64 reference per output. */
  expected: Record<string, Arr>;
  /** A float32 implementation's max |error| against `expected`, per output. */
  float32MaxAbsErr: Record<string, number>;
  /** Node cases: the numbers ONNX's own test ships. */
  onnxExpected?: Record<string, Arr>;
}

export const onnxCases: readonly OnnxCase[] = (
  JSON.parse(readFileSync(new URL('./fixtures/onnx/cases.json', import.meta.url), 'utf8')) as { cases: OnnxCase[] }
).cases;

export function onnxCase(name: string): OnnxCase {
  const c = onnxCases.find((k) => k.name === name);
  if (!c) throw new Error(`no ONNX fixture case '${name}'`);
  return c;
}

export function modelBytes(c: OnnxCase): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/onnx/${c.model}`, import.meta.url)));
}

/** The case's inputs as run() feeds: float32 → Float32Array, int64 → BigInt64Array, int32 → Int32Array. */
export function feedsOf(c: OnnxCase): Record<string, OnnxFeed> {
  const feeds: Record<string, OnnxFeed> = {};
  for (const i of c.inputs) {
    const data = i.dtype === 'float32' ? new Float32Array(i.data)
      : i.dtype === 'int64' ? BigInt64Array.from(i.data, (v) => BigInt(v)) : Int32Array.from(i.data);
    feeds[i.name] = { data, shape: i.shape };
  }
  return feeds;
}

export const EPS32 = 2 ** -23;

/**
 * As in test/pytorch.test.ts: twice a float32 implementation's own error against the float64
 * reference, with a floor of 8 float32 ulps of the output's magnitude (cases where float32
 * happens to be almost exact).
 */
export function tolerance(c: OnnxCase, key: string): number {
  return Math.max(2 * c.float32MaxAbsErr[key], 8 * EPS32 * Math.max(1, maxAbs(c.expected[key].data)));
}

/** What an operator implementation sees: its node, the import-time context, and its kernel type. */
import { OnnxError } from './errors.js';
import type { Attributes, Labelled } from './proto.js';
import { isFloat, shapeStr, type DType, type Limits, type Value } from './value.js';

export interface NodeInfo extends Labelled {
  readonly opType: string;
  /** Input names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  /** Output names; '' marks an output nobody asked for. */
  readonly outputs: readonly string[];
  readonly attrs: Attributes;
}

export interface CompileContext {
  readonly limits: Limits;
  /** The value of an input known at import (initializer, Constant, or folded from those), if any. */
  constant(name: string): Value | undefined;
  /** Registers something to dispose with the model (our layers). */
  own(d: { dispose(): void }): void;
}

/** Computes a node's outputs from its inputs (undefined for omitted ones). Never mutates inputs. */
export type Kernel = (inputs: readonly (Value | undefined)[]) => (Value | undefined)[];

export interface OpDef {
  /** Attribute names the operator accepts. */
  readonly attrs: readonly string[];
  /** Minimum and maximum number of inputs (counting omitted optional ones). */
  readonly inputs: readonly [number, number];
  readonly outputs: readonly [number, number];
  /** Whether import may evaluate the node when all its inputs are known (default true). */
  readonly fold?: boolean;
  compile(node: NodeInfo, ctx: CompileContext): Kernel;
}

export function fail(node: Labelled, message: string): never {
  throw new OnnxError(`${node.label}: ${message}`, node.label);
}

/** Input i, which the operator requires. */
export function required(node: Labelled, inputs: readonly (Value | undefined)[], i: number, what: string): Value {
  const v = inputs[i];
  if (!v) fail(node, `input ${i} (${what}) is required`);
  return v;
}

export function expectFloat(node: Labelled, v: Value, what: string): void {
  if (!isFloat(v.dtype)) fail(node, `${what} must be float or double, got ${v.dtype}`);
}

export function expectType(node: Labelled, v: Value, types: readonly DType[], what: string): void {
  if (!types.includes(v.dtype)) fail(node, `${what} must be ${types.join(' or ')}, got ${v.dtype}`);
}

export const INT_TYPES: readonly DType[] = ['int32', 'int64'];

/** A 1-D (or scalar) int32/int64 input as numbers: shapes, axes, starts, ends. */
export function intList(node: Labelled, v: Value, what: string): number[] {
  expectType(node, v, INT_TYPES, what);
  if (v.shape.length > 1) fail(node, `${what} must be 1-D, got shape ${shapeStr(v.shape)}`);
  return Array.from(v.data);
}

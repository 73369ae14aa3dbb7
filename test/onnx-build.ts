/** Small ONNX models built in the tests (onnx-proto), for cases no fixture covers: errors, hostile files. */
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnx } from '../src/onnx/proto.js';

const AT = onnx.AttributeProto.AttributeType;
export const FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10;

export type Attr = number | string | number[] | string[] | { floats: number[] } | { float: number } | { tensor: OnnxTypes.ITensorProto };

export function attr(name: string, v: Attr): OnnxTypes.IAttributeProto {
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return { name, type: AT.STRINGS, strings: (v as string[]).map((x) => new TextEncoder().encode(x)) };
  }
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v as number[] };
  if ('floats' in v) return { name, type: AT.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  return { name, type: AT.TENSOR, t: v.tensor };
}

export function node(opType: string, input: string[], output: string[], attrs: Record<string, Attr> = {}, name = ''): OnnxTypes.INodeProto {
  return { opType, input, output, name, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) };
}

export function floats(name: string, dims: number[], data?: ArrayLike<number>): OnnxTypes.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const f = Float32Array.from(data ?? Array.from({ length: n }, (_, i) => Math.sin(i + 1) / 2));
  return { name, dataType: FLOAT, dims, rawData: new Uint8Array(f.buffer) };
}

export function int64s(name: string, values: number[], dims = [values.length]): OnnxTypes.ITensorProto {
  return { name, dataType: INT64, dims, rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer) };
}

export function io(name: string, elemType: number, dims: (number | string)[] | null): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } : {}),
      },
    },
  };
}

export interface GraphSpec {
  nodes: OnnxTypes.INodeProto[];
  inputs?: OnnxTypes.IValueInfoProto[];
  outputs: OnnxTypes.IValueInfoProto[];
  initializers?: OnnxTypes.ITensorProto[];
  opset?: number;
  irVersion?: number;
}

export function model(g: GraphSpec): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: g.irVersion ?? 8,
    opsetImport: [{ domain: '', version: g.opset ?? 17 }],
    graph: { name: 'g', node: g.nodes, input: g.inputs ?? [], output: g.outputs, initializer: g.initializers ?? [] },
  }).finish();
}

/** One LSTM node with initializer weights: X [T, B, I] → Y, Y_h, Y_c. */
export function lstmModel(opts: { I?: number; H?: number; attrs?: Record<string, Attr>; extraInputs?: string[] } = {}): Uint8Array {
  const I = opts.I ?? 3, H = opts.H ?? 4;
  return model({
    nodes: [node('LSTM', ['X', 'W', 'R', 'B', ...(opts.extraInputs ?? [])], ['Y', 'Y_h', 'Y_c'], { hidden_size: H, ...opts.attrs }, 'lstm0')],
    inputs: [io('X', FLOAT, ['T', 'B', I])],
    outputs: [io('Y', FLOAT, null), io('Y_h', FLOAT, null), io('Y_c', FLOAT, null)],
    initializers: [floats('W', [1, 4 * H, I]), floats('R', [1, 4 * H, H]), floats('B', [1, 8 * H])],
  });
}

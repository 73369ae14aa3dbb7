/**
 * The standard ONNX operators that torch.onnx.export (opset 14–18) emits around a recurrent
 * layer, in plain TypeScript over our values. MatMul and Gemm against a constant float32 weight
 * run on our Linear layer (Wasm GEMM), built once at import.
 */
import { Linear, Tensor } from '../index.js';
import {
  INT_TYPES,
  expectFloat,
  expectType,
  fail,
  intList,
  required,
  type CompileContext,
  type NodeInfo,
  type OpDef,
} from './kernel.js';
import { tensorFromProto } from './proto.js';
import {
  broadcastIndex,
  broadcastShapes,
  castTo,
  checkSize,
  converter,
  dtypeOf,
  newData,
  normAxis,
  shapeStr,
  sizeOf,
  strides,
  typeCodeName,
  type DType,
  type Data,
  type Limits,
  type Value,
} from './value.js';

const NUMERIC: readonly DType[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'int64'];

/** For output index i of a broadcast, the index into a source: same, scalar, trailing, or a map. */
function sourceIndex(src: readonly number[], out: readonly number[]): (i: number) => number {
  const n = sizeOf(src);
  if (n === 1) return () => 0;
  if (src.length === out.length && src.every((d, i) => d === out[i])) return (i) => i;
  // src is (after leading 1s) the trailing dimensions of out: the index repeats every n.
  let k = 0;
  while (k < src.length && src[k] === 1) k++;
  const tail = src.slice(k);
  if (tail.every((d, i) => d === out[out.length - tail.length + i])) return (i) => i % n;
  const map = broadcastIndex(src, out) as Int32Array;
  return (i) => map[i];
}

function binary(f: (a: number, b: number) => number, name: string): OpDef {
  return {
    attrs: [],
    inputs: [2, 2],
    outputs: [1, 1],
    compile: (node, ctx) => (ins) => {
      const a = required(node, ins, 0, 'A'), b = required(node, ins, 1, 'B');
      if (a.dtype !== b.dtype) fail(node, `${name} needs inputs of one type, got ${a.dtype} and ${b.dtype}`);
      expectType(node, a, NUMERIC, 'the inputs');
      const shape = broadcastShapes(a.shape, b.shape);
      if (!shape) fail(node, `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
      const n = checkSize(shape, ctx.limits, node.label);
      const out = newData(a.dtype, n);
      const ia = sourceIndex(a.shape, shape), ib = sourceIndex(b.shape, shape);
      const ad = a.data, bd = b.data;
      const fix = converter(a.dtype);
      if (fix) {
        for (let i = 0; i < n; i++) out[i] = fix(intOp(node, f, ad[ia(i)], bd[ib(i)]));
      } else {
        for (let i = 0; i < n; i++) out[i] = f(ad[ia(i)], bd[ib(i)]);
      }
      return [{ dtype: a.dtype, shape, data: out }];
    },
  };
}

function intOp(node: NodeInfo, f: (a: number, b: number) => number, a: number, b: number): number {
  const v = f(a, b);
  if (!Number.isFinite(v)) fail(node, `integer ${node.opType} of ${a} and ${b} has no integer result`);
  return Math.trunc(v);
}

function unary(f: (x: number) => number, types: readonly DType[]): OpDef {
  return {
    attrs: [],
    inputs: [1, 1],
    outputs: [1, 1],
    compile: (node) => (ins) => {
      const x = required(node, ins, 0, 'X');
      expectType(node, x, types, 'X');
      const out = newData(x.dtype, x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
      return [{ dtype: x.dtype, shape: x.shape, data: out }];
    },
  };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false;
  return true;
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose2(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Our Linear layer holding y = x·W (+ b) for a constant float32 W [K, N] (transposed: [N, K] given). */
function linearFor(ctx: CompileContext, weightNK: Float32Array, K: number, N: number, bias: ArrayLike<number> | null): Linear {
  const lin = new Linear(K, N, { bias: bias !== null });
  const dict: Record<string, Tensor> = { weight: new Tensor(weightNK, [N, K]) };
  if (bias) dict.bias = new Tensor(Float32Array.from(bias), [N]);
  lin.loadStateDict(dict);
  ctx.own(lin);
  return lin;
}

function runLinear(lin: Linear, a: Value): Value {
  const y = lin.forward(new Tensor(a.data as Float32Array, a.shape));
  return { dtype: 'float32', shape: y.shape, data: y.data };
}

/** numpy matmul: batched, broadcast, 1-D operands promoted and their dimension removed again. */
function matmul(node: NodeInfo, limits: Limits, a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) fail(node, `MatMul needs inputs of one type, got ${a.dtype} and ${b.dtype}`);
  expectType(node, a, NUMERIC, 'the inputs');
  const ra = a.shape.length, rb = b.shape.length;
  if (ra === 0 || rb === 0) fail(node, 'MatMul inputs must have rank ≥ 1');
  const as = ra === 1 ? [1, a.shape[0]] : a.shape, bs = rb === 1 ? [b.shape[0], 1] : b.shape;
  const M = as[as.length - 2], K = as[as.length - 1], K2 = bs[bs.length - 2], N = bs[bs.length - 1];
  if (K !== K2) fail(node, `MatMul shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not match (${K} ≠ ${K2})`);
  const batchA = as.slice(0, -2), batchB = bs.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  if (!batch) fail(node, `MatMul batch dimensions of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
  const shape = [...batch, ...(ra === 1 ? [] : [M]), ...(rb === 1 ? [] : [N])];
  checkSize(shape, limits, node.label);
  const nb = sizeOf(batch);
  const mapA = broadcastIndex(batchA, batch), mapB = broadcastIndex(batchB, batch);
  const out = newData(a.dtype, nb * M * N);
  const acc = new Float64Array(N);
  const ad = a.data, bd = b.data, fix = converter(a.dtype);
  for (let p = 0; p < nb; p++) {
    const ao = (mapA ? mapA[p] : p) * M * K, bo = (mapB ? mapB[p] : p) * K * N, oo = p * M * N;
    for (let m = 0; m < M; m++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const av = ad[ao + m * K + k], row = bo + k * N;
        for (let j = 0; j < N; j++) acc[j] += av * bd[row + j];
      }
      for (let j = 0; j < N; j++) out[oo + m * N + j] = fix ? fix(acc[j]) : acc[j];
    }
  }
  return { dtype: a.dtype, shape, data: out };
}

const MatMul: OpDef = {
  attrs: [],
  inputs: [2, 2],
  outputs: [1, 1],
  compile(node, ctx) {
    const w = ctx.constant(node.inputs[1]);
    let lin: Linear | null = null, K = 0;
    if (w && w.dtype === 'float32' && w.shape.length === 2 && w.shape[0] > 0 && w.shape[1] > 0 && allFinite(w.data)) {
      K = w.shape[0];
      lin = linearFor(ctx, transpose2(w.data, K, w.shape[1]), K, w.shape[1], null);
    }
    return (ins) => {
      const a = required(node, ins, 0, 'A'), b = required(node, ins, 1, 'B');
      if (lin && a.dtype === 'float32' && a.shape.length >= 1 && a.shape[a.shape.length - 1] === K && allFinite(a.data)) {
        checkSize([...a.shape.slice(0, -1), lin.outFeatures], ctx.limits, node.label);
        return [runLinear(lin, a)];
      }
      return [matmul(node, ctx.limits, a, b)];
    };
  },
};

const Gemm: OpDef = {
  attrs: ['alpha', 'beta', 'transA', 'transB'],
  inputs: [2, 3],
  outputs: [1, 1],
  compile(node, ctx) {
    const alpha = node.attrs.float('alpha') ?? 1, beta = node.attrs.float('beta') ?? 1;
    const transA = node.attrs.int('transA', 0), transB = node.attrs.int('transB', 0);
    const w = ctx.constant(node.inputs[1]);
    const c = node.inputs[2] ? ctx.constant(node.inputs[2]) : undefined;
    let lin: Linear | null = null;
    if (transA === 0 && alpha === 1 && (beta === 1 || !node.inputs[2]) && w && w.dtype === 'float32' && w.shape.length === 2 && allFinite(w.data)) {
      const [K, N] = transB ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
      const biasOk = !node.inputs[2] || (c && c.dtype === 'float32' && allFinite(c.data) &&
        ((c.shape.length === 1 && c.shape[0] === N) || (c.shape.length === 2 && c.shape[0] === 1 && c.shape[1] === N)));
      if (K > 0 && N > 0 && biasOk) {
        const wNK = transB ? Float32Array.from(w.data) : transpose2(w.data, K, N);
        lin = linearFor(ctx, wNK, K, N, c ? c.data : null);
      }
    }
    return (ins) => {
      const a = required(node, ins, 0, 'A'), b = required(node, ins, 1, 'B'), cv = ins[2];
      if (lin && a.dtype === 'float32' && a.shape.length === 2 && a.shape[1] === lin.inFeatures && allFinite(a.data)) {
        return [runLinear(lin, a)];
      }
      return [gemm(node, ctx.limits, a, b, cv, alpha, beta, transA !== 0, transB !== 0)];
    };
  },
};

function gemm(node: NodeInfo, limits: Limits, a: Value, b: Value, c: Value | undefined, alpha: number, beta: number, tA: boolean, tB: boolean): Value {
  if (a.dtype !== b.dtype || (c && c.dtype !== a.dtype)) fail(node, 'Gemm needs inputs of one type');
  expectType(node, a, NUMERIC, 'A');
  if (a.shape.length !== 2 || b.shape.length !== 2) fail(node, `Gemm needs 2-D A and B, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const [M, K] = tA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = tB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) fail(node, `Gemm shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not match`);
  const shape = [M, N];
  checkSize(shape, limits, node.label);
  let ci: ((i: number) => number) | null = null;
  if (c) {
    const bs = broadcastShapes(c.shape, shape);
    if (!bs || bs.length !== 2 || bs[0] !== M || bs[1] !== N) fail(node, `Gemm C ${shapeStr(c.shape)} does not broadcast to ${shapeStr(shape)}`);
    ci = sourceIndex(c.shape, shape);
  }
  const out = newData(a.dtype, M * N), fix = converter(a.dtype);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        s += a.data[tA ? k * M + m : m * K + k] * b.data[tB ? n * K + k : k * N + n];
      }
      let v = alpha * s;
      if (c && ci) v += beta * c.data[ci(m * N + n)];
      out[m * N + n] = fix ? fix(v) : v;
    }
  }
  return { dtype: a.dtype, shape, data: out };
}

const Transpose: OpDef = {
  attrs: ['perm'],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node, ctx) {
    const perm = node.attrs.ints('perm');
    return (ins) => {
      const x = required(node, ins, 0, 'data');
      const r = x.shape.length;
      const p = perm ?? [...Array(r).keys()].reverse();
      if (p.length !== r || [...p].sort((u, v) => u - v).some((v, i) => v !== i)) {
        fail(node, `perm [${p.join(', ')}] is not a permutation of the ${r} axes of ${shapeStr(x.shape)}`);
      }
      const shape = p.map((a) => x.shape[a]);
      if (p.every((v, i) => v === i)) return [{ ...x, shape }];
      checkSize(shape, ctx.limits, node.label);
      const n = x.data.length, out = newData(x.dtype, n);
      const st = strides(x.shape), ps = p.map((a) => st[a]);
      const idx = new Array<number>(r).fill(0);
      let src = 0;
      for (let i = 0; i < n; i++) {
        out[i] = x.data[src];
        for (let d = r - 1; d >= 0; d--) {
          idx[d]++;
          src += ps[d];
          if (idx[d] < shape[d]) break;
          src -= ps[d] * shape[d];
          idx[d] = 0;
        }
      }
      return [{ dtype: x.dtype, shape, data: out }];
    };
  },
};

const Reshape: OpDef = {
  attrs: ['allowzero'],
  inputs: [2, 2],
  outputs: [1, 1],
  compile(node) {
    const allowzero = node.attrs.int('allowzero', 0) !== 0;
    return (ins) => {
      const x = required(node, ins, 0, 'data');
      const want = intList(node, required(node, ins, 1, 'shape'), 'shape');
      const shape = want.map((v, i) => {
        if (v === 0 && !allowzero) {
          if (i >= x.shape.length) fail(node, `shape [${want.join(', ')}] copies dimension ${i}, which ${shapeStr(x.shape)} lacks`);
          return x.shape[i];
        }
        return v;
      });
      const free = shape.filter((v) => v === -1).length;
      if (free > 1 || shape.some((v) => v < -1 || !Number.isSafeInteger(v))) fail(node, `invalid shape [${want.join(', ')}]`);
      if (free === 1) {
        const known = shape.reduce((acc, v) => (v === -1 ? acc : acc * v), 1);
        if (known === 0 || x.data.length % known !== 0) fail(node, `cannot reshape ${shapeStr(x.shape)} to [${want.join(', ')}]`);
        shape[shape.indexOf(-1)] = x.data.length / known;
      }
      if (sizeOf(shape) !== x.data.length) fail(node, `cannot reshape ${shapeStr(x.shape)} (${x.data.length} values) to [${want.join(', ')}]`);
      return [{ dtype: x.dtype, shape, data: x.data }];
    };
  },
};

const Squeeze: OpDef = {
  attrs: [],
  inputs: [1, 2],
  outputs: [1, 1],
  compile: (node) => (ins) => {
    const x = required(node, ins, 0, 'data');
    const r = x.shape.length;
    let drop: Set<number>;
    if (ins[1]) {
      drop = new Set(intList(node, ins[1], 'axes').map((a) => normAxis(a, r, node.label)));
      for (const a of drop) if (x.shape[a] !== 1) fail(node, `cannot squeeze axis ${a} of ${shapeStr(x.shape)}: its size is not 1`);
    } else {
      drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
    }
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.has(i)), data: x.data }];
  },
};

const Unsqueeze: OpDef = {
  attrs: [],
  inputs: [2, 2],
  outputs: [1, 1],
  compile: (node) => (ins) => {
    const x = required(node, ins, 0, 'data');
    const axes = intList(node, required(node, ins, 1, 'axes'), 'axes');
    const r = x.shape.length + axes.length;
    const at = new Set(axes.map((a) => normAxis(a, r, node.label)));
    if (at.size !== axes.length) fail(node, `axes [${axes.join(', ')}] repeat an axis`);
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(at.has(i) ? 1 : x.shape[k++]);
    return [{ dtype: x.dtype, shape, data: x.data }];
  },
};

const Concat: OpDef = {
  attrs: ['axis'],
  inputs: [1, Infinity],
  outputs: [1, 1],
  compile(node, ctx) {
    const axisAttr = node.attrs.int('axis');
    if (axisAttr === undefined) fail(node, "attribute 'axis' is required");
    return (ins) => {
      const xs = ins.map((v, i) => required(node, ins, i, `inputs[${i}]`));
      const first = xs[0], r = first.shape.length;
      const axis = normAxis(axisAttr, r, node.label);
      for (const x of xs) {
        if (x.dtype !== first.dtype) fail(node, `inputs have types ${first.dtype} and ${x.dtype}`);
        if (x.shape.length !== r || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
          fail(node, `cannot concatenate ${shapeStr(first.shape)} and ${shapeStr(x.shape)} on axis ${axis}`);
        }
      }
      const shape = [...first.shape];
      shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
      const n = checkSize(shape, ctx.limits, node.label);
      const out = newData(first.dtype, n);
      const outer = sizeOf(first.shape.slice(0, axis));
      let at = 0;
      for (let o = 0; o < outer; o++) {
        for (const x of xs) {
          const chunk = x.data.length / outer;
          if (chunk > 0) out.set(x.data.subarray(o * chunk, (o + 1) * chunk), at);
          at += chunk;
        }
      }
      return [{ dtype: first.dtype, shape, data: out }];
    };
  },
};

const Shape: OpDef = {
  attrs: ['start', 'end'],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node) {
    const start = node.attrs.int('start', 0), end = node.attrs.int('end');
    return (ins) => {
      const x = required(node, ins, 0, 'data');
      const r = x.shape.length;
      const clamp = (v: number): number => Math.min(r, Math.max(0, v < 0 ? v + r : v));
      const dims = x.shape.slice(clamp(start), end === undefined ? r : clamp(end));
      return [{ dtype: 'int64', shape: [dims.length], data: Float64Array.from(dims) }];
    };
  },
};

const Slice: OpDef = {
  attrs: [],
  inputs: [3, 5],
  outputs: [1, 1],
  compile: (node, ctx) => (ins) => {
    const x = required(node, ins, 0, 'data');
    const starts = intList(node, required(node, ins, 1, 'starts'), 'starts');
    const ends = intList(node, required(node, ins, 2, 'ends'), 'ends');
    const r = x.shape.length;
    const axes = ins[3] ? intList(node, ins[3], 'axes') : starts.map((_, i) => i);
    const steps = ins[4] ? intList(node, ins[4], 'steps') : starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
      fail(node, 'starts, ends, axes and steps must have the same length');
    }
    const begin = new Array<number>(r).fill(0), step = new Array<number>(r).fill(1), shape = [...x.shape];
    const seen = new Set<number>();
    axes.forEach((a0, i) => {
      const a = normAxis(a0, r, node.label);
      if (seen.has(a)) fail(node, `axes repeat axis ${a}`);
      seen.add(a);
      const dim = x.shape[a], s = steps[i];
      if (s === 0 || !Number.isFinite(s)) fail(node, 'steps must not be 0');
      let st = starts[i] < 0 ? starts[i] + dim : starts[i];
      let en = ends[i] < 0 ? ends[i] + dim : ends[i];
      if (s > 0) {
        st = Math.min(Math.max(st, 0), dim);
        en = Math.min(Math.max(en, 0), dim);
      } else {
        st = Math.min(Math.max(st, 0), dim - 1);
        en = Math.min(Math.max(en, -1), dim - 1);
      }
      begin[a] = st;
      step[a] = s;
      shape[a] = s > 0 ? Math.max(0, Math.ceil((en - st) / s)) : Math.max(0, Math.ceil((st - en) / -s));
    });
    const n = checkSize(shape, ctx.limits, node.label);
    const out = newData(x.dtype, n);
    if (n > 0) {
      const st = strides(x.shape);
      const idx = new Array<number>(r).fill(0);
      let src = begin.reduce((acc, b, d) => acc + b * st[d], 0);
      for (let i = 0; i < n; i++) {
        out[i] = x.data[src];
        for (let d = r - 1; d >= 0; d--) {
          idx[d]++;
          src += step[d] * st[d];
          if (idx[d] < shape[d]) break;
          src -= step[d] * st[d] * shape[d];
          idx[d] = 0;
        }
      }
    }
    return [{ dtype: x.dtype, shape, data: out }];
  },
};

const Expand: OpDef = {
  attrs: [],
  inputs: [2, 2],
  outputs: [1, 1],
  compile: (node, ctx) => (ins) => {
    const x = required(node, ins, 0, 'input');
    const want = intList(node, required(node, ins, 1, 'shape'), 'shape');
    if (want.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(node, `invalid shape [${want.join(', ')}]`);
    const shape = broadcastShapes(x.shape, want);
    if (!shape) fail(node, `cannot expand ${shapeStr(x.shape)} to [${want.join(', ')}]`);
    const n = checkSize(shape, ctx.limits, node.label);
    const out = newData(x.dtype, n);
    const src = sourceIndex(x.shape, shape);
    for (let i = 0; i < n; i++) out[i] = x.data[src(i)];
    return [{ dtype: x.dtype, shape, data: out }];
  },
};

const ConstantOfShape: OpDef = {
  attrs: ['value'],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node, ctx) {
    const t = node.attrs.tensor('value');
    let fill: Value = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    if (t) {
      fill = tensorFromProto(t, ctx.limits, `${node.label}: attribute 'value'`);
      if (fill.data.length !== 1) fail(node, `attribute 'value' must hold one element, got ${fill.data.length}`);
    }
    return (ins) => {
      const shape = intList(node, required(node, ins, 0, 'input'), 'input');
      if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(node, `invalid shape [${shape.join(', ')}]`);
      const out = newData(fill.dtype, checkSize(shape, ctx.limits, node.label));
      out.fill(fill.data[0]);
      return [{ dtype: fill.dtype, shape, data: out }];
    };
  },
};

const Constant: OpDef = {
  attrs: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value'],
  inputs: [0, 0],
  outputs: [1, 1],
  compile(node, ctx) {
    const a = node.attrs;
    const given = Constant.attrs.filter((n) => a.has(n));
    if (given.length !== 1) fail(node, `needs exactly one value attribute, got ${given.length ? given.join(', ') : 'none'}`);
    let v: Value;
    switch (given[0]) {
      case 'value':
        v = tensorFromProto(a.tensor('value') ?? {}, ctx.limits, `${node.label}: attribute 'value'`);
        break;
      case 'value_float':
        v = { dtype: 'float32', shape: [], data: Float32Array.of(a.float('value_float') ?? 0) };
        break;
      case 'value_floats': {
        const fs = a.floats('value_floats') ?? [];
        v = { dtype: 'float32', shape: [fs.length], data: Float32Array.from(fs) };
        break;
      }
      case 'value_int':
        v = { dtype: 'int64', shape: [], data: Float64Array.of(a.int('value_int') ?? 0) };
        break;
      case 'value_ints': {
        const is = a.ints('value_ints') ?? [];
        v = { dtype: 'int64', shape: [is.length], data: Float64Array.from(is) };
        break;
      }
      default:
        fail(node, `attribute '${given[0]}' (string or sparse constants) is not supported`);
    }
    return () => [v];
  },
};

const Identity: OpDef = {
  attrs: [],
  inputs: [1, 1],
  outputs: [1, 1],
  compile: (node) => (ins) => [required(node, ins, 0, 'input')],
};

const Cast: OpDef = {
  attrs: ['to'],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node) {
    const code = node.attrs.int('to');
    if (code === undefined) fail(node, "attribute 'to' is required");
    const to = dtypeOf(code);
    if (!to) fail(node, `casting to ${typeCodeName(code)} is not supported`);
    return (ins) => [castTo(required(node, ins, 0, 'input'), to)];
  },
};

const Softmax: OpDef = {
  attrs: ['axis'],
  inputs: [1, 1],
  outputs: [1, 1],
  compile(node) {
    const axisAttr = node.attrs.int('axis', -1);
    return (ins) => {
      const x = required(node, ins, 0, 'input');
      expectFloat(node, x, 'input');
      const r = x.shape.length;
      if (r === 0) return [{ ...x, data: x.data.map(() => 1) as Data }];
      const axis = normAxis(axisAttr, r, node.label);
      const dim = x.shape[axis], inner = sizeOf(x.shape.slice(axis + 1)), outer = sizeOf(x.shape.slice(0, axis));
      const out = newData(x.dtype, x.data.length), d = x.data;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * dim * inner + j;
          let max = -Infinity;
          for (let k = 0; k < dim; k++) max = Math.max(max, d[base + k * inner]);
          let sum = 0;
          for (let k = 0; k < dim; k++) sum += Math.exp(d[base + k * inner] - max);
          for (let k = 0; k < dim; k++) out[base + k * inner] = Math.exp(d[base + k * inner] - max) / sum;
        }
      }
      return [{ dtype: x.dtype, shape: x.shape, data: out }];
    };
  },
};

const Gather: OpDef = {
  attrs: ['axis'],
  inputs: [2, 2],
  outputs: [1, 1],
  compile(node, ctx) {
    const axisAttr = node.attrs.int('axis', 0);
    return (ins) => {
      const x = required(node, ins, 0, 'data'), ind = required(node, ins, 1, 'indices');
      expectType(node, ind, INT_TYPES, 'indices');
      const r = x.shape.length;
      if (r === 0) fail(node, 'data must have rank ≥ 1');
      const axis = normAxis(axisAttr, r, node.label);
      const dim = x.shape[axis];
      const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
      const n = checkSize(shape, ctx.limits, node.label);
      const out = newData(x.dtype, n);
      const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1)), ni = ind.data.length;
      for (let j = 0; j < ni; j++) {
        let k = ind.data[j];
        if (k < 0) k += dim;
        if (!(k >= 0 && k < dim)) fail(node, `index ${ind.data[j]} at position ${j} is out of range for axis ${axis} of size ${dim}`);
      }
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < ni; j++) {
          let k = ind.data[j];
          if (k < 0) k += dim;
          const src = (o * dim + k) * inner, dst = (o * ni + j) * inner;
          if (inner === 1) out[dst] = x.data[src];
          else out.set(x.data.subarray(src, src + inner), dst);
        }
      }
      return [{ dtype: x.dtype, shape, data: out }];
    };
  },
};

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The standard operators by op_type (default domain). LSTM, GRU and RNN are in recurrent.ts. */
export const STANDARD_OPS: Readonly<Record<string, OpDef>> = {
  Add: binary((a, b) => a + b, 'Add'),
  Sub: binary((a, b) => a - b, 'Sub'),
  Mul: binary((a, b) => a * b, 'Mul'),
  Div: binary((a, b) => a / b, 'Div'),
  MatMul,
  Gemm,
  Gather,
  Transpose,
  Reshape,
  Squeeze,
  Unsqueeze,
  Concat,
  Shape,
  Slice,
  Expand,
  ConstantOfShape,
  Constant,
  Identity,
  Cast,
  Softmax,
  Tanh: unary(Math.tanh, ['float32', 'float64']),
  Sigmoid: unary(sigmoid, ['float32', 'float64']),
  Relu: unary((x) => (x > 0 ? x : x === x ? 0 : x), NUMERIC),
};


/**
 * Helpers for the wasm-rnn/tfjs tests: models built and saved with @tensorflow/tfjs itself (in
 * memory, through a save handler), deterministic weights, weight quantization as the Python
 * converter does it, and a float64 reference of Keras's layer semantics written in Keras's own
 * layout (kernel [in, G·H], gate blocks i,f,c,o and z,r,h) — independent of the importer's
 * conversion, checked against tfjs wherever tfjs can build the model, and the only reference
 * for what tfjs cannot build (GRU reset_after=true, whose Keras formula is PyTorch's GRU).
 */
import * as tf from '@tensorflow/tfjs';
import type { TfjsArtifacts } from '../src/tfjs/index.js';
import { uniform } from './fixtures/deterministic.mjs';

export { uniform };

export { tf };

/** Artifacts as the tests hold them: one weight buffer, mutable JSON. */
export interface Artifacts extends TfjsArtifacts {
  weightSpecs: Spec[];
  weightData: ArrayBuffer;
}
export interface Spec {
  name: string;
  shape: number[];
  dtype: string;
  group?: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

/** model.save through a save handler: the artifacts model.json + weights would hold. */
export async function saveArtifacts(model: tf.LayersModel): Promise<Artifacts> {
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    out = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = out as tf.io.ModelArtifacts;
  const data = Array.isArray(a.weightData) ? tf.io.CompositeArrayBuffer.join(a.weightData) : (a.weightData as ArrayBuffer);
  // A deep copy: tests mutate the JSON.
  return { ...a, modelTopology: JSON.parse(JSON.stringify(a.modelTopology)), weightSpecs: JSON.parse(JSON.stringify(a.weightSpecs)), weightData: data } as Artifacts;
}

/** Replaces every weight with deterministic values (tfjs initializers are not seeded by default). */
export function setWeights(model: tf.LayersModel, seed: number, scale = 0.6): void {
  const ws = model.getWeights();
  // getWeights() returns the variables' own tensors: not ours to dispose.
  const fresh = ws.map((w, k) => tf.tensor(uniform(w.size, seed * 131 + k, scale), w.shape));
  model.setWeights(fresh);
  for (const w of fresh) w.dispose();
}

export function sequential(layers: tf.layers.Layer[], seed = 1, scale = 0.6): tf.Sequential {
  const m = tf.sequential({ layers });
  setWeights(m, seed, scale);
  return m;
}

/** tfjs's predict as a Float32Array with its shape. */
export function tfPredict(model: tf.LayersModel, x: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  const xt = tf.tensor(x, shape);
  const y = model.predict(xt) as tf.Tensor;
  const out = { data: y.dataSync() as Float32Array, shape: [...y.shape] };
  xt.dispose();
  y.dispose();
  return out;
}

/** Token ids in [0, n) as floats (what Keras feeds an Embedding). */
export function ids(count: number, n: number, seed: number): Float32Array {
  const u = uniform(count, seed, 1);
  return Float32Array.from(u, (v) => Math.min(n - 1, Math.floor(((v + 1) / 2) * n)));
}

// ------------------------------------------------------------------------------------------
// Quantization as tensorflowjs_converter does it (quantization.py): uint8/uint16 affine over
// [min, max] with the range nudged so that 0 is exactly representable when covered, values
// rounded half to even; float16 by a round-to-nearest-even cast.
// ------------------------------------------------------------------------------------------

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float32 → IEEE binary16 bits, round to nearest even (numpy's astype(float16)). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** The artifacts with every float32 weight quantized (optionally only those whose name passes `which`). */
export function quantize(a: Artifacts, dtype: 'uint8' | 'uint16' | 'float16', which: (name: string) => boolean = () => true): Artifacts {
  const specs: Spec[] = [];
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const s of a.weightSpecs) {
    const n = s.shape.reduce((x, y) => x * y, 1);
    const raw = new Float32Array(a.weightData.slice(off, off + n * 4));
    off += n * 4;
    if (!which(s.name)) {
      specs.push({ ...s });
      parts.push(new Uint8Array(raw.buffer));
      continue;
    }
    if (dtype === 'float16') {
      specs.push({ ...s, quantization: { dtype: 'float16', original_dtype: 'float32' } });
      parts.push(new Uint8Array(Uint16Array.from(raw, floatToHalf).buffer));
      continue;
    }
    const qmax = dtype === 'uint8' ? 255 : 65535;
    let lo = Infinity, hi = -Infinity;
    for (const v of raw) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    let scale = 1, min = lo, max = hi;
    const q = dtype === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    if (lo !== hi) {
      scale = (hi - lo) / qmax;
      if (lo <= 0 && 0 <= hi) {
        const zero = roundHalfEven((0 - lo) / scale);
        min = -zero * scale;
        max = qmax * scale + min;
      }
      for (let i = 0; i < n; i++) q[i] = roundHalfEven((Math.min(max, Math.max(min, raw[i])) - min) / scale);
    }
    specs.push({ ...s, quantization: { dtype, scale, min, original_dtype: 'float32' } });
    parts.push(new Uint8Array(q.buffer));
  }
  const total = parts.reduce((x, p) => x + p.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.byteLength;
  }
  return { ...a, weightSpecs: specs, weightData: data.buffer };
}

/** tfjs's own model from (possibly quantized) artifacts: tfjs dequantizes them itself. */
export async function tfLoad(a: Artifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[], weightData: a.weightData }));
}

// ------------------------------------------------------------------------------------------
// A float64 reference of Keras's semantics (Keras 2 / TF.js layer code, transcribed), on the
// Keras topology and tfjs's own decoding of the weights.
// ------------------------------------------------------------------------------------------

type Vec = number[];
type Seq = Vec[];
/** A batch: sequences [B][T][F] or vectors [B][F]. */
type Value = { seq: Seq[] } | { vec: Vec[] };

const ACT: Record<string, (v: number) => number> = {
  linear: (v) => v,
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  hard_sigmoid: (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5)),
  relu: (v) => Math.max(0, v),
};

function act(name: unknown): (v: number) => number {
  const n = String(name).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const f = ACT[n];
  if (!f) throw new Error(`reference: no activation ${String(name)}`);
  return f;
}

function softmaxVec(v: Vec): Vec {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function applyVec(name: unknown, v: Vec): Vec {
  return String(name) === 'softmax' ? softmaxVec(v) : v.map(act(name));
}

/** x [in] · W [in, out] (row-major) + b. */
function affine(x: Vec, W: Float32Array, out: number, b?: ArrayLike<number>, bAt = 0): Vec {
  const y = new Array<number>(out).fill(0);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    for (let j = 0; j < out; j++) y[j] += xi * W[i * out + j];
  }
  if (b) for (let j = 0; j < out; j++) y[j] += b[bAt + j];
  return y;
}

type Weights = Record<string, Float32Array>;

function weightOf(w: Weights, prefix: string, role: string, dir?: string): Float32Array | undefined {
  const k = Object.keys(w).find((n) => n.startsWith(`${prefix}/`) && n.split('/').pop() === role && (!dir || n.split('/').some((s) => s.startsWith(dir))));
  return k === undefined ? undefined : w[k];
}

/** One Keras recurrent layer over one sequence: outputs in processing order (Keras's rnn()). */
function runRecurrent(cls: string, cfg: Record<string, unknown>, w: Weights, prefix: string, dir: string | undefined, xs: Seq, goBackwards: boolean): Seq {
  const H = cfg.units as number;
  const K = weightOf(w, prefix, 'kernel', dir) as Float32Array;
  const U = weightOf(w, prefix, 'recurrent_kernel', dir) as Float32Array;
  const b = weightOf(w, prefix, 'bias', dir);
  const f = act(cfg.activation ?? 'tanh');
  const ra = act(cfg.recurrent_activation ?? 'hard_sigmoid');
  const steps = goBackwards ? [...xs].reverse() : xs;
  let h = new Array<number>(H).fill(0), c = new Array<number>(H).fill(0);
  const out: Seq = [];
  for (const x of steps) {
    if (cls === 'SimpleRNN') {
      const a = affine(x, K, H, b), r = affine(h, U, H);
      h = a.map((v, j) => f(v + r[j]));
    } else if (cls === 'LSTM') {
      const z = affine(x, K, 4 * H, b), r = affine(h, U, 4 * H);
      const zz = z.map((v, j) => v + r[j]);
      const i = zz.slice(0, H).map(ra), fg = zz.slice(H, 2 * H).map(ra), g = zz.slice(2 * H, 3 * H).map(f), o = zz.slice(3 * H).map(ra);
      c = c.map((cv, j) => fg[j] * cv + i[j] * g[j]);
      h = o.map((ov, j) => ov * f(c[j]));
    } else {
      const resetAfter = Boolean(cfg.reset_after);
      const mx = affine(x, K, 3 * H, b, 0);
      let hh: Vec, zg: Vec;
      if (resetAfter) {
        // Keras 2 GRUCell (reset_after=True): both biases, r applied to the recurrent product.
        const mi = affine(h, U, 3 * H, b, 3 * H);
        zg = mx.slice(0, H).map((v, j) => ra(v + mi[j]));
        const rg = mx.slice(H, 2 * H).map((v, j) => ra(v + mi[H + j]));
        hh = mx.slice(2 * H).map((v, j) => f(v + rg[j] * mi[2 * H + j]));
      } else {
        // TF.js / Keras reset_after=False: r applied to h before the product.
        const U2 = new Float32Array(H * 2 * H), Uh = new Float32Array(H * H);
        for (let i = 0; i < H; i++) for (let j = 0; j < 3 * H; j++) (j < 2 * H ? (U2[i * 2 * H + j] = U[i * 3 * H + j]) : (Uh[i * H + j - 2 * H] = U[i * 3 * H + j]));
        const inner = affine(h, U2, 2 * H);
        zg = mx.slice(0, H).map((v, j) => ra(v + inner[j]));
        const rg = mx.slice(H, 2 * H).map((v, j) => ra(v + inner[H + j]));
        const rh = affine(h.map((v, j) => rg[j] * v), Uh, H);
        hh = mx.slice(2 * H).map((v, j) => f(v + rh[j]));
      }
      h = h.map((hv, j) => zg[j] * hv + (1 - zg[j]) * hh[j]);
    }
    out.push(h);
  }
  return out;
}

function layerValue(cls: string, cfg: Record<string, unknown>, name: string, w: Weights, v: Value): Value {
  if (cls === 'InputLayer' || cls === 'Dropout') return v;
  if (cls === 'Activation') return 'seq' in v ? { seq: v.seq.map((s) => s.map((x) => applyVec(cfg.activation, x))) } : { vec: v.vec.map((x) => applyVec(cfg.activation, x)) };
  if (cls === 'Embedding') {
    const E = weightOf(w, name, 'embeddings') as Float32Array, dim = cfg.output_dim as number;
    return { seq: ('vec' in v ? v.vec : []).map((row) => row.map((id) => Array.from(E.subarray(id * dim, (id + 1) * dim)))) };
  }
  if (cls === 'Dense' || cls === 'TimeDistributed') {
    const c = cls === 'Dense' ? cfg : ((cfg.layer as { config: Record<string, unknown> }).config);
    const K = weightOf(w, name, 'kernel') as Float32Array, b = weightOf(w, name, 'bias'), units = c.units as number;
    const d = (x: Vec): Vec => applyVec(c.activation ?? 'linear', affine(x, K, units, b));
    return 'seq' in v ? { seq: v.seq.map((s) => s.map(d)) } : { vec: v.vec.map(d) };
  }
  if (cls === 'SimpleRNN' || cls === 'LSTM' || cls === 'GRU') {
    if (!('seq' in v)) throw new Error('reference: recurrent layer on vectors');
    const outs = v.seq.map((s) => runRecurrent(cls, cfg, w, name, undefined, s, Boolean(cfg.go_backwards)));
    return cfg.return_sequences ? { seq: outs } : { vec: outs.map((o) => o[o.length - 1]) };
  }
  if (cls === 'Bidirectional') {
    if (!('seq' in v)) throw new Error('reference: recurrent layer on vectors');
    const inner = cfg.layer as { class_name: string; config: Record<string, unknown> };
    const ic = inner.config, gb = Boolean(ic.go_backwards);
    const mode = cfg.merge_mode === undefined ? 'concat' : String(cfg.merge_mode);
    const merge = (a: Vec, b: Vec): Vec =>
      mode === 'concat' ? [...a, ...b] : mode === 'sum' ? a.map((x, j) => x + b[j]) : mode === 'mul' ? a.map((x, j) => x * b[j]) : a.map((x, j) => 0.5 * (x + b[j]));
    const ys = v.seq.map((s) => runRecurrent(inner.class_name, ic, w, name, 'forward', s, gb));
    const rs = v.seq.map((s) => runRecurrent(inner.class_name, ic, w, name, 'backward', s, !gb));
    if (ic.return_sequences) return { seq: ys.map((y, bi) => y.map((yt, t) => merge(yt, rs[bi][y.length - 1 - t]))) };
    return { vec: ys.map((y, bi) => merge(y[y.length - 1], rs[bi][rs[bi].length - 1])) };
  }
  throw new Error(`reference: no layer ${cls}`);
}

/** Keras's output for x (batch-first; token ids when the model starts with an Embedding), in float64. */
export function kerasReference(a: Artifacts, x: Float32Array, shape: number[]): { data: Float64Array; shape: number[] } {
  const named = tf.io.decodeWeights(a.weightData, a.weightSpecs as tf.io.WeightsManifestEntry[]);
  const w: Weights = {};
  for (const [k, t] of Object.entries(named)) {
    w[k] = Float32Array.from(t.dataSync() as Float32Array);
    t.dispose();
  }
  const B = shape[0];
  let v: Value;
  if (shape.length === 2) v = { vec: Array.from({ length: B }, (_, b) => Array.from(x.subarray(b * shape[1], (b + 1) * shape[1]))) };
  else {
    const [, T, F] = shape;
    v = { seq: Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from(x.subarray((b * T + t) * F, (b * T + t + 1) * F)))) };
  }
  for (const l of topologyLayers(a)) v = layerValue(l.class_name, l.config, l.config.name as string, w, v);
  const flat: number[] = [];
  let outShape: number[];
  if ('seq' in v) {
    for (const s of v.seq) for (const st of s) flat.push(...st);
    outShape = [v.seq.length, v.seq[0].length, v.seq[0][0].length];
  } else {
    for (const r of v.vec) flat.push(...r);
    outShape = [v.vec.length, v.vec[0].length];
  }
  return { data: Float64Array.from(flat), shape: outShape };
}

/**
 * Rewrites float32 artifacts weight by weight: `fn` gets each (spec, values) and returns the
 * replacements (none: drop it), in order; the data is re-encoded to match.
 */
export function mapWeights(a: Artifacts, fn: (spec: Spec, values: Float32Array) => { spec: Spec; values: Float32Array }[]): Artifacts {
  const specs: Spec[] = [];
  const parts: Float32Array[] = [];
  let off = 0;
  for (const s of a.weightSpecs) {
    const n = s.shape.reduce((x, y) => x * y, 1);
    const values = new Float32Array(a.weightData.slice(off, off + n * 4));
    off += n * 4;
    for (const r of fn({ ...s, shape: [...s.shape] }, values)) {
      specs.push(r.spec);
      parts.push(r.values);
    }
  }
  const data = new Float32Array(parts.reduce((x, p) => x + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { ...a, weightSpecs: specs, weightData: data.buffer };
}

/** The layers of a Sequential (or functional) topology, unwrapping the converter's model_config. */
export function topologyLayers(a: Artifacts): { class_name: string; config: Record<string, unknown>; [k: string]: unknown }[] {
  let t = a.modelTopology as Record<string, unknown>;
  if (t.model_config) t = t.model_config as Record<string, unknown>;
  return (t.config as { layers: { class_name: string; config: Record<string, unknown> }[] }).layers;
}

/** Linear: y = x·Wᵀ + b over the last dimension, PyTorch's names and initialisation. */
import type { Backend } from '../backend/index.js';
import { Random } from '../random.js';
import { gradEnabled, isRecorded, noteBackward } from '../autograd/graph.js';
import { Tensor, checkFinite, shapeStr, toTensor, type TensorLike } from '../tensor.js';
import { Module, type ParamSpec, type Saved } from './module.js';
import { bool, checkFits, checkOptions, fmt, positiveInt, seedOf } from './options.js';

/** A training forward's record: x [m, inFeatures] copied into its block. */
interface LinearSaved extends Saved {
  m: number;
  shape: number[];
}

export interface LinearOptions {
  bias?: boolean;
  seed?: number;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  private readonly weight: ParamSpec;
  private readonly biasSpec: ParamSpec | null;
  private packed = 0;
  private packedFresh = false;
  /** Wᵀ packed for dX = dY·W (backward only). */
  private packedT = 0;
  private packedTFresh = false;
  /** The last training forward's record (its input), consumed by backward(). */
  private saved: LinearSaved | null = null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions | boolean = {}) {
    super();
    const name = new.target.name;
    const opts = typeof options === 'boolean' ? { bias: options } : options;
    checkOptions(name, opts, ['bias', 'seed']);
    this.inFeatures = positiveInt(name, 'inFeatures', inFeatures);
    this.outFeatures = positiveInt(name, 'outFeatures', outFeatures);
    this.bias = bool(name, 'bias', opts.bias, true);
    // The weight and its packed copy (training adds Wᵀ packed for backward).
    checkFits(name, { inFeatures, outFeatures }, outFeatures * (inFeatures + 1), 2);
    this.weight = this.addParam('weight', [outFeatures, inFeatures]);
    this.biasSpec = this.bias ? this.addParam('bias', [outFeatures]) : null;
    // PyTorch: kaiming_uniform(a=√5) for the weight and U(±1/√in) for the bias — both ±1/√in.
    const rng = new Random(seedOf(name, opts.seed));
    const k = 1 / Math.sqrt(inFeatures);
    this.initParams((_s, out) => {
      rng.fillUniform(out, -k, k);
    });
  }

  override getConfig(): Record<string, unknown> {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias };
  }

  protected override paramsChanged(): void {
    this.packedFresh = false;
    this.packedTFresh = false;
  }

  protected override releaseWorkspace(be: Backend): void {
    be.arena.free(this.packed);
    be.arena.free(this.packedT);
    this.packed = 0;
    this.packedT = 0;
    this.packedFresh = false;
    this.packedTFresh = false;
  }

  /**
   * x: [..., inFeatures] → [..., outFeatures]. In training mode (train(), or `training: true`)
   * keeps x for backward: the output is recorded for autograd, and backward() works on it.
   */
  forward(x: TensorLike, options: { training?: boolean } = {}): Tensor {
    this.checkAlive();
    const fn = `${this.constructor.name}.forward`;
    checkOptions(fn, options, ['training']);
    if (options.training !== undefined && typeof options.training !== 'boolean') {
      throw new TypeError(`${fn}: training must be a boolean, got ${fmt(options.training)}`);
    }
    const training = (options.training ?? this.training) && gradEnabled();
    const xt = toTensor(x, `${fn}: x`);
    const r = xt.shape.length;
    if (r < 1 || xt.shape[r - 1] !== this.inFeatures) {
      throw new RangeError(`${fn}: x's last dimension must be inFeatures = ${this.inFeatures}, got shape ${shapeStr(xt.shape)}`);
    }
    // A recorded input was computed by the model: non-finite values there are divergence, for the
    // loss (and fit()) to report, not bad input.
    if (!isRecorded(xt)) checkFinite(xt.data, `${fn}: x`);
    const m = xt.data.length / this.inFeatures;
    const be = this.bind(fn);
    const ks = be.kernels;
    if (this.packed === 0) this.packed = this.reserve(be, ks.packedSize(this.outFeatures, this.inFeatures) * 4, fn, 'its packed weight');
    const inF = pad16(m * this.inFeatures);
    const ws = this.workspace(be, inF + pad16(m * this.outFeatures), fn);
    const rec = training ? this.saveBegin(be, inF, fn) : null;
    if (!this.packedFresh) {
      ks.packWeights(this.packed, this.paramPtr(this.weight), this.outFeatures, this.inFeatures);
      this.packedFresh = true;
    }
    const xp = rec ? rec.block : ws;
    be.arena.write(xp, xt.data);
    const y = ws + inF * 4;
    if (m > 0) {
      ks.gemm(y, xp, this.packed, this.biasSpec ? this.paramPtr(this.biasSpec) : 0, m, this.outFeatures, this.inFeatures);
    }
    const out = new Tensor(be.arena.read(y, m * this.outFeatures), [...xt.shape.slice(0, -1), this.outFeatures]);
    this.saved = rec ? Object.assign(rec, { m, shape: [...xt.shape] }) : null;
    if (this.saved) {
      const saved = this.saved;
      this.recordNode(saved, {
        name: fn, inputs: [xt], outputs: 1,
        backward: ([gy], needs) => [this.backwardRecord(saved, gy as Float32Array, needs[0], `${this.constructor.name}.backward`)],
      }, [out]);
    }
    return out;
  }

  /**
   * Gradient of the last training forward: adds dW = dYᵀ·X and db = Σ dY to gradients() and
   * returns dX (shaped like that forward's x).
   */
  backward(gradOutput: TensorLike): Tensor {
    this.checkAlive();
    const fn = `${this.constructor.name}.backward`;
    const saved = this.saved;
    if (!saved) throw new Error(`${fn}: call forward(x, { training: true }) first (each backward needs its own training forward)`);
    const g = toTensor(gradOutput, `${fn}: gradOutput`);
    const want = [...saved.shape.slice(0, -1), this.outFeatures];
    if (g.shape.length !== want.length || g.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(`${fn}: gradOutput must have shape ${shapeStr(want)}, got ${shapeStr(g.shape)}`);
    }
    checkFinite(g.data, `${fn}: gradOutput`);
    const dx = this.backwardRecord(saved, g.data, true, fn) as Float32Array;
    this.saved = null;
    noteBackward();
    return new Tensor(dx, saved.shape);
  }

  /**
   * dW += dYᵀ·X, db += Σ dY, and (when `needDx`) dX = dY·W, for one training forward's record,
   * which is then released. The record must still be valid (same backend, same weights).
   */
  private backwardRecord(saved: LinearSaved, dy: Float32Array, needDx: boolean, fn: string): Float32Array | null {
    const be = this.bind(fn);
    this.checkSaved(saved, fn);
    const dx = this.backwardFrom(be, saved, dy, needDx, fn);
    this.saveRelease(saved);
    return dx;
  }

  private backwardFrom(be: Backend, saved: LinearSaved, dy: Float32Array, needDx: boolean, fn: string): Float32Array | null {
    const ks = be.kernels;
    const { m } = saved;
    const I = this.inFeatures, O = this.outFeatures;
    if (this.packedT === 0) this.packedT = this.reserve(be, ks.packedSize(I, O) * 4, fn, 'its packed weight');
    const inF = pad16(m * I), outF = pad16(m * O);
    // dY, dX, dYᵀ and Xᵀ packed for dW = dYᵀ·X.
    const ws = this.workspace(be, 2 * outF + inF + ks.packedSize(I, m), fn);
    const gw = this.gradPtr(this.weight);
    const gb = this.biasSpec ? this.gradPtr(this.biasSpec) : 0;
    if (!this.packedTFresh) {
      ks.packRows(this.packedT, this.paramPtr(this.weight), O, I);
      this.packedTFresh = true;
    }
    const dY = ws, dX = dY + outF * 4, dYT = dX + inF * 4, tmp = dYT + outF * 4;
    be.arena.write(dY, dy);
    if (m > 0) {
      ks.transpose(dYT, dY, m, O);
      ks.packRows(tmp, saved.block, m, I);
      ks.gemmEx(gw, dYT, tmp, 0, O, I, m, m, 1, 1);
      if (gb) ks.colSum(gb, dY, m, O, 1);
      if (needDx) ks.gemmEx(dX, dY, this.packedT, 0, m, I, O, O, 1, 0);
    }
    return needDx ? be.arena.read(dX, m * I) : null;
  }
}

const pad16 = (n: number): number => Math.ceil(n / 16) * 16;

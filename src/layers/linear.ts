/** Linear: y = x·Wᵀ + b over the last dimension, PyTorch's names and initialisation. */
import type { Backend } from '../backend/index.js';
import { Random } from '../random.js';
import { Tensor, checkFinite, shapeStr, toTensor, type TensorLike } from '../tensor.js';
import { Module, type ParamSpec } from './module.js';
import { bool, checkOptions, positiveInt, seedOf } from './options.js';

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
  /** Rows and shape of the last training forward's input (kept in the workspace), or null. */
  private saved: { m: number; shape: number[] } | null = null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions | boolean = {}) {
    super();
    const opts = typeof options === 'boolean' ? { bias: options } : options;
    checkOptions('Linear', opts, ['bias', 'seed']);
    this.inFeatures = positiveInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = positiveInt('Linear', 'outFeatures', outFeatures);
    this.bias = bool('Linear', 'bias', opts.bias, true);
    this.weight = this.addParam('weight', [outFeatures, inFeatures]);
    this.biasSpec = this.bias ? this.addParam('bias', [outFeatures]) : null;
    // PyTorch: kaiming_uniform(a=√5) for the weight and U(±1/√in) for the bias — both ±1/√in.
    const rng = new Random(seedOf('Linear', opts.seed));
    const k = 1 / Math.sqrt(inFeatures);
    this.initParams((_s, out) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-k, k);
    });
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
    this.saved = null;
  }

  /** x: [..., inFeatures] → [..., outFeatures]. With `training`, keeps x for backward(). */
  forward(x: TensorLike, options: { training?: boolean } = {}): Tensor {
    this.checkAlive();
    const training = options?.training ?? false;
    if (typeof training !== 'boolean') throw new TypeError(`Linear.forward: training must be a boolean, got ${typeof training}`);
    const xt = toTensor(x, 'Linear.forward: x');
    const r = xt.shape.length;
    if (r < 1 || xt.shape[r - 1] !== this.inFeatures) {
      throw new RangeError(
        `Linear.forward: x's last dimension must be inFeatures = ${this.inFeatures}, got shape ${shapeStr(xt.shape)}`,
      );
    }
    checkFinite(xt.data, 'Linear.forward: x');
    const m = xt.data.length / this.inFeatures;
    const be = this.bind();
    const ks = be.kernels;
    if (this.packed === 0) this.packed = be.arena.alloc(ks.packedSize(this.outFeatures, this.inFeatures) * 4);
    if (!this.packedFresh) {
      ks.packWeights(this.packed, this.paramPtr(this.weight), this.outFeatures, this.inFeatures);
      this.packedFresh = true;
    }
    const inF = Math.ceil((m * this.inFeatures) / 16) * 16;
    const outF = Math.ceil((m * this.outFeatures) / 16) * 16;
    // Training also plans backward's buffers: dY, dX, dYᵀ and Xᵀ packed for dW = dYᵀ·X.
    const extra = training ? 2 * outF + inF + ks.packedSize(this.inFeatures, m) : 0;
    const ws = this.workspace(be, inF + outF + extra);
    this.saved = training ? { m, shape: xt.shape } : null;
    be.arena.write(ws, xt.data);
    const y = ws + inF * 4;
    if (m > 0) {
      ks.gemm(y, ws, this.packed, this.biasSpec ? this.paramPtr(this.biasSpec) : 0, m, this.outFeatures, this.inFeatures);
    }
    return new Tensor(be.arena.read(y, m * this.outFeatures), [...xt.shape.slice(0, -1), this.outFeatures]);
  }

  /**
   * Gradient of the last training forward: adds dW = dYᵀ·X and db = Σ dY to gradients() and
   * returns dX (shaped like that forward's x).
   */
  backward(gradOutput: TensorLike): Tensor {
    this.checkAlive();
    const saved = this.saved;
    if (!saved) throw new Error('Linear.backward: call forward(x, { training: true }) first');
    const g = toTensor(gradOutput, 'Linear.backward: gradOutput');
    const want = [...saved.shape.slice(0, -1), this.outFeatures];
    if (g.shape.length !== want.length || g.shape.some((d, i) => d !== want[i])) {
      throw new RangeError(`Linear.backward: gradOutput must have shape ${shapeStr(want)}, got ${shapeStr(g.shape)}`);
    }
    checkFinite(g.data, 'Linear.backward: gradOutput');
    const be = this.bind();
    const ks = be.kernels;
    const { m } = saved;
    const I = this.inFeatures, O = this.outFeatures;
    if (this.packedT === 0) this.packedT = be.arena.alloc(ks.packedSize(I, O) * 4);
    if (!this.packedTFresh) {
      ks.packRows(this.packedT, this.paramPtr(this.weight), O, I);
      this.packedTFresh = true;
    }
    const inF = Math.ceil((m * I) / 16) * 16, outF = Math.ceil((m * O) / 16) * 16;
    const ws = this.workspace(be, 0);
    const x = ws, dY = ws + (inF + outF) * 4, dX = dY + outF * 4, dYT = dX + inF * 4, tmp = dYT + outF * 4;
    be.arena.write(dY, g.data);
    const gw = this.gradPtr(this.weight);
    if (m > 0) {
      ks.transpose(dYT, dY, m, O);
      ks.packRows(tmp, x, m, I);
      ks.gemmEx(gw, dYT, tmp, 0, O, I, m, m, 1, 1);
      if (this.biasSpec) ks.colSum(this.gradPtr(this.biasSpec), dY, m, O, 1);
      ks.gemmEx(dX, dY, this.packedT, 0, m, I, O, O, 1, 0);
    }
    this.saved = null;
    return new Tensor(be.arena.read(dX, m * I), saved.shape);
  }
}

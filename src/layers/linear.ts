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
  }

  protected override releaseWorkspace(be: Backend): void {
    be.arena.free(this.packed);
    this.packed = 0;
    this.packedFresh = false;
  }

  /** x: [..., inFeatures] → [..., outFeatures]. */
  forward(x: TensorLike): Tensor {
    this.checkAlive();
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
    const ws = this.workspace(be, inF + m * this.outFeatures);
    be.arena.write(ws, xt.data);
    const y = ws + inF * 4;
    if (m > 0) {
      ks.gemm(y, ws, this.packed, this.biasSpec ? this.paramPtr(this.biasSpec) : 0, m, this.outFeatures, this.inFeatures);
    }
    return new Tensor(be.arena.read(y, m * this.outFeatures), [...xt.shape.slice(0, -1), this.outFeatures]);
  }
}

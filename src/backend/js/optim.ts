/**
 * JS twins of the loss, optimizer and reduction kernels: the oracle for assembly/optim.ts (JS twins).
 * Arithmetic is float64 (JS numbers) and rounded to float32 only when stored, so each stored
 * value is the correctly rounded contract formula (up to float64 rounding).
 */
import type { Arena } from '../arena.js';
import type { Kernels } from '../kernels.js';

export type OptimKernels = Pick<
  Kernels,
  'crossEntropy' | 'mseSum' | 'bceWithLogitsSum' | 'sgdStep' | 'adamStep' | 'rmspropStep' |
  'sumSquares' | 'scale' | 'clampValues' | 'mulInPlace'
>;

export function createOptimKernels(arena: Arena): OptimKernels {
  return {
    crossEntropy(loss, grad, logits, targets, n, c, ignoreIndex, smoothing, gradScale) {
      const f = arena.f32;
      const tg = arena.i32;
      const oneMinus = 1 - smoothing;
      const epsc = smoothing / c;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const x = (logits >>> 2) + i * c;
        const g = (grad >>> 2) + i * c;
        const t = tg[(targets >>> 2) + i];
        if (t === ignoreIndex) {
          if (loss !== 0) f[(loss >>> 2) + i] = 0;
          if (grad !== 0) f.fill(0, g, g + c);
          continue;
        }
        count++;
        let mx = f[x];
        for (let j = 1; j < c; j++) mx = Math.max(mx, f[x + j]);
        let se = 0;
        let sx = 0;
        for (let j = 0; j < c; j++) {
          const v = f[x + j];
          se += Math.exp(v - mx);
          sx += v;
        }
        // lse − (1 − ε)x_t − ε·mean = log S + (1 − ε)(max − x_t) + ε(max − mean): all ≥ 0.
        let l = Math.log(se) + oneMinus * (mx - f[x + t]);
        if (smoothing !== 0) l += smoothing * (mx - sx / c);
        if (loss !== 0) f[(loss >>> 2) + i] = l;
        if (grad !== 0) {
          const a = gradScale / se;
          const b = gradScale * epsc;
          for (let j = 0; j < c; j++) f[g + j] = Math.exp(f[x + j] - mx) * a - b;
          f[g + t] = gradScale * ((Math.exp(f[x + t] - mx) / se - oneMinus) - epsc);
        }
      }
      return count;
    },

    mseSum(grad, pred, target, n, gradScale) {
      const f = arena.f32;
      const p0 = pred >>> 2, y0 = target >>> 2, g0 = grad >>> 2;
      const s2 = 2 * gradScale;
      let sum = 0;
      if (grad !== 0) {
        for (let i = 0; i < n; i++) {
          const d = f[p0 + i] - f[y0 + i];
          sum += d * d;
          f[g0 + i] = d * s2;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const d = f[p0 + i] - f[y0 + i];
          sum += d * d;
        }
      }
      return sum;
    },

    bceWithLogitsSum(grad, logits, target, n, gradScale) {
      const f = arena.f32;
      const x0 = logits >>> 2, y0 = target >>> 2, g0 = grad >>> 2;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const x = f[x0 + i], y = f[y0 + i];
        const e = Math.exp(-Math.abs(x));
        sum += Math.max(x, 0) - x * y + Math.log1p(e);
        if (grad !== 0) {
          // σ(x) − y without cancellation: σ(x) = 1 − e/(1+e) for x ≥ 0, e/(1+e) otherwise.
          const r = e / (1 + e);
          f[g0 + i] = gradScale * (x >= 0 ? 1 - y - r : r - y);
        }
      }
      return sum;
    },

    sgdStep(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, first) {
      const f = arena.f32;
      const p0 = p >>> 2, g0 = g >>> 2, b0 = buf >>> 2;
      const useMom = momentum !== 0 && buf !== 0;
      const omt = 1 - dampening;
      for (let i = 0; i < n; i++) {
        const pv = f[p0 + i];
        let d = f[g0 + i];
        if (weightDecay !== 0) d += weightDecay * pv;
        if (useMom) {
          const b = first ? d : momentum * f[b0 + i] + omt * d;
          f[b0 + i] = b;
          d = nesterov ? d + momentum * b : b;
        }
        f[p0 + i] = pv - lr * d;
      }
    },

    adamStep(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2sqrt, decoupled) {
      const f = arena.f32;
      const p0 = p >>> 2, g0 = g >>> 2, m0 = m >>> 2, v0 = v >>> 2;
      const ob1 = 1 - beta1, ob2 = 1 - beta2, ss = lr / bc1;
      const shrink = 1 - lr * weightDecay;
      const coupled = weightDecay !== 0 && !decoupled;
      const dec = weightDecay !== 0 && !!decoupled;
      for (let i = 0; i < n; i++) {
        let pv = f[p0 + i];
        let gv = f[g0 + i];
        if (dec) pv *= shrink;
        else if (coupled) gv += weightDecay * pv;
        const mv = beta1 * f[m0 + i] + ob1 * gv;
        const vv = beta2 * f[v0 + i] + ob2 * gv * gv;
        f[m0 + i] = mv;
        f[v0 + i] = vv;
        f[p0 + i] = pv - (ss * mv) / (Math.sqrt(vv) / bc2sqrt + eps);
      }
    },

    rmspropStep(p, g, sq, gAvg, buf, n, lr, alpha, eps, weightDecay, momentum) {
      const f = arena.f32;
      const p0 = p >>> 2, g0 = g >>> 2, s0 = sq >>> 2, a0 = gAvg >>> 2, b0 = buf >>> 2;
      const oal = 1 - alpha;
      for (let i = 0; i < n; i++) {
        const pv = f[p0 + i];
        let gv = f[g0 + i];
        if (weightDecay !== 0) gv += weightDecay * pv;
        const s = alpha * f[s0 + i] + oal * gv * gv;
        f[s0 + i] = s;
        let avg: number;
        if (gAvg !== 0) {
          const ga = alpha * f[a0 + i] + oal * gv;
          f[a0 + i] = ga;
          avg = Math.sqrt(s - ga * ga) + eps;
        } else {
          avg = Math.sqrt(s) + eps;
        }
        if (buf !== 0) {
          const b = momentum * f[b0 + i] + gv / avg;
          f[b0 + i] = b;
          f[p0 + i] = pv - lr * b;
        } else {
          f[p0 + i] = pv - (lr * gv) / avg;
        }
      }
    },

    sumSquares(x, n) {
      const f = arena.f32;
      const x0 = x >>> 2;
      let s0 = 0, s1 = 0;
      let i = 0;
      for (; i + 2 <= n; i += 2) {
        const a = f[x0 + i], b = f[x0 + i + 1];
        s0 += a * a;
        s1 += b * b;
      }
      if (i < n) s0 += f[x0 + i] * f[x0 + i];
      return s0 + s1;
    },

    scale(x, n, s) {
      const f = arena.f32;
      const x0 = x >>> 2;
      for (let i = x0; i < x0 + n; i++) f[i] *= s;
    },

    clampValues(x, n, lo, hi) {
      const f = arena.f32;
      const x0 = x >>> 2;
      for (let i = x0; i < x0 + n; i++) {
        // min(max(x, lo), hi): NaN stays NaN, lo > hi gives hi (as torch.clamp).
        const a = f[i] < lo ? lo : f[i];
        f[i] = a > hi ? hi : a;
      }
    },

    mulInPlace(x, y, n) {
      const f = arena.f32;
      const x0 = x >>> 2, y0 = y >>> 2;
      for (let i = 0; i < n; i++) f[x0 + i] *= f[y0 + i];
    },
  };
}

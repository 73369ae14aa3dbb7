/**
 * wasm-rnn kernels (AssemblyScript). One source, built with SIMD (build/wasm-rnn.simd.wasm) and
 * without (build/wasm-rnn.wasm); `ASC_FEATURE_SIMD` switches at compile time and the two builds
 * give bit-identical results (the scalar code mirrors the SIMD lanes operation by operation).
 *
 * The contract (pointers are byte offsets, 0 = absent, lengths/inactive rows, aliasing) is
 * src/backend/kernels.ts; the oracle is src/backend/js-kernels.ts. Kernels touch raw memory
 * only: no managed objects, no allocation, no mutable static data.
 */
import { sigmoid1, sigmoid4, tanh1, tanh4 } from './activations';

export { gemm, gemmEx, packRows, packWeights, packedSize } from './gemm';
export { rnnStep, lstmStep, gruStep, rnnStepTrain, lstmStepTrain, gruStepTrain } from './cells';
export { sequence, sequenceBackward } from './sequence';
export * from './cells-grad';
export { rnnStepEx, lstmStepEx, gruStepEx } from './cells-ex';
export { rnnStepBackwardEx, lstmStepBackwardEx, gruStepBackwardEx } from './cells-ex-grad';
export * from './optim';
export * from './transpose';
export { gemmPart, seq } from './threads';

/** End of the module's static data; the TypeScript arena starts above it (must be < 65536). */
export function heapBase(): usize {
  return __heap_base;
}

/** out[i, :] = table[ids[i], :] for i < n (ids int32, already validated). */
export function embedding(out: usize, table: usize, ids: usize, n: i32, dim: i32): void {
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * rowBytes, table + id * rowBytes, rowBytes);
  }
}

/** dst[i] = tanh(src[i]); dst may equal src. */
export function tanh(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      v128.store(dst + ib, tanh4(v128.load(src + ib)));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    store<f32>(dst + ib, tanh1(load<f32>(src + ib)));
  }
}

/** dst[i] = 1 / (1 + exp(−src[i])); dst may equal src. */
export function sigmoid(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const ib = <usize>i << 2;
      v128.store(dst + ib, sigmoid4(v128.load(src + ib)));
    }
  }
  for (; i < n; i++) {
    const ib = <usize>i << 2;
    store<f32>(dst + ib, sigmoid1(load<f32>(src + ib)));
  }
}

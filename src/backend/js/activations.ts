/** The activations the JS kernels use: float64 Math functions (the oracle's exact values). */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** min(max(0.2·x + 0.5, 0), 1): ONNX's default HardSigmoid and TF.js's hard_sigmoid. */
export const hardSigmoid = (x: number): number => Math.min(Math.max(0.2 * x + 0.5, 0), 1);

const relu = (x: number): number => (x > 0 ? x : 0);

/** The activations of the cell variants by code (kernels.ts ACT_CODES: sigmoid, tanh, relu, hardSigmoid). */
export const ACTS: readonly ((x: number) => number)[] = [sigmoid, Math.tanh, relu, hardSigmoid];

/**
 * act'(a) from the output y = act(a), by code: σ' = y(1 − y), tanh' = 1 − y², relu' = [y > 0],
 * hardSigmoid' = 0.2·[0 < y < 1].
 */
export const ACT_DERIVS: readonly ((y: number) => number)[] = [
  (y) => y * (1 - y),
  (y) => 1 - y * y,
  (y) => (y > 0 ? 1 : 0),
  (y) => (y > 0 && y < 1 ? 0.2 : 0),
];

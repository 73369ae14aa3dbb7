/** The activations the JS kernels use: float64 Math functions (the oracle's exact values). */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

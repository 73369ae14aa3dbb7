/** Training met a NaN or ±Infinity; the weights are those of the last finite step. */
export class NonFiniteError extends Error {
  /** What was non-finite ('loss', 'gradient' or 'parameters') and at which step. */
  readonly what: 'loss' | 'gradient' | 'parameters';
  readonly step: number;
  readonly value: number;
  constructor(what: 'loss' | 'gradient' | 'parameters', step: number, value: number) {
    super(
      `training stopped at step ${step}: the ${what === 'gradient' ? 'gradient norm' : what} is ${value}` +
        (what === 'parameters' ? ' after the update (restored the previous weights)' : '') +
        '; the model keeps the weights of the last finite step (try a smaller learning rate or gradient clipping)',
    );
    this.name = 'NonFiniteError';
    this.what = what;
    this.step = step;
    this.value = value;
  }
}

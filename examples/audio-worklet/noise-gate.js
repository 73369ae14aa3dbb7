/**
 * The noise gate: a GRU that runs one step per block of samples (one 128-sample render quantum
 * in an AudioWorklet) on the block's level and sets the block's gain. Why blocks and not samples:
 * the gate's decision (is a tone playing?) changes over tens of milliseconds, so one step per
 * 2.7 ms block is plenty — 375 steps a second at 48 kHz instead of 48 000 — and the gain ramps
 * linearly across each block, so it never jumps (no clicks). It adds no latency: a block's gain
 * comes from that same block, which the processor holds whole before it writes its output.
 *
 * Plain JavaScript that imports nothing: the AudioWorklet processor (processor.js), the trainer
 * (train.mjs, Node) and the test (test/audio-worklet.test.ts, Node) run this same code, so the
 * browser's output can be compared with Node's bit for bit.
 */

/** The GRU's input: the block's RMS level, times this (to put typical levels near 1). */
export const LEVEL_SCALE = 4;

/** The model's input for samples [from, from + n): the scaled RMS level. */
export function blockLevel(samples, from, n) {
  let sum = 0;
  for (let i = from; i < from + n; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / n) * LEVEL_SCALE;
}

/**
 * The best constant gain for a block (what training aims at): the least-squares gain from noisy
 * to clean, Σ clean·noisy / Σ noisy², clamped to [0, 1].
 */
export function idealGain(noisy, clean, from, n) {
  let cn = 0, nn = 0;
  for (let i = from; i < from + n; i++) {
    cn += clean[i] * noisy[i];
    nn += noisy[i] * noisy[i];
  }
  const g = nn > 0 ? cn / nn : 0;
  return g < 0 ? 0 : g > 1 ? 1 : g;
}

/**
 * A loaded model (Sequential(GRU(1 → H), Linear(H → 1)), as train.mjs saves it) with its state
 * and buffers, allocated once: process() allocates nothing.
 */
export class NoiseGate {
  constructor(model) {
    const gru = model.at(0), head = model.at(1);
    if (gru.constructor.name !== 'GRU' || gru.inputSize !== 1 || head.constructor.name !== 'Linear' ||
      head.inFeatures !== gru.hiddenSize || head.outFeatures !== 1) {
      throw new TypeError('NoiseGate: the model must be Sequential(GRU(1 → H), Linear(H → 1)) as train.mjs saves it');
    }
    this.gru = gru;
    this.state = gru.createState(1);
    this.x = new Float32Array(1);
    this.h = new Float32Array(gru.hiddenSize);
    const { weight, bias } = head.stateDict();
    this.w = Float32Array.from(weight.data);
    this.b = bias.data[0];
    /** The gain at the end of the last block. */
    this.gain = 0;
  }

  /** Gates one block: output[i] = input[i] · gain, ramping from the last block's gain to this one's. */
  process(input, output) {
    const n = input.length;
    this.x[0] = blockLevel(input, 0, n);
    this.gru.step(this.x, this.state, this.h);
    let g = this.b;
    for (let k = 0; k < this.h.length; k++) g += this.w[k] * this.h[k];
    g = g < 0 ? 0 : g > 1 ? 1 : g;
    const g0 = this.gain, dg = (g - g0) / n;
    for (let i = 0; i < n; i++) output[i] = input[i] * (g0 + dg * (i + 1));
    this.gain = g;
  }

  /** Runs the gate over a whole signal in blocks of `block` samples (what the worklet does, in Node). */
  run(noisy, block = 128) {
    const out = new Float32Array(noisy.length);
    for (let at = 0; at < noisy.length; at += block) {
      const end = Math.min(at + block, noisy.length);
      this.process(noisy.subarray(at, end), out.subarray(at, end));
    }
    return out;
  }
}

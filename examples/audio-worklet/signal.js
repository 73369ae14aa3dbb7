/**
 * The example's test signal, seeded: tone bursts (random pitch, level and length) in steady
 * white noise. `clean` is the tones alone — what a perfect noise gate would let through.
 * Plain JavaScript with no imports, so the trainer (Node), the page and the test share it.
 */

/** xorshift32: a small seeded generator of floats in [0, 1). */
function generator(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * `seconds` of audio at `sampleRate`: { noisy, clean } (Float32Array each). Bursts last 0.1–0.5 s
 * with gaps of 0.2–1 s; tones are 220–880 Hz at amplitude 0.1–0.6 with 5 ms fades; the noise is
 * Gaussian with standard deviation `noise` (default 0.05).
 */
export function testSignal({ seconds, sampleRate = 48000, seed = 1, noise = 0.05 }) {
  const rand = generator(seed);
  const n = Math.round(seconds * sampleRate);
  const clean = new Float32Array(n);
  const noisy = new Float32Array(n);
  const fade = Math.round(0.005 * sampleRate);
  let t = Math.floor((0.2 + 0.8 * rand()) * sampleRate);
  while (t < n) {
    const len = Math.floor((0.1 + 0.4 * rand()) * sampleRate);
    const freq = 220 * 2 ** (2 * rand());
    const amp = 0.1 + 0.5 * rand();
    const phase = 2 * Math.PI * rand();
    for (let i = 0; i < len && t + i < n; i++) {
      const env = Math.min(1, i / fade, (len - 1 - i) / fade);
      clean[t + i] = amp * env * Math.sin(phase + (2 * Math.PI * freq * i) / sampleRate);
    }
    t += len + Math.floor((0.2 + 0.8 * rand()) * sampleRate);
  }
  for (let i = 0; i < n; i += 2) {
    // Box–Muller: two Gaussian samples from two uniform ones.
    const r = noise * Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    noisy[i] = clean[i] + r * Math.cos(a);
    if (i + 1 < n) noisy[i + 1] = clean[i + 1] + r * Math.sin(a);
  }
  return { noisy, clean };
}

/** Signal-to-noise ratio of `signal` against the reference `clean`, in dB. */
export function snrDb(signal, clean) {
  let s = 0, e = 0;
  for (let i = 0; i < clean.length; i++) {
    s += clean[i] * clean[i];
    e += (signal[i] - clean[i]) ** 2;
  }
  return 10 * Math.log10(s / e);
}

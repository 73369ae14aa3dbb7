/**
 * The streaming panel: a synthetic sensor sends RATE readings a second; a Forecaster
 * predicts each reading from the `window` readings before it (before it sees it), and then
 * learns online — one Adam step per reading on a batch of windows drawn from the recent
 * readings. Prediction and truth are plotted as they arrive, with the mean absolute error of
 * the model next to that of persistence (predicting the last reading), the baseline a
 * forecaster must beat. It runs on the page's own thread: a reading (a forecast and a training
 * step of this small LSTM) takes a millisecond or two, so it needs no worker.
 */
import { Adam, Forecaster, clipGradNorm } from '../../dist/esm/index.js';

const WINDOW = 24; // readings the model sees
const BATCH = 16; // windows per online training step
const MEMORY = 600; // readings the training windows are drawn from (older ones are forgotten)
const SHOWN = 300; // readings on the chart
const ERROR_SPAN = 200; // readings the shown errors average over
const RATE = 60; // readings per second the sensor sends (a busy page takes fewer: a timer is late, never doubled)

/** mulberry32: a small seeded generator, so every run of the page sees the same signal. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A sensor-like signal: a slow cycle, a faster harmonic whose strength drifts, and noise
 * (σ = 0.05, so no forecaster can get its mean absolute error below about 0.04).
 */
export function sensor(seed = 1) {
  const u = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  let t = 0;
  return () => {
    const drift = 0.3 + 0.15 * Math.sin((2 * Math.PI * t) / 1500);
    const v = Math.sin((2 * Math.PI * t) / 60) + drift * Math.sin((2 * Math.PI * t) / 17) + 0.05 * gauss();
    t++;
    return v;
  };
}

const mean = (a) => (a.length === 0 ? NaN : a.reduce((s, v) => s + v, 0) / a.length);

export class StreamForecast {
  /**
   * @param {{ chart: import('./chart.js').LineChart, onUpdate?: (stats: object) => void, seed?: number }} options
   */
  constructor({ chart, onUpdate, seed = 1 }) {
    this.chart = chart;
    this.onUpdate = onUpdate;
    this.next = sensor(seed);
    this.draw = random(seed + 1);
    this.model = new Forecaster({ inputSize: 1, hiddenSize: 32, window: WINDOW, seed });
    this.optimizer = new Adam(this.model, { lr: 0.01 });
    this.readings = [];
    this.errors = { model: [], persistence: [] };
    this.points = 0;
    this.stepMs = 0;
    this.running = false;
    this.timer = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    // One reading per task (about 2 ms): the page's thread is never held for long, and the
    // chart redraws once per animation frame however many readings came.
    this.timer = setInterval(() => this.push(this.next()), 1000 / RATE);
  }

  pause() {
    this.running = false;
    clearInterval(this.timer);
  }

  /** One reading arrives: forecast it from the window before it, score, then learn from it. */
  push(value) {
    const t0 = performance.now();
    const r = this.readings, t = this.points++;
    if (r.length >= WINDOW) {
      const x = Float32Array.from(r.slice(r.length - WINDOW));
      const predicted = this.model.predict(x, WINDOW, 1).data[0];
      this.chart.push(1, t, predicted);
      this.score(this.errors.model, Math.abs(predicted - value));
      this.score(this.errors.persistence, Math.abs(r[r.length - 1] - value));
    }
    this.chart.push(0, t, value);
    this.chart.trim(SHOWN);
    r.push(value);
    if (r.length > MEMORY) r.shift();
    if (r.length > WINDOW + BATCH) this.learn();
    const ms = performance.now() - t0;
    this.stepMs = this.points === 1 ? ms : 0.95 * this.stepMs + 0.05 * ms; // smoothed: one slow reading is not the story
    this.onUpdate?.(this.stats());
  }

  /** One Adam step on BATCH windows of the recent readings (time-major x [WINDOW, BATCH, 1]). */
  learn() {
    const r = this.readings;
    const x = new Float32Array(WINDOW * BATCH), y = new Float32Array(BATCH);
    for (let b = 0; b < BATCH; b++) {
      const s = Math.floor(this.draw() * (r.length - WINDOW));
      for (let k = 0; k < WINDOW; k++) x[k * BATCH + b] = r[s + k];
      y[b] = r[s + WINDOW];
    }
    this.optimizer.zeroGrad();
    this.model.trainBatch({ x, y, T: WINDOW, B: BATCH });
    clipGradNorm(this.model, 1);
    this.optimizer.step();
  }

  score(list, e) {
    list.push(e);
    if (list.length > ERROR_SPAN) list.shift();
  }

  stats() {
    return {
      points: this.points,
      maeModel: mean(this.errors.model),
      maePersistence: mean(this.errors.persistence),
      stepMs: this.stepMs,
    };
  }
}

/**
 * How the suite times one cell (tinybench), shared by bench/run.js and by runners that time in
 * their own process (bench/peers/child.js).
 */
import { Bench } from 'tinybench';

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Times fn with tinybench; budgets from the duration of one call. */
export async function time(name, fn, perCallMs, quick, step) {
  const slow = perCallMs > 50;
  // A step is ~20–50 µs: time batches of steps so each sample is well above the timer's grain.
  const batch = step ? Math.max(1, Math.min(1000, Math.round(2 / Math.max(perCallMs, 1e-4)))) : 1;
  const task = batch === 1 ? fn : async () => {
    for (let i = 0; i < batch; i++) await fn();
  };
  const bench = new Bench({
    name, time: quick ? 300 : 1000, iterations: quick ? 3 : 5,
    warmupTime: slow ? 0 : quick ? 60 : 200, warmupIterations: slow ? 1 : quick ? 5 : 10,
    retainSamples: true, throws: true,
  });
  bench.add(name, task);
  await bench.run();
  const lat = bench.tasks[0].result.latency;
  const s = [...lat.samples].sort((a, b) => a - b).map((v) => v / batch);
  return { medianMs: lat.p50 / batch, p25Ms: quantile(s, 0.25), p75Ms: quantile(s, 0.75), samples: lat.samplesCount, stepsPerSample: batch };
}

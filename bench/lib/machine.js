/**
 * What the machine and the package look like: the Wasm SIMD mul+add peak, the bare JS→Wasm call
 * and the published size (gzip). Cold start is in cold-start.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measurePeak(root, quick) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { instance } = await WebAssembly.instantiate(readFileSync(join(root, 'build/peak.wasm')), { env: { memory } });
  const e = instance.exports;
  // One rep = 64 steps × 8 chains × (mul + add) on f32x4 = 4096 FLOPs.
  const reps = quick ? 100_000 : 400_000;
  // V8 runs new Wasm in its baseline tier until a call's budget runs out (no on-stack replacement):
  // keep calling for a while so every timed call runs optimized code.
  for (const t0 = performance.now(); performance.now() - t0 < (quick ? 150 : 400); ) e.peakMulAdd(2000, 4096);
  const rates = [];
  for (let r = 0; r < (quick ? 5 : 11); r++) {
    const t0 = performance.now();
    e.peakMulAdd(reps, 4096);
    rates.push((reps * 4096) / ((performance.now() - t0) * 1e6));
  }
  const calls = 2_000_000, ns = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) e.nothing();
    ns.push(((performance.now() - t0) * 1e6) / calls);
  }
  // A ceiling: the best rate (this VM's speed drifts on a ~100 ms scale; a median would understate
  // the ceiling and flatter every kernel's fraction of it).
  return { peakGflops: Math.max(...rates), medianGflops: median(rates), callNs: median(ns) };
}

/** gzip sizes of what a user loads: the published JS bundle and one .wasm (the SIMD one). */
export function packageSize(root) {
  const js = [join(root, 'dist/esm/index.js')];
  const gz = (buf) => gzipSync(buf, { level: 9 }).length;
  const jsBytes = js.reduce((s, f) => s + gz(readFileSync(f)), 0);
  const wasm = {};
  for (const f of ['wasm-rnn.simd.wasm', 'wasm-rnn.wasm', 'wasm-rnn.relaxed.wasm']) {
    try {
      const b = readFileSync(join(root, 'build', f));
      wasm[f] = { raw: b.length, gzip: gz(b) };
    } catch {
      // not built (relaxed build is optional)
    }
  }
  return { jsGzip: jsBytes, jsFiles: js.length, wasm, totalGzip: jsBytes + (wasm['wasm-rnn.simd.wasm']?.gzip ?? 0) };
}

/**
 * Threads in Chromium: bench/browser-threads.html on a cross-origin isolated page, workload B
 * (LSTM I128 H256 B1 T128, forward) and S (one step()) timed on the page's main thread on one
 * thread and after ready({ threads: 2 }), alternating three times. Reports the median of the
 * three row medians per thread count, their ratio, the pool's barrier sleeps (threadStats()),
 * and whether both thread counts computed the same bits.
 */
import { pageResult, withChromium } from './chromium.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function browserThreads(root, quick = false) {
  return withChromium(root, { crossOriginIsolated: true }, async ({ browser, url }) => {
    const r = await pageResult(browser, url, `/bench/browser-threads.html?runs=${quick ? 20 : 60}`, 'threadsResult', 300_000);
    if (r.error) throw new Error(`bench/browser-threads.html: ${r.error}`);
    const by = (t) => r.rows.filter((x) => x.threads === t);
    const one = by(1), two = by(2);
    const sum = (k) => two.reduce((s, x) => s + (x.pool?.[k] ?? 0), 0);
    const res = {
      browser: `Chromium ${browser.version()}`,
      hardwareConcurrency: r.hardwareConcurrency,
      binaries: { one: one[0]?.binary, two: two[0]?.binary },
      B: { oneMs: median(one.map((x) => x.B)), twoMs: median(two.map((x) => x.B)) },
      S: { oneMs: median(one.map((x) => x.S)), twoMs: median(two.map((x) => x.S)) },
      pool: { calls: sum('calls'), barriers: sum('barriers'), sleeps: sum('sleeps'), pausedCalls: sum('pausedCalls') },
      sameBits: r.rows.every((x) => JSON.stringify(x.last) === JSON.stringify(r.rows[0].last)),
      rows: r.rows,
    };
    for (const w of ['B', 'S']) res[w].speedup = res[w].oneMs / res[w].twoMs;
    return res;
  });
}

/** One line for the console. */
export function describeBrowserThreads(t) {
  if (!t) return 'threads in Chromium: not measured (no /usr/bin/chromium)';
  const f = (ms) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
  const p = t.pool;
  return `threads in Chromium (${t.browser}, page main thread): B forward ${f(t.B.oneMs)} → ${f(t.B.twoMs)} on 2 threads (${t.B.speedup.toFixed(2)}×), ` +
    `S step() ${f(t.S.oneMs)} → ${f(t.S.twoMs)} (${t.S.speedup.toFixed(2)}×); barrier sleeps ${p.sleeps}/${p.barriers} ` +
    `(${(100 * p.sleeps / Math.max(1, p.barriers)).toFixed(1)}%), calls paused by the guard ${p.pausedCalls}; same bits: ${t.sameBits}`;
}

/**
 * Kernels that several threads run together on one shared memory (build/wasm-rnn.threads.wasm,
 * `--enable threads --sharedMemory`). Every thread calls the same export with its own `tid`
 * (0 = the caller's thread, which only spins: a browser's main thread may not wait) and the
 * same other arguments; the threads meet at a barrier in shared memory (`bar`, 16 bytes,
 * zeroed once by the pool).
 *
 * Work split: a GEMM's 16-column panels are split into contiguous ranges, one per thread, and
 * the elementwise gate pass into contiguous ranges of hidden units (multiples of 4). Each
 * output element is computed by exactly the code and summation order of the one-thread
 * kernels, so the results are bit-identical to build/wasm-rnn.simd.wasm. A thread always gets
 * the same panels, so at batch 1 its share of W_hh stays in its own core's L2 across steps.
 *
 * In the builds without threads (ASC_FEATURE_THREADS false) the barrier compiles to nothing
 * and the kernels are the one-thread sequence loops (nth must be 1).
 */
import { PANEL, gemmPanels } from './gemm';
import { gruGates, lstmGates, rnnGates } from './cells';

/**
 * Spins (atomic loads) before a thread that may wait sleeps in the barrier (~0.1–0.3 ms): longer
 * than the usual imbalance between two threads' halves of a step, so a calm machine rarely sleeps.
 */
// @ts-ignore: decorator
@inline const SPIN_BEFORE_WAIT: i64 = 1 << 17;
/** The most a thread spins before sleeping, after sleeps made it patient (~1–2 ms). */
// @ts-ignore: decorator
@inline const SPIN_MAX: i64 = 1 << 21;
/**
 * This thread's current spin budget (a global is per instance, and every thread has its own
 * instance). A sleep costs more than the wait it avoids: waking a thread from Atomics.wait takes
 * the notifier into the kernel and the sleeper tens of µs to get a core back (more in a browser,
 * where V8's futex emulation takes a lock and the page's caller thread never sleeps). With a
 * fixed budget one sleep fed the next: the woken thread came back late, its partner then waited
 * past the budget at the next barrier and slept too, and a whole forward ran at sleep speed
 * (Chromium, LSTM H256 B1 on two threads: 86% of the barriers slept, two threads no faster than
 * one). So a thread that slept quadruples its budget (up to SPIN_MAX), and each barrier it
 * passes without sleeping takes 1/64 of the excess off again: a burst of sleeps stops feeding
 * itself, while a machine whose other core stays busy still sleeps (and the pool's contention
 * guard, which counts the sleeps, falls back to one thread).
 */
let spinBudget: i64 = SPIN_BEFORE_WAIT;
/** A sleeping thread re-checks the poison word this often (ns). */
// @ts-ignore: decorator
@inline const WAIT_NS: i64 = 20_000_000;
/**
 * Spins after which a caller that may not wait (a browser's main thread) gives up, minutes at
 * any speed: a worker that died makes this trap instead of hanging the page forever.
 */
// @ts-ignore: decorator
@inline const SPIN_LIMIT: i64 = 1 << 40;

/**
 * Sense-reversing barrier: [bar] arrivals, [bar+4] generation, [bar+8] sleepers, [bar+12] 1 if
 * the caller's thread (tid 0) may wait (set by the pool: Node, or a browser worker), [bar+16]
 * poison: set when a thread failed, so the others trap instead of waiting for it forever;
 * [bar+20] how many times a thread slept, [bar+24] barriers passed (both read and reset by the
 * pool after each call). The last
 * thread to arrive resets the count, then bumps the generation (sequentially consistent
 * atomics, so nobody sees the new generation before the reset) and wakes all sleepers, if any.
 * The others spin a while and then wait — except a caller that may not wait, which only spins.
 * Waiting matters when the machine is oversubscribed: a spinning thread would hold the core
 * that the thread it waits for needs.
 */
function barrier(bar: usize, tid: i32, nth: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (nth <= 1) return;
    if (tid == 0) store<i32>(bar, load<i32>(bar, 24) + 1, 24); // barriers passed (only tid 0 writes)
    const gen = atomic.load<i32>(bar, 4);
    if (atomic.add<i32>(bar, 1) == nth - 1) {
      atomic.store<i32>(bar, 0);
      atomic.store<i32>(bar, gen + 1, 4);
      if (atomic.load<i32>(bar, 8) != 0) atomic.notify(bar + 4, -1); // wake all (count u32 max)
      return;
    }
    const mayWait = tid != 0 || load<i32>(bar, 12) != 0;
    let spins: i64 = 0;
    let slept = false;
    while (atomic.load<i32>(bar, 4) == gen) {
      spins++;
      if (mayWait) {
        if (spins > spinBudget) {
          slept = true;
          // Counted for the pool: frequent sleeps mean the threads do not run at the same time
          // (busy cores), and the pool then falls back to one thread for a while.
          atomic.add<i32>(bar, 1, 20);
          atomic.add<i32>(bar, 1, 8);
          atomic.wait<i32>(bar + 4, gen, WAIT_NS);
          atomic.sub<i32>(bar, 1, 8);
          // A thread that failed sets the poison word: stop (trap) instead of waiting forever.
          if (atomic.load<i32>(bar, 16) != 0) unreachable();
        }
      } else if (spins > SPIN_LIMIT || ((spins & 0xffff) == 0 && atomic.load<i32>(bar, 16) != 0)) {
        unreachable();
      }
    }
    if (slept) spinBudget = min(spinBudget << 2, SPIN_MAX);
    else if (spinBudget > SPIN_BEFORE_WAIT) spinBudget -= (spinBudget - SPIN_BEFORE_WAIT + 63) >> 6;
  }
}

// @ts-ignore: decorator
@inline function panelLo(n: i32, tid: i32, nth: i32): i32 {
  return <i32>(<i64>((n + PANEL - 1) / PANEL) * tid / nth);
}

// @ts-ignore: decorator
@inline function unitLo(H: i32, tid: i32, nth: i32): i32 {
  return tid >= nth ? H : <i32>(<i64>H * tid / nth) & ~3;
}

/** Thread tid's share of gemm (C = A·Wᵀ + bias, see gemm), then a barrier. */
export function gemmPart(
  tid: i32, nth: i32, bar: usize,
  c: usize, a: usize, wp: usize, bias: usize, m: i32, n: i32, k: i32,
): void {
  if (m > 0 && n > 0) {
    gemmPanels(c, a, wp, bias, m, n, k, <usize>k << 2, 4, false, panelLo(n, tid, nth), panelLo(n, tid + 1, nth));
  }
  barrier(bar, tid, nth);
}

/**
 * T inference steps of one layer direction (cell 0 = RNN tanh, 1 = RNN relu, 2 = LSTM, 3 = GRU),
 * each exactly the one-thread step kernel: step i uses time t = reverse ? T−1−i : i,
 *   gx_t = gx + t·B·G·H floats (G = gates), out_t = out + t·B·ldOut floats (out = 0: none),
 * h (and c) updated in place. When wih ≠ 0, gx_t = x_t·W_ihᵀ + b_ih is computed first from
 * x_t = x + t·B·I floats (the streaming step: T = 1). Per step: this thread's panels of the
 * products, a barrier, its units of the gate pass, a barrier.
 */
export function seq(
  tid: i32, nth: i32, bar: usize, cell: i32, T: i32, reverse: i32,
  h: usize, c: usize, out: usize, ldOut: i32, gx: usize, whh: usize, bhh: usize, scratch: usize,
  B: i32, H: i32, lengths: usize, x: usize, wih: usize, bih: usize, I: i32,
): void {
  const G = cell == 2 ? 4 : cell == 3 ? 3 : 1;
  const GH = G * H;
  const p0 = panelLo(GH, tid, nth), p1 = panelLo(GH, tid + 1, nth);
  const j0 = unitLo(H, tid, nth), j1 = unitLo(H, tid + 1, nth);
  const gStep = <usize>B * <usize>GH << 2;
  const oStep = <usize>B * <usize>ldOut << 2;
  const xStep = <usize>B * <usize>I << 2;
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const g = gx + <usize>t * gStep;
    const o = out != 0 ? out + <usize>t * oStep : 0;
    if (wih != 0) {
      gemmPanels(g, x + <usize>t * xStep, wih, bih, B, GH, I, <usize>I << 2, 4, false, p0, p1);
    }
    gemmPanels(scratch, h, whh, bhh, B, GH, H, <usize>H << 2, 4, false, p0, p1);
    barrier(bar, tid, nth);
    if (cell == 2) lstmGates(h, c, o, ldOut, g, h, c, scratch, B, H, lengths, t, 0, j0, j1);
    else if (cell == 3) gruGates(h, o, ldOut, g, h, scratch, B, H, lengths, t, 0, j0, j1);
    else rnnGates(h, o, ldOut, g, h, scratch, B, H, cell, lengths, t, 0, j0, j1);
    barrier(bar, tid, nth);
  }
}

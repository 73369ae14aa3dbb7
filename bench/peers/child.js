/**
 * Runs one peer in a process of its own and times it there, with the suite's timing
 * (bench/lib/timing.js): onnxruntime-web sets its thread count once per process, so a
 * 2-thread ORT-Web cannot share the suite's process with the 1-thread one. The parent
 * (childPeer below) sends { peer, workload, stateDict, input, quick } and gets back
 * { output, stats } or { error }. Timing inside the child keeps IPC out of the numbers.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

/** A runner with the peers' supports() and a measure() that does prepare + check-run + timing in a child. */
export function childPeer({ name, description }) {
  return {
    name,
    description,
    inChild: true,
    /** The child checks the rest (the package, the workload) and reports it as a failure. */
    async supports(w) {
      if (w.train) return { ok: false, reason: "ONNX Runtime's npm packages cannot train" };
      return { ok: true };
    },
    /** → { output: Float32Array, stats } (stats as time() returns). */
    measure(w, stateDict, input, quick) {
      return new Promise((resolve, reject) => {
        const child = fork(SELF, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
        let done = false;
        child.once('message', (m) => {
          done = true;
          child.kill();
          if (m.error) reject(new Error(m.error));
          else resolve({ output: m.output, stats: m.stats });
        });
        child.once('exit', (code) => {
          if (!done) reject(new Error(`${name}: child process exited with code ${code} before answering`));
        });
        child.send({ peer: name, workload: w, stateDict, input, quick });
      });
    },
  };
}

async function serve(msg) {
  const { ortWebPeer } = await import('./index.js');
  const { time } = await import('../lib/timing.js');
  const threads = Number(/^ort-web-(\d+)t$/.exec(msg.peer)?.[1]);
  if (!threads) throw new Error(`child.js: unknown peer '${msg.peer}'`);
  const peer = ortWebPeer(threads);
  const w = msg.workload;
  const sup = await peer.supports(w);
  if (!sup.ok) throw new Error(sup.reason);
  const p = await peer.prepare(w, msg.stateDict, msg.input);
  try {
    const t0 = performance.now();
    await p.run();
    const first = performance.now() - t0;
    const output = await p.lastOutput();
    const stats = await time(`${w.id}/${msg.peer}`, () => p.run(), first, msg.quick, !!w.step);
    return { output, stats };
  } finally {
    await p.dispose();
  }
}

if (process.argv[1] === SELF && process.send) {
  process.once('message', (msg) => {
    serve(msg).then(
      (r) => process.send(r),
      (err) => process.send({ error: String(err?.stack ?? err) }),
    );
  });
}

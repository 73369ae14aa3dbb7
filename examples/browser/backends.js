/**
 * Which backend runs, and falling back when a choice cannot: the page's own backend (for the
 * forecaster), the training worker's (wasm-rnn/worker), and the table that shows both next to
 * what the browser supports. Every fallback is reported through `note(text)`.
 */
import {
  backendInfo, ready, relaxedSimdSupported, setBackend, simdSupported, threadsSupported,
} from '../../dist/esm/index.js';

/** Selects this page's backend: `want` ('' for the default), else the default, else plain JavaScript. */
export async function pageBackend(want, note) {
  const tries = [...(want ? [want] : []), 'default', 'js'];
  for (const [i, name] of tries.entries()) {
    try {
      if (name === 'default') await ready();
      else await setBackend(name);
      break;
    } catch (err) {
      note(`page: ${name === 'default' ? 'the default backend' : `'${name}'`} failed (${err.message}); trying ${tries[i + 1] ?? 'nothing else'}`);
      if (i === tries.length - 1) throw err;
    }
  }
  return backendInfo();
}

/**
 * The training worker with `asked` ({ backend?, threads? }), else with the defaults; null when
 * no worker can run here (the entry failed to load, or no module worker starts).
 */
export async function startWorker(asked, note) {
  let spawnWorker;
  try {
    ({ spawnWorker } = await import('../../dist/esm/worker.js'));
  } catch (err) {
    note(`the worker entry did not load: ${err.message}`);
    return null;
  }
  try {
    return await spawnWorker(asked);
  } catch (err) {
    if (Object.keys(asked).length === 0) {
      note(`no training worker: ${err.message}`);
      return null;
    }
    note(`worker with ${JSON.stringify(asked)} failed (${err.message}); using the defaults`);
    try {
      return await spawnWorker({});
    } catch (err2) {
      note(`no training worker: ${err2.message}`);
      return null;
    }
  }
}

const mark = (ok, text = ok ? 'yes' : 'no') => `<span class="${ok ? 'yes' : 'no'}">${text}</span>`;
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const describe = (i) => (i ? `${i.name} · ${i.binary} binary · ${i.threads} thread${i.threads > 1 ? 's' : ''}` : '–');

/** Fills `tbody` with what the browser supports, what runs where (backendInfo()s, null while unknown), and the notes. */
export function renderBackends(tbody, { worker, page, notes }) {
  const rows = [
    ['WebAssembly SIMD', mark(simdSupported())],
    ['relaxed SIMD', relaxedSimdSupported() ? mark(true, 'yes (opt-in build, not used by default)') : mark(false)],
    ['threads', threadsSupported() ? mark(true, 'available (cross-origin isolated)') : mark(false, 'no: page not cross-origin isolated')],
    ['training worker', describe(worker)],
    ['this page (forecaster)', describe(page)],
    ...notes.map((n) => ['note', `<span class="no">${escape(n)}</span>`]),
  ];
  tbody.innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
}

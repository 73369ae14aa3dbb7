/**
 * The demo page's wiring: the backend panel (backends.js), the character model (trained in a
 * Web Worker, char-lm.js), its chart, generation, save/load (model-store.js), the streaming
 * forecaster (stream-forecast.js) and the long-task monitor (long-tasks.js). Everything a test
 * needs to read is on `window.demo`.
 *
 * URL parameters: ?backend=wasm-simd|wasm|js picks the backend (page and worker), ?threads=N
 * asks the worker for N inference threads (cross-origin isolated pages only).
 */
import { pageBackend, renderBackends, startWorker } from './backends.js';
import { LineChart } from './chart.js';
import { CharLM, MODELS, TRAINING } from './char-lm.js';
import { LongTasks } from './long-tasks.js';
import { loadModel, saveModel } from './model-store.js';
import { StreamForecast } from './stream-forecast.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const wantBackend = params.get('backend') || '';
const wantThreads = Number(params.get('threads') || 1);
const SAVE_NAME = 'char-lm';
const EMA = 0.05; // weight of a step's loss in the smoothed curve

const demo = {
  status: 'running',
  notes: [], // what fell back, and why
  page: null, // backendInfo() of this page
  worker: null, // backendInfo() inside the worker
  losses: [], // { step, loss, t } for every optimizer step
  smoothed: NaN,
  longTasks: null, // LongTasks: its spans are the times training ran
  lm: null,
  forecast: null,
  samples: [],
};
window.demo = demo;

function setStatus(text, cls = 'note') {
  $('status').textContent = text;
  $('status').className = cls;
}

const renderBackend = () => renderBackends($('backend'), demo);
function note(text) {
  demo.notes.push(text);
  renderBackend();
}

// --- Long tasks on this thread while training. ---------------------------------------------
demo.longTasks = new LongTasks((m) => {
  const during = m.inSpans();
  $('r-count').textContent = String(during.length);
  $('r-longest').textContent = during.length ? `${Math.max(...during.map((t) => t.duration)).toFixed(0)} ms` : 'none over 50 ms';
});
if (!demo.longTasks.supported) $('r-longest').textContent = 'not measurable in this browser';

// --- Backend choice (a reload with URL parameters). -------------------------------------------
$('want-backend').value = wantBackend;
$('want-threads').value = String(wantThreads);
$('apply-backend').onclick = () => {
  const q = new URLSearchParams();
  if ($('want-backend').value) q.set('backend', $('want-backend').value);
  if ($('want-threads').value !== '1') q.set('threads', $('want-threads').value);
  location.search = q.toString();
};

// --- The loss chart and the training stats. -----------------------------------------------
const lossChart = new LineChart($('loss-chart'), {
  series: [
    { name: 'loss per step', color: 'rgba(31, 95, 191, 0.25)', width: 1 },
    { name: 'smoothed', color: '#1f5fbf', width: 2 },
  ],
  yLabel: 'loss (nats/char)',
  right: { label: 'perplexity', map: Math.exp, format: (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)) },
});

const rate = []; // [time, tokens] over the last few seconds, for tokens/s
function onStep({ step, loss, tokens, epoch }) {
  const t = performance.now();
  demo.losses.push({ step, loss, t });
  const n = demo.losses.length;
  // Bias-corrected exponential average: the first points are not pulled towards 0.
  demo.ema = (demo.ema ?? 0) * (1 - EMA) + EMA * loss;
  demo.smoothed = demo.ema / (1 - (1 - EMA) ** n);
  lossChart.push(0, step, loss);
  lossChart.push(1, step, demo.smoothed);
  rate.push([t, tokens]);
  while (rate.length > 2 && t - rate[0][0] > 3000) rate.shift();
  const tps = rate.length > 1 ? ((tokens - rate[0][1]) / (t - rate[0][0])) * 1000 : NaN;
  demo.tokensPerSecond = tps;
  $('s-step').textContent = String(step);
  $('s-loss').textContent = demo.smoothed.toFixed(3);
  $('s-ppl').textContent = Math.exp(demo.smoothed).toFixed(2);
  $('s-tps').textContent = Number.isFinite(tps) ? Math.round(tps).toLocaleString('en') : '–';
  $('s-epoch').textContent = String(epoch);
  $('s-time').textContent = `${demo.lm.trainSeconds.toFixed(0)} s`;
}

function resetCurve() {
  demo.losses.length = 0;
  demo.ema = undefined;
  demo.smoothed = NaN;
  rate.length = 0;
  lossChart.clear();
  for (const id of ['s-loss', 's-ppl', 's-tps']) $(id).textContent = '–';
  $('s-step').textContent = $('s-epoch').textContent = '0';
  $('s-time').textContent = '0 s';
}

// --- Controls. --------------------------------------------------------------------------
const busy = new Set(); // what is in flight: 'generate', 'save', 'load'
function refreshButtons() {
  const lm = demo.lm, has = Boolean(lm?.model);
  $('train').disabled = !has || busy.has('load');
  $('train').textContent = lm?.running ? 'Pause' : lm?.steps ? 'Resume training' : 'Start training';
  $('new-model').disabled = !lm || busy.size > 0;
  $('generate').disabled = !has || busy.has('generate') || busy.has('load');
  $('save').disabled = $('download').disabled = !has || busy.has('save') || busy.has('load');
  $('load').disabled = $('open-button').disabled = !lm || busy.has('load');
}

async function task(name, fn) {
  busy.add(name);
  refreshButtons();
  try {
    await fn();
  } catch (err) {
    setStatus(`${name} failed: ${err.message}`, 'error');
    console.warn(err);
  } finally {
    busy.delete(name);
    refreshButtons();
  }
}

function wireTraining(lm) {
  $('train').onclick = () => {
    if (lm.running) lm.pause();
    else lm.start();
    refreshButtons();
  };
  $('new-model').onclick = () =>
    task('new', async () => {
      await lm.create($('size').value);
      resetCurve();
      setStatus(`new ${$('size').selectedOptions[0].text} model`);
    });
  $('temperature').oninput = () => ($('temperature-value').textContent = Number($('temperature').value).toFixed(2));
  $('generate').onclick = () =>
    task('generate', async () => {
      const out = $('sample'), prefix = $('prefix').value || '\n';
      out.innerHTML = '';
      const head = document.createElement('span');
      head.className = 'prefix';
      head.textContent = prefix;
      const body = document.createTextNode('');
      out.append(head, body);
      const options = {
        maxTokens: Math.max(1, Math.min(2000, Number($('length').value) || 300)),
        temperature: Number($('temperature').value),
        seed: Math.max(0, Math.floor(Number($('seed').value) || 0)),
      };
      let pieces = 0;
      const text = await lm.generate(prefix, options, (piece) => {
        pieces++;
        body.appendData(piece);
      });
      body.data = text; // the resolved text is the whole continuation
      demo.samples.push({ prefix, ...options, text, pieces });
    });
  $('save').onclick = () =>
    task('save', async () => {
      const bytes = await lm.save();
      await saveModel(SAVE_NAME, bytes, { steps: lm.steps, loss: demo.smoothed });
      demo.saved = { bytes: bytes.length, steps: lm.steps };
      $('save-status').textContent = `saved ${(bytes.length / 1024).toFixed(0)} KB after ${lm.steps} steps in IndexedDB (${new Date().toLocaleTimeString()})`;
    });
  $('load').onclick = () =>
    task('load', async () => {
      const rec = await loadModel(SAVE_NAME);
      if (!rec) {
        $('save-status').textContent = 'nothing saved in this browser yet';
        return;
      }
      const size = rec.bytes.length; // load() moves the bytes to the worker (this side's are emptied)
      await lm.load(rec.bytes);
      resetCurve();
      demo.loaded = { bytes: size, info: rec.info };
      const when = new Date(rec.savedAt).toLocaleString();
      $('save-status').textContent = `loaded the model saved ${when} (${rec.info.steps} steps, loss ${Number(rec.info.loss).toFixed(3)}); training continues from it`;
    });
  $('download').onclick = () =>
    task('save', async () => {
      const bytes = await lm.save();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      a.download = 'char-lm.safetensors';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    });
  $('open-button').onclick = () => $('open').click();
  $('open').onchange = () =>
    task('load', async () => {
      const file = $('open').files?.[0];
      if (!file) return;
      await lm.load(new Uint8Array(await file.arrayBuffer()));
      resetCurve();
      $('save-status').textContent = `loaded ${file.name}; training continues from it`;
    });
}

// --- The streaming panel. ---------------------------------------------------------------
function startForecast() {
  const chart = new LineChart($('forecast-chart'), {
    series: [
      { name: 'reading', color: '#555', width: 1.5 },
      { name: 'forecast', color: '#d9661f', width: 1.5 },
    ],
    yLabel: 'value',
  });
  const f = new StreamForecast({
    chart,
    onUpdate: (s) => {
      $('f-points').textContent = String(s.points);
      $('f-model').textContent = Number.isFinite(s.maeModel) ? s.maeModel.toFixed(3) : '–';
      $('f-persist').textContent = Number.isFinite(s.maePersistence) ? s.maePersistence.toFixed(3) : '–';
      $('f-ms').textContent = s.stepMs.toFixed(1);
    },
  });
  $('forecast-toggle').onclick = () => {
    if (f.running) f.pause();
    else f.start();
    $('forecast-toggle').textContent = f.running ? 'Pause' : 'Resume';
  };
  f.start();
  demo.forecast = f;
}

// --- Start-up. --------------------------------------------------------------------------
async function main() {
  renderBackend();
  const asked = { ...(wantBackend ? { backend: wantBackend } : {}), ...(wantThreads > 1 ? { threads: wantThreads } : {}) };
  const [page, worker, text] = await Promise.all([
    pageBackend(wantBackend, note),
    startWorker(asked, note),
    fetch('../data/moby-dick.txt').then((r) => {
      if (!r.ok) throw new Error(`../data/moby-dick.txt: HTTP ${r.status}`);
      return r.text();
    }),
  ]);
  demo.page = page;
  renderBackend();
  startForecast();
  if (!worker) {
    setStatus('Training needs a Web Worker that runs ES modules; it could not start here (see the backend panel). The forecaster still runs.', 'error');
    demo.status = document.body.dataset.status = 'ready';
    return;
  }
  demo.worker = await worker.info();
  renderBackend();
  const lm = new CharLM(worker, text, {
    onStep,
    onError: (err) => setStatus(`training stopped: ${err.message}`, 'error'),
    onState: (running) => {
      if (running) demo.longTasks.open();
      else demo.longTasks.close();
      refreshButtons();
    },
  });
  demo.lm = lm;
  wireTraining(lm);
  await lm.create('small');
  refreshButtons();
  const m = MODELS.small;
  setStatus(
    `Ready: ${text.length.toLocaleString('en')} characters (Moby Dick, chapters 1–20), ${lm.tokenizer.vocabSize} symbols. ` +
      `Model: ${m.cell.toUpperCase()} 1×${m.hiddenSize}, embedding ${m.embeddingDim}; batches of ${TRAINING.batchSize} × ${TRAINING.seqLen} characters, ` +
      `Adam lr ${TRAINING.lr}, gradient clip ${TRAINING.clipNorm}.`,
  );
  demo.status = document.body.dataset.status = 'ready';
}

main().catch((err) => {
  setStatus(`error: ${err.message}`, 'error');
  demo.status = document.body.dataset.status = 'error';
  demo.error = String(err?.stack ?? err);
  throw err;
});

/**
 * The page side, shared by index.html (live, in an AudioContext) and the test (offline, in an
 * OfflineAudioContext): compile the kernels and fetch the model on the main thread, load the
 * processor, and hand both to it over its port.
 */
import { simdSupported } from '../../dist/esm/index.js';

const here = (path) => new URL(path, import.meta.url);

/** Compiled once per page: the kernels (SIMD where the engine has it) and the model file. */
let assets;
function loadAssets() {
  assets ??= (async () => {
    const backend = simdSupported() ? 'wasm-simd' : 'wasm';
    const wasm = here(backend === 'wasm-simd' ? '../../build/wasm-rnn.simd.wasm' : '../../build/wasm-rnn.wasm');
    const [module, model] = await Promise.all([
      WebAssembly.compileStreaming(fetch(wasm)),
      fetch(here('./noise-gate.safetensors')).then((r) => {
        if (!r.ok) throw new Error(`noise-gate.safetensors: HTTP ${r.status} (run examples/audio-worklet/train.mjs first)`);
        return r.arrayBuffer();
      }),
    ]);
    return { backend, module, model };
  })();
  return assets;
}

/** An AudioWorkletNode running the noise gate in `context`, resolved once the processor is set up. */
export async function createNoiseGate(context) {
  const { backend, module, model } = await loadAssets();
  await context.audioWorklet.addModule(here('./processor.js'));
  const node = new AudioWorkletNode(context, 'noise-gate', {
    numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: 'explicit',
  });
  await new Promise((resolve, reject) => {
    node.port.onmessage = ({ data }) => (data.ready ? resolve() : reject(new Error(`noise-gate processor: ${data.error}`)));
    // The module is cloned (a compiled module is shared, not recompiled); the model bytes are copied.
    node.port.postMessage({ module, model: model.slice(0), backend });
  });
  node.port.onmessage = null;
  return node;
}

/** Renders `input` (mono samples) through the noise gate offline; resolves to the output samples. */
export async function renderOffline(input, sampleRate = 48000) {
  const context = new OfflineAudioContext(1, input.length, sampleRate);
  const buffer = context.createBuffer(1, input.length, sampleRate);
  buffer.copyToChannel(input, 0);
  const source = new AudioBufferSourceNode(context, { buffer });
  const gate = await createNoiseGate(context);
  source.connect(gate).connect(context.destination);
  source.start(0);
  const rendered = await context.startRendering();
  return rendered.getChannelData(0);
}

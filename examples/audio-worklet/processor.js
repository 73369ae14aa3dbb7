/**
 * The AudioWorklet side: an AudioWorkletProcessor named 'noise-gate'. An AudioWorkletGlobalScope
 * cannot fetch, has no TextDecoder and runs process() on the audio thread, so the page sends what
 * it needs over the port — the compiled kernels (a WebAssembly.Module, structured-cloneable) and
 * the model file's bytes — and the processor sets up synchronously: initSync(module), load(bytes).
 * From then on each render quantum is one GRU step (noise-gate.js) with buffers allocated once.
 *
 * Loaded with `audioWorklet.addModule('…/processor.js')`; its imports are static (a worklet
 * refuses import()). From an installed package, import '…/node_modules/wasm-rnn/dist/esm/index.js'.
 */
import { initSync, load } from '../../dist/esm/index.js';
import { NoiseGate } from './noise-gate.js';

class NoiseGateProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.gate = null;
    this.bypass = false;
    /** Stands in for a missing input (not connected yet, or its source stopped): the gate keeps stepping. */
    this.silence = new Float32Array(128);
    this.port.onmessage = ({ data }) => {
      if (data.bypass !== undefined) this.bypass = data.bypass;
      if (data.module === undefined) return;
      try {
        initSync(data.module, { backend: data.backend });
        this.gate = new NoiseGate(load(new Uint8Array(data.model)));
        this.port.postMessage({ ready: true });
      } catch (err) {
        this.port.postMessage({ error: String(err && err.message ? err.message : err) });
      }
    };
  }

  process(inputs, outputs) {
    const output = outputs[0][0];
    const input = inputs[0].length > 0 ? inputs[0][0] : this.silence;
    if (this.gate === null) output.fill(0);
    else if (this.bypass) output.set(input);
    else this.gate.process(input, output);
    return true;
  }
}

registerProcessor('noise-gate', NoiseGateProcessor);

/** What the CLI's commands share: choosing the backend and reading a saved language model. */
import { LanguageModel, getBackend, loadFile, ready, setBackend, type BackendName } from '../index.js';
import { UsageError } from './args.js';

/** Instantiates the kernels: the default backend (wasm-simd where supported), or the one named. */
export async function useBackend(name: string | undefined): Promise<BackendName> {
  await ready();
  if (name !== undefined) await setBackend(name as BackendName);
  return getBackend();
}

/** A LanguageModel saved by `wasm-rnn train` (or save()/saveFile() of one). */
export async function loadLanguageModel(cmd: string, path: string): Promise<LanguageModel> {
  let model;
  try {
    model = await loadFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES') {
      throw new UsageError(`wasm-rnn ${cmd}: cannot read '${path}': ${err.code}`);
    }
    throw new Error(`wasm-rnn ${cmd}: '${path}' is not a model file this version reads: ${err.message}`);
  }
  if (!(model instanceof LanguageModel)) {
    const name = model.constructor.name;
    model.dispose();
    throw new UsageError(`wasm-rnn ${cmd}: '${path}' holds a ${name}, not a LanguageModel`);
  }
  return model;
}

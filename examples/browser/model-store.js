/**
 * Saved models in the browser's IndexedDB: the bytes save() wrote (safetensors, tokenizer
 * included) under a name, with a note of when and how far it was trained. IndexedDB keeps
 * binary data as it is and holds far more than localStorage; one object store, one record
 * per name.
 */
const DB = 'wasm-rnn-demo';
const STORE = 'models';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error(`IndexedDB: could not open ${DB}`));
    req.onblocked = () => reject(new Error(`IndexedDB: ${DB} is held open by an older tab`));
  });
}

/** Runs one request in a transaction and resolves once the transaction has committed. */
async function run(mode, request) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = request(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? req.error ?? new Error('IndexedDB: the transaction failed'));
    });
  } finally {
    db.close();
  }
}

/** Stores `bytes` (a Uint8Array) under `name` with `info` (a plain object). */
export function saveModel(name, bytes, info = {}) {
  return run('readwrite', (s) => s.put({ bytes, info, savedAt: Date.now() }, name));
}

/** The record saved under `name` ({ bytes, info, savedAt }), or undefined. */
export function loadModel(name) {
  return run('readonly', (s) => s.get(name));
}

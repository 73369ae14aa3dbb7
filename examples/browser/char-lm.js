/**
 * The character language model of the demo, as the page drives it: the text is tokenized and
 * cut into batches here (cheap), the model lives in a Web Worker (wasm-rnn/worker), and
 * training runs there in slices of at most SLICE_SECONDS — one fit() call each, the Adam state
 * kept between calls — so the page stays free, "pause" is simply not sending the next slice,
 * and a generate or save request waits at most one slice.
 */
import { CharTokenizer, lmBatches } from '../../dist/esm/index.js';

/** The models the page offers (LSTM 1×128 learns fastest per second; 1×256 ends lower). */
export const MODELS = {
  small: { cell: 'lstm', embeddingDim: 32, hiddenSize: 128 },
  large: { cell: 'lstm', embeddingDim: 64, hiddenSize: 256 },
};
export const TRAINING = { batchSize: 16, seqLen: 32, lr: 0.01, clipNorm: 1 };
const SLICE_SECONDS = 0.25;
const SLICE_BATCHES = 32; // more than a slice gets through: maxSeconds ends it

export class CharLM {
  /**
   * @param {object} worker what spawnWorker() resolved to
   * @param {string} text the training text
   * @param {{ onStep?: (s: object) => void, onState?: (running: boolean) => void, onError?: (err: Error) => void }} [events]
   */
  constructor(worker, text, events = {}) {
    this.worker = worker;
    this.tokenizer = new CharTokenizer().fit(text);
    this.ids = this.tokenizer.encode(text);
    this.events = events;
    this.model = null;
    this.running = false;
    this.loop = null;
    this.epoch = 0;
    this.batches = this.batchesOf(0);
    this.cursor = 0;
    this.steps = 0; // optimizer steps since the model was made or loaded
    this.tokens = 0;
    this.trainSeconds = 0;
  }

  batchesOf(epoch) {
    return lmBatches(this.ids, { batchSize: TRAINING.batchSize, seqLen: TRAINING.seqLen, mode: 'sequential', seed: 0, epoch });
  }

  /** A fresh model of `size` (a key of MODELS) with the page's tokenizer. */
  async create(size, seed = 0) {
    await this.pause();
    const model = await this.worker.create('LanguageModel', { ...MODELS[size], tokenizer: this.tokenizer.toJSON(), seed });
    await this.replace(model);
  }

  /** A model from save()'s bytes (its tokenizer comes with it); training goes on with a fresh Adam. */
  async load(bytes) {
    await this.pause();
    await this.replace(await this.worker.load(bytes));
  }

  async replace(model) {
    await model.setOptimizer('adam', { lr: TRAINING.lr });
    const old = this.model;
    this.model = model;
    this.steps = this.tokens = this.trainSeconds = 0;
    this.epoch = this.cursor = 0;
    this.batches = this.batchesOf(0);
    await old?.dispose();
  }

  start() {
    if (this.running || !this.model) return;
    this.running = true;
    this.events.onState?.(true);
    // A failed slice (a model file of another vocabulary, diverged weights) ends training with its error.
    this.loop = this.train().catch((err) => this.events.onError?.(err)).finally(() => {
      this.running = false;
      this.loop = null;
      this.events.onState?.(false);
    });
  }

  /** Stops after the slice in flight; resolves once it has ended. */
  async pause() {
    this.running = false;
    await this.loop?.catch(() => {});
  }

  async train() {
    while (this.running) {
      if (this.cursor >= this.batches.length) {
        this.batches = this.batchesOf(++this.epoch);
        this.cursor = 0;
      }
      const slice = this.batches.slice(this.cursor, this.cursor + SLICE_BATCHES);
      const t0 = performance.now();
      const r = await this.model.fit(
        { train: slice, epochs: 1, maxSeconds: SLICE_SECONDS, clipNorm: TRAINING.clipNorm },
        {
          onStep: (info) => {
            this.steps++;
            this.tokens += slice[0].T * slice[0].B;
            this.events.onStep?.({ step: this.steps, loss: info.loss, tokens: this.tokens, epoch: this.epoch });
          },
        },
      );
      this.cursor += r.steps;
      this.trainSeconds += (performance.now() - t0) / 1000;
    }
  }

  /** Streams a sample: `onPiece(text)` for each decoded piece; resolves with the whole text. */
  generate(prefix, options, onPiece) {
    return this.model.generate(prefix, options, onPiece);
  }

  save() {
    return this.model.save();
  }
}

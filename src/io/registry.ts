/**
 * The classes load() can build from a file: each name (the class's own) maps to a function of
 * its getConfig() that constructs it. Built-in layers and models are registered here; a user's
 * own Module subclass can be registered with registerModel, or loaded with `{ into: model }`.
 */
import { Dropout, ReLU, Sigmoid, Softmax, Tanh } from '../layers/activations.js';
import { Embedding } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { FinalHidden, LastStep, MaxPool, MeanPool } from '../layers/pooling.js';
import { GRU, LSTM, RNN } from '../layers/rnn.js';
import { Sequential } from '../layers/sequential.js';
import { Forecaster } from '../models/forecaster.js';
import { LanguageModel } from '../models/language-model.js';
import { SequenceClassifier } from '../models/sequence-classifier.js';
import { Seq2Seq } from '../models/seq2seq.js';
import { AdditiveAttention } from '../models/attention.js';
import { typeName } from '../tensor.js';

export type ModelFactory = (config: Record<string, unknown>) => Module;

type Config = Record<string, unknown>;
const num = (c: Config, k: string): number => c[k] as number;

const factories = new Map<string, ModelFactory>([
  ['LSTM', (c) => new LSTM(c as never)],
  ['GRU', (c) => new GRU(c as never)],
  ['RNN', (c) => new RNN(c as never)],
  ['Linear', (c) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), { bias: c.bias as boolean })],
  ['Embedding', (c) => new Embedding(num(c, 'numEmbeddings'), num(c, 'embeddingDim'))],
  ['Sequential', (c) => {
    const layers = c.layers;
    if (!Array.isArray(layers)) throw new TypeError(`Sequential: config.layers must be an array, got ${typeName(layers)}`);
    return new Sequential(...layers.map((l: { class: string; config: Config }, i) => {
      if (l === null || typeof l !== 'object') throw new TypeError(`Sequential: config.layers[${i}] must be {class, config}, got ${typeName(l)}`);
      return buildModel(l.class, l.config);
    }));
  }],
  ['LastStep', (c) => new LastStep(c as never)],
  ['MeanPool', (c) => new MeanPool(c as never)],
  ['MaxPool', (c) => new MaxPool(c as never)],
  ['FinalHidden', () => new FinalHidden()],
  ['ReLU', () => new ReLU()],
  ['Tanh', () => new Tanh()],
  ['Sigmoid', () => new Sigmoid()],
  ['Softmax', (c) => new Softmax(c as never)],
  ['Dropout', (c) => new Dropout(num(c, 'p'))],
  ['LanguageModel', (c) => new LanguageModel(c as never)],
  ['Forecaster', (c) => new Forecaster(c as never)],
  ['SequenceClassifier', (c) => new SequenceClassifier(c as never)],
  ['Seq2Seq', (c) => new Seq2Seq(c as never)],
  ['AdditiveAttention', (c) => new AdditiveAttention(num(c, 'querySize'), num(c, 'keySize'), { attentionSize: num(c, 'attentionSize') })],
]);

/** Lets load() build `name` (a Module subclass's name, as save() records it) from its getConfig(). */
export function registerModel(name: string, factory: ModelFactory): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`registerModel: name must be a non-empty string, got ${typeName(name)}`);
  if (typeof factory !== 'function') throw new TypeError(`registerModel: factory must be a function of the config, got ${typeName(factory)}`);
  factories.set(name, factory);
}

/** Builds a registered class from its configuration, for load() (its constructor validates the configuration). */
export function buildModel(name: unknown, config: unknown): Module {
  return construct('load', name, config, `the file holds a ${quoted(name)}, which is not a class load() knows; pass { into: new YourModel(...) } or registerModel(name, factory) first`);
}

/**
 * A new model of a registered class (a built-in layer or model, or one given to registerModel)
 * from its configuration: what getConfig() returns, for most classes their constructor's
 * options (Linear: { inFeatures, outFeatures, bias }; Sequential: { layers: [{ class, config }] }).
 * `fn` names the caller in errors.
 */
export function createModel(name: string, config: Record<string, unknown> = {}, fn = 'createModel'): Module {
  if (typeof name !== 'string') throw new TypeError(`${fn}: name must be a class name (a string), got ${typeName(name)}`);
  return construct(fn, name, config, `${quoted(name)} is not a registered class (known: ${[...factories.keys()].join(', ')}); registerModel(name, factory) registers your own`);
}

const quoted = (name: unknown): string => (typeof name === 'string' ? `'${name}'` : typeName(name));

function construct(fn: string, name: unknown, config: unknown, unknownClass: string): Module {
  const factory = typeof name === 'string' ? factories.get(name) : undefined;
  if (!factory) throw new TypeError(`${fn}: ${unknownClass}`);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError(`${fn}: the configuration of '${name}' must be an object, got ${typeName(config)}`);
  }
  const m = factory(config as Config);
  if (!(m instanceof Module)) throw new TypeError(`${fn}: the factory of '${name}' returned ${typeName(m)}, not a Module`);
  return m;
}

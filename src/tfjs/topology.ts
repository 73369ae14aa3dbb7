/**
 * A Layers model's topology (`model.json`'s `modelTopology`, as `model.save` or the Python
 * converter write it) as the chain of layers it describes: a `Sequential` model's layers, or a
 * functional `Model` whose layers form one chain from its single input to its single output.
 */
import { KerasConfig } from './config.js';
import { TfjsError, isObject, q, show } from './errors.js';

/** At most this many layers in a model (an RNN model has a handful; each becomes at most four modules of ours). */
export const MAX_LAYERS = 4096;

export interface KerasLayer {
  readonly className: string;
  readonly name: string;
  /** `layer 'lstm_1' (LSTM)`: how messages name it. */
  readonly label: string;
  readonly config: KerasConfig;
}

export interface Topology {
  /** The model's name, if it has one. */
  readonly name: string | undefined;
  /** `keras_version` as written ('2.15.0', '3.3.3', 'tfjs-layers 4.22.0'), if any. */
  readonly kerasVersion: string | undefined;
  readonly layers: readonly KerasLayer[];
}

const fail = (message: string): never => {
  throw new TfjsError(`importTfjs: ${message}`);
};

export function readTopology(raw: unknown): Topology {
  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
    fail('modelTopology is binary (a graph model\'s GraphDef); importTfjs reads Layers models (model.json with format \'layers-model\')');
  }
  if (!isObject(raw)) fail(`modelTopology must be a Keras model object {class_name, config}, got ${show(raw)}`);
  let t = raw as Record<string, unknown>;
  let kerasVersion = typeof t.keras_version === 'string' ? t.keras_version : undefined;
  // The converter's Keras HDF5 path nests the model: {keras_version, backend, model_config, training_config}.
  if (isObject(t.model_config)) {
    t = t.model_config;
    if (typeof t.keras_version === 'string') kerasVersion = t.keras_version;
  }
  if ('node' in t || 'versions' in t) fail('modelTopology is a graph (a graph model); importTfjs reads Layers models');
  const cls = t.class_name ?? t.className;
  const config = t.config;
  if (cls === 'Sequential') {
    const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(layers)) fail(`modelTopology.config.layers must be an array of layers, got ${show(layers)}`);
    const name = isObject(config) && typeof config.name === 'string' ? config.name : undefined;
    return { name, kerasVersion, layers: sequentialLayers(layers as unknown[]) };
  }
  if (cls === 'Model' || cls === 'Functional') {
    if (!isObject(config)) fail(`modelTopology.config must be an object, got ${show(config)}`);
    const c = config as Record<string, unknown>;
    return { name: typeof c.name === 'string' ? c.name : undefined, kerasVersion, layers: chainLayers(c) };
  }
  return fail(`modelTopology.class_name ${show(cls)} is not supported (supported: 'Sequential', and a functional 'Model' whose layers form a chain)`);
}

function layerOf(entry: unknown, at: string): KerasLayer & { raw: Record<string, unknown> } {
  if (!isObject(entry)) fail(`${at} must be a layer object {class_name, config}, got ${show(entry)}`);
  const e = entry as Record<string, unknown>;
  const className = e.class_name ?? e.className;
  if (typeof className !== 'string' || className.length === 0) fail(`${at}.class_name must be a string, got ${show(className)}`);
  const cfgName = isObject(e.config) ? e.config.name : undefined;
  const name = typeof cfgName === 'string' ? cfgName : typeof e.name === 'string' ? e.name : undefined;
  if (name === undefined || name.length === 0) fail(`${at} (${className}) has no name`);
  const label = `layer ${q(name as string)} (${className as string})`;
  return { className: className as string, name: name as string, label, config: new KerasConfig(e.config, label), raw: e };
}

function checkCount(n: number): void {
  if (n === 0) fail('the model has no layers');
  if (n > MAX_LAYERS) fail(`the model has ${n} layers, more than ${MAX_LAYERS}`);
}

function sequentialLayers(entries: unknown[]): KerasLayer[] {
  checkCount(entries.length);
  const names = new Set<string>();
  return entries.map((e, i) => {
    const l = layerOf(e, `modelTopology.config.layers[${i}]`);
    if (names.has(l.name)) fail(`${l.label}: two layers are named ${q(l.name)}`);
    names.add(l.name);
    return { className: l.className, name: l.name, label: l.label, config: l.config };
  });
}

/** A functional model's layers in order, when they form one chain from its input to its output. */
function chainLayers(c: Record<string, unknown>): KerasLayer[] {
  const entries = c.layers;
  if (!Array.isArray(entries)) fail(`modelTopology.config.layers must be an array of layers, got ${show(entries)}`);
  checkCount((entries as unknown[]).length);
  const byName = new Map<string, KerasLayer>();
  const source = new Map<string, string | null>();
  (entries as unknown[]).forEach((e, i) => {
    const l = layerOf(e, `modelTopology.config.layers[${i}]`);
    if (byName.has(l.name)) fail(`${l.label}: two layers are named ${q(l.name)}`);
    byName.set(l.name, { className: l.className, name: l.name, label: l.label, config: l.config });
    source.set(l.name, inbound(l.raw.inbound_nodes ?? l.raw.inboundNodes, l.label));
  });
  const input = endpoint(c.input_layers ?? c.inputLayers, 'input_layers');
  const output = endpoint(c.output_layers ?? c.outputLayers, 'output_layers');
  for (const name of [input, output]) if (!byName.has(name)) fail(`the model's input or output layer ${q(name)} is not among its layers`);
  const consumers = new Map<string, string[]>();
  for (const [name, src] of source) {
    if (src === null) {
      if (name !== input) fail(`${(byName.get(name) as KerasLayer).label} has no input, but the model's input is ${q(input)} (only chains of layers are supported)`);
      continue;
    }
    if (!byName.has(src)) fail(`${(byName.get(name) as KerasLayer).label} takes its input from ${q(src)}, which is not a layer of the model`);
    const list = consumers.get(src);
    if (list) list.push(name);
    else consumers.set(src, [name]);
  }
  if (source.get(input) !== null) fail(`the model's input layer ${q(input)} takes an input itself`);
  const order: KerasLayer[] = [];
  let cur: string | undefined = input;
  while (cur !== undefined) {
    order.push(byName.get(cur) as KerasLayer);
    const next: string[] = consumers.get(cur) ?? [];
    if (next.length > 1) {
      const some = next.slice(0, 4).map(q).join(', ') + (next.length > 4 ? ', …' : '');
      fail(`${(byName.get(cur) as KerasLayer).label} feeds ${next.length} layers (${some}); only chains of layers are supported`);
    }
    cur = next[0];
    if (order.length > byName.size) fail('the layers form a cycle');
  }
  const last = order[order.length - 1];
  if (last.name !== output) fail(`the chain from the input ends at ${last.label}, not at the model's output ${q(output)}`);
  if (order.length !== byName.size) {
    const on = new Set(order.map((l) => l.name));
    const off = [...byName.keys()].filter((n) => !on.has(n));
    fail(`layers ${off.slice(0, 4).map(q).join(', ')}${off.length > 4 ? `, … (${off.length})` : ''} are not on the chain from the model's input to its output`);
  }
  return order;
}

/** The one layer name in `input_layers` / `output_layers`: [[name, 0, 0]] (or Keras 3's [name, 0, 0]). */
function endpoint(v: unknown, key: string): string {
  let list = v;
  if (Array.isArray(list) && typeof list[0] === 'string') list = [list];
  if (!Array.isArray(list) || list.length !== 1 || !Array.isArray(list[0]) || typeof list[0][0] !== 'string') {
    return fail(`modelTopology.config.${key} must name exactly one layer ([[name, 0, 0]]), got ${show(v)} (models with several inputs or outputs are not supported)`);
  }
  const [name, node, tensor] = list[0] as unknown[];
  if ((node ?? 0) !== 0 || (tensor ?? 0) !== 0) fail(`modelTopology.config.${key}: ${show(list[0])} uses a layer's second node or output, which is not supported`);
  return name as string;
}

/** The name of the one layer a layer takes its input from (null: none, the InputLayer). */
function inbound(v: unknown, label: string): string | null {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return null;
  if (!Array.isArray(v)) return fail(`${label}: inbound_nodes must be an array, got ${show(v)}`);
  if (v.length !== 1) fail(`${label} is called ${v.length} times (a shared layer); only chains of layers are supported`);
  const node = v[0];
  let refs: unknown[];
  let kwargs: unknown;
  if (Array.isArray(node)) {
    // Keras 2 / TF.js: [[name, nodeIndex, tensorIndex, kwargs], …]
    refs = node.map((r) => (Array.isArray(r) ? r.slice(0, 3) : r));
    kwargs = Array.isArray(node[0]) ? node[0][3] : undefined;
  } else if (isObject(node) && Array.isArray(node.args)) {
    // Keras 3: {args: [{class_name: '__keras_tensor__', config: {keras_history: [name, n, t]}}], kwargs}
    refs = node.args.map((a) => (isObject(a) && isObject(a.config) ? a.config.keras_history : a));
    kwargs = node.kwargs;
  } else {
    return fail(`${label}: inbound_nodes[0] must list the layer's inputs, got ${show(node)}`);
  }
  if (refs.length !== 1) fail(`${label} takes ${refs.length} inputs; only layers with one input are supported`);
  const r = refs[0];
  if (!Array.isArray(r) || typeof r[0] !== 'string') return fail(`${label}: inbound_nodes[0] must name a layer ([name, 0, 0]), got ${show(r)}`);
  if ((r[1] ?? 0) !== 0 || (r[2] ?? 0) !== 0) fail(`${label} takes output ${show(r.slice(0, 3))} of another layer; only a layer's first output is supported`);
  if (isObject(kwargs)) {
    for (const [k, val] of Object.entries(kwargs)) {
      if ((k === 'training' || k === 'mask') && (val === null || val === false || val === undefined)) continue;
      fail(`${label} is called with ${k}=${show(val)}, which is not supported`);
    }
  }
  return r[0];
}

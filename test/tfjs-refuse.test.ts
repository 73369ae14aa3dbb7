/**
 * What importTfjs refuses, and how it says so: every unsupported layer or option names the layer
 * (class and name) and the option; broken artifacts (topology, manifest, weight data) are
 * refused before anything is allocated; predict() checks its input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryInfo, ready } from '../src/index.js';
import { importTfjs, TfjsError, type TfjsArtifacts } from '../src/tfjs/index.js';
import { halfToFloat } from '../src/tfjs/weights.js';
import { floatToHalf, mapWeights, saveArtifacts, sequential, tf, topologyLayers, type Artifacts, type Spec } from './tfjs-build.js';

const T = 5, I = 3;
type Layer = { class_name: string; config: Record<string, unknown>; [k: string]: unknown };

let lstmModel: Artifacts, biModel: Artifacts, embModel: Artifacts, funcModel: Artifacts, gruModel: Artifacts, tdModel: Artifacts;

beforeAll(async () => {
  await ready();
  const save = async (layers: tf.layers.Layer[]): Promise<Artifacts> => {
    const m = sequential(layers, 3);
    const a = await saveArtifacts(m);
    m.dispose();
    return a;
  };
  lstmModel = await save([tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] }), tf.layers.dense({ units: 2 })]);
  biModel = await save([tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid' }) as tf.RNN, inputShape: [T, I] })]);
  embModel = await save([tf.layers.embedding({ inputDim: 6, outputDim: 3, inputLength: T }), tf.layers.simpleRNN({ units: 2 })]);
  gruModel = await save([tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid', inputShape: [T, I] })]);
  tdModel = await save([tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] }), tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) })]);
  const inp = tf.input({ shape: [T, I], name: 'x' });
  const mid = tf.layers.simpleRNN({ units: 3, returnSequences: true, name: 'rnn' }).apply(inp) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'head' }).apply(mid) as tf.SymbolicTensor;
  const fm = tf.model({ inputs: inp, outputs: out });
  funcModel = await saveArtifacts(fm);
  fm.dispose();
}, 60_000);

function copy(a: Artifacts): Artifacts {
  return { ...a, modelTopology: JSON.parse(JSON.stringify(a.modelTopology)), weightSpecs: JSON.parse(JSON.stringify(a.weightSpecs)) };
}

/** A copy whose layer k config (or the whole topology) `fn` edits. */
function edit(a: Artifacts, fn: (layers: Layer[], topology: Record<string, unknown>) => void): Artifacts {
  const c = copy(a);
  fn(topologyLayers(c) as Layer[], c.modelTopology as Record<string, unknown>);
  return c;
}

function importError(a: unknown): TfjsError {
  let m;
  try {
    m = importTfjs(a as TfjsArtifacts);
  } catch (err) {
    expect(err).toBeInstanceOf(TfjsError);
    expect((err as Error).message).toMatch(/^importTfjs: /);
    return err as TfjsError;
  }
  m.dispose();
  throw new Error('importTfjs accepted the artifacts');
}

const lstmName = (): string => topologyLayers(lstmModel)[0].config.name as string;

describe('importTfjs refuses unsupported layers and options, naming the layer and the option', () => {
  it('a layer class, listing the supported ones', () => {
    const err = importError(edit(lstmModel, (l) => {
      l[1].class_name = 'Conv1D';
    }));
    expect(err.message).toMatch(/^importTfjs: layer 'dense_Dense\d+' \(Conv1D\): class 'Conv1D' is not supported \(supported: Activation, Bidirectional, Dense, Dropout, Embedding, GRU, InputLayer, LSTM, SimpleRNN, TimeDistributed\)$/);
    expect(err.layer).toMatch(/^layer 'dense_Dense\d+' \(Conv1D\)$/);
  });

  it('an unknown option, by its key (camelCase keys read as snake_case; both at once refused)', () => {
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.peephole_connections = true;
    })).message).toBe(`importTfjs: layer '${lstmName()}' (LSTM): option 'peephole_connections' is not supported`);
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.returnSequences = true;
    })).message).toMatch(/option 'return_sequences' is given twice \(as 'returnSequences' too\)/);
  });

  it.each([
    ['return_state', true, /return_state=true is not supported \(predict returns one tensor\)/],
    ['stateful', true, /stateful=true is not supported \(state is not carried between predict calls\)/],
    ['time_major', true, /time_major=true is not supported/],
    ['activation', 'relu', /activation 'relu' is not supported \(supported: 'tanh'\)/],
    ['recurrent_activation', 'relu', /recurrent_activation 'relu' is not supported \(supported: 'sigmoid', 'hard_sigmoid'\)/],
    ['recurrent_activation', { class_name: 'Swish', config: {} }, /recurrent_activation \{"class_name":"Swish","config":\{\}\} is not supported/],
    ['dtype', 'float16', /dtype 'float16' is not supported \(supported: 'float32'\)/],
    ['units', -4, /units must be a positive integer, got -4/],
    ['units', '4', /units must be a positive integer, got '4'/],
    ['return_sequences', 'yes', /return_sequences must be true or false, got 'yes'/],
    ['units', 5, /weight 'lstm_LSTM\d+\/kernel' has shape \[3, 16\], expected \[input features, 4·units = 20\]/],
  ])('LSTM %s = %j', (key, value, re) => {
    const err = importError(edit(lstmModel, (l) => {
      l[0].config[key] = value;
    }));
    expect(err.message).toMatch(new RegExp(`^importTfjs: layer '${lstmName()}' \\(LSTM\\): `));
    expect(err.message).toMatch(re);
  });

  it("Keras 3's hard_sigmoid (relu6(x + 3) / 6, not TF.js's clip(0.2·x + 0.5))", () => {
    const err = importError(edit(lstmModel, (l, t) => {
      l[0].config.recurrent_activation = 'hard_sigmoid';
      t.keras_version = '3.3.3';
    }));
    expect(err.message).toMatch(/recurrent_activation 'hard_sigmoid' of Keras 3\.3\.3 \(relu6\(x \+ 3\) \/ 6\) is not supported/);
  });

  it('SimpleRNN activations other than tanh, relu, sigmoid', () => {
    expect(importError(edit(embModel, (l) => {
      l[1].config.activation = 'linear';
    })).message).toMatch(/layer 'simple_rnn_SimpleRNN\d+' \(SimpleRNN\): activation 'linear' is not supported \(supported: 'tanh', 'relu', 'sigmoid'\)/);
  });

  it('GRU reset_after against its bias shape', () => {
    expect(importError(edit(gruModel, (l) => {
      l[0].config.reset_after = true;
    })).message).toMatch(/\(GRU\): weight 'gru_GRU\d+\/bias' has shape \[6\], expected \[2, 3·units\] = \[2, 6\] \(reset_after=true: input and recurrent biases\)/);
    const two = mapWeights(gruModel, (spec, v) => (spec.name.endsWith('/bias') ? [{ spec: { ...spec, shape: [2, 6] }, values: new Float32Array(12) }] : [{ spec, values: v }]));
    expect(importError(two).message).toMatch(/\(GRU\): weight 'gru_GRU\d+\/bias' has shape \[2, 6\], expected \[3·units\] = \[6\]/);
    expect(importError(edit(gruModel, (l) => {
      l[0].config.reset_after = 'maybe';
    })).message).toMatch(/reset_after must be true or false, got 'maybe'/);
  });

  it('Embedding with mask_zero, or not first', () => {
    expect(importError(edit(embModel, (l) => {
      l[0].config.mask_zero = true;
    })).message).toMatch(/\(Embedding\): mask_zero=true is not supported \(masking is not supported\)/);
    const twice = edit(embModel, (l) => {
      l.splice(1, 0, JSON.parse(JSON.stringify({ ...l[0], config: { ...l[0].config, name: 'emb2' } })));
    });
    const w = mapWeights(twice, (spec, v) => (spec.name.startsWith('embedding') ? [{ spec, values: v }, { spec: { ...spec, name: 'emb2/embeddings' }, values: v }] : [{ spec, values: v }]));
    expect(importError(w).message).toMatch(/layer 'emb2' \(Embedding\): an Embedding must be the first layer of the model/);
    expect(importError(edit(embModel, (l) => {
      l[0].config.input_dim = 7;
    })).message).toMatch(/weight 'embedding_Embedding\d+\/embeddings' has shape \[6, 3\], expected \[input_dim, output_dim\] = \[7, 3\]/);
  });

  it('Dense: an activation, a bias against use_bias, a kernel that does not fit the layer before', () => {
    expect(importError(edit(lstmModel, (l) => {
      l[1].config.activation = 'elu';
    })).message).toMatch(/\(Dense\): activation 'elu' is not supported \(supported: 'linear', 'relu', 'tanh', 'sigmoid', 'softmax'\)/);
    expect(importError(edit(lstmModel, (l) => {
      l[1].config.use_bias = false;
    })).message).toMatch(/\(Dense\): it has a bias weight, but use_bias is false/);
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.units = 3;
    }))).toBeInstanceOf(TfjsError);
    const wide = mapWeights(lstmModel, (spec, v) => (spec.name.startsWith('dense') && spec.name.endsWith('kernel') ? [{ spec: { ...spec, shape: [5, 2] }, values: new Float32Array(10) }] : [{ spec, values: v }]));
    expect(importError(wide).message).toMatch(/\(Dense\): it takes 5 features \(kernel \[5, 2\]\), but layer 'lstm_LSTM\d+' \(LSTM\) gives 4/);
  });

  it('a recurrent layer after one that returns only its last step', () => {
    const a = edit(lstmModel, (l) => {
      l[0].config.return_sequences = false;
      l[1] = { class_name: 'SimpleRNN', config: { name: 'rnn2', units: 2, return_sequences: false } };
    });
    const w = mapWeights(a, (spec, v) => {
      if (!spec.name.startsWith('dense')) return [{ spec, values: v }];
      if (spec.name.endsWith('bias')) return [{ spec: { ...spec, name: 'rnn2/bias' }, values: v }, { spec: { name: 'rnn2/recurrent_kernel', shape: [2, 2], dtype: 'float32' }, values: new Float32Array(4) }];
      return [{ spec: { ...spec, name: 'rnn2/kernel', shape: [4, 2] }, values: v }];
    });
    expect(importError(w).message).toMatch(/layer 'rnn2' \(SimpleRNN\): it needs a sequence \[batch, time, features\], but layer 'lstm_LSTM\d+' \(LSTM\) gives \[batch, features\] \(return_sequences=false\)/);
  });

  it('a declared input shape that does not fit the first layer', () => {
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.batch_input_shape = [null, T, I + 1];
    })).message).toMatch(/\(LSTM\): the model's declared input shape \[null,5,4\] does not fit kernel \[3, 16\]/);
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.batch_input_shape = [null, 'T', I];
    })).message).toMatch(/batch_input_shape must be a list of sizes \(null for any\), got \[null,"T",3\]/);
  });

  it('TimeDistributed around anything but Dense', () => {
    expect(importError(edit(tdModel, (l) => {
      (l[1].config.layer as Layer).class_name = 'Conv1D';
    })).message).toMatch(/\(TimeDistributed\) wrapping 'dense_Dense\d+' \(Conv1D\): TimeDistributed is supported around a Dense layer only, not 'Conv1D'/);
    expect(importError(edit(tdModel, (l) => {
      l[1].config.layer = 'dense';
    })).message).toMatch(/\(TimeDistributed\): layer must be a layer \{class_name, config\}, got 'dense'/);
  });

  it('Bidirectional: merge modes, wrapped classes, backward layers unlike the forward one', () => {
    const bi = (fn: (c: Record<string, unknown>) => void): TfjsError => importError(edit(biModel, (l) => fn(l[0].config)));
    expect(bi((c) => (c.merge_mode = null)).message).toMatch(/\(Bidirectional\): merge_mode=null \(the two directions as two outputs\) is not supported/);
    expect(bi((c) => (c.merge_mode = 'max')).message).toMatch(/merge_mode 'max' is not supported \(supported: 'concat', 'sum', 'ave', 'mul'\)/);
    expect(bi((c) => ((c.layer as Layer).class_name = 'Dense')).message).toMatch(/wrapping 'lstm_LSTM\d+' \(Dense\): Bidirectional is supported around SimpleRNN, LSTM and GRU, not 'Dense'/);
    expect(bi((c) => (c.num_constants = 1)).message).toMatch(/num_constants=1 is not supported/);
    expect(bi((c) => ((c.layer as Layer).config.return_state = true)).message).toMatch(/wrapping 'lstm_LSTM\d+' \(LSTM\): return_state=true is not supported/);
    const withBackward = (fn: (b: Record<string, unknown>) => void): TfjsError => bi((c) => {
      const b = JSON.parse(JSON.stringify(c.layer)) as Layer;
      b.config.go_backwards = true;
      b.config.name = 'back';
      fn(b.config);
      c.backward_layer = b;
    });
    expect(withBackward((b) => (b.units = 3)).message).toMatch(/wrapping 'back' \(LSTM\): it differs from the forward layer in units \(3 vs 2\); our bidirectional layers share one configuration/);
    expect(withBackward((b) => (b.go_backwards = false)).message).toMatch(/go_backwards must be the opposite of the forward layer's/);
    expect(withBackward((b) => (b.recurrent_activation = 'hard_sigmoid')).message).toMatch(/its activations differ from the forward layer's/);
  });

  it('Dropout rate 1, Activation elu, InputLayer sparse', () => {
    expect(importError(edit(lstmModel, (l) => {
      l.splice(1, 0, { class_name: 'Dropout', config: { name: 'drop', rate: 1 } });
    })).message).toMatch(/layer 'drop' \(Dropout\): rate must be in \[0, 1\), got 1/);
    expect(importError(edit(lstmModel, (l) => {
      l.push({ class_name: 'Activation', config: { name: 'act', activation: 'elu' } });
    })).message).toMatch(/layer 'act' \(Activation\): activation 'elu' is not supported/);
    expect(importError(edit(funcModel, (l) => {
      l[0].config.sparse = true;
    })).message).toMatch(/layer 'x' \(InputLayer\): sparse=true is not supported/);
  });
});

describe('importTfjs refuses broken topologies', () => {
  it.each([
    [null, /artifacts must be an object \{modelTopology, weightSpecs, weightData\}, got null/],
    [{ weightSpecs: [] }, /^importTfjs: artifacts\.modelTopology is missing \(the Keras model: \{class_name, config\}\)$/],
    [{ modelTopology: new ArrayBuffer(8) }, /modelTopology is binary \(a graph model's GraphDef\)/],
    [{ modelTopology: { node: [], versions: {} } }, /modelTopology is a graph \(a graph model\)/],
    [{ modelTopology: {}, format: 'graph-model' }, /format 'graph-model' is not supported \(importTfjs reads 'layers-model'\)/],
    [{ modelTopology: 'model' }, /modelTopology must be a Keras model object \{class_name, config\}, got 'model'/],
    [{ modelTopology: { class_name: 'Foo', config: {} } }, /modelTopology.class_name 'Foo' is not supported/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: 3 } } }, /modelTopology.config.layers must be an array of layers, got 3/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [] } } }, /the model has no layers/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [7] } } }, /modelTopology.config.layers\[0\] must be a layer object/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [{ config: {} }] } } }, /layers\[0\].class_name must be a string, got undefined/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: {} }] } } }, /layers\[0\] \(Dense\) has no name/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: [] }] } } }, /layers\[0\] \(Dense\) has no name/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dropout', config: { name: 'd', rate: 0 } }, { class_name: 'Dropout', config: { name: 'd', rate: 0 } }] } } }, /layer 'd' \(Dropout\): two layers are named 'd'/],
    [{ modelTopology: { class_name: 'Sequential', config: { layers: Array.from({ length: 4097 }, (_, i) => ({ class_name: 'Dropout', config: { name: `d${i}` } })) } } }, /the model has 4097 layers, more than 4096/],
  ])('%j', (a, re) => {
    expect(importError(a).message).toMatch(re);
  });

  it('a functional model that is not one chain', () => {
    const f = (fn: (l: Layer[], c: Record<string, unknown>) => void): TfjsError => importError(edit(funcModel, (l, t) => fn(l, t.config as Record<string, unknown>)));
    expect(f((_l, c) => (c.input_layers = [['x', 0, 0], ['y', 0, 0]])).message).toMatch(/input_layers must name exactly one layer .*\(models with several inputs or outputs are not supported\)/);
    expect(f((_l, c) => (c.output_layers = [['nope', 0, 0]])).message).toMatch(/the model's input or output layer 'nope' is not among its layers/);
    expect(f((l) => (l[2].inbound_nodes = [[['x', 0, 0, {}]]])).message).toMatch(/layer 'x' \(InputLayer\) feeds 2 layers \('rnn', 'head'\); only chains of layers are supported/);
    expect(f((l) => (l[2].inbound_nodes = [[['rnn', 0, 0, {}]], [['rnn', 0, 0, {}]]])).message).toMatch(/layer 'head' \(Dense\) is called 2 times \(a shared layer\)/);
    expect(f((l) => (l[2].inbound_nodes = [[['rnn', 0, 0, {}], ['x', 0, 0, {}]]])).message).toMatch(/layer 'head' \(Dense\) takes 2 inputs; only layers with one input are supported/);
    expect(f((l) => (l[2].inbound_nodes = [[['rnn', 0, 1, {}]]])).message).toMatch(/layer 'head' \(Dense\) takes output \["rnn",0,1\] of another layer/);
    expect(f((l) => (l[1].inbound_nodes = [[['x', 0, 0, { initial_state: ['s'] }]]])).message).toMatch(/layer 'rnn' \(SimpleRNN\) is called with initial_state=\["s"\], which is not supported/);
    expect(f((l) => (l[2].inbound_nodes = [[['ghost', 0, 0, {}]]])).message).toMatch(/layer 'head' \(Dense\) takes its input from 'ghost', which is not a layer of the model/);
    expect(f((l) => (l[2].inbound_nodes = [])).message).toMatch(/layer 'head' \(Dense\) has no input, but the model's input is 'x'/);
    expect(f((l, c) => {
      l.push({ class_name: 'Dense', name: 'side', config: { name: 'side', units: 1 }, inbound_nodes: [[['head', 0, 0, {}]]] });
      c.output_layers = [['head', 0, 0]];
    }).message).toMatch(/the chain from the input ends at layer 'side' \(Dense\), not at the model's output 'head'/);
    expect(f((l) => (l[1].inbound_nodes = [[['head', 0, 0, {}]]])).message).toMatch(/the chain from the input ends at layer 'x' \(InputLayer\), not at the model's output 'head'/);
  });

  it('reads Keras 3\'s functional format (inbound args with keras_history)', () => {
    const a = edit(funcModel, (l) => {
      for (const layer of l.slice(1)) {
        const src = ((layer.inbound_nodes as unknown[][][])[0][0] as unknown[])[0];
        layer.inbound_nodes = [{ args: [{ class_name: '__keras_tensor__', config: { shape: [null, T, 3], dtype: 'float32', keras_history: [src, 0, 0] } }], kwargs: {} }];
      }
    });
    const m = importTfjs(a);
    expect(m.predict({ data: new Float32Array(T * I), shape: [1, T, I] }).shape).toEqual([1, T, 2]);
    m.dispose();
  });
});

describe('importTfjs refuses broken manifests and weight data before allocating', () => {
  const withSpecs = (fn: (s: Spec[]) => void, data?: ArrayBuffer): TfjsError => {
    const a = copy(lstmModel);
    fn(a.weightSpecs);
    return importError({ ...a, weightData: data ?? a.weightData });
  };

  it('a manifest that is not a list of entries', () => {
    expect(importError({ ...lstmModel, weightSpecs: 'weights' }).message).toMatch(/weightSpecs must be an array of weight entries \{name, shape, dtype\}, got string/);
    expect(importError({ ...lstmModel, weightSpecs: [7] }).message).toMatch(/weightSpecs\[0\] must be an object \{name, shape, dtype\}, got number/);
  });

  it('names, shapes, dtypes and quantizations it cannot read', () => {
    expect(withSpecs((s) => (s[0].name = '')).message).toMatch(/weightSpecs\[0\].name must be a non-empty string, got ''/);
    expect(withSpecs((s) => (s[1].name = s[0].name)).message).toMatch(/weightSpecs\[1\] \('lstm_LSTM\d+\/kernel'\): the name is listed twice/);
    expect(withSpecs((s) => (s[0].shape = [3, -16])).message).toMatch(/shape must be an array of at most 8 non-negative integers, got \[3,-16\]/);
    expect(withSpecs((s) => (s[0].shape = [3, 1.5])).message).toMatch(/got \[3,1.5\]/);
    expect(withSpecs((s) => (s[0].shape = [1, 1, 1, 1, 1, 1, 1, 1, 1])).message).toMatch(/at most 8/);
    expect(withSpecs((s) => (s[0].dtype = 'string')).message).toMatch(/dtype 'string' is not supported \(supported: 'float32', 'int32', 'bool'\)/);
    expect(withSpecs((s) => (s[0].dtype = 'complex64')).message).toMatch(/dtype 'complex64' is not supported/);
    expect(withSpecs((s) => (s[0].quantization = { dtype: 'int8' as never, scale: 1, min: 0 })).message).toMatch(/quantization dtype 'int8' is not supported \(supported: 'uint8', 'uint16', 'float16'\)/);
    expect(withSpecs((s) => (s[0].quantization = { dtype: 'uint8' })).message).toMatch(/uint8 quantization needs finite numbers 'scale' and 'min', got scale undefined, min undefined/);
    expect(withSpecs((s) => (s[0].quantization = { dtype: 'uint16', scale: NaN, min: 0 })).message).toMatch(/uint16 quantization needs finite numbers/);
    expect(withSpecs((s) => {
      s[0].dtype = 'int32';
      s[0].quantization = { dtype: 'float16' };
    }).message).toMatch(/float16 quantization needs a float32 weight, got dtype 'int32'/);
    expect(withSpecs((s) => (s[0].dtype = 'int32')).message).toMatch(/\(LSTM\): weight 'lstm_LSTM\d+\/kernel' has dtype 'int32'; our layers need float32/);
    expect(withSpecs((s) => ((s[0] as unknown as Record<string, unknown>).group = 5)).message).toMatch(/group must be a string, got 5/);
  });

  it('sizes against the data: truncated, too long, absurd (nothing allocated, milliseconds)', () => {
    const n = lstmModel.weightData.byteLength;
    expect(withSpecs(() => undefined, lstmModel.weightData.slice(0, n - 1)).message).toMatch(
      new RegExp(`the manifest needs at least ${n} bytes of weight data up to this weight, but weightData has ${n - 1}`),
    );
    expect(withSpecs(() => undefined, lstmModel.weightData.slice(0, 10)).message).toMatch(/weightSpecs\[0\] \('lstm_LSTM\d+\/kernel'\): the manifest needs at least 192 bytes .* but weightData has 10/);
    const longer = new Uint8Array(n + 4);
    longer.set(new Uint8Array(lstmModel.weightData));
    expect(withSpecs(() => undefined, longer.buffer).message).toMatch(new RegExp(`describes ${n} bytes of weights, but weightData has ${n + 4} \\(4 bytes too many\\)`));
    const t0 = performance.now();
    const before = memoryInfo().memoryBytes;
    expect(withSpecs((s) => (s[0].shape = [2 ** 20, 2 ** 20])).message).toMatch(/shape \[1048576, 1048576\] holds 1099511627776 values, more than 1073741824/);
    expect(withSpecs((s) => (s[0].shape = [30_000, 30_000])).message).toMatch(/needs at least 3600000000 bytes of weight data up to this weight, but weightData has \d+/);
    expect(withSpecs((s) => (s[0].shape = [2 ** 53 - 1, 2])).message).toMatch(/more than 1073741824/);
    expect(withSpecs((s) => s.push(...Array.from({ length: 65_537 }, (_, i) => ({ name: `w${i}`, shape: [0], dtype: 'float32' })))).message).toMatch(/lists 65542 weights, more than 65536/);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(memoryInfo().memoryBytes).toBe(before);
  });

  it('weight data of the wrong kind, and a layer config whose sizes the weights do not back', () => {
    expect(importError({ ...lstmModel, weightData: 'bytes' }).message).toMatch(/weightData must be an ArrayBuffer, ArrayBuffer\[\] or a byte view \(Uint8Array, Buffer\), got string/);
    expect(importError({ ...lstmModel, weightData: [new ArrayBuffer(4), 3] }).message).toMatch(/weightData\[1\] must be an ArrayBuffer or a byte view/);
    // A config asking for a huge layer fails on the weights' shapes, before any layer is built.
    expect(importError(edit(lstmModel, (l) => {
      l[0].config.units = 2 ** 28;
    })).message).toMatch(/\(LSTM\): weight 'lstm_LSTM\d+\/kernel' has shape \[3, 16\], expected \[input features, 4·units = 1073741824\]/);
  });

  it('weights that are missing, extra, or of no layer', () => {
    const drop = mapWeights(lstmModel, (spec, v) => (spec.name.endsWith('recurrent_kernel') ? [] : [{ spec, values: v }]));
    expect(importError(drop).message).toMatch(/\(LSTM\): the manifest has no 'recurrent_kernel' weight for it \(expected \[units, 4·units\] = \[4, 16\]\)/);
    const extra = mapWeights(lstmModel, (spec, v) => (spec.name.startsWith('dense') && spec.name.endsWith('bias') ? [{ spec, values: v }, { spec: { ...spec, name: spec.name.replace('bias', 'gamma') }, values: v }] : [{ spec, values: v }]));
    expect(importError(extra).message).toMatch(/\(Dense\): weight 'dense_Dense\d+\/gamma' is not a weight of a Dense layer/);
    const stray = mapWeights(lstmModel, (spec, v) => [{ spec, values: v }, ...(spec.name.endsWith('/bias') && spec.name.startsWith('dense') ? [{ spec: { ...spec, name: 'nobody/bias' }, values: v }] : [])]);
    expect(importError(stray).message).toBe("importTfjs: weight 'nobody/bias' belongs to no layer of the model (its name must start with a layer's name)");
    const dup = mapWeights(lstmModel, (spec, v) => [{ spec, values: v }, ...(spec.name.endsWith('/kernel') && spec.name.startsWith('lstm') ? [{ spec: { ...spec, name: `${spec.name.replace('/kernel', '/cell')}/kernel` }, values: v }] : [])]);
    expect(importError(dup).message).toMatch(/weights 'lstm_LSTM\d+\/kernel' and 'lstm_LSTM\d+\/cell\/kernel' both look like its 'kernel'/);
    // Optimizer state saved with the model is skipped.
    const opt = mapWeights(lstmModel, (spec, v) => [{ spec, values: v }, ...(spec.name.startsWith('dense') && spec.name.endsWith('bias') ? [{ spec: { name: 'Adam/iter', shape: [], dtype: 'float32', group: 'optimizer' }, values: new Float32Array(1) }] : [])]);
    importTfjs(opt).dispose();
    const dropout = edit(lstmModel, (l) => l.push({ class_name: 'Dropout', config: { name: 'drop', rate: 0.1 } }));
    const withState = mapWeights(dropout, (spec, v) => [{ spec, values: v }, ...(spec.name.startsWith('dense') && spec.name.endsWith('bias') ? [{ spec: { name: 'drop/kernel', shape: [1], dtype: 'float32' }, values: new Float32Array(1) }] : [])]);
    expect(importError(withState).message).toMatch(/layer 'drop' \(Dropout\): weight 'drop\/kernel' is not a weight of a Dropout layer/);
  });

  it('values that are not finite, raw or after dequantization', () => {
    const nan = mapWeights(lstmModel, (spec, v) => [{ spec, values: spec.name.endsWith('/recurrent_kernel') ? v.map((x, i) => (i === 7 ? NaN : x)) : v }]);
    expect(importError(nan).message).toMatch(/\(LSTM\): weight 'lstm_LSTM\d+\/recurrent_kernel' holds NaN at flat index 7$/);
    // float16 with an infinity in it.
    const a = copy(lstmModel);
    const specs = a.weightSpecs.map((s) => ({ ...s, quantization: { dtype: 'float16' as const } }));
    const halves = new Uint16Array(a.weightData.byteLength / 4).fill(floatToHalf(0.5));
    halves[3] = 0x7c00;
    expect(importError({ ...a, weightSpecs: specs, weightData: halves.buffer }).message).toMatch(/weight 'lstm_LSTM\d+\/kernel' holds Infinity at flat index 3 \(after float16 dequantization\)/);
  });

  it('decodes float16 exactly as tfjs does, for every bit pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const theirs = tf.io.decodeWeights(all.buffer, [{ name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } }]).h;
    const want = theirs.dataSync() as Float32Array;
    for (let i = 0; i < 65536; i++) {
      const got = Math.fround(halfToFloat(i));
      if (Number.isNaN(want[i])) expect(got).toBeNaN();
      else expect(Object.is(got, want[i]), `bits ${i.toString(16)}: ${got} vs ${want[i]}`).toBe(true);
      if (!Number.isNaN(got)) expect(floatToHalf(got)).toBe(i);
    }
    theirs.dispose();
  });
});

describe('TfjsModel.predict checks its input', () => {
  it('rank, features, values, token ids', () => {
    const m = importTfjs(lstmModel);
    expect(() => m.predict({ data: new Float32Array(T * I), shape: [T, I] })).toThrow(/^TfjsModel\.predict: x must be \[batch, time, 3\], got shape \[5, 3\]$/);
    expect(() => m.predict({ data: new Float32Array(2 * T * 4), shape: [2, T, 4] })).toThrow(/^TfjsModel\.predict: x's last dimension must be 3 \(\[batch, time, 3\]\), got shape \[2, 5, 4\]$/);
    expect(() => m.predict([[['a', 1, 2]]] as never)).toThrow(/^TfjsModel\.predict: x: \[0\]\[0\]\[0\]: expected a number, got string/);
    expect(() => m.predict({ data: [1, 2], shape: [1, 1, 3] })).toThrow(/^TfjsModel\.predict: x: shape \[1, 1, 3\] holds 3 values, but data has 2/);
    expect(() => m.predict(null as never)).toThrow(/^TfjsModel\.predict: x: expected a Tensor, nested arrays of numbers or \{data, shape\}, got null/);
    expect(() => m.predict({ data: Float32Array.of(1, NaN, 3), shape: [1, 1, 3] })).toThrow(/^TfjsModel\.predict: LSTM\.forward: x: expected finite numbers, got NaN at flat index 1$/);
    m.dispose();
    const e = importTfjs(embModel);
    expect(() => e.predict([[0, 1, 6, 2, 0]])).toThrow(/^TfjsModel\.predict: Embedding\.forward: ids\.data\[2\]: expected an integer id in \[0, 5\], got 6$/);
    expect(() => e.predict([[[0], [1]]])).toThrow(/^TfjsModel\.predict: x must be \[batch, time\] token ids, got shape \[1, 2, 1\]$/);
    expect(e.predict([[0, 1, 5]]).shape).toEqual([1, 2]);
    e.dispose();
  });
});

/**
 * The workload matrix (ids as in shared/ANCHORS.md and the speed issue) and FLOP counts:
 * a multiply-add is 2 FLOPs; LSTM forward 2·4H·(I+H) per step per batch row, GRU 2·3H·(I+H),
 * RNN 2·H·(I+H), times layers and directions; a training step ≈ 3 × its forward.
 */
export const WORKLOADS = [
  { id: 'A', layer: 'LSTM', I: 32, H: 128, B: 1, T: 64 },
  { id: 'B', layer: 'LSTM', I: 128, H: 256, B: 1, T: 128 },
  { id: 'C', layer: 'LSTM', I: 128, H: 256, B: 32, T: 64 },
  { id: 'D', layer: 'LSTM', I: 128, H: 512, B: 1, T: 128 },
  { id: 'E', layer: 'GRU', I: 128, H: 256, B: 1, T: 128 },
  { id: 'F', layer: 'GRU', I: 128, H: 256, B: 32, T: 64 },
  { id: 'G', layer: 'RNN', I: 128, H: 256, B: 1, T: 128 },
  { id: 'H', layer: 'LSTM', I: 128, H: 256, B: 1, T: 128, numLayers: 2 },
  { id: 'I', layer: 'LSTM', I: 128, H: 256, B: 1, T: 128, bidirectional: true },
  { id: 'S', layer: 'LSTM', I: 128, H: 256, B: 1, T: 1, step: true },
  { id: 'T1', train: 'lm', layer: 'LSTM', V: 65, I: 64, H: 256, B: 32, T: 64 },
  { id: 'T2', train: 'lm', layer: 'GRU', V: 65, I: 64, H: 256, B: 32, T: 64 },
  { id: 'T3', train: 'forecast', layer: 'LSTM', I: 1, H: 64, B: 64, T: 50 },
];

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };

export function flopsOf(w) {
  const G = GATES[w.layer], L = w.numLayers ?? 1, D = w.bidirectional ? 2 : 1;
  let rnn = 0;
  for (let l = 0; l < L; l++) rnn += D * 2 * G * w.H * ((l === 0 ? w.I : D * w.H) + w.H);
  rnn *= w.T * w.B;
  if (w.train === 'lm') return 3 * (rnn + 2 * w.H * w.V * w.T * w.B);
  if (w.train === 'forecast') return 3 * (rnn + 2 * w.H * w.B);
  return rnn;
}

export function label(w) {
  if (w.train === 'lm') return `${w.id} train char-LM Emb(${w.V},${w.I})→${w.layer}(${w.H})→Linear B${w.B} T${w.T}`;
  if (w.train === 'forecast') return `${w.id} train ${w.layer}(${w.I}→${w.H})+Linear MSE B${w.B} T${w.T}`;
  if (w.step) return `${w.id} ${w.layer} step() I${w.I} H${w.H} B${w.B}`;
  const extra = w.numLayers ? `${w.numLayers}-layer ` : w.bidirectional ? 'bidirectional ' : '';
  return `${w.id} ${extra}${w.layer}${w.layer === 'RNN' ? '(tanh)' : ''} I${w.I} H${w.H} B${w.B} T${w.T}`;
}

/** Time unit a workload is reported in. */
export const unitOf = (w) => (w.step ? 'µs' : 'ms');

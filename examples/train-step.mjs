// One training step by hand. Run with: npm run build && node examples/train-step.mjs
import { LSTM, Adam, clipGradNorm, mse, ready } from '../dist/index.js';

await ready();
const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, seed: 0 });
const opt = new Adam(lstm, { lr: 1e-2 });          // also SGD, AdamW, RMSprop; StepLR, ExponentialLR, CosineAnnealingLR
const x = { data: new Float32Array(5 * 2 * 3).fill(0.1), shape: [5, 2, 3] };
const target = { data: new Float32Array(5 * 2 * 8).fill(0.5), shape: [5, 2, 8] };

opt.zeroGrad();
const { output } = lstm.forward(x, undefined, { training: true });
const { loss, grad } = mse(output, target);        // loss and d(loss)/d(output), fused
const g = lstm.backward(grad);                      // adds to lstm.gradients(); returns g.x, g.h, g.c
const norm = clipGradNorm(lstm, 1.0);               // like torch.nn.utils.clip_grad_norm_
opt.step();
console.log('loss', loss, 'grad norm', norm, 'dx', g.x.shape);

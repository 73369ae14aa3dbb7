/**
 * A small line chart on a <canvas>, enough for the demo's two live plots (no dependency: the
 * page loads without a bundler and the chart is ~150 lines). Series are (x, y) arrays that
 * grow; draw() is coalesced to one per animation frame, so callers may invalidate() on every
 * data point. Axes: y ticks at "nice" steps; an optional right axis labels the same heights
 * through a monotone function (the loss chart shows perplexity = e^loss there).
 */
const FONT = '11px system-ui, sans-serif';
const PAD = { left: 46, right: 46, top: 10, bottom: 22 };

/** Round tick steps (1, 2, 5 × 10^k) covering [lo, hi] with about `count` ticks. */
function ticks(lo, hi, count) {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ series: { name: string, color: string, width?: number }[], yLabel?: string,
   *   right?: { label: string, map: (y: number) => number, format?: (v: number) => string },
   *   yMin?: number, window?: number }} options  window: show only the last `window` x units.
   */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.options = options;
    this.data = options.series.map(() => ({ x: [], y: [] }));
    this.pending = false;
    new ResizeObserver(() => this.invalidate()).observe(canvas);
  }

  push(series, x, y) {
    const d = this.data[series];
    d.x.push(x);
    d.y.push(y);
    this.invalidate();
  }

  clear() {
    for (const d of this.data) d.x.length = d.y.length = 0;
    this.invalidate();
  }

  /** Keeps at most `n` points per series (the oldest go): for charts that scroll. */
  trim(n) {
    for (const d of this.data) {
      if (d.x.length > n) {
        d.x.splice(0, d.x.length - n);
        d.y.splice(0, d.y.length - n);
      }
    }
  }

  invalidate() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const { canvas, options: o } = this;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = FONT;

    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const d of this.data) {
      if (d.x.length === 0) continue;
      x0 = Math.min(x0, d.x[0]);
      x1 = Math.max(x1, d.x[d.x.length - 1]);
    }
    if (o.window !== undefined && x1 - x0 > o.window) x0 = x1 - o.window;
    for (const d of this.data) {
      for (let i = 0; i < d.y.length; i++) {
        if (d.x[i] < x0 || !Number.isFinite(d.y[i])) continue;
        y0 = Math.min(y0, d.y[i]);
        y1 = Math.max(y1, d.y[i]);
      }
    }
    const empty = !Number.isFinite(x0) || !Number.isFinite(y0);
    if (empty) (x0 = 0), (x1 = 1), (y0 = 0), (y1 = 1);
    if (o.yMin !== undefined) y0 = Math.min(y0, o.yMin);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 - y0 < 1e-6) (y0 -= 0.5), (y1 += 0.5);
    const margin = (y1 - y0) * 0.05;
    y0 -= margin;
    y1 += margin;

    const pw = w - PAD.left - PAD.right, ph = h - PAD.top - PAD.bottom;
    const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * pw;
    const sy = (y) => PAD.top + (1 - (y - y0) / (y1 - y0)) * ph;

    // Grid and tick labels.
    g.strokeStyle = '#e3e3e3';
    g.fillStyle = '#666';
    g.lineWidth = 1;
    g.textBaseline = 'middle';
    const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3).replace(/\.?0+$/, ''));
    for (const v of ticks(y0, y1, Math.max(2, Math.floor(ph / 40)))) {
      const y = Math.round(sy(v)) + 0.5;
      g.beginPath();
      g.moveTo(PAD.left, y);
      g.lineTo(PAD.left + pw, y);
      g.stroke();
      g.textAlign = 'right';
      g.fillText(fmt(v), PAD.left - 5, y);
      if (o.right) {
        g.textAlign = 'left';
        g.fillText((o.right.format ?? fmt)(o.right.map(v)), PAD.left + pw + 5, y);
      }
    }
    g.textBaseline = 'top';
    g.textAlign = 'center';
    for (const v of ticks(x0, x1, Math.max(2, Math.floor(pw / 90)))) g.fillText(fmt(v), sx(v), PAD.top + ph + 5);
    g.strokeStyle = '#999';
    g.strokeRect(PAD.left + 0.5, PAD.top + 0.5, pw, ph);

    // Axis titles (rotated on the sides).
    g.save();
    g.fillStyle = '#444';
    if (o.yLabel) this.sideLabel(g, o.yLabel, 10, PAD.top + ph / 2);
    if (o.right) this.sideLabel(g, o.right.label, w - 10, PAD.top + ph / 2);
    g.restore();

    // The series, clipped to the plot; at most ~2 points per pixel are drawn.
    g.save();
    g.beginPath();
    g.rect(PAD.left, PAD.top, pw, ph);
    g.clip();
    o.series.forEach((s, k) => {
      const d = this.data[k];
      let i = 0;
      while (i < d.x.length && d.x[i] < x0) i++;
      const stride = Math.max(1, Math.floor((d.x.length - i) / (2 * pw)));
      g.strokeStyle = s.color;
      g.lineWidth = s.width ?? 1.5;
      g.beginPath();
      let moved = false;
      for (; i < d.x.length; i += stride) {
        if (!Number.isFinite(d.y[i])) {
          moved = false;
          continue;
        }
        const X = sx(d.x[i]), Y = sy(d.y[i]);
        if (moved) g.lineTo(X, Y);
        else g.moveTo(X, Y), (moved = true);
      }
      g.stroke();
    });
    g.restore();

    // Legend, top right inside the plot.
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    let lx = PAD.left + pw - 8;
    for (let k = o.series.length - 1; k >= 0; k--) {
      const s = o.series[k];
      g.fillStyle = '#333';
      g.fillText(s.name, lx, PAD.top + 10);
      lx -= g.measureText(s.name).width + 6;
      g.fillStyle = s.color;
      g.fillRect(lx - 14, PAD.top + 9, 14, 3);
      lx -= 26;
    }
    if (empty) {
      g.fillStyle = '#999';
      g.textAlign = 'center';
      g.fillText('no data yet', PAD.left + pw / 2, PAD.top + ph / 2);
    }
  }

  sideLabel(g, text, x, y) {
    g.save();
    g.translate(x, y);
    g.rotate(x < 50 ? -Math.PI / 2 : Math.PI / 2);
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(text, 0, 0);
    g.restore();
  }
}

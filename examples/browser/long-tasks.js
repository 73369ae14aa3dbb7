/**
 * Long tasks (over 50 ms) on the page's thread, from a PerformanceObserver for 'longtask', and
 * whether each overlapped a time span of interest (here: training). Entries arrive after
 * their task ended, so a task is matched against the spans by its own start and end, not by
 * what runs when it is reported.
 */
export class LongTasks {
  /** @param {(m: LongTasks) => void} [onChange] called after new entries */
  constructor(onChange) {
    this.tasks = []; // { start, duration, inSpan }
    this.spans = []; // [start, end]; end null while open
    this.supported = typeof PerformanceObserver !== 'undefined' && Boolean(PerformanceObserver.supportedEntryTypes?.includes('longtask'));
    if (!this.supported) return;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const end = e.startTime + e.duration;
        const inSpan = this.spans.some(([a, b]) => end > a && (b === null || e.startTime < b));
        this.tasks.push({ start: e.startTime, duration: e.duration, inSpan });
      }
      onChange?.(this);
    }).observe({ type: 'longtask', buffered: true });
  }

  open() {
    this.spans.push([performance.now(), null]);
  }

  close() {
    const last = this.spans[this.spans.length - 1];
    if (last && last[1] === null) last[1] = performance.now();
  }

  /** The long tasks that overlapped a span. */
  inSpans() {
    return this.tasks.filter((t) => t.inSpan);
  }
}

/**
 * A one-line progress display for a terminal: events/s, lag and ETA, redrawn in place. Only on a
 * TTY (a log collector gets the JSON logs instead); the caller passes `stream.isTTY`.
 */

/** What the progress line shows. */
export interface ProgressSnapshot {
  /** Events processed so far. */
  events: number;
  /** Records still behind (Kafka lag, or unknown for DynamoDB: -1). */
  lag: number;
  deadLetters: number;
  /** Extra text (state: "retrying: target down"). */
  note?: string;
}

/** A running progress line. */
export interface Progress {
  stop(): void;
}

/** Formats one progress line (exported for tests). */
export function formatProgress(s: ProgressSnapshot, ratePerSec: number): string {
  const rate = ratePerSec >= 1000 ? `${(ratePerSec / 1000).toFixed(1)}k/s` : `${Math.round(ratePerSec)}/s`;
  const lag = s.lag < 0 ? '?' : String(s.lag);
  let eta = '';
  if (s.lag > 0 && ratePerSec > 0) {
    const secs = Math.ceil(s.lag / ratePerSec);
    eta = secs >= 60 ? ` eta ${Math.floor(secs / 60)}m${secs % 60}s` : ` eta ${secs}s`;
  } else if (s.lag === 0) eta = ' caught up';
  const note = s.note === undefined ? '' : ` | ${s.note}`;
  return `${s.events} events | ${rate} | lag ${lag}${eta} | ${s.deadLetters} dead letters${note}`;
}

/** Starts redrawing `snapshot()` every `intervalMs` on `stream`. */
export function startProgress(
  stream: NodeJS.WriteStream,
  snapshot: () => ProgressSnapshot,
  intervalMs = 500,
): Progress {
  let last = snapshot().events;
  let lastAt = performance.now();
  let rate = 0;
  const timer = setInterval(() => {
    const s = snapshot();
    const now = performance.now();
    const inst = ((s.events - last) * 1000) / Math.max(1, now - lastAt);
    rate = rate === 0 ? inst : rate * 0.7 + inst * 0.3;
    last = s.events;
    lastAt = now;
    stream.write(`\r\x1b[2K${formatProgress(s, rate)}`);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

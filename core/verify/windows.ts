/**
 * The maths of the verifier's report: durations (`1s`, `250ms`, `2m`), check windows, "nines"
 * (99.9 % consistent = 3 nines) and percentiles.
 */

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `1s`, `1.5s`, `2m`, `1h` (a bare number is seconds) into ms; throws a RangeError naming the text. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a duration (use e.g. 250ms, 1s, 2m)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

/** Parses a comma-separated list of windows (`1s,5s,30s`) into sorted, distinct, positive ms. */
export function parseWindows(text: string): number[] {
  const ms = text
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseDuration);
  if (ms.length === 0) throw new RangeError('give at least one window, e.g. 1s,5s,30s');
  for (const w of ms) if (w <= 0) throw new RangeError('windows must be longer than 0 ms');
  return [...new Set(ms)].sort((a, b) => a - b);
}

/** Formats ms as the shortest of `250ms`, `1.5s`, `2m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms / 60_000}m`;
}

/**
 * "Nines" of a consistent fraction: -log10(1 - fraction), floored to 2 decimals so 0.999 is 3 and
 * 0.9995 is 3.3. A fraction of 1 (no inconsistency) is Infinity: report it with the sample size
 * instead ("all of N").
 */
export function nines(fraction: number): number {
  if (!(fraction >= 0)) return 0;
  if (fraction >= 1) return Number.POSITIVE_INFINITY;
  // Round to 12 digits first: 1 - 0.999 is 0.0010000000000000009, not 0.001.
  const n = -Math.log10(Number((1 - fraction).toPrecision(12)));
  return Math.floor(n * 100 + 1e-9) / 100;
}

/** The p-th percentile (0..100, nearest rank) of `values`; NaN when empty. Infinity stays Infinity. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

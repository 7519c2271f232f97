/**
 * The verifier's report: its shape, the statistics it is made of (per-window fractions and nines,
 * staleness and lateness percentiles) and its formats for terminals (a table) and machines (JSON).
 */
import { formatDuration, nines, percentile } from './windows.ts';

/** One inconsistency: a key that held neither the sampled change's state, a newer one, nor the truth's. */
export interface Inconsistency {
  key: string;
  /** The row, e.g. `public.customers {"id":7}`. */
  row: string;
  /** Expected by the newest change seen: a value, or null = absent. */
  expected: string | null;
  actual: string;
  /** Version and commit time (epoch ms) of the sampled change. */
  version: string;
  commitTs: number;
  /** Time between the commit and the read, ms. */
  ageMs: number;
  /** The window of the check, ms (-1: a full check after drain). */
  windowMs: number;
}

/** Counts of one window. */
export interface WindowReport {
  windowMs: number;
  checked: number;
  consistent: number;
  inconsistent: number;
  unverified: number;
  /** consistent / (consistent + inconsistent); 1 when nothing was judged. */
  fraction: number;
  /** -log10(1 - fraction); Infinity when nothing was inconsistent. */
  nines: number;
}

/** The verifier's report. */
export interface VerifyReport {
  mode: 'windows' | 'full';
  sample: number;
  /** Changes seen, sampled (followed), duplicates ignored, dropped for memory, still pending. */
  changes: { seen: number; sampled: number; duplicates: number; dropped: number; pending: number };
  /** Rows followed. */
  rows: number;
  reads: { cache: number; truth: number; rateLimitedMs: number };
  /** Keys whose expected state is unknowable (expected.ts), per check. */
  unchecked: number;
  windows: WindowReport[];
  /** Inconsistencies at the last window (or of the full check). */
  inconsistencies: Inconsistency[];
  /** Keys found inconsistent at the last window (or by the full check); the list may be capped. */
  staleKeys: number;
  /**
   * Staleness of sampled changes: the age (since the change was visible) at the first check that
   * found it consistent, ms — an upper bound, at window resolution and including check lateness
   * (Infinity: stale at every window).
   */
  staleness: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  /**
   * How late checks ran after their due time (rate limit, load), ms. A check that ran late measured
   * "within window + lateness": when p99 is not small against the windows, lower `--sample` or raise
   * `--rate`.
   */
  lateness: { p50Ms: number; p99Ms: number; maxMs: number };
  /** How long after its commit the verifier saw each sampled change (stream lag), ms. */
  streamLag: { p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * Records that could not be decoded (poison: the pipeline dead-letters them), counted and skipped;
   * `positions` lists the first few. Absent when the source had none.
   */
  poison?: { count: number; positions: string[] };
}

/** A window's counts with their consistent fraction and nines (1 and ∞ when nothing was judged). */
export function withFraction(c: Omit<WindowReport, 'fraction' | 'nines'>): WindowReport {
  const judged = c.consistent + c.inconsistent;
  const fraction = judged === 0 ? 1 : c.consistent / judged;
  return { ...c, fraction, nines: nines(fraction) };
}

/** Staleness percentiles of `values` (ms); NaN when empty. */
export function stalenessOf(values: number[]): VerifyReport['staleness'] {
  return {
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    maxMs: values.length === 0 ? Number.NaN : maxOf(values),
    samples: values.length,
  };
}

/** The largest of `values` (-Infinity when empty). */
function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** p50/p99/max of `values` (ms); zeros when empty. */
export function latenessOf(values: number[]): VerifyReport['lateness'] {
  if (values.length === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: maxOf(values) };
}

function ninesText(n: number, judged: number): string {
  if (judged === 0) return '-';
  return Number.isFinite(n) ? n.toFixed(2) : `all ${judged}`;
}

function pct(f: number): string {
  return `${(f * 100).toFixed(f === 1 ? 0 : 3)}%`;
}

/** A JSON-safe copy (Infinity → null) of the report. */
export function reportToJson(r: VerifyReport): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/** The report as a human table. */
export function formatReport(r: VerifyReport): string {
  const lines: string[] = [];
  const c = r.changes;
  lines.push(
    `verify (${r.mode}): ${c.seen} changes seen, ${c.sampled} sampled over ${r.rows} rows (sample ${r.sample}), ` +
      `${c.duplicates} duplicates, ${c.dropped} dropped, ${c.pending} pending; reads: ${r.reads.cache} cache, ` +
      `${r.reads.truth} truth (rate-limited ${Math.round(r.reads.rateLimitedMs)} ms); ${r.unchecked} unchecked key checks`,
  );
  lines.push('');
  lines.push('window    checked  consistent  inconsistent  unverified  consistent%  nines');
  for (const w of r.windows) {
    const judged = w.consistent + w.inconsistent;
    lines.push(
      [
        (w.windowMs < 0 ? 'drained' : formatDuration(w.windowMs)).padEnd(8),
        String(w.checked).padStart(8),
        String(w.consistent).padStart(11),
        String(w.inconsistent).padStart(13),
        String(w.unverified).padStart(11),
        (judged === 0 ? '-' : pct(w.fraction)).padStart(12),
        ninesText(w.nines, judged).padStart(6),
      ].join(' '),
    );
  }
  if (r.staleness.samples > 0) {
    lines.push('');
    lines.push(
      `staleness (age at the first consistent check): p50 ≤ ${formatDuration(r.staleness.p50Ms)}, p99 ≤ ${formatDuration(r.staleness.p99Ms)}, ` +
        `max ${formatDuration(r.staleness.maxMs)} over ${r.staleness.samples} changes`,
    );
    lines.push(
      `windows count from when the verifier saw the change: stream lag after commit p50 ${formatDuration(r.streamLag.p50Ms)}, ` +
        `p99 ${formatDuration(r.streamLag.p99Ms)}; checks ran late by p50 ${formatDuration(r.lateness.p50Ms)}, p99 ${formatDuration(r.lateness.p99Ms)}`,
    );
  }
  if (r.poison !== undefined && r.poison.count > 0) {
    lines.push('');
    lines.push(
      `${r.poison.count} poison record(s) skipped (not decodable, dead letters in the pipeline): ${r.poison.positions.join(', ')}${r.poison.count > r.poison.positions.length ? ', …' : ''}`,
    );
  }
  lines.push('');
  if (r.staleKeys === 0) lines.push('no inconsistent key at the last window');
  else {
    lines.push(`${r.staleKeys} inconsistent key(s) at the last window:`);
    for (const i of r.inconsistencies) {
      lines.push(
        `  ${i.key}  row ${i.row}  version ${i.version}  committed ${new Date(i.commitTs).toISOString()}  ` +
          `age ${formatDuration(i.ageMs)}\n    expected ${i.expected ?? '(absent)'}\n    actual   ${i.actual}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

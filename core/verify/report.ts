/** Formats a verifier report for terminals (a table) and machines (JSON). */
import type { VerifyReport } from './verifier.ts';
import { formatDuration } from './windows.ts';

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

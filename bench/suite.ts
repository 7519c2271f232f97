/**
 * The benchmark suite's result protocol and its pure aggregation code (medians, ratios, targets,
 * the summary table), shared by every bench script and by bench/run.ts.
 *
 * Protocol: when the environment variable `CDC_CACHE_BENCH_JSON=<file>` is set, a bench script
 * appends one JSON line per result to that file ({@link emitResult}); bench/run.ts sets it for each
 * child, runs each benchmark several times and reduces the lines with {@link aggregate}.
 */
import { appendFileSync } from 'node:fs';

/** The environment variable naming the JSON-lines file a bench script appends its results to. */
export const BENCH_JSON_ENV = 'CDC_CACHE_BENCH_JSON';

/** One measured result of one run of a benchmark (one JSON line). */
export interface BenchResult {
  /** Benchmark name, e.g. `engine`, `valkey-apply`. */
  bench: string;
  /** What was measured, e.g. `SET rps, 50 clients, -P 16`. */
  metric: string;
  /** Our number. */
  value: number;
  /** Unit of `value` and `peerValue`, e.g. `ops/s`, `ms`, `B/key`. */
  unit: string;
  /** What the peer is, e.g. `valkey-benchmark vs Valkey 8`. */
  peer?: string;
  /** The peer's number, measured side by side in the same run. */
  peerValue?: number;
  /** ours / peer for this run (may be a median of the script's own rounds). Computed when absent. */
  ratio?: number;
  /** Whether a higher or a lower `value` (and so `ratio`) is better. */
  better: 'higher' | 'lower';
  /** The issue's target on `value` (≥ when better is higher, ≤ when lower). */
  target?: number;
  /** The issue's target on `ratio`; when both targets are given, meeting either one is enough. */
  targetRatio?: number;
  /** The exact command that produced the result. */
  command: string;
  /** How many measurements the script's own median of `value` is over. @default 1 */
  samples?: number;
  /** Free text shown in the results file (e.g. sizes, what the peer does). */
  note?: string;
}

/** A benchmark that could not run or did not report, shown as FAILED. */
export interface BenchFailure {
  bench: string;
  reason: string;
  command: string;
}

/** One row of the summary: the medians over the runs of one (bench, metric). */
export interface SummaryRow {
  bench: string;
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Median of the runs' values. */
  value: number;
  /** Smallest and largest run value. */
  min: number;
  max: number;
  peer?: string;
  /** Median of the runs' peer values. */
  peerValue?: number;
  /** Median of the per-run ratios (each run's ours / peer), not the ratio of the medians. */
  ratio?: number;
  target?: number;
  targetRatio?: number;
  /** Whether a target is met (undefined: the issue sets none). */
  met?: boolean;
  /** Number of runs (result lines) aggregated. */
  runs: number;
  /** Measurements behind the medians: the sum of the lines' `samples`. */
  samples: number;
  /** Distinct commands that produced the runs. */
  commands: string[];
  notes: string[];
}

/** Appends one result line to the file named by CDC_CACHE_BENCH_JSON (no-op when unset). */
export function emitResult(result: BenchResult, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[BENCH_JSON_ENV];
  if (file === undefined || file === '') return;
  appendFileSync(file, `${JSON.stringify(result)}\n`);
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (q in 0..1) of an unsorted list; NaN for an empty list. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks one parsed line; returns the result or the reason it is not one. */
export function validateResult(raw: unknown): BenchResult | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const r = raw as Record<string, unknown>;
  for (const f of ['bench', 'metric', 'unit', 'command'] as const) {
    if (typeof r[f] !== 'string' || r[f] === '') return `"${f}" must be a non-empty string`;
  }
  if (!isNum(r.value)) return `"value" must be a finite number (got ${JSON.stringify(r.value)})`;
  if (r.better !== 'higher' && r.better !== 'lower') return '"better" must be "higher" or "lower"';
  for (const f of ['peerValue', 'ratio', 'target', 'targetRatio', 'samples'] as const) {
    if (r[f] !== undefined && r[f] !== null && !isNum(r[f])) return `"${f}" must be a finite number`;
  }
  if (r.peer !== undefined && r.peer !== null && typeof r.peer !== 'string') return '"peer" must be a string';
  const out: BenchResult = {
    bench: r.bench as string,
    metric: r.metric as string,
    value: r.value,
    unit: r.unit as string,
    better: r.better,
    command: r.command as string,
  };
  if (typeof r.peer === 'string') out.peer = r.peer;
  if (isNum(r.peerValue)) out.peerValue = r.peerValue;
  if (isNum(r.ratio)) out.ratio = r.ratio;
  if (isNum(r.target)) out.target = r.target;
  if (isNum(r.targetRatio)) out.targetRatio = r.targetRatio;
  if (isNum(r.samples) && r.samples >= 1) out.samples = r.samples;
  if (typeof r.note === 'string') out.note = r.note;
  return out;
}

/** Parses a JSON-lines file's text; malformed lines are reported with their line number, not thrown. */
export function parseResultLines(text: string): { results: BenchResult[]; errors: string[] } {
  const results: BenchResult[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      errors.push(`line ${i + 1}: invalid JSON (${(e as Error).message})`);
      return;
    }
    const r = validateResult(raw);
    if (typeof r === 'string') errors.push(`line ${i + 1}: ${r}`);
    else results.push(r);
  });
  return { results, errors };
}

/** Whether a value meets a target in the direction `better`. */
function meets(x: number, target: number, better: 'higher' | 'lower'): boolean {
  return better === 'higher' ? x >= target : x <= target;
}

/**
 * Whether a row meets the issue's target: `target` on the value, `targetRatio` on the ratio; with
 * both, either suffices. Undefined when there is no target (or no ratio for a ratio-only target).
 */
export function targetMet(
  row: Pick<SummaryRow, 'value' | 'ratio' | 'better' | 'target' | 'targetRatio'>,
): boolean | undefined {
  const checks: boolean[] = [];
  if (row.target !== undefined) checks.push(meets(row.value, row.target, row.better));
  if (row.targetRatio !== undefined && row.ratio !== undefined)
    checks.push(meets(row.ratio, row.targetRatio, row.better));
  return checks.length === 0 ? undefined : checks.some(Boolean);
}

/** Groups results by (bench, metric), in first-seen order, and reduces each group to medians. */
export function aggregate(results: readonly BenchResult[]): SummaryRow[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const key = `${r.bench}\u0000${r.metric}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const rows: SummaryRow[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    const last = g[g.length - 1]!;
    const values = g.map((r) => r.value);
    const peers = g.flatMap((r) => (r.peerValue === undefined ? [] : [r.peerValue]));
    const ratios = g.flatMap((r) => {
      if (r.ratio !== undefined) return [r.ratio];
      if (r.peerValue !== undefined && r.peerValue !== 0) return [r.value / r.peerValue];
      return [];
    });
    const row: SummaryRow = {
      bench: first.bench,
      metric: first.metric,
      unit: first.unit,
      better: first.better,
      value: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      runs: g.length,
      samples: g.reduce((n, r) => n + (r.samples ?? 1), 0),
      commands: [...new Set(g.map((r) => r.command))],
      notes: [...new Set(g.flatMap((r) => (r.note === undefined ? [] : [r.note])))],
    };
    const peer = last.peer ?? first.peer;
    if (peer !== undefined) row.peer = peer;
    if (peers.length > 0) row.peerValue = median(peers);
    if (ratios.length > 0) row.ratio = median(ratios);
    if (first.target !== undefined) row.target = first.target;
    if (first.targetRatio !== undefined) row.targetRatio = first.targetRatio;
    const met = targetMet(row);
    if (met !== undefined) row.met = met;
    rows.push(row);
  }
  return rows;
}

/** A number for a table: thousands separators from 1000 up, 3 significant digits below. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Number.isInteger(n)) return String(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return '0';
  return n.toPrecision(2);
}

/** A ratio for a table: 2 decimals, or 2 significant digits below 0.01 (e.g. `0.0010×`). */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '–';
  return `${Math.abs(r) >= 0.01 || r === 0 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/** The issue's target as text, e.g. `≥ 200,000 events/s or ≥ 0.4×`. */
export function formatTarget(row: Pick<SummaryRow, 'better' | 'target' | 'targetRatio' | 'unit'>): string {
  const op = row.better === 'higher' ? '≥' : '≤';
  const parts: string[] = [];
  if (row.target !== undefined) parts.push(`${op} ${formatNumber(row.target)} ${row.unit}`);
  if (row.targetRatio !== undefined) parts.push(`${op} ${row.targetRatio}×`);
  return parts.length === 0 ? '–' : parts.join(' or ');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The summary as a Markdown table (successful rows, then one FAILED row per failure). */
export function renderTable(rows: readonly SummaryRow[], failures: readonly BenchFailure[] = []): string {
  const out = [
    '| benchmark | metric | ours | peer | peer value | ratio | issue target | met? | runs (samples) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ours =
      r.runs > 1 && r.min !== r.max
        ? `${formatNumber(r.value)} ${r.unit} (${formatNumber(r.min)}–${formatNumber(r.max)})`
        : `${formatNumber(r.value)} ${r.unit}`;
    const met = r.met === undefined ? '–' : r.met ? 'met' : 'NOT met';
    out.push(
      `| ${cell(r.bench)} | ${cell(r.metric)} | ${ours} | ${cell(r.peer ?? '–')} | ${
        r.peerValue === undefined ? '–' : `${formatNumber(r.peerValue)} ${r.unit}`
      } | ${r.ratio === undefined ? '–' : formatRatio(r.ratio)} | ${formatTarget(r)} | ${met} | ${r.runs}${r.samples === r.runs ? '' : ` (${r.samples})`} |`,
    );
  }
  for (const f of failures) {
    out.push(`| ${cell(f.bench)} | FAILED: ${cell(f.reason)} | – | – | – | – | – | FAILED | 0 |`);
  }
  return out.join('\n');
}

/** The machine a suite ran on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  valkey: string;
  loadBefore: readonly number[];
  loadAfter: readonly number[];
}

/** One suite run, for the results file. */
export interface SuiteReport {
  startedAt: string;
  durationSec: number;
  quick: boolean;
  runs: number;
  suiteCommand: string;
  machine: MachineInfo;
  rows: readonly SummaryRow[];
  failures: readonly BenchFailure[];
  /** Every child command run, in order, with its wall time. */
  commands: readonly { command: string; seconds: number; ok: boolean }[];
}

const loadText = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' ');

/** One run's section of bench/results/SUITE.md (Markdown). */
export function renderReport(r: SuiteReport): string {
  const m = r.machine;
  const lines = [
    `## ${r.startedAt}${r.quick ? ' (quick smoke run: small sizes, not comparable)' : ''}`,
    '',
    `Suite: \`${r.suiteCommand}\` — ${r.durationSec.toFixed(0)} s. --runs ${r.runs}: scripts with their own rounds take medians over them ("samples"), the others are spawned ${r.runs}× ("runs"); the ratio is the median of the per-run ratios.`,
    '',
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB.toFixed(1)} GiB, ${m.os}, Node ${m.node}, ${m.valkey}.`,
    `Load average (1/5/15 min) before: ${loadText(m.loadBefore)}; after: ${loadText(m.loadAfter)}.`,
    '',
    renderTable(r.rows, r.failures),
    '',
  ];
  const notes = r.rows.flatMap((row) => row.notes.map((n) => `- ${row.bench} / ${row.metric}: ${n}`));
  if (notes.length > 0) lines.push('Notes:', '', ...notes, '');
  lines.push('Commands:', '');
  for (const c of r.commands)
    lines.push(`- \`${c.command}\` (${c.seconds.toFixed(1)} s${c.ok ? '' : ', FAILED'})`);
  lines.push('');
  return lines.join('\n');
}

/** Inserts a new run's section into the results file text, newest first, below the file's header. */
export function prependReport(existing: string, header: string, section: string): string {
  const body = existing.startsWith(header) ? existing.slice(header.length) : existing;
  return `${header}${section.trimEnd()}\n\n${body.replace(/^\n+/, '')}`.trimEnd().concat('\n');
}

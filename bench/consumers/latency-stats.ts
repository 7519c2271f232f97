/**
 * Percentiles of measured latencies and the report line plus result rows (p50, p99) of a latency
 * mode of the consumer benchmark.
 */
import { type BenchRun, round2 } from './bench-run.ts';

/** The `p`-th percentile of an ascending list (NaN when empty). */
export const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * Sorts `latencies`, adds the p50 and p99 results of the run's mode (append → applied, or database
 * commit → applied; the p99 at 10k events/s carries the 10 ms target) and returns the line.
 */
export function latencyLine(run: BenchRun, label: string, latencies: number[], expected: number): string {
  const { mode, target, rate, partitions, client } = run.options;
  latencies.sort((a, b) => a - b);
  const [p50, p90, p99] = [pct(latencies, 50), pct(latencies, 90), pct(latencies, 99)];
  const where = target.replace(/\/\/.*@/, '//');
  const what =
    mode === 'latency'
      ? `Kafka append → applied (${where}), ${rate} events/s`
      : `PostgreSQL commit → applied via Debezium (${where}), ${rate} commits/s`;
  const note = `${latencies.length}/${expected} measured, ${partitions} partitions, ${client} client`;
  const suffix = run.clientSuffix;
  run.results.push(
    { metric: `${what} p50${suffix}`, value: round2(p50), unit: 'ms', better: 'lower', note },
    {
      metric: `${what} p99${suffix}`,
      value: round2(p99),
      unit: 'ms',
      better: 'lower',
      note,
      ...(mode === 'latency' && rate === 10_000 ? { target: 10 } : {}),
    },
  );
  return (
    `${label}: p50 ${p50.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ` +
    `max ${(latencies.at(-1) ?? Number.NaN).toFixed(2)} ms (${latencies.length}/${expected} measured)`
  );
}

/**
 * CloudWatch Embedded Metric Format: one JSON log line per invocation that CloudWatch turns into
 * metrics (no API calls, no agent). Dimensions are kept to `FunctionName` × `Source` so the metric
 * count stays bounded; the request id rides along as a plain property for Logs Insights.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { LogSink } from './logger.ts';

/** Metric names and their CloudWatch units. */
export const METRICS = {
  /** Records in the batch. */
  Records: 'Count',
  /** Records that decoded to a row change. */
  Events: 'Count',
  /** Records that are not row changes (tombstones, transaction markers). */
  Skipped: 'Count',
  /** Planned cache operations, by kind. */
  RefreshOps: 'Count',
  InvalidateOps: 'Count',
  /** Ops the target confirmed (applied or fenced). */
  AppliedOps: 'Count',
  FencedOps: 'Count',
  /** Ops the target did not confirm within the retries / time budget. */
  FailedOps: 'Count',
  /** Records handed to the dead-letter destination. */
  DeadLetters: 'Count',
  /** Records reported in batchItemFailures (to be delivered again). */
  FailedRecords: 'Count',
  /** Age of the oldest record of the batch at invocation: iterator age / consumer lag. */
  BatchLagMs: 'Milliseconds',
  /** Time spent in the handler. */
  DurationMs: 'Milliseconds',
} as const;

/** One of the metric names. */
export type MetricName = keyof typeof METRICS;

/** Writes one EMF document for a set of metric values. */
export function emitMetrics(
  sink: LogSink,
  namespace: string,
  dimensions: { FunctionName: string; Source: string },
  values: Partial<Record<MetricName, number>>,
  properties: Record<string, unknown> = {},
  now = Date.now(),
): void {
  const names = (Object.keys(values) as MetricName[]).filter((n) => Number.isFinite(values[n]));
  const doc = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['FunctionName', 'Source']],
          Metrics: names.map((Name) => ({ Name, Unit: METRICS[Name] })),
        },
      ],
    },
    ...properties,
    ...dimensions,
    ...Object.fromEntries(names.map((n) => [n, values[n]])),
  };
  sink(JSON.stringify(doc));
}

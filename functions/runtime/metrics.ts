/**
 * CloudWatch Embedded Metric Format: the handlers' metrics as JSON log lines that CloudWatch turns
 * into metrics (no API calls, no agent), in the project's one metric vocabulary
 * (core/metrics/metric-names.ts): the same names, units and labels as the containers' Prometheus
 * metrics. Labels become dimensions beside `FunctionName` (Lambda's instance identity, as a
 * Prometheus target label is); one document per label set, since an EMF document carries one value
 * per metric name. Each labelled metric is also published under `FunctionName` alone (a second EMF
 * dimension set), the rollup over every label value that alarms watch (any dead letter, any code). The request id rides along as a plain property for Logs Insights.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { type MetricSpec, SHARED_METRICS } from '../../core/metrics/metric-names.ts';
import type { LogSink } from './logger.ts';

/** Lambda-only metrics, in the same naming. */
export const LAMBDA_METRICS = {
  /** Records in the invocation's batch. */
  records: {
    name: 'cdc_cache_records_total',
    type: 'counter',
    unit: 'Count',
    labels: ['source'],
    help: 'Records in the batches the function was invoked with.',
  },
  /** Records reported in batchItemFailures (to be delivered again). */
  failedRecords: {
    name: 'cdc_cache_failed_records_total',
    type: 'counter',
    unit: 'Count',
    labels: ['source'],
    help: 'Records reported in batchItemFailures, to be delivered again.',
  },
} as const satisfies Record<string, MetricSpec>;

/** Every metric name the handlers emit. */
export const EMF_METRICS = { ...SHARED_METRICS, ...LAMBDA_METRICS } as const;

/** One value of one metric for one label set. */
export interface MetricPoint {
  metric: MetricSpec;
  /** Values of `metric.labels`, in order. */
  labels: readonly string[];
  value: number;
}

/** Writes the EMF documents for `points` (one per label set). */
export function emitMetrics(
  sink: LogSink,
  namespace: string,
  functionName: string,
  points: readonly MetricPoint[],
  properties: Record<string, unknown> = {},
  now = Date.now(),
): void {
  const docs = new Map<string, { dims: Record<string, string>; metrics: Map<string, MetricPoint> }>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const dims: Record<string, string> = { FunctionName: functionName };
    p.metric.labels.forEach((l, i) => {
      dims[l] = p.labels[i] ?? '';
    });
    const key = JSON.stringify(dims);
    let doc = docs.get(key);
    if (doc === undefined) {
      doc = { dims, metrics: new Map() };
      docs.set(key, doc);
    }
    const seen = doc.metrics.get(p.metric.name);
    doc.metrics.set(p.metric.name, seen === undefined ? p : { ...p, value: seen.value + p.value });
  }
  for (const { dims, metrics } of docs.values()) {
    const list = [...metrics.values()];
    sink(
      JSON.stringify({
        _aws: {
          Timestamp: now,
          CloudWatchMetrics: [
            {
              Namespace: namespace,
              Dimensions:
                Object.keys(dims).length > 1 ? [Object.keys(dims), ['FunctionName']] : [Object.keys(dims)],
              Metrics: list.map((p) => ({ Name: p.metric.name, Unit: p.metric.unit })),
            },
          ],
        },
        ...properties,
        ...dims,
        ...Object.fromEntries(list.map((p) => [p.metric.name, p.value])),
      }),
    );
  }
}

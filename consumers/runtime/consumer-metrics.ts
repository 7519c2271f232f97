/**
 * The metric set both consumers export. The shared vocabulary (core/metrics/metric-names.ts: the
 * same names, units and labels as the Lambda handlers' EMF) plus container-only families; names are
 * a contract for dashboards (add, never rename). prom-client's default process metrics come with
 * the registry. Listed in consumers/README.md "Metrics".
 */
import { SHARED_METRICS as M, type MetricSpec } from '../../core/metrics/metric-names.ts';
import { type CacheTarget, targetCapabilities } from '../../core/targets/cache-target.ts';
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './metrics.ts';

/** The consumers' metrics. */
export interface ConsumerMetrics {
  readonly registry: MetricsRegistry;
  /** `cdc_cache_events_total{source}` (shared). */
  readonly events: Counter;
  /** `cdc_cache_ops_total{type,outcome}` (shared). */
  readonly ops: Counter;
  /** `cdc_cache_dead_letters_total{code}` (shared). */
  readonly deadLetters: Counter;
  /** `cdc_cache_target_errors_total{code}` (shared). */
  readonly targetErrors: Counter;
  /** `cdc_cache_batch_duration_seconds{source}` (shared). */
  readonly batchDurationSeconds: Histogram;
  /** `cdc_cache_source_lag_seconds{source}` (shared). */
  readonly sourceLagSeconds: Gauge;
  /** `cdc_cache_checkpoints_total{source}` (shared). */
  readonly checkpoints: Counter;
  /** `cdc_cache_apply_seconds`: one `target.apply` call. */
  readonly applySeconds: Histogram;
  /** `cdc_cache_end_to_end_lag_seconds`: now − commit time of the newest applied event. */
  readonly endToEndLagSeconds: Gauge;
  readonly endToEndLagHistogram: Histogram;
  /** `cdc_cache_kafka_consumer_lag{topic,partition}`: messages behind the high watermark. */
  readonly kafkaLag: Gauge;
  /** `cdc_cache_kafka_stalls_total{topic,partition}`: partitions found with lag and no committed progress (kafka/partition-watchdog.ts). */
  readonly kafkaStalls: Counter;
  /** `cdc_cache_kafka_stalled_partitions`: partitions stalled now. */
  readonly kafkaStalledPartitions: Gauge;
  /** `cdc_cache_dynamodb_iterator_age_seconds{shard}`. */
  readonly iteratorAgeSeconds: Gauge;
  /** `cdc_cache_retries_total`: batch retries after a target failure. */
  readonly retries: Counter;
  /** `cdc_cache_dead_letter_failures_total`: retries because the dead-letter destination refused a dead letter. */
  readonly deadLetterFailures: Counter;
}

const BATCH_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the metric set on a fresh registry (with process metrics) or the one given. */
export function createConsumerMetrics(registry = new MetricsRegistry()): ConsumerMetrics {
  const counter = (m: MetricSpec) => registry.counter(m.name, m.help, m.labels);
  return {
    registry,
    events: counter(M.events),
    ops: counter(M.ops),
    deadLetters: counter(M.deadLetters),
    targetErrors: counter(M.targetErrors),
    batchDurationSeconds: registry.histogram(
      M.batchDuration.name,
      M.batchDuration.help,
      M.batchDuration.labels,
      BATCH_BUCKETS_S,
    ),
    sourceLagSeconds: registry.gauge(M.sourceLag.name, M.sourceLag.help, M.sourceLag.labels),
    checkpoints: counter(M.checkpoints),
    applySeconds: registry.histogram('cdc_cache_apply_seconds', 'Latency of one target.apply call.'),
    endToEndLagSeconds: registry.gauge(
      'cdc_cache_end_to_end_lag_seconds',
      'Now minus the commit time of the newest applied change event.',
    ),
    endToEndLagHistogram: registry.histogram(
      'cdc_cache_end_to_end_lag_histogram_seconds',
      'Commit time to applied, per batch (newest event of the batch).',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    ),
    kafkaLag: registry.gauge(
      'cdc_cache_kafka_consumer_lag',
      'Messages between the next offset to process and the high watermark.',
      ['topic', 'partition'],
    ),
    kafkaStalls: registry.counter(
      'cdc_cache_kafka_stalls_total',
      'Partitions found with lag and no committed progress for 3 session timeouts.',
      ['topic', 'partition'],
    ),
    kafkaStalledPartitions: registry.gauge(
      'cdc_cache_kafka_stalled_partitions',
      'Partitions with lag and no committed progress for 3 session timeouts, now.',
    ),
    iteratorAgeSeconds: registry.gauge(
      'cdc_cache_dynamodb_iterator_age_seconds',
      'Now minus the creation time of the last stream record read.',
      ['shard'],
    ),
    retries: registry.counter('cdc_cache_retries_total', 'Batch retries after a target failure.'),
    deadLetterFailures: registry.counter(
      'cdc_cache_dead_letter_failures_total',
      'Batch retries because the dead-letter destination did not store a dead letter.',
    ),
  };
}

/**
 * Wraps a target so every `apply` is timed and every confirmed op / failure is counted; its
 * capabilities (fill leases, shard leases) pass through uninstrumented.
 */
export function instrumentTarget(target: CacheTarget, metrics: ConsumerMetrics): CacheTarget {
  return {
    kind: target.kind,
    async apply(ops) {
      const started = performance.now();
      try {
        const results = await target.apply(ops);
        results.forEach((r, i) => {
          if (r.ok) metrics.ops.inc([ops[i]!.kind, r.outcome]);
          else {
            metrics.ops.inc([ops[i]!.kind, 'failed']);
            metrics.targetErrors.inc([(r.error as { code?: string }).code ?? 'E_TARGET']);
          }
        });
        return results;
      } catch (error) {
        metrics.targetErrors.inc([(error as { code?: string }).code ?? 'E_TARGET'], ops.length);
        for (const op of ops) metrics.ops.inc([op.kind, 'failed']);
        throw error;
      } finally {
        metrics.applySeconds.observe((performance.now() - started) / 1000);
      }
    },
    get: (key) => target.get(key),
    dump: () => target.dump(),
    close: () => target.close(),
    ...targetCapabilities(target),
  };
}

/** Records the end-to-end lag of the newest event applied (commit time in epoch ms; 0 = unknown). */
export function observeEndToEnd(metrics: ConsumerMetrics, newestCommitMs: number, now = Date.now()): void {
  if (newestCommitMs <= 0) return;
  const lag = Math.max(0, now - newestCommitMs) / 1000;
  metrics.endToEndLagSeconds.set(lag);
  metrics.endToEndLagHistogram.observe(lag);
}

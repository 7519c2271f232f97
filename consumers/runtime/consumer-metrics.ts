/**
 * The metric set both consumers export (names are a contract for dashboards; add, never rename):
 *
 * - `cdc_cache_events_total{source}`: source records read (row changes and others)
 * - `cdc_cache_ops_total{type,outcome}`: cache ops confirmed by the target (refresh/invalidate/
 *   invalidatePrefix × applied/fenced)
 * - `cdc_cache_apply_seconds`: histogram of one `target.apply` call
 * - `cdc_cache_end_to_end_lag_seconds`: now − commit time of the newest applied event
 * - `cdc_cache_kafka_consumer_lag{topic,partition}`: high watermark − next offset to read
 * - `cdc_cache_dynamodb_iterator_age_seconds{shard}`: now − creation time of the last record read
 * - `cdc_cache_dead_letters_total{code}`, `cdc_cache_target_errors_total{code}`, `cdc_cache_retries_total`
 */
import type { CacheTarget } from '../../core/target/cache-target.ts';
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './metrics.ts';

/** The consumers' metrics. */
export interface ConsumerMetrics {
  readonly registry: MetricsRegistry;
  readonly events: Counter;
  readonly ops: Counter;
  readonly applySeconds: Histogram;
  readonly endToEndLagSeconds: Gauge;
  readonly endToEndLagHistogram: Histogram;
  readonly kafkaLag: Gauge;
  readonly iteratorAgeSeconds: Gauge;
  readonly deadLetters: Counter;
  readonly targetErrors: Counter;
  readonly retries: Counter;
  readonly checkpoints: Counter;
}

/** Creates the metric set on a fresh registry (or the one given). */
export function createConsumerMetrics(registry = new MetricsRegistry()): ConsumerMetrics {
  return {
    registry,
    events: registry.counter('cdc_cache_events_total', 'Source records read.', ['source']),
    ops: registry.counter('cdc_cache_ops_total', 'Cache ops confirmed by the target.', ['type', 'outcome']),
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
    iteratorAgeSeconds: registry.gauge(
      'cdc_cache_dynamodb_iterator_age_seconds',
      'Now minus the creation time of the last stream record read.',
      ['shard'],
    ),
    deadLetters: registry.counter('cdc_cache_dead_letters_total', 'Records sent to the dead-letter sink.', [
      'code',
    ]),
    targetErrors: registry.counter('cdc_cache_target_errors_total', 'Ops the target failed.', ['code']),
    retries: registry.counter('cdc_cache_retries_total', 'Batch retries after a target failure.'),
    checkpoints: registry.counter(
      'cdc_cache_checkpoints_total',
      'Checkpoints written (offsets resolved, shard positions stored).',
      ['source'],
    ),
  };
}

/** Wraps a target so every `apply` is timed and every confirmed op / failure is counted. */
export function instrumentTarget(target: CacheTarget, metrics: ConsumerMetrics): CacheTarget {
  return {
    kind: target.kind,
    async apply(ops) {
      const started = performance.now();
      try {
        const results = await target.apply(ops);
        results.forEach((r, i) => {
          if (r.ok) metrics.ops.inc([ops[i]!.kind, r.outcome]);
          else metrics.targetErrors.inc([(r.error as { code?: string }).code ?? 'E_TARGET']);
        });
        return results;
      } catch (error) {
        metrics.targetErrors.inc([(error as { code?: string }).code ?? 'E_TARGET'], ops.length);
        throw error;
      } finally {
        metrics.applySeconds.observe((performance.now() - started) / 1000);
      }
    },
    get: (key) => target.get(key),
    dump: () => target.dump(),
    close: () => target.close(),
  };
}

/** Records the end-to-end lag of the newest event applied (commit time in epoch ms; 0 = unknown). */
export function observeEndToEnd(metrics: ConsumerMetrics, newestCommitMs: number, now = Date.now()): void {
  if (newestCommitMs <= 0) return;
  const lag = Math.max(0, now - newestCommitMs) / 1000;
  metrics.endToEndLagSeconds.set(lag);
  metrics.endToEndLagHistogram.observe(lag);
}

/**
 * The one metric vocabulary of every cdc-cache process: the same names, units and labels in the
 * containers (Prometheus, prom-client: consumers/runtime/consumer-metrics.ts) and in Lambda
 * (CloudWatch EMF: functions/runtime/metrics.ts, where labels become dimensions beside
 * `FunctionName` and `Source`). Names are a contract for dashboards and alarms: add, never rename.
 * Listed once for people in consumers/README.md "Metrics".
 */

/** One metric of the shared vocabulary. */
export interface MetricSpec {
  /** The Prometheus name, also the EMF metric name. */
  readonly name: string;
  /** What a Prometheus family is: a counter, a gauge, or a histogram (EMF: one value per batch). */
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** CloudWatch unit (Prometheus puts it in the name). */
  readonly unit: 'Count' | 'Seconds';
  /** Label names (EMF dimensions). */
  readonly labels: readonly string[];
  readonly help: string;
}

/** The metrics both kinds of process export. */
export const SHARED_METRICS = {
  /** Source records read (row changes and others). */
  events: {
    name: 'cdc_cache_events_total',
    type: 'counter',
    unit: 'Count',
    labels: ['source'],
    help: 'Source records read.',
  },
  /** Cache ops by kind (refresh, invalidate, invalidatePrefix, softInvalidate, invalidateTag) and outcome (applied, fenced, failed). */
  ops: {
    name: 'cdc_cache_ops_total',
    type: 'counter',
    unit: 'Count',
    labels: ['type', 'outcome'],
    help: 'Cache ops by type and outcome (applied, fenced: confirmed by the target; failed: not confirmed).',
  },
  /** Records sent to the dead-letter destination, by error code. */
  deadLetters: {
    name: 'cdc_cache_dead_letters_total',
    type: 'counter',
    unit: 'Count',
    labels: ['code'],
    help: 'Records sent to the dead-letter destination, by error code.',
  },
  /** Ops the target failed, by error code. */
  targetErrors: {
    name: 'cdc_cache_target_errors_total',
    type: 'counter',
    unit: 'Count',
    labels: ['code'],
    help: 'Ops the target failed, by error code.',
  },
  /** Time to process one batch (decode, plan, apply with retries, dead letters). */
  batchDuration: {
    name: 'cdc_cache_batch_duration_seconds',
    type: 'histogram',
    unit: 'Seconds',
    labels: ['source'],
    help: 'Time to process one batch: decode, plan, apply with retries, dead letters.',
  },
  /** Age of the oldest record of the newest batch when it was read: iterator age / consumer lag in time. */
  sourceLag: {
    name: 'cdc_cache_source_lag_seconds',
    type: 'gauge',
    unit: 'Seconds',
    labels: ['source'],
    help: 'Age of the oldest record of the latest batch when read (DynamoDB iterator age, Kafka record age).',
  },
  /** Source records whose position was checkpointed (Kafka offsets resolved, shard positions stored; Lambda: records reported done). */
  checkpoints: {
    name: 'cdc_cache_checkpoints_total',
    type: 'counter',
    unit: 'Count',
    labels: ['source'],
    help: 'Checkpoints written: offsets resolved, shard positions stored; Lambda: records reported done.',
  },
} as const satisfies Record<string, MetricSpec>;

/**
 * What each rule did (issue 14), exported by both kinds of process from the same counts
 * (core/plan/rule-tally.ts), so "a rule that matches nothing" shows on any dashboard.
 */
export const RULE_METRICS = {
  /** Change events each rule matched. */
  ruleEvents: {
    name: 'cdc_cache_rule_events_total',
    type: 'counter',
    unit: 'Count',
    labels: ['rule'],
    help: 'Change events each rule matched.',
  },
  /** Change events of a table no rule names. */
  unmatchedEvents: {
    name: 'cdc_cache_unmatched_events_total',
    type: 'counter',
    unit: 'Count',
    labels: ['table'],
    help: 'Change events of a table no rule names.',
  },
  /** Refreshes that fell back to invalidate, by reason. */
  refreshFallbacks: {
    name: 'cdc_cache_refresh_fallbacks_total',
    type: 'counter',
    unit: 'Count',
    labels: ['rule', 'reason'],
    help: 'Refreshes that fell back to invalidate, by reason.',
  },
  /** Events whose partial image a rule's declared onPartialImage fallback handled. */
  partialImages: {
    name: 'cdc_cache_partial_images_total',
    type: 'counter',
    unit: 'Count',
    labels: ['rule'],
    help: "Events whose partial image a rule's onPartialImage fallback handled.",
  },
} as const satisfies Record<string, MetricSpec>;

/**
 * Metrics of the cache client's near cache, exported by the application process that owns the
 * client (from `client.nearStats()` or the `near-*` client events); same conventions as above.
 */
export const NEAR_CACHE_METRICS = {
  /** Reads served by the near cache. */
  nearHits: {
    name: 'cdc_cache_near_hits_total',
    type: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Reads served by the near cache.',
  },
  /** Near-cache lookups that found nothing while tracking was up. */
  nearMisses: {
    name: 'cdc_cache_near_misses_total',
    type: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Near-cache lookups that found nothing while tracking was up.',
  },
  /** Keys the server invalidated in the near cache (a flush counts once). */
  nearInvalidations: {
    name: 'cdc_cache_near_invalidations_total',
    type: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Keys the server invalidated in the near cache (a flush counts once).',
  },
  /** Times tracking was lost and the near cache emptied. */
  nearResets: {
    name: 'cdc_cache_near_resets_total',
    type: 'counter',
    unit: 'Count',
    labels: [],
    help: 'Times tracking was lost and the near cache was emptied.',
  },
} as const satisfies Record<string, MetricSpec>;

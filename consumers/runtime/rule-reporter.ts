/**
 * Says, in metrics and logs, when a rule does nothing in a long-running consumer (issue 14): the
 * planner counts into one {@link RuleTally} per process; after each batch `flush` turns the new
 * counts into Prometheus counters and logs each new finding once; `final` (at shutdown) logs rules
 * that matched no event. Lambda reports the same counts as EMF (functions/runtime/run-batch.ts).
 *
 * Metrics (core/metrics/metric-names.ts RULE_METRICS; add, never rename):
 * - `cdc_cache_rule_events_total{rule}`: change events each rule matched
 * - `cdc_cache_unmatched_events_total{table}`: change events of a table no rule names
 * - `cdc_cache_refresh_fallbacks_total{rule,reason}`: refreshes that became invalidates
 *   (reason: no-new-image, missing-field, unavailable, partial-image, projection)
 * - `cdc_cache_partial_images_total{rule}`: events whose partial image a rule's declared
 *   onPartialImage fallback handled (dead-lettered ones count in cdc_cache_dead_letters_total)
 */
import { RULE_METRICS } from '../../core/metrics/metric-names.ts';
import type { PlanStats } from '../../core/plan/plan-stats.ts';
import { RuleTally } from '../../core/plan/rule-tally.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { Logger } from './logger.ts';
import type { Counter, MetricsRegistry } from './metrics.ts';

/** The per-process rule counters of a consumer. */
export interface RuleReporter {
  /** Handed to the planner (processBatch `stats`). */
  readonly stats: PlanStats;
  /** Exports counts planned since the last flush; logs findings not logged before. */
  flush(): void;
  /** Logs rules that matched none of the events seen (call at shutdown). */
  final(): void;
}

/** Creates the reporter and registers its metrics. */
export function createRuleReporter(
  config: CompiledConfig,
  registry: MetricsRegistry,
  logger: Logger,
): RuleReporter {
  const tally = new RuleTally(config);
  const counters = new Map<string, Counter>();
  for (const m of Object.values(RULE_METRICS))
    counters.set(m.name, registry.counter(m.name, m.help, m.labels));
  return {
    stats: tally.stats,
    flush() {
      const { deltas, findings } = tally.drain();
      for (const d of deltas) counters.get(d.metric.name)!.inc(d.labels, d.value);
      for (const f of findings) logger.warn('rule finding', { kind: f.kind, finding: f.message });
    },
    final() {
      for (const f of tally.unusedRules()) logger.warn('rule finding', { kind: f.kind, finding: f.message });
    },
  };
}

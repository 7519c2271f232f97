/**
 * Says, in metrics and logs, when a rule does nothing in a long-running consumer (issue 14): the
 * planner counts into one PlanStats per process; after each batch `flush` turns the new counts into
 * Prometheus counters and logs each new finding once; `final` (at shutdown) logs rules that matched
 * no event.
 *
 * Metrics (add, never rename):
 * - `cdc_cache_rule_events_total{rule}`: change events each rule matched
 * - `cdc_cache_unmatched_events_total{table}`: change events of a table no rule names
 * - `cdc_cache_refresh_fallbacks_total{rule,reason}`: refreshes that became invalidates
 *   (reason: no-new-image, missing-field, unavailable, partial-image, projection)
 * - `cdc_cache_partial_images_total{rule}`: events whose partial image a rule's declared
 *   onPartialImage fallback handled (dead-lettered ones count in cdc_cache_dead_letters_total)
 */
import { FallbackReasons, PlanStats } from '../../core/plan/plan-stats.ts';
import { ruleFindings } from '../../core/plan/rule-report.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { Logger } from './logger.ts';
import type { MetricsRegistry } from './metrics.ts';

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
  const stats = new PlanStats(config.rules.length);
  const ruleEvents = registry.counter('cdc_cache_rule_events_total', 'Change events each rule matched.', [
    'rule',
  ]);
  const unmatched = registry.counter(
    'cdc_cache_unmatched_events_total',
    'Change events of a table no rule names.',
    ['table'],
  );
  const fallbacks = registry.counter(
    'cdc_cache_refresh_fallbacks_total',
    'Refreshes that fell back to invalidate, by reason.',
    ['rule', 'reason'],
  );
  const partial = registry.counter(
    'cdc_cache_partial_images_total',
    "Events whose partial image a rule's onPartialImage fallback handled.",
    ['rule'],
  );
  const seenMatched = new Array<number>(config.rules.length).fill(0);
  const seenFallbacks = new Array<number>(stats.fallbacks.length).fill(0);
  const seenPartial = new Array<number>(config.rules.length).fill(0);
  const seenTables = new Map<string, number>();
  const logged = new Set<string>();
  return {
    stats,
    flush() {
      for (const rule of config.rules) {
        const i = rule.index;
        const m = stats.matched[i]!;
        if (m !== seenMatched[i]) ruleEvents.inc([rule.name], m - seenMatched[i]!);
        seenMatched[i] = m;
        const p = stats.partialImages[i]!;
        if (p !== seenPartial[i]) partial.inc([rule.name], p - seenPartial[i]!);
        seenPartial[i] = p;
        for (let r = 0; r < FallbackReasons.length; r++) {
          const slot = i * FallbackReasons.length + r;
          const n = stats.fallbacks[slot]!;
          if (n !== seenFallbacks[slot])
            fallbacks.inc([rule.name, FallbackReasons[r]!], n - seenFallbacks[slot]!);
          seenFallbacks[slot] = n;
        }
      }
      for (const [table, n] of stats.unmatchedTables) {
        const before = seenTables.get(table) ?? 0;
        if (n !== before) unmatched.inc([table], n - before);
        seenTables.set(table, n);
      }
      for (const f of ruleFindings(config, stats)) {
        if (f.kind === 'unused-rule') continue; // judged at shutdown: early batches prove nothing
        const id = `${f.kind} ${f.subject}`; // one log line per table, or rule and reason
        if (logged.has(id)) continue;
        logged.add(id);
        logger.warn('rule finding', { kind: f.kind, finding: f.message });
      }
    },
    final() {
      for (const f of ruleFindings(config, stats))
        if (f.kind === 'unused-rule') logger.warn('rule finding', { kind: f.kind, finding: f.message });
    },
  };
}

/**
 * The per-process rule counts of a long-running consumer or a warm Lambda environment, turned into
 * what operators see: metric increments since the last drain (the shared names of
 * {@link RULE_METRICS}) and findings not reported before (one log line each, per process).
 *
 * A rule that matched nothing (or a `when` field no event carried) is only judged by
 * {@link RuleTally.unusedRules}: early batches prove nothing, so the consumers ask at shutdown and
 * Lambda once an environment has seen enough events.
 */
import { RULE_METRICS } from '../metrics/metric-names.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import { FallbackReasons, PlanStats } from './plan-stats.ts';
import { type Finding, type FindingKind, ruleFindings } from './rule-report.ts';

/**
 * Findings that early batches cannot prove (a rule that matched nothing yet; a `when` field that
 * sparse DynamoDB items have not carried yet): reported by {@link RuleTally.unusedRules} only.
 */
const JUDGED_LATE: ReadonlySet<FindingKind> = new Set(['unused-rule', 'when-field']);

/** One counter increment: a metric of {@link RULE_METRICS}, its label values and the amount. */
export interface RuleMetricDelta {
  metric: (typeof RULE_METRICS)[keyof typeof RULE_METRICS];
  labels: readonly string[];
  value: number;
}

/** What changed since the previous {@link RuleTally.drain}. */
export interface RuleTallyDrain {
  deltas: RuleMetricDelta[];
  /** Findings (except unused rules) not returned by an earlier drain. */
  findings: Finding[];
}

/** Counts of one process; hand {@link RuleTally.stats} to the planner (processBatch `stats`). */
export class RuleTally {
  /** The counters the planner increments. */
  readonly stats: PlanStats;
  private readonly seenMatched: number[];
  private readonly seenFallbacks: number[];
  private readonly seenPartial: number[];
  private readonly seenTables = new Map<string, number>();
  private readonly reported = new Set<string>();
  private unusedJudged = false;
  private readonly config: CompiledConfig;

  constructor(config: CompiledConfig) {
    this.config = config;
    const rules = config.rules.length;
    this.stats = new PlanStats(rules);
    this.seenMatched = new Array<number>(rules).fill(0);
    this.seenFallbacks = new Array<number>(rules * FallbackReasons.length).fill(0);
    this.seenPartial = new Array<number>(rules).fill(0);
  }

  /** The increments and new findings since the last call. */
  drain(): RuleTallyDrain {
    const deltas: RuleMetricDelta[] = [];
    const { stats } = this;
    for (const rule of this.config.rules) {
      const i = rule.index;
      const m = stats.matched[i]!;
      if (m !== this.seenMatched[i])
        deltas.push({
          metric: RULE_METRICS.ruleEvents,
          labels: [rule.name],
          value: m - this.seenMatched[i]!,
        });
      this.seenMatched[i] = m;
      const p = stats.partialImages[i]!;
      if (p !== this.seenPartial[i])
        deltas.push({
          metric: RULE_METRICS.partialImages,
          labels: [rule.name],
          value: p - this.seenPartial[i]!,
        });
      this.seenPartial[i] = p;
      for (let r = 0; r < FallbackReasons.length; r++) {
        const slot = i * FallbackReasons.length + r;
        const n = stats.fallbacks[slot]!;
        if (n !== this.seenFallbacks[slot])
          deltas.push({
            metric: RULE_METRICS.refreshFallbacks,
            labels: [rule.name, FallbackReasons[r]!],
            value: n - this.seenFallbacks[slot]!,
          });
        this.seenFallbacks[slot] = n;
      }
    }
    for (const [table, n] of stats.unmatchedTables) {
      const before = this.seenTables.get(table) ?? 0;
      if (n !== before)
        deltas.push({ metric: RULE_METRICS.unmatchedEvents, labels: [table], value: n - before });
      this.seenTables.set(table, n);
    }
    const findings: Finding[] = [];
    for (const f of ruleFindings(this.config, stats)) {
      if (JUDGED_LATE.has(f.kind)) continue;
      const id = `${f.kind} ${f.subject}`; // one report per table, or rule and reason
      if (this.reported.has(id)) continue;
      this.reported.add(id);
      findings.push(f);
    }
    return { deltas, findings };
  }

  /**
   * Unused rules once, the first time at least `events` change events were counted (for processes
   * with no shutdown hook, such as a Lambda environment); afterwards and before that, none.
   */
  unusedRulesOnceAfter(events: number): Finding[] {
    if (this.unusedJudged || this.stats.events < events) return [];
    this.unusedJudged = true;
    return this.unusedRules();
  }

  /**
   * Rules that matched none of the events counted so far, with evidence that they are wrong (none
   * before the first event; a rule whose table was only quiet is none: see rule-report.ts), and
   * `when` fields none of the events carried.
   */
  unusedRules(): Finding[] {
    return ruleFindings(this.config, this.stats, { unused: 'evident' }).filter((f) =>
      JUDGED_LATE.has(f.kind),
    );
  }
}

/**
 * Turns PlanStats into findings a person can act on: rules that matched nothing, tables seen that
 * no rule names (with a did-you-mean against the rules' tables), refreshes that fell back to
 * invalidate (with the reason and the field), and events a rule's partial-image policy handled.
 * One line each; `replay --strict` makes any finding an error.
 */

import { editDistance } from '../config/did-you-mean.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import { FallbackReasons, type PlanStats } from './plan-stats.ts';

/** Kinds of finding. */
export type FindingKind = 'unused-rule' | 'unmatched-table' | 'refresh-fallback' | 'partial-image';

/** One thing a rule did not do as written. */
export interface Finding {
  kind: FindingKind;
  /** What it is about (a rule name, a table, a rule and a reason): stable while counts grow. */
  subject: string;
  /** One line, naming the rule or table and the fix. */
  message: string;
}

const REASON_TEXT = {
  'no-new-image': () => 'the event carries no new image (KEYS_ONLY / OLD_IMAGE stream, MongoDB patch)',
  'missing-field': (f: string | undefined) =>
    `field "${f}" is missing from the new image (check refresh.fields for a typo)`,
  unavailable: (f: string | undefined) =>
    `field "${f}" was not sent (PostgreSQL unchanged TOAST value; REPLICA IDENTITY FULL sends it)`,
  'partial-image': () => 'the new image is partial (MySQL binlog_row_image=MINIMAL)',
  projection: () => 'refresh.project returned undefined',
} as const;

/** The rule whose table pattern is closest to `table` (qualified or not), if close enough. */
function closestRule(config: CompiledConfig, table: string): string {
  const bare = table.slice(table.lastIndexOf('.') + 1);
  let best = '';
  let bestScore = Number.POSITIVE_INFINITY;
  for (const rule of config.rules) {
    const pattern = rule.table.pattern;
    const candidate = pattern.includes('.') ? table : bare;
    const d = editDistance(candidate, pattern);
    if (d < bestScore) {
      bestScore = d;
      best = `${rule.name.slice(0, rule.name.indexOf(' '))} table "${pattern}"`;
    }
  }
  return bestScore <= Math.max(2, Math.floor(table.length / 4)) ? ` (did you mean ${best}?)` : '';
}

/** The findings for everything planned with `stats`. Only rules that saw events are judged unused. */
export function ruleFindings(config: CompiledConfig, stats: PlanStats): Finding[] {
  const findings: Finding[] = [];
  if (stats.events === 0) return findings;
  for (const rule of config.rules) {
    if (stats.matched[rule.index] === 0) {
      findings.push({
        kind: 'unused-rule',
        subject: rule.name,
        message: `${rule.name} matched none of the ${stats.events} change events (check its table, source and when)`,
      });
    }
  }
  for (const [table, count] of [...stats.unmatchedTables].sort((a, b) => b[1] - a[1])) {
    findings.push({
      kind: 'unmatched-table',
      subject: table,
      message: `table ${table}: ${count} change event${count === 1 ? '' : 's'} matched no rule${closestRule(config, table)}`,
    });
  }
  for (const rule of config.rules) {
    for (const reason of FallbackReasons) {
      const n = stats.fallbackCount(rule.index, reason);
      if (n === 0) continue;
      findings.push({
        kind: 'refresh-fallback',
        subject: `${rule.name} ${reason}`,
        message: `${rule.name}: ${n} refresh${n === 1 ? '' : 'es'} fell back to invalidate: ${REASON_TEXT[reason](stats.fallbackField(rule.index, reason))}`,
      });
    }
    const partial = stats.partialImages[rule.index]!;
    if (partial > 0) {
      const policy = rule.partialPolicy;
      const outcome =
        policy.kind === 'prefix'
          ? `invalidated ${policy.prefixes.map((p) => JSON.stringify(p)).join(', ')} instead`
          : 'left the keys it could not build as they are (onPartialImage: "ignore")';
      findings.push({
        kind: 'partial-image',
        subject: rule.name,
        message: `${rule.name}: ${partial} event${partial === 1 ? '' : 's'} with a partial image ${outcome}; e.g. ${stats.partialDetails[rule.index]}`,
      });
    }
  }
  return findings;
}

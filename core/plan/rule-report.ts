/**
 * Turns PlanStats into findings a person can act on: rules that matched nothing, tables seen that
 * no rule names (with a did-you-mean against the rules' tables), refreshes that fell back to
 * invalidate (with the reason and the field), events a rule's partial-image policy handled, and
 * `when.changed` / `when.equals` fields that no event of the rule's tables carried (a typo there
 * makes the filter skip changes silently), and `keyFields` entries the record keys of the rule's
 * tables do not carry (a record with a key never reads keyFields, so a typo there hid until a
 * record without a key came).
 * One line each; `replay --strict` makes any finding an error.
 *
 * Unused rules are judged two ways ({@link UnusedRuleMode}). A change log is a chosen sample, so
 * there (`all`) every rule that matched none of its events is named. A live stream only shows the
 * tables that happened to change, and a consumer or verifier often follows a few of the topics one
 * rules file serves, so there (`evident`) a rule is named only with evidence that it is wrong: events
 * of its table arrived and its source or `when` refused them all, or a table seen is a near miss of
 * its table (a typo such as `public.order`). A rule whose table was merely quiet is no finding.
 */

import { didYouMean, editDistance } from '../config/did-you-mean.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import { FallbackReasons, type PlanStats } from './plan-stats.ts';

/** Kinds of finding. */
export type FindingKind =
  | 'unused-rule'
  | 'unmatched-table'
  | 'refresh-fallback'
  | 'partial-image'
  | 'when-field'
  | 'key-field';

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

/** What a `when` field no event carries does to the filter, by the option naming it. */
const WHEN_FIELD_EFFECT = {
  'when.changed':
    'it never changes, so an update that changes no other listed field is skipped and its keys stay as they were',
  'when.equals': 'it never equals the value, so the filter never holds',
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

/**
 * How rules that matched nothing are judged: `all` names every one (change logs: replay, verify of
 * a change log, `cdc-cache/testing`); `evident` only those with evidence of a mistake (live streams:
 * the consumers, Lambda, `verify --kafka` / `--dynamodb-stream`). See the module comment.
 */
export type UnusedRuleMode = 'all' | 'evident';

/** Options of {@link ruleFindings}. */
export interface RuleFindingsOptions {
  /** @default 'all' */
  unused?: UnusedRuleMode;
}

/**
 * A table seen close enough to `pattern` to be what its rule meant: a typo (`public.order` for
 * `public.orders`), or the very table when its events came from another source than the rule's.
 * Only asked for rules that named no event, so no table seen is one the rule names.
 */
function nearMiss(
  pattern: string,
  tables: ReadonlySet<string>,
): { table: string; exact: boolean } | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const table of tables) {
    const candidate = pattern.includes('.') ? table : table.slice(table.lastIndexOf('.') + 1);
    const d = editDistance(candidate, pattern);
    if (d < bestScore) {
      bestScore = d;
      best = table;
    }
  }
  if (best === undefined || bestScore > Math.max(2, Math.floor(pattern.length / 4))) return undefined;
  return { table: best, exact: bestScore === 0 };
}

function unusedRule(
  rule: CompiledConfig['rules'][number],
  stats: PlanStats,
  mode: UnusedRuleMode,
): Finding | undefined {
  if (stats.matched[rule.index] !== 0) return undefined;
  const finding = (message: string): Finding => ({ kind: 'unused-rule', subject: rule.name, message });
  if (mode === 'all')
    return finding(
      `${rule.name} matched none of the ${stats.events} change events (check its table, source and when)`,
    );
  const named = stats.named[rule.index]!;
  if (named > 0)
    return finding(
      `${rule.name} matched none of the ${named} change event${named === 1 ? '' : 's'} of its table (check its source and when)`,
    );
  const near = nearMiss(rule.table.pattern, stats.tables);
  if (near === undefined) return undefined; // its table was quiet: nothing says the rule is wrong
  return finding(
    near.exact
      ? `${rule.name} matched none of the ${stats.events} change events (events of table ${near.table} came from another source: check its source)`
      : `${rule.name} matched none of the ${stats.events} change events (check its table: did you mean "${near.table}"?)`,
  );
}

/** The findings for everything planned with `stats`. Only rules that saw events are judged unused. */
export function ruleFindings(
  config: CompiledConfig,
  stats: PlanStats,
  options: RuleFindingsOptions = {},
): Finding[] {
  const findings: Finding[] = [];
  if (stats.events === 0) return findings;
  const mode = options.unused ?? 'all';
  for (const rule of config.rules) {
    const f = unusedRule(rule, stats, mode);
    if (f !== undefined) findings.push(f);
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
    for (const field of stats.whenFieldsUnseen(rule.index)) {
      const option = rule.whenFields.find((f) => f.field === field)?.option ?? 'when.changed';
      const n = stats.whenEvents[rule.index]!;
      findings.push({
        kind: 'when-field',
        subject: `${rule.name} ${field}`,
        message: `${rule.name}: ${option} names field "${field}", which none of the ${n} change event${n === 1 ? '' : 's'} of its table carried (check it for a typo): ${WHEN_FIELD_EFFECT[option]}`,
      });
    }
    for (const field of stats.keyFieldsUnseen(rule.index)) {
      const n = stats.keyEvents[rule.index]!;
      const carried = stats.recordKeyFields[rule.index] ?? [];
      findings.push({
        kind: 'key-field',
        subject: `${rule.name} keyFields ${field}`,
        message: `${rule.name}: keyFields names "${field}", which none of the ${n} record key${n === 1 ? '' : 's'} of its table carried (they carry ${carried.join(', ')}${didYouMean(field, carried)}): a record without a key would build its key from a field the key does not have; name the primary-key fields`,
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

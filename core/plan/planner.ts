/**
 * The planner: a batch of ChangeEvents → coalesced CacheOps, plus what each input record needs
 * acknowledged before its source position may be checkpointed.
 *
 * Invariants:
 * - One op per key per batch: the op with the highest version wins; at equal versions an invalidate
 *   beats a refresh (the safe choice when two rules disagree).
 * - A prefix invalidation (truncate) is a barrier: key ops after it never merge with ops before it,
 *   so applying ops in array order reproduces the source order.
 * - `recordOps[i]` lists the op slots record i depends on. A record whose op was superseded depends on
 *   the slot that superseded it: once that newer op is acknowledged, the record is covered.
 * - A record that fails to plan is reported in `failures` (dead-letter it) and depends on nothing;
 *   so is one that renders an op no target could apply (reserved key, oversized version: check-op.ts).
 * - With a PlanStats, every planned event is counted per rule (see plan-stats.ts).
 */

import { PartialImageError } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import { compareVersions } from '../event/version.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import { evaluateRule, ruleNamesTable, whenHolds } from '../rules/evaluate.ts';
import { onPartialImage } from '../rules/partial-policy.ts';
import { type CacheOp, opSlotName } from '../targets/cache-op.ts';
import { checkOp } from './check-op.ts';
import type { PlanStats } from './plan-stats.ts';

/** A record that could not be planned. */
export interface PlanFailure {
  /** Index of the record in the planner's input. */
  index: number;
  error: Error & { code?: string };
}

/** The planner's output. */
export interface Plan {
  /** Coalesced ops, in source order. */
  ops: CacheOp[];
  /** For each input index, the indices into `ops` that must be acknowledged for that record. */
  recordOps: number[][];
  /** Records that failed to plan (rule errors): dead-letter them. */
  failures: PlanFailure[];
  /** Records no rule matched (counted, not an error). */
  unmatched: number;
}

/** Returns true when `next` should replace `prev` for the same key. */
function supersedes(prev: CacheOp, next: CacheOp): boolean {
  const c = compareVersions(next.version, prev.version);
  if (c !== 0) return c > 0;
  return STRENGTH[next.kind] >= STRENGTH[prev.kind];
}

/** At equal versions the stronger op wins: invalidate over soft-invalidate over refresh. */
const STRENGTH: Record<CacheOp['kind'], number> = {
  refresh: 0,
  softInvalidate: 1,
  invalidate: 2,
  invalidatePrefix: 2,
  invalidateTag: 2,
};

/**
 * Lists the ops every matching rule asks for on one event, appended to `ops`. Throws RuleError.
 * With `stats`, counts per rule what matched, fell back or could not be served (no allocation).
 */
export function opsForEvent(
  config: CompiledConfig,
  event: ChangeEvent,
  ops: CacheOp[] = [],
  stats?: PlanStats,
): { ops: CacheOp[]; matched: boolean } {
  return { ops, matched: planEvent(config, event, ops, stats) };
}

/** opsForEvent without its result object (the batch planner's hot path): true when a rule matched. */
function planEvent(config: CompiledConfig, event: ChangeEvent, ops: CacheOp[], stats?: PlanStats): boolean {
  let matched = false;
  let named = false;
  stats?.sawTable(event.table, event.namespace);
  for (const rule of config.rules) {
    if (!ruleNamesTable(rule, event)) continue;
    named = true;
    if (stats !== undefined) stats.named[rule.index]!++;
    if (stats !== undefined && rule.whenFields.length > 0)
      stats.whenFieldsIn(rule.index, rule.whenFields, event);
    if (stats !== undefined && rule.keyFields !== undefined && event.key !== null)
      stats.keyFieldsIn(rule.index, rule.keyFields, event.key);
    let holds: boolean;
    try {
      holds = whenHolds(rule, event);
    } catch (error) {
      if (!(error instanceof PartialImageError)) throw error;
      // A JSON filter cannot tell from a partial image whether the rule applies: its policy decides.
      const need = { what: error.message, field: error.field, image: error.image, suggest: '' };
      onPartialImage(rule, event, need, ops, { hit: false }, stats);
      if (stats !== undefined) stats.matched[rule.index]!++;
      matched = true;
      continue;
    }
    if (!holds) continue;
    matched = true;
    if (stats !== undefined) stats.matched[rule.index]!++;
    evaluateRule(rule, event, ops, stats);
  }
  if (!named) stats?.unmatchedTable(event.table, event.namespace);
  return matched;
}

/**
 * Plans a batch. `events[i]` may be null for a record that is not a row change (it depends on
 * nothing and can be checkpointed at once).
 */
export function planBatch(
  config: CompiledConfig,
  events: readonly (ChangeEvent | null)[],
  stats?: PlanStats,
): Plan {
  const ops: CacheOp[] = [];
  const recordOps: number[][] = [];
  const failures: PlanFailure[] = [];
  let slots = new Map<string, number>();
  let unmatched = 0;
  const produced: CacheOp[] = []; // scratch, reused per event
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const deps: number[] = [];
    recordOps.push(deps);
    if (event === null || event === undefined) continue;
    produced.length = 0;
    try {
      if (stats !== undefined) stats.events++;
      if (!planEvent(config, event, produced, stats)) unmatched++;
      for (const op of produced) checkOp(op); // what no target could apply is a dead letter here
    } catch (error) {
      failures.push({ index: i, error: error as Error });
      continue;
    }
    for (const op of produced) {
      if (op.kind === 'invalidatePrefix') {
        slots = new Map(); // barrier: later key ops start new slots
        deps.push(ops.push(op) - 1);
        continue;
      }
      const name = opSlotName(op);
      const slot = slots.get(name);
      if (slot === undefined) {
        const at = ops.push(op) - 1;
        slots.set(name, at);
        deps.push(at);
      } else {
        if (supersedes(ops[slot]!, op)) ops[slot] = op;
        if (!deps.includes(slot)) deps.push(slot);
      }
    }
  }
  return { ops, recordOps, failures, unmatched };
}

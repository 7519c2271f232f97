/**
 * Expected cache state: what one ChangeEvent says each of its row's own cache keys may hold once the
 * change has been applied. Computed with the planner's own code (`evaluateRule`), so an expected
 * refresh value is byte-identical to what the pipeline writes.
 *
 * Rules (per key the event's matching rules name; dependents are not checked, see below):
 * - the event deletes the row (or has no new image): the key must be **absent**;
 * - a `refresh` key: **absent or exactly the refreshed value** (absent is fine: a cache may always
 *   lose a key to TTL or eviction);
 * - an `invalidate` key named from the new image: with `expect` (the app's loader stores that
 *   projection), **absent or exactly that projection** of the row; without `expect` the verifier
 *   cannot know what the app stores: **unchecked**, except after a delete (absent);
 * - an `invalidate` key named only from the old image (the row's email changed, so `user:email:OLD`
 *   no longer belongs to it): **absent**;
 * - a refresh the rule had to turn into an invalidate (field missing / unavailable TOAST): unchecked;
 * - `dependents` (keys of other entities, e.g. `team:{team_id}:members`) are not checked: their value
 *   depends on rows the event does not carry.
 */
import type { ChangeEvent } from '../event/change-event.ts';
import type { CompiledConfig, CompiledRule } from '../rules/compile.ts';
import { evaluateRule, ruleMatches } from '../rules/evaluate.ts';
import type { CacheOp } from '../targets/cache-op.ts';

/** What the app's loader stores under `invalidate` keys: the listed fields (in order) or the whole row. */
export type ExpectSpec = { fields: readonly string[] } | { row: true };

/** What a key may hold. `value`: absent or exactly `value`. */
export type Expectation = { kind: 'value'; value: string } | { kind: 'absent' } | { kind: 'unchecked' };

/** How an actual cache value compares with an expectation. */
export type Judgement = 'consistent' | 'inconsistent' | 'unchecked';

/** Compares an actual cache value (null = absent) with an expectation. */
export function judge(expected: Expectation, actual: string | null): Judgement {
  if (actual === null) return 'consistent';
  if (expected.kind === 'absent') return 'inconsistent';
  if (expected.kind === 'unchecked') return 'unchecked';
  return actual === expected.value ? 'consistent' : 'inconsistent';
}

const REFRESH_ALL = { create: 'refresh', update: 'refresh', read: 'refresh', delete: 'invalidate' } as const;

/**
 * The rule's own keys only (no dependents). Keys a partial image cannot build are left out (policy
 * `ignore`): the verifier checks what it can name, the planner decides the rest.
 */
function ownRule(rule: CompiledRule): CompiledRule {
  return { ...rule, dependents: [], partialPolicy: { kind: 'ignore' } };
}

/** The rule as if every own key refreshed with `spec`'s projection (whole row when spec is undefined). */
function projectingRule(rule: CompiledRule, spec: ExpectSpec | undefined): CompiledRule {
  const fields = spec !== undefined && 'fields' in spec ? [...spec.fields] : undefined;
  return {
    ...rule,
    dependents: [],
    partialPolicy: { kind: 'ignore' },
    keys: rule.keys.map((k) => ({ ...k, action: 'refresh' })),
    actions: { ...rule.actions, ...REFRESH_ALL },
    refresh: {
      ...rule.refresh,
      fields,
      fieldJson: fields?.map((f) => `${JSON.stringify(f)}:`),
      project: undefined,
      jitter: 0,
    },
  };
}

/**
 * The expectations of `event` for every own key its matching rules name (first rule wins on a key
 * two rules name). Throws RuleError like the planner when a key cannot be built.
 */
export function expectationsFor(
  config: CompiledConfig,
  event: ChangeEvent,
  expect?: ExpectSpec,
): Map<string, Expectation> {
  const out = new Map<string, Expectation>();
  const deleting = event.op === 'delete' || event.after === null;
  for (const rule of config.rules) {
    if (!ruleMatches(rule, event)) continue;
    if (event.op === 'truncate' || rule.actions[event.op] === 'ignore') continue;
    const own: CacheOp[] = evaluateRule(ownRule(rule), event);
    // New-image keys are the ones a whole-row projection refreshes; the rest are old-image keys.
    // (An empty projection never fails, so the probe refreshes exactly the new-image keys.)
    const probe = deleting ? [] : evaluateRule(projectingRule(rule, { fields: [] }), event);
    const newKeys = new Set(probe.flatMap((op) => (op.kind === 'refresh' ? [op.key] : [])));
    const expected =
      deleting || expect === undefined ? [] : evaluateRule(projectingRule(rule, expect), event);
    for (const op of own) {
      if (!('key' in op) || out.has(op.key)) continue;
      if (op.kind === 'softInvalidate' && !deleting)
        out.set(op.key, { kind: 'unchecked' }); // stale until reloaded
      else if (deleting) out.set(op.key, { kind: 'absent' });
      else if (op.kind === 'refresh') out.set(op.key, { kind: 'value', value: op.value });
      else if (!newKeys.has(op.key)) out.set(op.key, { kind: 'absent' });
      else if (rule.keys.some((k) => k.action === 'refresh') && ruleRefreshes(rule, event, op.key))
        out.set(op.key, { kind: 'unchecked' }); // a refresh that fell back to invalidate
      else {
        const e = expected.find((x) => x.kind === 'refresh' && x.key === op.key);
        out.set(op.key, e?.kind === 'refresh' ? { kind: 'value', value: e.value } : { kind: 'unchecked' });
      }
    }
  }
  return out;
}

/** True when `key` is one of the rule's refresh keys for this event (its refresh fell back to invalidate). */
function ruleRefreshes(rule: CompiledRule, event: ChangeEvent, key: string): boolean {
  const refreshOnly: CompiledRule = {
    ...rule,
    dependents: [],
    keys: rule.keys.filter((k) => k.action === 'refresh'),
  };
  if (rule.actions[event.op] === 'invalidate') return false;
  return evaluateRule(refreshOnly, event).some((op) => 'key' in op && op.key === key);
}

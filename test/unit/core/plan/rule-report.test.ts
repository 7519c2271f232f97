/**
 * Rule findings on the real harness capture (test/fixtures/captured/debezium-postgres-plain.jsonl:
 * public.customers, public.orders and public.documents changes), the two ways unused rules are
 * judged: `all` (change logs) names every rule that matched nothing; `evident` (live streams: the
 * consumers, Lambda, live verify) only a rule with evidence that it is wrong — events of its table
 * refused by its source or `when`, or a near-miss table seen — never one whose table was quiet.
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { PlanStats } from '../../../../core/plan/plan-stats.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { ruleFindings } from '../../../../core/plan/rule-report.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import type { RuleSpec } from '../../../../core/rules/config.ts';
import { fixtureText } from '../../../support/fixtures.ts';

const events = fixtureText('captured/debezium-postgres-plain.jsonl')
  .split('\n')
  .filter(Boolean)
  .map((l) => decodeDocument(parseExactJson(l))[0] ?? null);

function findings(rules: RuleSpec[], unused: 'all' | 'evident') {
  const config = compileConfig({ rules });
  const stats = new PlanStats(config.rules.length);
  planBatch(config, events, stats);
  return ruleFindings(config, stats, { unused }).map((f) => `${f.kind}: ${f.message}`);
}

const CORRECT: RuleSpec[] = [
  { table: 'public.customers', keys: ['customer:{id}'] },
  { table: 'public.orders', keys: ['order:{id}'] },
  { table: 'public.documents', keys: ['doc:{id}'] },
];

describe('rule findings: unused rules', () => {
  it('the right rules for every table seen: no finding either way', () => {
    expect(findings(CORRECT, 'all')).toEqual([]);
    expect(findings(CORRECT, 'evident')).toEqual([]);
  });

  it('a rule whose table was quiet: named from a change log, no finding on a live stream', () => {
    const rules = [...CORRECT, { table: 'public.payments', keys: ['payment:{id}'] }];
    expect(findings(rules, 'all')).toEqual([
      'unused-rule: rules[3] (public.payments) matched none of the 8 change events (check its table, source and when)',
    ]);
    expect(findings(rules, 'evident')).toEqual([]);
  });

  it('a mistyped table (public.order): the rule and the table it missed, both ways', () => {
    const rules = [CORRECT[0]!, { table: 'public.order', keys: ['order:{id}'] }, CORRECT[2]!];
    const table =
      'unmatched-table: table public.orders: 3 change events matched no rule (did you mean rules[1] table "public.order"?)';
    expect(findings(rules, 'evident')).toEqual([
      'unused-rule: rules[1] (public.order) matched none of the 8 change events (check its table: did you mean "public.orders"?)',
      table,
    ]);
    expect(findings(rules, 'all')).toEqual([
      'unused-rule: rules[1] (public.order) matched none of the 8 change events (check its table, source and when)',
      table,
    ]);
  });

  it('a typo hidden by a wildcard rule that took the events is still evident', () => {
    const rules = [
      { table: 'public.customer', keys: ['customer:{id}'] },
      { table: 'public.*', keys: ['row:{id}'] },
    ];
    expect(findings(rules, 'evident')).toEqual([
      'unused-rule: rules[0] (public.customer) matched none of the 8 change events (check its table: did you mean "public.customers"?)',
    ]);
  });

  it("events of the rule's table refused by its when or its source", () => {
    expect(
      findings([...CORRECT.slice(0, 2), { ...CORRECT[2]!, when: { ops: ['truncate'] } }], 'evident'),
    ).toEqual([
      'unused-rule: rules[2] (public.documents) matched none of the 2 change events of its table (check its source and when)',
    ]);
    expect(findings([...CORRECT.slice(0, 2), { ...CORRECT[2]!, source: 'dynamodb' }], 'evident')).toEqual([
      'unused-rule: rules[2] (public.documents) matched none of the 8 change events (events of table public.documents came from another source: check its source)',
      'unmatched-table: table public.documents: 2 change events matched no rule (did you mean rules[2] table "public.documents"?)',
    ]);
  });
});

describe('rule findings: keyFields', () => {
  it('a keyFields entry the record keys do not carry is named, with what they carry', () => {
    // The captured records carry Kafka keys {"id": …}: keyFields is never read for them, so a wrong
    // entry used to pass silently until a record without a key came.
    const rules = [
      { table: 'public.customers', keys: ['customer:{id}'], keyFields: ['customer_id'] },
      CORRECT[1]!,
      CORRECT[2]!,
    ];
    expect(findings(rules, 'evident')).toEqual([
      'key-field: rules[0] (public.customers): keyFields names "customer_id", which none of the 3 record keys of its table carried (they carry id): a record without a key would build its key from a field the key does not have; name the primary-key fields',
    ]);
    const right = [{ ...rules[0]!, keyFields: ['id'] }, CORRECT[1]!, CORRECT[2]!];
    expect(findings(right, 'all')).toEqual([]);
  });
});

/**
 * Issue 14, item 2 in the consumers: what each rule did becomes Prometheus counters, and each new
 * finding (a table no rule names, a refresh fallback with its field) is logged once; rules that
 * matched nothing are logged at shutdown. Planned through the real planner on the real harness
 * capture (test/fixtures/captured/debezium-postgres-plain.jsonl).
 */
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../../../consumers/runtime/logger.ts';
import { MetricsRegistry } from '../../../../consumers/runtime/metrics.ts';
import { createRuleReporter } from '../../../../consumers/runtime/rule-reporter.ts';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { fixtureText } from '../../../support/fixtures.ts';

const events = fixtureText('captured/debezium-postgres-plain.jsonl')
  .split('\n')
  .filter(Boolean)
  .map((l) => decodeDocument(parseExactJson(l))[0] ?? null);

describe('rule reporter', () => {
  it('exports per-rule counters and logs each finding once', async () => {
    const config = compileConfig({
      rules: [
        { table: 'public.order', keys: ['order:{id}'] },
        { table: 'customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'statuz'] } },
      ],
    });
    const registry = new MetricsRegistry({ processMetrics: false });
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (l) => void lines.push(l) });
    const reporter = createRuleReporter(config, registry, logger);
    for (let round = 0; round < 2; round++) {
      planBatch(config, events, reporter.stats);
      reporter.flush();
    }
    const metrics = await registry.render();
    expect(metrics).toContain('cdc_cache_rule_events_total{rule="rules[1] (customers)"} 6');
    expect(metrics).toContain('cdc_cache_unmatched_events_total{table="public.orders"} 6');
    expect(metrics).toContain('cdc_cache_unmatched_events_total{table="public.documents"} 4');
    expect(metrics).toContain(
      'cdc_cache_refresh_fallbacks_total{rule="rules[1] (customers)",reason="missing-field"} 4',
    );
    const findings = () => lines.map((l) => JSON.parse(l)).filter((l) => l.message === 'rule finding');
    // Two flushes with growing counts: still one line per finding.
    expect(findings().map((l) => l.kind)).toEqual(['unmatched-table', 'unmatched-table', 'refresh-fallback']);
    expect(findings()[0].finding).toBe(
      'table public.orders: 3 change events matched no rule (did you mean rules[0] table "public.order"?)',
    );
    expect(findings()[2].finding).toMatch(/field "statuz" is missing from the new image/);
    reporter.final();
    expect(findings().at(-1)).toMatchObject({
      kind: 'unused-rule',
      finding:
        'rules[0] (public.order) matched none of the 16 change events (check its table: did you mean "public.orders"?)',
    });
  });

  it('a when.equals field no event carried is logged at shutdown (sparse items may carry it later)', () => {
    const config = compileConfig({
      rules: [{ table: 'customers', keys: ['customer:{id}'], when: { equals: { 'after.teir': 'gold' } } }],
    });
    const registry = new MetricsRegistry({ processMetrics: false });
    const lines: string[] = [];
    const reporter = createRuleReporter(
      config,
      registry,
      createJsonLogger({ write: (l) => void lines.push(l) }),
    );
    planBatch(config, events, reporter.stats);
    reporter.flush();
    const findings = () => lines.map((l) => JSON.parse(l)).filter((l) => l.message === 'rule finding');
    expect(findings().map((l) => l.kind)).toEqual(['unmatched-table', 'unmatched-table']);
    reporter.final();
    expect(findings().map((l) => l.kind)).toContain('when-field');
    expect(findings().find((l) => l.kind === 'when-field').finding).toBe(
      'rules[0] (customers): when.equals names field "teir", which none of the 3 change events of its table carried (check it for a typo): it never equals the value, so the filter never holds',
    );
  });
});

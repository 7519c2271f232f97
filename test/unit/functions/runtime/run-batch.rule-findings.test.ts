/**
 * What the rules did, seen from a Lambda handler: the same findings and rule metrics as the
 * consumers' (core/plan/rule-tally.ts), each finding logged once per warm environment, rules that
 * matched nothing once the environment has planned UNUSED_RULE_AFTER_EVENTS change events.
 */
import { describe, expect, it } from 'vitest';
import { RULE_METRICS } from '../../../../core/metrics/metric-names.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { createKafkaHandler } from '../../../../functions/kafka-handler.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import { UNUSED_RULE_AFTER_EVENTS } from '../../../../functions/runtime/run-batch.ts';
import { kafkaRecord, lambdaContext, lineCollector, mskEvent } from '../../../support/lambda.ts';

// A typo in the table name ("public.order"): no orders event matches, and none becomes a key.
const config = compileConfig({
  rules: [
    { table: 'public.order', source: 'debezium', keys: ['order:{id}'], refresh: {} },
    { table: 'public.customers', source: 'debezium', keys: ['customer:{id}'] },
  ],
});

function setup() {
  const logs = lineCollector();
  const target = createEngineTarget();
  const environment = createEnvironment({ config, target, logSink: logs.sink });
  return { logs, target, handler: createKafkaHandler(environment) };
}

const findings = (lines: Record<string, unknown>[]) => lines.filter((l) => l.message === 'rule finding');
function metric(lines: Record<string, unknown>[], name: string): number {
  return lines
    .filter(
      (l) => (l._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } | undefined) !== undefined,
    )
    .reduce((sum, l) => sum + (typeof l[name] === 'number' ? (l[name] as number) : 0), 0);
}

describe('rule findings in the Lambda handlers', () => {
  it('logs a table no rule names once per environment, with a did-you-mean, and counts it as a metric', async () => {
    const { logs, target, handler } = setup();
    await handler(
      mskEvent([kafkaRecord('orders', 0, 1, 1), kafkaRecord('orders', 0, 2, 2)]) as never,
      lambdaContext(),
    );
    await handler(mskEvent([kafkaRecord('orders', 0, 3, 3)]) as never, lambdaContext());
    const found = findings(logs.lines());
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ level: 'warn', kind: 'unmatched-table' });
    expect(String(found[0]!.finding)).toMatch(
      /table public\.orders: 2 change events matched no rule \(did you mean .*"public\.order"\?\)/,
    );
    // Both invocations' events are counted (each EMF document carries the table and the rollup dimensions).
    expect(metric(logs.lines(), RULE_METRICS.unmatchedEvents.name)).toBe(3);
    expect(await target.get('order:1')).toBeNull();
  });

  it(`logs rules that matched none of the first ${UNUSED_RULE_AFTER_EVENTS} change events once`, async () => {
    const { logs, handler } = setup();
    const batch = (from: number, n: number) =>
      mskEvent(Array.from({ length: n }, (_, i) => kafkaRecord('orders', 0, from + i, from + i)));
    await handler(batch(1, UNUSED_RULE_AFTER_EVENTS - 1) as never, lambdaContext());
    expect(findings(logs.lines()).filter((f) => f.kind === 'unused-rule')).toHaveLength(0);
    await handler(batch(UNUSED_RULE_AFTER_EVENTS, 5) as never, lambdaContext());
    await handler(batch(UNUSED_RULE_AFTER_EVENTS + 5, 5) as never, lambdaContext());
    const unused = findings(logs.lines()).filter((f) => f.kind === 'unused-rule');
    // rules[0] missed public.orders by a letter; rules[1]'s table (public.customers) was only quiet
    // in this stream, which says nothing against the rule: no finding.
    expect(unused.map((f) => f.finding)).toEqual([
      'rules[0] (public.order) matched none of the 1004 change events (check its table: did you mean "public.orders"?)',
    ]);
  });
});

/**
 * Partial batch responses: per shard or topic-partition, the first record not done and every later
 * record of that group are reported; other groups and earlier records are acknowledged. Handlers
 * are called directly here; test/integration/functions drives them through the Invoke API.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_METRICS } from '../../../../core/metrics/metric-names.ts';
import type { CacheTarget } from '../../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { createDynamoDbHandler } from '../../../../functions/dynamodb-handler.ts';
import { createKafkaHandler } from '../../../../functions/kafka-handler.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import {
  config,
  ddbFixtureEvent,
  ddbInsert,
  failingFor,
  kafkaRecord,
  lambdaContext,
  lineCollector,
  mskDebeziumEvent,
  mskEvent,
} from '../../../support/lambda.ts';

const ARN_A =
  'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';
const ARN_B =
  'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2024-01-01T00:00:00.000';

function env(target: CacheTarget, extra: Record<string, string> = {}) {
  const logs = lineCollector();
  const environment = createEnvironment({
    config,
    target,
    logSink: logs.sink,
    env: { CDC_CACHE_RETRY_ATTEMPTS: '2', CDC_CACHE_RETRY_BASE_MS: '1', ...extra },
  });
  return { environment, logs };
}

describe('DynamoDB handler', () => {
  it('applies the console sample event and acknowledges every record', async () => {
    const target = createEngineTarget();
    const handler = createDynamoDbHandler(env(target).environment);
    const event = ddbFixtureEvent();
    event.Records.pop(); // INSERT + MODIFY: the item is still there
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await target.get('message:101')).toBe('{"Id":101,"Message":"This item has changed"}');
  });

  it('a target failing for one key: that record and every later record of the shard are reported', async () => {
    const target = failingFor(new Set(['message:2']));
    const handler = createDynamoDbHandler(env(target).environment);
    const event = {
      Records: [ddbInsert(1, '101'), ddbInsert(2, '102'), ddbInsert(3, '103'), ddbInsert(4, '104')],
    };
    const res = await handler(event, lambdaContext());
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: '102' },
      { itemIdentifier: '103' },
      { itemIdentifier: '104' },
    ]);
    expect(await target.get('message:1')).not.toBeNull();
  });

  it('several shards in one batch: only the failing shard is held back', async () => {
    const target = failingFor(new Set(['message:12']));
    const handler = createDynamoDbHandler(env(target).environment);
    const event = {
      Records: [
        ddbInsert(11, '201', ARN_A),
        ddbInsert(21, '301', ARN_B),
        ddbInsert(12, '202', ARN_A),
        ddbInsert(22, '302', ARN_B),
        ddbInsert(13, '203', ARN_A),
      ],
    };
    const res = await handler(event, lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '202' }, { itemIdentifier: '203' }]);
    expect(await target.get('message:22')).not.toBeNull();
  });

  it('a poison record in the middle goes to the dead-letter file and the stream moves on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-dlq-'));
    const dlq = join(dir, 'dead.jsonl');
    const target = createEngineTarget();
    const { environment, logs } = env(target, { CDC_CACHE_DEAD_LETTER: dlq });
    const handler = createDynamoDbHandler(environment);
    const poison = ddbInsert(2, '102');
    poison.eventName = 'UPSERT';
    const res = await handler(
      { Records: [ddbInsert(1, '101'), poison, ddbInsert(3, '103')] },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    const [letter] = readFileSync(dlq, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letter).toMatchObject({ position: 'Records[1]@102', code: 'E_UNKNOWN_OP', group: ARN_A });
    expect(letter.record.eventName).toBe('UPSERT');
    expect(await target.get('message:3')).not.toBeNull();
    expect(logs.lines().some((l) => l.message === 'dead letter' && l.position === 'Records[1]@102')).toBe(
      true,
    );
  });

  it('a 120-digit SequenceNumber goes to the dead-letter sink, not batchItemFailures (issue 14, item 8)', async () => {
    const dlq = join(mkdtempSync(join(tmpdir(), 'cdc-dlq-')), 'dead.jsonl');
    const target = createEngineTarget();
    const handler = createDynamoDbHandler(env(target, { CDC_CACHE_DEAD_LETTER: dlq }).environment);
    const huge = '9'.repeat(120);
    const res = await handler({ Records: [ddbInsert(1, '101'), ddbInsert(2, huge)] }, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    const letters = readFileSync(dlq, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ position: `Records[1]@${huge}`, code: 'E_BAD_VERSION', group: ARN_A });
    expect(letters[0].reason).toMatch(/component longer than 99 digits/);
    expect(await target.get('message:1')).not.toBeNull();
  });

  it('an op the target refuses permanently dead-letters its record; the shard moves on (issue 14, item 8)', async () => {
    const dlq = join(mkdtempSync(join(tmpdir(), 'cdc-dlq-')), 'dead.jsonl');
    const target = failingFor(new Set(['message:2']), undefined, false);
    const handler = createDynamoDbHandler(env(target, { CDC_CACHE_DEAD_LETTER: dlq }).environment);
    const res = await handler(
      { Records: [ddbInsert(1, '101'), ddbInsert(2, '102'), ddbInsert(3, '103')] },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    const [letter] = readFileSync(dlq, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letter).toMatchObject({
      position: 'Records[1]@102',
      code: 'E_REJECTED',
      reason: 'the target refused it permanently: refused message:2',
    });
    expect(await target.get('message:3')).not.toBeNull();
  });

  it('CDC_CACHE_DEAD_LETTER=fail reports the poison record and everything after it in its shard', async () => {
    const handler = createDynamoDbHandler(
      env(createEngineTarget(), { CDC_CACHE_DEAD_LETTER: 'fail' }).environment,
    );
    const poison = ddbInsert(2, '102');
    poison.eventName = 'UPSERT';
    const res = await handler(
      { Records: [ddbInsert(1, '101'), poison, ddbInsert(3, '103'), ddbInsert(9, '901', ARN_B)] },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '102' }, { itemIdentifier: '103' }]);
  });

  it('a dead-letter destination that cannot store the record keeps it undone', async () => {
    const handler = createDynamoDbHandler(
      env(createEngineTarget(), { CDC_CACHE_DEAD_LETTER: '/nonexistent-dir/for/sure/dead.jsonl' })
        .environment,
    );
    const poison = ddbInsert(2, '102');
    delete poison.dynamodb.Keys;
    delete poison.dynamodb.NewImage;
    const res = await handler(
      { Records: [ddbInsert(1, '101'), poison, ddbInsert(3, '103')] },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '102' }, { itemIdentifier: '103' }]);
  });

  it('a record that cannot be reported (no SequenceNumber) fails the whole invocation', async () => {
    const handler = createDynamoDbHandler(env(failingFor(new Set(['message:1']))).environment);
    const r = ddbInsert(1, '101');
    delete r.dynamodb.SequenceNumber;
    await expect(handler({ Records: [r] }, lambdaContext())).rejects.toThrow(/cannot be reported/);
  });

  it('an event that is not a DynamoDB Streams event fails the invocation', async () => {
    const handler = createDynamoDbHandler(env(createEngineTarget()).environment);
    await expect(handler({ records: {} } as never, lambdaContext())).rejects.toThrow(/Records/);
  });

  it('answers within the time budget when the target hangs, reporting what it could not confirm', async () => {
    const hanging: CacheTarget = {
      kind: 'hanging',
      apply: () => new Promise(() => {}),
      get: async () => null,
      dump: async () => ({}),
      close: async () => {},
    };
    const handler = createDynamoDbHandler(env(hanging, { CDC_CACHE_TIME_MARGIN_MS: '400' }).environment);
    const started = Date.now();
    // 1000 ms left, 400 kept free: gives up at ~600 ms, well before Lambda would kill it at 1000.
    const res = await handler({ Records: [ddbInsert(1, '101'), ddbInsert(2, '102')] }, lambdaContext(1000));
    const took = Date.now() - started;
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '101' }, { itemIdentifier: '102' }]);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(950);
  });
});

describe('Kafka handler', () => {
  it('applies the MSK Debezium event (create, update, delete, tombstone, truncate)', async () => {
    const target = createEngineTarget();
    const handler = createKafkaHandler(env(target).environment);
    const event = mskDebeziumEvent();
    const tp = 'PostgreSQL_server.public.customers-0';
    event.records[tp] = event.records[tp].slice(0, 2); // create + update: the row stays cached
    expect(await handler(event as never, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(JSON.parse((await target.get('customer:1'))!)).toMatchObject({ id: 1, first_name: 'Anne Marie' });
  });

  it('several partitions: only the failing partition is reported, from the failing offset on', async () => {
    const target = failingFor(new Set(['order:5']));
    const handler = createKafkaHandler(env(target).environment);
    const event = mskEvent([
      kafkaRecord('orders', 0, 10, 1),
      kafkaRecord('orders', 0, 11, 2),
      kafkaRecord('orders', 1, 40, 4),
      kafkaRecord('orders', 1, 41, 5),
      kafkaRecord('orders', 1, 42, 6),
      kafkaRecord('orders', 2, 7, 7),
    ]);
    const res = await handler(event as never, lambdaContext());
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'orders-1', offset: 41 } },
      { itemIdentifier: { partition: 'orders-1', offset: 42 } },
    ]);
    expect(await target.get('order:4')).not.toBeNull();
    expect(await target.get('order:7')).not.toBeNull();
  });

  it('a poison record (not JSON) in the middle of a partition is dead-lettered with its position', async () => {
    const target = createEngineTarget();
    const { environment, logs } = env(target);
    const handler = createKafkaHandler(environment);
    const event = mskEvent([
      kafkaRecord('orders', 0, 1, 1),
      kafkaRecord('orders', 0, 2, { raw: 'Hello, this is a test.' }),
      kafkaRecord('orders', 0, 3, 3),
    ]);
    const res = await handler(event as never, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(await target.get('order:3')).not.toBeNull();
    const dead = logs.lines().find((l) => l.message === 'dead letter' && l.deadLetter !== undefined);
    expect(dead?.deadLetter).toMatchObject({ position: 'orders/0@2', code: 'E_BAD_JSON', group: 'orders-0' });
  });

  it('a record whose version no target can order is dead-lettered, not retried (issue 14, item 8)', async () => {
    const target = createEngineTarget();
    const { environment, logs } = env(target);
    const handler = createKafkaHandler(environment);
    const big = kafkaRecord('orders', 0, 2, 2);
    const value = Buffer.from(big.value, 'base64')
      .toString()
      .replace('"lsn":1002', `"lsn":${'7'.repeat(100)}`);
    big.value = Buffer.from(value).toString('base64');
    const res = await handler(
      mskEvent([kafkaRecord('orders', 0, 1, 1), big, kafkaRecord('orders', 0, 3, 3)]) as never,
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    const dead = logs.lines().find((l) => l.message === 'dead letter' && l.deadLetter !== undefined);
    expect(dead?.deadLetter).toMatchObject({ position: 'orders/0@2', code: 'E_BAD_VERSION' });
    expect(await target.get('order:3')).not.toBeNull();
  });

  it('CDC_CACHE_DEAD_LETTER=fail: the poison record and the rest of its partition are reported', async () => {
    const handler = createKafkaHandler(
      env(createEngineTarget(), { CDC_CACHE_DEAD_LETTER: 'fail' }).environment,
    );
    const event = mskEvent([
      kafkaRecord('orders', 0, 1, 1),
      kafkaRecord('orders', 0, 2, { raw: '{"op":' }),
      kafkaRecord('orders', 0, 3, 3),
      kafkaRecord('orders', 3, 9, 9),
    ]);
    const res = await handler(event as never, lambdaContext());
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'orders-0', offset: 2 } },
      { itemIdentifier: { partition: 'orders-0', offset: 3 } },
    ]);
  });

  it('emits EMF metrics and logs carrying the request id', async () => {
    const logs = lineCollector();
    const environment = createEnvironment({
      config,
      target: failingFor(new Set(['order:2'])),
      logSink: logs.sink,
      env: { CDC_CACHE_RETRY_ATTEMPTS: '1' },
    });
    const handler = createKafkaHandler(environment);
    const ctx = lambdaContext(30_000, 'cdc-cache-kafka');
    await handler(mskEvent([kafkaRecord('orders', 0, 1, 1), kafkaRecord('orders', 0, 2, 2)]) as never, ctx);
    const lines = logs.lines();
    const emf = lines.filter((l) => l._aws !== undefined);
    // One document per label set; the same names, units and labels as the containers' Prometheus metrics.
    const byName = new Map<string, Record<string, unknown>>();
    for (const doc of emf) {
      const spec = doc._aws.CloudWatchMetrics[0];
      expect(spec.Namespace).toBe('cdc-cache');
      expect(doc).toMatchObject({ FunctionName: 'cdc-cache-kafka', requestId: ctx.awsRequestId });
      for (const m of spec.Metrics) {
        const shared = Object.values(SHARED_METRICS).find((s) => s.name === m.Name);
        if (shared !== undefined) {
          expect(m.Unit).toBe(shared.unit);
          expect(spec.Dimensions).toEqual([['FunctionName', ...shared.labels], ['FunctionName']]);
        }
        byName.set(`${m.Name}${JSON.stringify(spec.Dimensions[0].slice(1).map((d: string) => doc[d]))}`, doc);
      }
    }
    expect(byName.get('cdc_cache_records_total["kafka"]')?.cdc_cache_records_total).toBe(2);
    expect(byName.get('cdc_cache_failed_records_total["kafka"]')?.cdc_cache_failed_records_total).toBe(1);
    expect(byName.get('cdc_cache_ops_total["refresh","failed"]')?.cdc_cache_ops_total).toBe(1);
    expect(byName.get('cdc_cache_ops_total["refresh","applied"]')?.cdc_cache_ops_total).toBe(1);
    expect(byName.get('cdc_cache_target_errors_total["E_TARGET"]')?.cdc_cache_target_errors_total).toBe(1);
    expect(byName.get('cdc_cache_source_lag_seconds["kafka"]')?.cdc_cache_source_lag_seconds).toBeGreaterThan(
      0,
    );
    const emitted = new Set(
      emf.flatMap((d) => d._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)),
    );
    for (const name of [
      'cdc_cache_events_total',
      'cdc_cache_batch_duration_seconds',
      'cdc_cache_checkpoints_total',
    ])
      expect(emitted).toContain(name);
    for (const l of lines.filter((l) => l._aws === undefined))
      expect(l.function_request_id).toBe(ctx.awsRequestId);
  });
});

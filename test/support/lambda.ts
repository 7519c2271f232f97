/**
 * Helpers for the Lambda handler specs: a real engine target wrapped to refuse chosen keys, a
 * Lambda context, and events derived from the real fixtures (test/fixtures/dynamodb,
 * test/fixtures/lambda-kafka). Derived events change only keys, sequence numbers, ARNs and
 * offsets of the fixture records, and say so where they are built.
 */
import { TargetError } from '../../core/errors.ts';
import { compileConfig } from '../../core/rules/compile.ts';
import { type CacheOp, opSubject } from '../../core/targets/cache-op.ts';
import type { CacheTarget, OpResult } from '../../core/targets/cache-target.ts';
import { createEngineTarget, type EngineTarget } from '../../core/targets/engine/engine-target.ts';
import type { LambdaContext } from '../../functions/runtime/lambda-types.ts';
import { fixture, fixtureText } from './fixtures.ts';

/** The example rules (examples/cdc-cache.config.json): message:{Id} for DynamoDB, customer:{id} for Debezium. */
export const RULES = {
  rules: [
    {
      table: 'public.customers',
      source: 'debezium',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'first_name', 'last_name', 'email'] },
    },
    {
      table: 'ExampleTableWithStream',
      source: 'dynamodb',
      keys: ['message:{Id}'],
      refresh: { fields: ['Id', 'Message'] },
    },
    { table: 'public.orders', source: 'debezium', keys: ['order:{id}'], refresh: {} },
  ],
};
export const config = compileConfig(RULES);

/**
 * A real engine target that refuses ops for chosen keys: retriably (like an outage on those keys) by
 * default, or permanently (`retriable: false`, like a server rejecting the op itself).
 */
export function failingFor(
  keys: ReadonlySet<string>,
  inner: EngineTarget = createEngineTarget(),
  retriable = true,
): CacheTarget & { inner: EngineTarget } {
  return {
    kind: 'failing-engine',
    inner,
    async apply(ops: readonly CacheOp[]): Promise<OpResult[]> {
      const pass = ops.filter((o) => !keys.has(opSubject(o)));
      const ok = await inner.apply(pass);
      let j = 0;
      return ops.map((o) =>
        keys.has(opSubject(o))
          ? { ok: false, error: new TargetError(`refused ${opSubject(o)}`, { retriable }) }
          : ok[j++]!,
      );
    },
    get: (k) => inner.get(k),
    dump: () => inner.dump(),
    close: () => inner.close(),
  };
}

/** A Lambda context with `remainingMs` left at creation. */
export function lambdaContext(remainingMs = 30_000, functionName = 'cdc-cache-test'): LambdaContext {
  const end = Date.now() + remainingMs;
  return {
    awsRequestId: `req-${Math.random().toString(16).slice(2, 10)}`,
    functionName,
    getRemainingTimeInMillis: () => end - Date.now(),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: fixture surgery on parsed JSON
type Obj = Record<string, any>;

/** The SAM/console DynamoDB event (INSERT, MODIFY, REMOVE of Id 101), parsed as plain JSON. */
export function ddbFixtureEvent(): { Records: Obj[] } {
  return JSON.parse(fixtureText('dynamodb/lambda-event-insert-modify-remove.json'));
}

/**
 * A DynamoDB INSERT for item `id`, derived from the fixture's INSERT record: only the key, the
 * image's Id, the SequenceNumber and (optionally) the stream ARN are changed.
 */
export function ddbInsert(id: number, seq: string, arn?: string): Obj {
  const r = structuredClone(ddbFixtureEvent().Records[0]!);
  r.dynamodb.Keys.Id.N = String(id);
  r.dynamodb.NewImage.Id.N = String(id);
  r.dynamodb.SequenceNumber = seq;
  if (arn !== undefined) r.eventSourceARN = arn;
  return r;
}

/** The MSK event carrying the Debezium PostgreSQL docs records (create, update, delete, tombstone, truncate). */
export function mskDebeziumEvent(): Obj {
  return fixture('lambda-kafka/msk-debezium-event.json') as Obj;
}

/**
 * A Kafka record in the fixture's envelope for a Debezium create of `public.orders` row `id`
 * (value in the `schemas.enable=false` form), or `raw` text as the value (poison).
 */
export function kafkaRecord(
  topic: string,
  partition: number,
  offset: number,
  id: number | { raw: string },
): Obj {
  const value =
    typeof id === 'number'
      ? JSON.stringify({
          before: null,
          after: { id, total: id * 10 },
          source: {
            connector: 'postgresql',
            name: 'dbserver1',
            schema: 'public',
            table: 'orders',
            lsn: 1000 + offset,
            txId: 1,
          },
          op: 'c',
          ts_ms: 1700000000000,
        })
      : id.raw;
  return {
    topic,
    partition,
    offset,
    timestamp: 1700000000000,
    timestampType: 'CREATE_TIME',
    key: typeof id === 'number' ? Buffer.from(JSON.stringify({ id })).toString('base64') : null,
    value: Buffer.from(value).toString('base64'),
    headers: [],
  };
}

/** An MSK event (envelope of test/fixtures/lambda-kafka/msk-event.json) with the given records. */
export function mskEvent(records: Obj[]): Obj {
  const base = fixture('lambda-kafka/msk-event.json') as Obj;
  const grouped: Record<string, Obj[]> = {};
  for (const r of records) {
    const tp = `${r.topic}-${r.partition}`;
    grouped[tp] = [...(grouped[tp] ?? []), r];
  }
  return { ...base, records: grouped };
}

/** Collects JSON lines written to a sink. */
export function lineCollector(): { sink: (line: string) => void; lines: () => Obj[] } {
  const out: string[] = [];
  return { sink: (l) => out.push(l), lines: () => out.map((l) => JSON.parse(l)) };
}

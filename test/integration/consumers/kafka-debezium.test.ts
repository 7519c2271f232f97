/**
 * The Kafka consumer against real services: PostgreSQL writes → Debezium (Kafka Connect) → Kafka →
 * consumer → engine target. Also: a target outage (the real engine target wrapped to fail for a
 * while) never commits past unapplied records and converges once the target is back; a poison record
 * lands in the dead-letter topic with its headers and the partition moves on. Every case runs on both
 * Kafka client adapters (kafkajs, @platformatic/kafka).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterHeaders, kafkaDeadLetterSink } from '../../../consumers/kafka/dead-letter-topic.ts';
import {
  createKafkaCdcConsumer,
  type KafkaCdcConsumer,
} from '../../../consumers/kafka/kafka-cdc-consumer.ts';
import type { KafkaClientPort } from '../../../consumers/kafka/kafka-port.ts';
import { createKafkajsClient } from '../../../consumers/kafka/kafkajs-client.ts';
import { createPlatformaticClient } from '../../../consumers/kafka/platformatic-client.ts';
import { createConsumerMetrics, instrumentTarget } from '../../../consumers/runtime/consumer-metrics.ts';
import type { DeadLetterSink } from '../../../consumers/runtime/dead-letter-sink.ts';
import { silentLogger } from '../../../consumers/runtime/logger.ts';
import { TargetError } from '../../../core/errors.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  committedOffsets,
  createTopic,
  DEBEZIUM_RULES,
  highWatermarks,
  idBase,
  plainTopic,
  readTopic,
  sql,
  testKafka,
  topicExists,
  waitFor,
} from '../../support/consumers.ts';

const config = compileConfig(DEBEZIUM_RULES as never);
const running: KafkaCdcConsumer[] = [];
const CLIENTS = {
  kafkajs: createKafkajsClient,
  platformatic: createPlatformaticClient,
} satisfies Record<string, (o: { brokers: string[] }) => KafkaClientPort>;
type ClientName = keyof typeof CLIENTS;
const clientFor = (name: ClientName) =>
  CLIENTS[name]({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') });

function startConsumer(opts: {
  clientName: ClientName;
  topics: string[];
  groupId: string;
  target: CacheTarget;
  deadLetter?: DeadLetterSink;
  chunkSize?: number;
}) {
  const client = clientFor(opts.clientName);
  const metrics = createConsumerMetrics();
  const consumer = createKafkaCdcConsumer({
    consumer: client.consumer({ groupId: opts.groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }),
    topics: opts.topics,
    config,
    target: instrumentTarget(opts.target, metrics),
    deadLetter:
      opts.deadLetter ??
      (async (d) => {
        throw new Error(`unexpected dead letter ${d.position}: ${d.reason}`);
      }),
    metrics,
    logger: silentLogger,
    backoff: { baseDelayMs: 100, maxDelayMs: 500 },
    ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
  });
  running.push(consumer);
  return { consumer, metrics, client };
}

/** Inserts/updates/deletes customers in [base, base+n); returns the expected cache state per id. */
function writeCustomers(base: number, n: number): Map<number, Record<string, unknown> | null> {
  const stmts: string[] = ['BEGIN;'];
  for (let i = 0; i < n; i++) {
    const id = base + i;
    stmts.push(
      `INSERT INTO customers (id, email, name, tier) VALUES (${id}, 'c${id}@x.io', 'Name ${id}', 'free');`,
    );
  }
  stmts.push('COMMIT;');
  for (let i = 0; i < n; i++) {
    const id = base + i;
    if (i % 3 === 1)
      stmts.push(`UPDATE customers SET tier = 'gold', email = 'g${id}@x.io' WHERE id = ${id};`);
    if (i % 3 === 2) stmts.push(`DELETE FROM customers WHERE id = ${id};`);
  }
  sql(stmts.join('\n'));
  const expected = new Map<number, Record<string, unknown> | null>();
  const rows = sql(`SELECT id, email, name, tier FROM customers WHERE id >= ${base} AND id < ${base + n}`);
  for (let i = 0; i < n; i++) expected.set(base + i, null);
  for (const line of rows.trim().split('\n').filter(Boolean)) {
    const [id, email, name, tier] = line.split('|');
    expected.set(Number(id), { id: Number(id), email, name, tier });
  }
  return expected;
}

async function matches(
  target: CacheTarget,
  expected: Map<number, Record<string, unknown> | null>,
): Promise<boolean> {
  for (const [id, row] of expected) {
    const v = await target.get(`customer:${id}`);
    if (row === null ? v !== null : v === null || JSON.stringify(JSON.parse(v)) !== JSON.stringify(row))
      return false;
  }
  return true;
}

beforeAll(async () => {
  requireServices('kafka', 'postgres', 'connect');
  // Debezium creates the topic on the first change: make sure there is one.
  sql(
    `INSERT INTO customers (id, email) VALUES (1, 'seed@x.io') ON CONFLICT (id) DO UPDATE SET name = 'seed';`,
  );
  await waitFor(
    'the Debezium customers topic',
    () => topicExists(testKafka(), plainTopic('customers')),
    120_000,
    500,
  );
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop().catch(() => {})));
});

describe.each(Object.keys(CLIENTS) as ClientName[])(
  'consume kafka (real Debezium events), %s client',
  (clientName) => {
    it('applies PostgreSQL changes to the engine target, in order per key, and commits after ack', async () => {
      const base = idBase();
      const target = createEngineTarget();
      const groupId = `it-dbz-${clientName}-${base}`;
      const { consumer, metrics } = startConsumer({
        clientName,
        topics: [plainTopic('customers')],
        groupId,
        target,
        chunkSize: 50,
      });
      await consumer.start();
      const expected = writeCustomers(base, 60);
      await waitFor('cache equals the database projection', () => matches(target, expected), 90_000, 300);
      // Deleted rows leave no value; updated emails invalidated the old email key.
      expect(await target.get(`customer:email:c${base + 1}@x.io`)).toBeNull();
      expect(metrics.ops.get(['refresh', 'applied'])).toBeGreaterThan(0);
      expect(metrics.applySeconds.get().count).toBeGreaterThan(0);
      expect(await metrics.registry.render()).toMatch(
        /cdc_cache_kafka_consumer_lag\{topic="dbz_plain.public.customers"/,
      );
      // The end of the topic once this test's changes were applied, read before the stop: other test
      // files write the same customers table meanwhile (the assertion raced with them when read after).
      const kafka = testKafka();
      const high = await highWatermarks(kafka, plainTopic('customers'));
      await consumer.stop();
      running.splice(running.indexOf(consumer), 1);
      const committed = await committedOffsets(kafka, groupId, plainTopic('customers'));
      // Stop drained and committed everything it applied: the group is at (or past the written part of) the end.
      for (const [p, h] of high) expect(committed.get(p)).toBeGreaterThanOrEqual(h - 5n);
    });

    it('a target outage pauses the partition, never commits past unapplied records, and converges after', async () => {
      const base = idBase();
      const engine = createEngineTarget();
      let down = true;
      let failedCalls = 0;
      const flaky: CacheTarget = {
        ...engine,
        kind: 'engine',
        async apply(ops) {
          if (down) {
            failedCalls++;
            return ops.map(() => ({
              ok: false as const,
              error: new TargetError('engine: connection refused (test outage)'),
            }));
          }
          return engine.apply(ops);
        },
        get: (k) => engine.get(k),
      };
      const groupId = `it-outage-${clientName}-${base}`;
      const topic = plainTopic('customers');
      const kafka = testKafka();
      const startHigh = await highWatermarks(kafka, topic);
      const { consumer, metrics } = startConsumer({ clientName, topics: [topic], groupId, target: flaky });
      await consumer.start();
      const expected = writeCustomers(base, 30);
      await waitFor('retries during the outage', () => metrics.retries.get() >= 3, 60_000);
      expect(consumer.state.retrying).toBeGreaterThan(0);
      // Nothing was applied, so nothing may be committed past the first record of this run's history.
      const during = await committedOffsets(kafka, groupId, topic);
      for (const [, off] of during) expect(off).toBeLessThanOrEqual(0n);
      expect(await engine.dump()).toEqual({});
      down = false;
      await waitFor('convergence after the outage', () => matches(engine, expected), 90_000, 300);
      expect(failedCalls).toBeGreaterThan(0);
      await waitFor(
        'commit after recovery',
        async () => {
          const c = await committedOffsets(kafka, groupId, topic);
          return [...startHigh.keys()].every((p) => (c.get(p) ?? -1n) >= (startHigh.get(p) ?? 0n));
        },
        30_000,
        500,
      );
    });

    it('a poison record goes to the dead-letter topic with its headers; the partition moves on', async () => {
      const kafka = testKafka();
      const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
      const topic = `it-poison-${suffix}`;
      const dlq = `it-poison-dlq-${suffix}`;
      await createTopic(kafka, topic, 1);
      await createTopic(kafka, dlq, 1);
      const value = (id: number, email: string) =>
        JSON.stringify({
          before: null,
          after: { id, email, name: 'n', tier: 'free' },
          source: {
            connector: 'postgresql',
            schema: 'public',
            table: 'customers',
            lsn: 1000 + id,
            ts_ms: Date.now(),
          },
          op: 'c',
          ts_ms: Date.now(),
        });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: '{"id":1}', value: value(1, 'a@x.io') },
          { key: '{"id":2}', value: '{"before":null,"after":{"id":2' },
          { key: '{"id":3}', value: value(3, 'c@x.io') },
        ],
      });
      await producer.disconnect();
      const client = clientFor(clientName);
      const dlqProducer = client.producer();
      await dlqProducer.connect();
      const target = createEngineTarget();
      const groupId = `it-poison-${suffix}`;
      const { consumer, metrics } = startConsumer({
        clientName,
        topics: [topic],
        groupId,
        target,
        deadLetter: async (d) => {
          await kafkaDeadLetterSink(dlqProducer, dlq)(d);
          metrics.deadLetters.inc([d.code]);
        },
      });
      await consumer.start();
      await waitFor(
        'both good records applied',
        async () => (await target.get('customer:3')) !== null,
        60_000,
      );
      expect(JSON.parse((await target.get('customer:1'))!)).toMatchObject({ id: 1, email: 'a@x.io' });
      const [dead] = await readTopic(kafka, dlq, 1);
      expect(dead?.value).toBe('{"before":null,"after":{"id":2');
      expect(dead?.key).toBe('{"id":2}');
      expect(dead?.headers[DeadLetterHeaders.code]).toBe('E_BAD_JSON');
      expect(dead?.headers[DeadLetterHeaders.topic]).toBe(topic);
      expect(dead?.headers[DeadLetterHeaders.partition]).toBe('0');
      expect(dead?.headers[DeadLetterHeaders.offset]).toBe('1');
      expect(dead?.headers[DeadLetterHeaders.reason]).toMatch(/not valid JSON/);
      expect(metrics.deadLetters.get(['E_BAD_JSON'])).toBe(1);
      await waitFor(
        'offsets committed past the poison record',
        async () => (await committedOffsets(kafka, groupId, topic)).get(0) === 3n,
        30_000,
        500,
      );
      await dlqProducer.disconnect();
    });
  },
);

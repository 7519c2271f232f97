/**
 * The stall watchdog (consumers/kafka/partition-watchdog.ts) on the shared broker, with the kafkajs
 * client: the Kafka CDC consumer's target stops answering (an `apply` that never settles, the
 * shape of every silent hang inside a batch) after the first records of a 2-partition topic. The
 * adapter keeps heartbeating (kafkajs-client.ts `batchKeepAlive`), so the member stays in its group
 * and nothing else would ever say that the partition stopped: the watchdog must, within 3 session
 * timeouts and a check, with one error line naming group, topic, partition, committed offset and
 * lag, and `cdc_cache_kafka_stalls_total` / `cdc_cache_kafka_stalled_partitions`; readiness then
 * names the partition (`/readyz` 503).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaCdcConsumer } from '../../../consumers/kafka/kafka-cdc-consumer.ts';
import { createKafkajsClient } from '../../../consumers/kafka/kafkajs-client.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { createJsonLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../core/targets/engine/index.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { createTopic, testKafka, waitFor } from '../../support/consumers.ts';

const run = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const topic = `e2e-stall-${run}`;
const groupId = `${topic}-group`;
const SESSION_MS = 6000;

/** A Debezium update of customer `id` (the shape of test/fixtures/captured/debezium-postgres-plain.jsonl). */
function change(id: number, n: number): { key: string; value: string; partition: number } {
  const now = Date.now();
  const row = { id, email: `c${id}@x.io`, name: `n${n}`, tier: 'free' };
  const source = { connector: 'postgresql', name: 'dbz_plain', ts_ms: now, db: 'cdc', schema: 'public' };
  return {
    key: JSON.stringify({ id }),
    value: JSON.stringify({
      before: row,
      after: row,
      source: { ...source, table: 'customers', txId: 5000 + n, lsn: 300_000_000 + n * 8 },
      op: 'u',
      ts_ms: now,
    }),
    partition: id % 2,
  };
}

let stop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  requireServices('kafka');
  await createTopic(testKafka(), topic, 2);
});

afterAll(async () => {
  await stop?.();
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

describe('stall watchdog (kafkajs client)', () => {
  it('logs and counts a partition whose handler hangs while the member keeps its group', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({ write: (l) => lines.push(JSON.parse(l)) });
    const metrics = createConsumerMetrics();
    const engine = createEngineTarget();
    let applies = 0;
    // Keys of partition 0 (even ids) are applied; an apply with a key of partition 1 (odd ids) never
    // settles (a target that stopped answering).
    const target = {
      ...engine,
      apply: (ops: Parameters<typeof engine.apply>[0]) => {
        applies++;
        return ops.some((op) => 'key' in op && /customer:[13]$/.test(op.key))
          ? new Promise<never>(() => {})
          : engine.apply(ops);
      },
    };
    const client = createKafkajsClient({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') });
    const admin = client.admin();
    const consumer = createKafkaCdcConsumer({
      consumer: client.consumer({ groupId, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 500 }),
      topics: [topic],
      config: compileConfig(
        {
          keyPrefix: `stall-${run}:`,
          rules: [{ table: 'public.customers', source: 'debezium', keys: ['customer:{id}'] }],
        },
        'rules',
      ),
      target,
      deadLetter: async () => {
        throw new Error('no dead letter expected');
      },
      partitionsConsumedConcurrently: 1,
      metrics,
      logger,
      watchdog: { admin, groupId, sessionTimeoutMs: SESSION_MS },
    });
    stop = async () => {
      await Promise.race([consumer.stop(), new Promise((r) => setTimeout(r, 3000))]);
      await admin.close();
    };
    const producer = testKafka().producer();
    await producer.connect();
    // Partition 0 first, alone: applied and committed; then partition 1, whose apply hangs.
    await producer.send({ topic, messages: [change(0, 1), change(2, 2)] });
    await consumer.start();
    await waitFor('the first apply', () => applies >= 1, 60_000);
    await new Promise((r) => setTimeout(r, 2000)); // its commit (kafkajs commits every second)
    await producer.send({ topic, messages: [change(1, 3), change(3, 4)] });
    await producer.disconnect();

    await waitFor(
      'the stall line',
      () => lines.some((l) => l.message === 'partition stalled: lag and no committed progress'),
      4 * 3 * SESSION_MS,
      500,
    );
    const stalled = lines.filter((l) => l.message === 'partition stalled: lag and no committed progress');
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ level: 'error', group: groupId, topic });
    expect(stalled[0]).toMatchObject({ partition: 1, committed: '0', lag: 2 });
    const partition = 1;
    expect(stalled[0]!.stalledForMs as number).toBeGreaterThanOrEqual(3 * SESSION_MS);
    expect(metrics.kafkaStalls.get([topic, String(partition)])).toBe(1);
    expect(metrics.kafkaStalledPartitions.get()).toBe(1);
    expect(metrics.kafkaLag.get([topic, String(partition)])).toBe(Number(stalled[0]!.lag));
    // /readyz says it (run-kafka.ts asks the consumer): a stalled partition is not ready.
    expect(consumer.notReadyReason()).toMatch(
      new RegExp(
        `^1 partition\\(s\\) stalled: lag and no committed progress: ${topic}/1 \\(lag 2, \\d+ s\\)$`,
      ),
    );
    // The member kept its group the whole time (one join): nothing but the watchdog said a word.
    expect(lines.filter((l) => l.message === 'group joined')).toHaveLength(1);
  }, 180_000);
});

/**
 * A batch handler that runs longer than the session timeout keeps the group membership, with each
 * Kafka client (consumers/kafka/kafka-port.ts adapters), on the shared broker.
 *
 * Found in the consistency test (test/e2e/consistency/consistency.test.ts) with kafkajs: kafkajs
 * heartbeats only when the handler or the fetch loop asks, and one chunk of ~400 records with
 * prefix invalidations took ~35 s against the CDC child's 6 s session (load 8). The member was
 * expelled mid-chunk ("The coordinator is not aware of this member"), its commit refused, and after
 * the rejoin the same records came again and took as long: every partition's committed offset
 * stayed at ~20 of ~400 for minutes (a livelock, and not one line from the consumer).
 *
 * Here the handler's first batch takes 9 s (> the 6 s session) without calling `heartbeat()`.
 * Expected: one group join, every record handed over exactly once, the committed offset at the end.
 * Without the kafkajs adapter's background heartbeat (kafkajs-client.ts `batchKeepAlive`) the
 * kafkajs case fails: a second join, and the first batch's records handed over again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../consumers/kafka/kafka-client.ts';
import type { KafkaConsumerPort } from '../../../consumers/kafka/kafka-port.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { committedOffsets, createTopic, testKafka, waitFor } from '../../support/consumers.ts';

const run = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const CLIENTS = ['kafkajs', 'platformatic'] as const;
const topicOf = (client: string) => `e2e-long-batch-${client}-${run}`;
const RECORDS = 5;
const SESSION_MS = 6000;
const FIRST_BATCH_MS = 9000;

const consumers: KafkaConsumerPort[] = [];

beforeAll(async () => {
  requireServices('kafka');
  const producer = testKafka().producer();
  await producer.connect();
  for (const client of CLIENTS) {
    await createTopic(testKafka(), topicOf(client), 1);
    await producer.send({
      topic: topicOf(client),
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
  }
  await producer.disconnect();
});

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => {});
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: CLIENTS.map(topicOf) }).catch(() => {});
  await admin.disconnect();
});

describe.each(CLIENTS)('%s client: a batch longer than the session', (client) => {
  it('keeps the membership: one join, every record once, committed to the end', async () => {
    const topic = topicOf(client);
    const groupId = `${topic}-group`;
    const kafka = await createKafkaClient(
      { brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') },
      client,
    );
    const consumer = kafka.consumer({
      groupId,
      sessionTimeoutMs: SESSION_MS,
      heartbeatIntervalMs: 500,
      maxWaitTimeMs: 500,
    });
    consumers.push(consumer);
    const joins: Record<string, number[]>[] = [];
    const handed: string[] = [];
    let batches = 0;
    consumer.onGroupJoin((assigned) => joins.push(assigned));
    await consumer.connect();
    await consumer.subscribe([topic], true);
    await consumer.run({
      partitionsConsumedConcurrently: 1,
      async eachBatch(batch, c) {
        if (batches++ === 0) await new Promise((r) => setTimeout(r, FIRST_BATCH_MS));
        for (const m of batch.messages) {
          handed.push(m.offset);
          c.resolveOffset(m.offset);
        }
        await c.commitIfNecessary();
      },
    });
    await waitFor('every record handed over', () => handed.length >= RECORDS, 60_000);
    await waitFor(
      'the committed offset at the end',
      async () => (await committedOffsets(testKafka(), groupId, topic)).get(0) === BigInt(RECORDS),
      30_000,
      250,
    );
    // Long enough for an expelled member to notice and rejoin, had it been expelled.
    await new Promise((r) => setTimeout(r, 2000));
    await consumer.stop();
    expect(joins).toHaveLength(1);
    expect(handed).toEqual(Array.from({ length: RECORDS }, (_, i) => String(i)));
  }, 120_000);
});

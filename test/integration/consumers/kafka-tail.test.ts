/**
 * The Kafka port's read-only tail (consumers/kafka/kafka-tail.ts) on the harness's broker, with each
 * client adapter: it hands over every record once with its headers, honours its start (oldest,
 * newest, given offsets), never commits, and deletes its throw-away group when it stops. The admin
 * port reports the topic's offsets as kafkajs's own admin does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../consumers/kafka/kafka-client.ts';
import type { KafkaClientPort, KafkaMessage } from '../../../consumers/kafka/kafka-port.ts';
import { highWatermarks, tailKafka } from '../../../consumers/kafka/kafka-tail.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { createTopic, testKafka, waitFor } from '../../support/consumers.ts';

const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const topics: string[] = [];

/** A topic of 2 partitions holding 5 records with a header each (0, 2, 4 on 0; 1, 3 on 1). */
async function fiveRecordTopic(topic: string): Promise<void> {
  topics.push(topic);
  await createTopic(testKafka(), topic, 2);
  const producer = testKafka().producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: [0, 1, 2, 3, 4].map((i) => ({
      partition: i % 2,
      key: `k${i}`,
      value: `v${i}`,
      headers: { 'cdc-cache-test': `h${i}` },
    })),
  });
  await producer.disconnect();
}

beforeAll(() => {
  requireServices('kafka');
});

afterAll(async () => {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
});

async function groupsOf(prefix: string): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

describe.each(['kafkajs', 'platformatic'] as const)('kafka tail on %s', (kind) => {
  let client: KafkaClientPort;
  const prefix = `it-tail-${kind}-${suffix}`;
  const topic = prefix;
  beforeAll(async () => {
    await fiveRecordTopic(topic);
    client = await createKafkaClient({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') }, kind);
  });

  it('reads every record once with its headers, from the oldest or from given offsets', async () => {
    const admin = client.admin();
    const high = await highWatermarks(admin, [topic, `${topic}-missing`]).finally(() => admin.close());
    expect(high).toEqual({ [topic]: { 0: '3', 1: '2' }, [`${topic}-missing`]: {} });

    const seen: { partition: number; message: KafkaMessage }[] = [];
    const all = await tailKafka(client, {
      topics: [topic],
      from: 'earliest',
      groupPrefix: prefix,
      onMessage: (_t, partition, message) => seen.push({ partition, message }),
    });
    await waitFor('five records', () => seen.length >= 5, 30_000, 50);
    await all.stop();
    expect(seen.map((s) => `${s.partition}:${s.message.offset}:${text(s.message.value)}`).sort()).toEqual([
      '0:0:v0',
      '0:1:v2',
      '0:2:v4',
      '1:0:v1',
      '1:1:v3',
    ]);
    expect(seen.map((s) => text(s.message.headers?.['cdc-cache-test'])).sort()).toEqual([
      'h0',
      'h1',
      'h2',
      'h3',
      'h4',
    ]);

    const from: { partition: number; offset: string }[] = [];
    const some = await tailKafka(client, {
      topics: [topic],
      from: { [topic]: { 0: '2', 1: '1' } },
      groupPrefix: prefix,
      onMessage: (_t, partition, message) => from.push({ partition, offset: message.offset }),
    });
    await waitFor('two records', () => from.length >= 2, 30_000, 50);
    await new Promise((r) => setTimeout(r, 500)); // nothing below the start may follow
    await some.stop();
    expect(from.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: '2' },
      { partition: 1, offset: '1' },
    ]);
  });

  it('from the newest offsets sees only what is written after it joined; commits nothing; leaves no group', async () => {
    const seen: string[] = [];
    const tail = await tailKafka(client, {
      topics: [topic],
      from: 'latest',
      groupPrefix: `${prefix}-latest`,
      onMessage: (_t, _p, message) => seen.push(text(message.value)),
    });
    const [group] = await groupsOf(`${prefix}-latest`);
    expect(group).toBeDefined();
    // Written until the tail sees one: its partitions may be assigned a little after run() returns.
    const producer = testKafka().producer();
    await producer.connect();
    let n = 0;
    await waitFor(
      'a record written after the start',
      async () => {
        await producer.send({ topic, messages: [{ partition: 0, value: `late${n++}` }] });
        return seen.length > 0;
      },
      30_000,
      300,
    );
    await producer.disconnect();
    expect(seen.every((v) => v.startsWith('late'))).toBe(true);
    // Past both adapters' commit interval (1 s): a committing consumer would have committed by now.
    await new Promise((r) => setTimeout(r, 1500));

    const admin = testKafka().admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: group!, topics: [topic] });
      expect(offsets?.partitions.map((p) => p.offset)).toEqual(['-1', '-1']); // read, never committed
    } finally {
      await admin.disconnect();
    }
    await tail.stop();
    expect(await groupsOf(prefix)).toEqual([]); // every tail's group is deleted
  });
});

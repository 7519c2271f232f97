/**
 * The `@platformatic/kafka` adapter in a rebalance, with two in-process consumers of one group on a
 * real broker (the harness's Kafka). A holds both partitions of a topic and is in the middle of a
 * batch of each when B joins, having resolved (and committed) the first half of each. With this client the group rebalances while A's batches are still
 * running (heartbeats do not wait for processing, unlike kafkajs, which rejoins only between
 * batches), so this is where the adapter's rules must hold:
 * - the partition A lost is stale for A's running batch, and what A resolves on it afterwards is
 *   never committed (the new owner starts from the group's committed offset, the half);
 * - the partition A kept is not stale, its batch commits, and A sees each of its offsets once, in
 *   order (the library re-reads it from the committed offset after the rejoin; the adapter drops
 *   what it already handed out).
 * Records are plain bytes produced by the test (the consumer port does not decode them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBatchControls, KafkaConsumerPort } from '../../../consumers/kafka/kafka-port.ts';
import { createPlatformaticClient } from '../../../consumers/kafka/platformatic-client.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { committedOffsets, createTopic, testKafka, waitFor } from '../../support/consumers.ts';

const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const topic = `it-pk-rebalance-${suffix}`;
const groupId = `it-pk-rebalance-${suffix}`;
const started: KafkaConsumerPort[] = [];
/** Lets A's waiting batches go (also on a failure, so that stop() can drain). */
let releaseA: () => void = () => {};

beforeAll(async () => {
  requireServices('kafka');
  await createTopic(testKafka(), topic, 2);
  const producer = testKafka().producer();
  await producer.connect();
  for (const partition of [0, 1]) {
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({
        partition,
        key: `k${i}`,
        value: `p${partition}-${i}`,
      })),
    });
  }
  await producer.disconnect();
});

afterAll(async () => {
  releaseA();
  for (const c of started) {
    await c.stop().catch(() => {});
    await c.disconnect().catch(() => {});
  }
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

describe('platformatic adapter: a rebalance while batches are running', () => {
  it('makes the lost partition stale, never commits its late resolves, and keeps the kept one in order', async () => {
    const client = createPlatformaticClient({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') });
    const options = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 };

    // A: the first batch of each partition waits until A's second group join (B is in).
    const a = client.consumer(options);
    started.push(a);
    const aJoins: Record<string, number[]>[] = [];
    a.onGroupJoin((assigned) => aJoins.push(assigned));
    const secondJoin = new Promise<void>((r) => {
      releaseA = r;
    });
    a.onGroupJoin(() => {
      if (aJoins.length >= 2) releaseA();
    });
    const aSeen = new Map<number, bigint[]>([
      [0, []],
      [1, []],
    ]);
    const staleAfterRejoin = new Map<number, boolean>();
    await a.connect();
    await a.subscribe([topic], true);
    await a.run({
      partitionsConsumedConcurrently: 2,
      eachBatch: async (batch, c: KafkaBatchControls) => {
        aSeen.get(batch.partition)!.push(...batch.messages.map((m) => BigInt(m.offset)));
        if (!staleAfterRejoin.has(batch.partition)) {
          c.resolveOffset(batch.messages[Math.min(4, batch.messages.length - 1)]!.offset);
          await c.commitIfNecessary();
          await secondJoin;
          staleAfterRejoin.set(batch.partition, c.isStale());
        }
        // Resolved whatever the staleness: the adapter must ignore it on a lost partition.
        c.resolveOffset(batch.messages.at(-1)!.offset);
        await c.commitIfNecessary();
      },
    });
    await waitFor('A holding both partitions', () => (aJoins[0]?.[topic]?.length ?? 0) === 2, 30_000);
    await waitFor(
      'A in a batch of each partition, its first half committed',
      async () => {
        const c = await committedOffsets(testKafka(), groupId, topic);
        return c.get(0) === 5n && c.get(1) === 5n;
      },
      30_000,
      200,
    );

    // B joins; it records what it gets and resolves nothing (so it commits nothing).
    const b = client.consumer(options);
    started.push(b);
    const bSeen = new Map<number, bigint[]>();
    let bAssigned: number[] = [];
    b.onGroupJoin((assigned) => {
      bAssigned = assigned[topic] ?? [];
    });
    await b.connect();
    await b.subscribe([topic], true);
    await b.run({
      partitionsConsumedConcurrently: 2,
      eachBatch: async (batch) => {
        const seen = bSeen.get(batch.partition) ?? [];
        seen.push(...batch.messages.map((m) => BigInt(m.offset)));
        bSeen.set(batch.partition, seen);
      },
    });
    await waitFor('the rebalance: one partition each', () => bAssigned.length === 1, 60_000);
    await waitFor('A past both waiting batches', () => staleAfterRejoin.size === 2, 30_000);
    const lost = bAssigned[0]!;
    const kept = 1 - lost;
    expect(aJoins.at(-1)?.[topic]).toEqual([kept]);
    expect(staleAfterRejoin.get(lost)).toBe(true);
    expect(staleAfterRejoin.get(kept)).toBe(false);

    // The new owner starts from the committed half: nothing A resolved on it later was committed.
    await waitFor('B reading the lost partition', () => (bSeen.get(lost)?.length ?? 0) >= 5, 30_000);
    expect(bSeen.get(lost)![0]).toBe(5n);

    // Time for the library's re-read of the kept partition from the committed half (it refetches
    // after the rejoin, once the fetch in flight, held at most maxWaitTimeMs, is back).
    await new Promise((r) => setTimeout(r, 1500));

    // Stop drains and commits: the kept partition at its end, the lost one untouched.
    await a.stop();
    await a.disconnect();
    const committed = await committedOffsets(testKafka(), groupId, topic);
    expect(committed.get(kept)).toBe(10n);
    expect(committed.get(lost)).toBe(5n);

    // A saw every offset of the kept partition once, in order, though the library re-read it from
    // the committed half after the rejoin.
    expect(aSeen.get(kept)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
  });

  it('subscribes to the topics a pattern matches when it subscribes', async () => {
    const client = createPlatformaticClient({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') });
    const c = client.consumer({ groupId: `${groupId}-pattern`, maxWaitTimeMs: 200 });
    started.push(c);
    const seen: string[] = [];
    await c.connect();
    await c.subscribe([new RegExp(`^it-pk-rebalance-${suffix}$`)], true);
    await c.run({
      partitionsConsumedConcurrently: 2,
      eachBatch: async (batch, ctl) => {
        for (const m of batch.messages) seen.push(`${batch.topic}/${batch.partition}/${m.value}`);
        ctl.resolveOffset(batch.messages.at(-1)!.offset);
      },
    });
    await waitFor('every record of the matched topic', () => seen.length === 20, 30_000);
    expect(seen).toContain(`${topic}/0/p0-9`);
    expect(seen).toContain(`${topic}/1/p1-0`);
    await expect(c.subscribe([/^no-topic-matches-this-\d+$/], true)).rejects.toThrow(/no topic matches/);
  });
});

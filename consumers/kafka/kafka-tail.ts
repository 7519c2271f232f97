/**
 * The port's read-only mode: a tail of some topics, for tools (record, verify, the fixture capture,
 * the dead-letter store) that read a topic and must leave no trace in it.
 *
 * Invariants:
 * - Never commits: the consumer is `readOnly` (kafkajs-client.ts / platformatic-client.ts never send
 *   an OffsetCommit for it), in a throw-away group that is deleted when the tail stops.
 * - Per partition, each offset is handed over once and in order: a re-read (a stream restarted after
 *   a broker error, a partition moved in a rebalance) is dropped, and so is anything below the start.
 */
import type {
  KafkaAdminPort,
  KafkaClientPort,
  KafkaConsumerPort,
  KafkaMessage,
  KafkaOffsets,
} from './kafka-port.ts';

/** Where a tail starts: each partition's oldest record, what comes after now, or given offsets. */
export type KafkaTailStart = 'earliest' | 'latest' | KafkaOffsets;

/** Options of {@link tailKafka}. */
export interface KafkaTailOptions {
  topics: readonly string[];
  /** Partitions an offsets map does not name start at their oldest record. */
  from: KafkaTailStart;
  /** Prefix of the throw-away group's id. @default 'cdc-cache-tail' */
  groupPrefix?: string;
  /**
   * A group of the caller's instead of a throw-away one (e.g. the one the principal's ACLs allow);
   * still never committed to, and not deleted at the end.
   */
  groupId?: string;
  /** Each record, once, in offset order per partition. */
  onMessage(topic: string, partition: number, message: KafkaMessage): void;
  /** A consumer error (the client retries or restarts on its own; this only reports). */
  onError?(error: Error): void;
}

/** A running tail. */
export interface KafkaTail {
  /** Stops reading, leaves the group and deletes it (a throw-away group: empty, offset-less). */
  stop(): Promise<void>;
}

/** Starts a read-only tail of `options.topics` (which must exist: see {@link waitForTopics}). */
export async function tailKafka(client: KafkaClientPort, options: KafkaTailOptions): Promise<KafkaTail> {
  const own = options.groupId === undefined;
  const groupId =
    options.groupId ??
    `${options.groupPrefix ?? 'cdc-cache-tail'}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const consumer: KafkaConsumerPort = client.consumer({
    groupId,
    readOnly: true,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    maxWaitTimeMs: 500,
  });
  const start = typeof options.from === 'string' ? {} : options.from;
  /** Per `topic/partition`: the next offset to hand over. */
  const next = new Map<string, bigint>();
  for (const [topic, ps] of Object.entries(start))
    for (const [p, offset] of Object.entries(ps)) next.set(`${topic}/${p}`, BigInt(offset));
  if (options.onError !== undefined) consumer.onCrash((error) => options.onError?.(error));
  await consumer.connect();
  try {
    await consumer.subscribe(options.topics, options.from !== 'latest', start);
    await consumer.run({
      partitionsConsumedConcurrently: 1,
      eachBatch: async (batch, controls) => {
        const key = `${batch.topic}/${batch.partition}`;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < (next.get(key) ?? 0n)) continue;
          next.set(key, offset + 1n);
          options.onMessage(batch.topic, batch.partition, m);
          controls.resolveOffset(m.offset); // progress only: a read-only consumer commits nothing
        }
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    if (own) await deleteGroup(client, groupId);
    throw error;
  }
  return {
    async stop() {
      await consumer.stop().catch(() => undefined);
      await consumer.disconnect();
      if (own) await deleteGroup(client, groupId);
    },
  };
}

/** Deletes a tail's group; a failure only leaves an empty group that the broker expires on its own. */
async function deleteGroup(client: KafkaClientPort, groupId: string): Promise<void> {
  const admin = client.admin();
  try {
    await admin.deleteGroups([groupId]);
  } catch {
    // Nothing was committed; the broker drops the empty group (offsets.retention.minutes).
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** High watermarks of `topics` (partitions of topics that do not exist yet start at offset 0). */
export async function highWatermarks(
  admin: KafkaAdminPort,
  topics: readonly string[],
): Promise<KafkaOffsets> {
  const existing = new Set(await admin.listTopics());
  const out: KafkaOffsets = {};
  for (const topic of topics) {
    const parts: Record<number, string> = {};
    out[topic] = parts;
    if (!existing.has(topic)) continue;
    for (const p of await admin.topicOffsets(topic)) parts[p.partition] = p.high;
  }
  return out;
}

/** Waits until every topic exists (Debezium creates its topics on the first change); throws at `deadline`. */
export async function waitForTopics(
  admin: KafkaAdminPort,
  topics: readonly string[],
  deadline: number,
): Promise<void> {
  for (;;) {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`topics never appeared in time: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

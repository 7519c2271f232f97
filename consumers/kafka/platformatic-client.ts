/**
 * The `@platformatic/kafka` adapter behind {@link KafkaClientPort} (`--kafka-client platformatic`):
 * its options and entry point. The library is imported only here and in `platformatic/`, one concept
 * per file:
 * - `platformatic/connection.ts`: our connection options (TLS, SASL, MSK IAM) in the library's terms;
 * - `platformatic/partition-buffer.ts`: per-partition queues, the message and byte bounds, backpressure;
 * - `platformatic/batch-dispatcher.ts`: batches handed to `eachBatch`, resolved offsets, handler errors;
 * - `platformatic/commit-scheduler.ts`: when and what is committed;
 * - `platformatic/stream-consumer.ts`: the messages stream — run, rebalance, restart, stop;
 * - `platformatic/admin.ts`: topic offsets and group offsets for the tools (kafka-tail.ts).
 *
 * Why: kafkajs fetches, waits until the whole batch is processed, then fetches again, so every batch
 * pays a fetch round trip. Here the library's `MessagesStream` keeps fetching while we process
 * (fetch-ahead, bounded by {@link PlatformaticTuning.maxBufferedMessages} and, counting the batches
 * in flight too, {@link PlatformaticTuning.maxBufferedBytes}); we dispatch its messages into
 * per-partition queues and run the port's `eachBatch` on whatever is queued.
 *
 * Memory bound (issue 20): the messages this adapter holds — queued or in a handler's batch — are at
 * most `maxBufferedBytes` (key + value + a per-message allowance) plus what arrives while the
 * stream pauses: the fetch responses already in flight, each at most the consumer's `maxBytes`.
 * A count alone would not bound it: 20,000 messages of 1 MB are 20 GB.
 *
 * Semantics kept from the kafkajs adapter:
 * - `autocommit: false`: the library never commits. We commit (OffsetCommit with the current
 *   generation) only offsets our handler resolved after the target acknowledged: every second, on
 *   the group's "rebalance in progress" signal (before the rejoin), and on `stop()` after draining.
 * - Per partition, one batch at a time, in offset order; an offset lower than one already queued or
 *   handed out (the stream re-reads from the committed offset after a rejoin) is dropped, so a
 *   partition never goes backwards or skips what it already holds.
 * - Rebalance: on every group join, partitions no longer assigned become stale (`isStale()`), their
 *   queue is dropped and their resolved-but-uncommitted offsets are forgotten, never committed under
 *   the new generation. Partitions kept keep their queue and position.
 * - `pause()` stops dispatching that partition; the library fetches per broker, not per partition, so
 *   its messages keep arriving until the shared buffer is full, then the whole stream pauses
 *   (backpressure) until the partition resumes.
 * - `heartbeat()` is a no-op: the library heartbeats on its own timer, independent of processing.
 * - A stream error (e.g. brokers gone past the retries): crash listeners get `(error, true)`, in-flight
 *   batches are drained, resolved offsets committed, and the stream is opened again from the committed
 *   offsets (5 attempts with backoff, then `(error, false)`).
 */

import { Producer } from '@platformatic/kafka';
import type { KafkaConnectionOptions } from './connection-options.ts';
import type {
  KafkaClientPort,
  KafkaConsumerPort,
  KafkaConsumerPortOptions,
  KafkaProducerPort,
} from './kafka-port.ts';
import { createPlatformaticAdmin } from './platformatic/admin.ts';
import { platformaticConnection } from './platformatic/connection.ts';
import { createStreamConsumer } from './platformatic/stream-consumer.ts';

export { type PlatformaticConnection, platformaticConnection } from './platformatic/connection.ts';
export { MESSAGE_OVERHEAD_BYTES } from './platformatic/partition-buffer.ts';

/** Adapter tuning beyond the port's options. */
export interface PlatformaticTuning {
  /** Messages fetched ahead and not yet handed to a handler, all partitions; above it the stream pauses. @default 20000 */
  maxBufferedMessages?: number;
  /**
   * Bytes (key + value + {@link MESSAGE_OVERHEAD_BYTES} each) of messages queued or in a handler's
   * batch, all partitions; above it the stream pauses until half of it is free. @default 67108864 (64 MiB)
   */
  maxBufferedBytes?: number;
  /** Messages handed to one eachBatch call at most. @default 10000 */
  maxBatchMessages?: number;
  /** Bytes handed to one eachBatch call at most (a bigger single message goes alone). @default 16777216 (16 MiB) */
  maxBatchBytes?: number;
  /** Interval of the commit of resolved offsets, ms. @default 1000 */
  commitIntervalMs?: number;
  /** Clock, epoch ms, that decides when a commit is due. @default Date.now */
  now?: () => number;
}

/** Creates our Kafka client over `@platformatic/kafka`. */
export function createPlatformaticClient(
  options: KafkaConnectionOptions,
  tuning: PlatformaticTuning = {},
): KafkaClientPort {
  const connection = platformaticConnection(options);
  const settings = {
    maxBuffered: tuning.maxBufferedMessages ?? 20_000,
    maxBatch: tuning.maxBatchMessages ?? 10_000,
    maxHeldBytes: tuning.maxBufferedBytes ?? 64 * 1024 * 1024,
    maxBatchBytes: tuning.maxBatchBytes ?? 16 * 1024 * 1024,
    commitIntervalMs: tuning.commitIntervalMs ?? 1000,
    now: tuning.now ?? Date.now,
  };
  return {
    consumer(o: KafkaConsumerPortOptions): KafkaConsumerPort {
      return createStreamConsumer(connection, o, settings);
    },
    producer(): KafkaProducerPort {
      const producer = new Producer({ ...connection, autocreateTopics: true });
      const buf = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v);
      return {
        async connect() {
          await producer.metadata({ topics: [] });
        },
        async send(topic, messages) {
          await producer.send({
            acks: -1,
            messages: messages.map((m) => {
              const out: Parameters<typeof producer.send>[0]['messages'][number] = {
                topic,
                headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
              };
              if (m.key !== null) out.key = buf(m.key);
              if (m.value !== null) out.value = buf(m.value);
              return out;
            }),
          });
        },
        async disconnect() {
          await producer.close();
        },
      };
    },
    admin: () => createPlatformaticAdmin(connection),
  };
}

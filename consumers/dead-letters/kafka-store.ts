/**
 * The Kafka dead-letter topic as a dead-letter store. Messages are the original key and value bytes
 * with the `cdc-cache-*` headers of consumers/kafka/dead-letter-topic.ts. Ids are
 * `DLQ_TOPIC/PARTITION@OFFSET`.
 *
 * Reading is a read-only tail: a throw-away consumer group, no commits, from the redrive group's
 * committed offsets (or the beginning) up to the high watermarks taken at the start. The redrive
 * group (`--group`, default `cdc-cache-redrive.<topic>`) is the store's own bookmark: `settle`
 * commits, per partition, up to the first message that was not done (a Kafka commit is a position,
 * so a done message behind a failed one is read again next time; its ops are fenced, idempotent).
 * Nothing else ever joins that group, so its offsets are set with the admin API.
 *
 * TLS and SASL come from the consumers' environment variables (CDC_CACHE_KAFKA_SSL*,
 * CDC_CACHE_KAFKA_SASL_*), read by consumer-config.ts. It reads through the consumers' Kafka port:
 * the read is the port's read-only tail (consumers/kafka/kafka-tail.ts), offsets and the redrive
 * group's bookmark go through the port's admin client; the client library (`CDC_CACHE_KAFKA_CLIENT`,
 * default the consumers' default) is loaded on first use.
 */

import type { KafkaConnectionOptions } from '../kafka/connection-options.ts';
import { DeadLetterHeaders } from '../kafka/dead-letter-topic.ts';
import { createKafkaClient, toolKafkaClientName } from '../kafka/kafka-client.ts';
import type { KafkaAdminPort, KafkaClientPort, KafkaHeaders, KafkaMessage } from '../kafka/kafka-port.ts';
import { tailKafka } from '../kafka/kafka-tail.ts';
import {
  type DeadLetterStore,
  DeadLetterStoreError,
  type ReadOptions,
  type StoredDeadLetter,
} from './dead-letter-store.ts';

/** Options of {@link kafkaDeadLetterStore}. */
export interface KafkaStoreOptions {
  brokers: string[];
  topic: string;
  /** The redrive group. @default `cdc-cache-redrive.<topic>` */
  group?: string;
  /** Read from the beginning of the topic, not from the redrive group's position. @default false */
  fromBeginning?: boolean;
  /** Give up reading after this long. @default 30000 */
  timeoutMs?: number;
  /** TLS and SASL, as the consumers take them (consumers/kafka/connection-options.ts). */
  connection?: Pick<KafkaConnectionOptions, 'ssl' | 'sasl'>;
}

interface ReadMessage {
  partition: number;
  offset: bigint;
}

const text = (v: unknown): string =>
  v === undefined || v === null
    ? ''
    : Buffer.isBuffer(v)
      ? v.toString('utf8')
      : Array.isArray(v)
        ? text(v[0])
        : String(v);

/** Opens the Kafka dead-letter store. */
export function kafkaDeadLetterStore(o: KafkaStoreOptions): DeadLetterStore {
  const group = o.group ?? `cdc-cache-redrive.${o.topic}`;
  let kafka: Promise<KafkaClientPort> | undefined;
  let read: ReadMessage[] = [];
  const client = () => {
    kafka ??= createKafkaClient(
      { brokers: o.brokers, clientId: 'cdc-cache-dead-letters', ...o.connection },
      toolKafkaClientName(),
    );
    return kafka;
  };
  const withAdmin = async <T>(fn: (admin: KafkaAdminPort) => Promise<T>): Promise<T> => {
    const admin = (await client()).admin();
    try {
      return await fn(admin);
    } catch (error) {
      if (error instanceof DeadLetterStoreError) throw error;
      throw new DeadLetterStoreError(`kafka ${o.topic}: ${(error as Error).message}`, {
        cause: error,
        retriable: true,
      });
    } finally {
      await admin.close().catch(() => undefined);
    }
  };

  return {
    kind: 'kafka',
    name: `kafka topic ${o.topic}`,
    async read(options: ReadOptions = {}): Promise<StoredDeadLetter[]> {
      const max = options.max ?? 1000;
      read = [];
      const { starts, highs } = await withAdmin(async (admin) => {
        if (!(await admin.listTopics()).includes(o.topic))
          throw new DeadLetterStoreError(
            `kafka topic "${o.topic}" does not exist (check --dead-letter-topic of the consumer)`,
          );
        const offsets = await admin.topicOffsets(o.topic);
        const done = o.fromBeginning
          ? new Map<number, string>()
          : await admin.committedOffsets(group, o.topic);
        const starts = new Map<number, bigint>();
        const highs = new Map<number, bigint>();
        for (const p of offsets) {
          const low = BigInt(p.low);
          const c = BigInt(done.get(p.partition) ?? -1);
          starts.set(p.partition, c > low ? c : low);
          highs.set(p.partition, BigInt(p.high));
        }
        return { starts, highs };
      });
      const pending = [...highs].filter(([p, h]) => starts.get(p)! < h);
      if (pending.length === 0) return [];

      const out: StoredDeadLetter[] = [];
      const next = new Map(starts);
      const caughtUp = () => out.length >= max || pending.every(([p, h]) => next.get(p)! >= h);
      const from: Record<number, string> = {};
      for (const [partition, offset] of starts) from[partition] = String(offset);
      const tail = await tailKafka(await client(), {
        topics: [o.topic],
        from: { [o.topic]: from },
        groupPrefix: 'cdc-cache-dead-letters',
        onMessage: (_topic, partition, message) => {
          const offset = BigInt(message.offset);
          if (offset >= highs.get(partition)! || out.length >= max) return;
          next.set(partition, offset + 1n);
          read.push({ partition, offset });
          out.push(toEntry(o.topic, partition, message));
        },
      }).catch((error: unknown) => {
        throw new DeadLetterStoreError(`kafka ${o.topic}: ${(error as Error).message}`, {
          cause: error,
          retriable: true,
        });
      });
      try {
        const deadline = Date.now() + (o.timeoutMs ?? 30_000);
        while (!caughtUp()) {
          if (Date.now() > deadline)
            throw new DeadLetterStoreError(
              `kafka topic "${o.topic}": not read to its end within ${o.timeoutMs ?? 30_000} ms`,
              { retriable: true },
            );
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await tail.stop();
      }
      // Per partition in offset order, then partitions in turn: the order each source group needs.
      return out.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    },
    async settle(done: ReadonlySet<string>): Promise<number> {
      const byPartition = new Map<number, ReadMessage[]>();
      for (const m of read) {
        const list = byPartition.get(m.partition) ?? [];
        list.push(m);
        byPartition.set(m.partition, list);
      }
      const partitions: { partition: number; offset: string }[] = [];
      let committed = 0;
      for (const [partition, list] of byPartition) {
        list.sort((a, b) => (a.offset < b.offset ? -1 : 1));
        let upTo: bigint | undefined;
        for (const m of list) {
          if (!done.has(`${o.topic}/${partition}@${m.offset}`)) break;
          upTo = m.offset + 1n;
          committed++;
        }
        if (upTo !== undefined) partitions.push({ partition, offset: String(upTo) });
      }
      if (partitions.length > 0)
        await withAdmin((admin) => admin.setCommittedOffsets(group, o.topic, partitions));
      read = [];
      return committed;
    },
    async close() {},
  };
}

function toEntry(dlq: string, partition: number, message: KafkaMessage): StoredDeadLetter {
  const h: KafkaHeaders = message.headers ?? {};
  const header = (name: string) => text(h[name]);
  const topic = header(DeadLetterHeaders.topic);
  const srcPartition = header(DeadLetterHeaders.partition);
  const srcOffset = header(DeadLetterHeaders.offset);
  const id = `${dlq}/${partition}@${message.offset}`;
  let payload: StoredDeadLetter['payload'];
  if (topic !== '' && /^\d+$/.test(srcPartition) && /^\d+$/.test(srcOffset)) {
    payload = {
      kind: 'record',
      record: {
        topic,
        partition: Number(srcPartition),
        offset: srcOffset,
        key: message.key,
        value: message.value,
      },
      group: `${topic}/${srcPartition}`,
    };
  } else {
    // The sink writes JSON of the record when it was not a Kafka message.
    try {
      payload = { kind: 'record', record: JSON.parse(text(message.value)), group: undefined };
    } catch {
      payload = {
        kind: 'unreadable',
        problem: 'no source topic/partition/offset headers and the value is not JSON',
      };
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) headers[k] = text(v);
  return {
    id,
    position: topic !== '' ? `${topic}/${srcPartition}@${srcOffset}` : srcOffset || id,
    code: header(DeadLetterHeaders.code) || 'E_UNKNOWN',
    reason: header(DeadLetterHeaders.reason),
    failedAt: header(DeadLetterHeaders.failedAt) || undefined,
    payload,
    stored: {
      topic: dlq,
      partition,
      offset: message.offset,
      key: text(message.key),
      value: text(message.value),
      headers,
    },
  };
}

/**
 * The Kafka dead-letter topic: the original key and value bytes, unchanged, with headers naming the
 * reason and the source position, so a fixed record can be re-produced to its source topic as is.
 *
 * Headers (stable): `cdc-cache-reason`, `cdc-cache-code`, `cdc-cache-source-topic`,
 * `cdc-cache-source-partition`, `cdc-cache-source-offset`, `cdc-cache-failed-at` (ISO time).
 */
import type { DeadLetterSink } from '../runtime/dead-letter-sink.ts';
import type { KafkaProducerPort } from './kafka-port.ts';

/** Header names on dead-letter messages. */
export const DeadLetterHeaders = {
  reason: 'cdc-cache-reason',
  code: 'cdc-cache-code',
  topic: 'cdc-cache-source-topic',
  partition: 'cdc-cache-source-partition',
  offset: 'cdc-cache-source-offset',
  failedAt: 'cdc-cache-failed-at',
} as const;

/** The raw form our Kafka records carry (see kafka-record.ts). */
export interface RawKafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

function isRawKafkaRecord(v: unknown): v is RawKafkaRecord {
  return typeof v === 'object' && v !== null && 'topic' in v && 'offset' in v && 'partition' in v;
}

/** A sink producing each dead letter to `topic` (acks from all in-sync replicas before resolving). */
export function kafkaDeadLetterSink(producer: KafkaProducerPort, topic: string): DeadLetterSink {
  return async (d) => {
    const raw = isRawKafkaRecord(d.record) ? d.record : undefined;
    await producer.send(topic, [
      {
        key: raw?.key ?? null,
        value: raw === undefined ? JSON.stringify(d.record ?? null) : raw.value,
        headers: {
          [DeadLetterHeaders.reason]: d.reason.slice(0, 4000),
          [DeadLetterHeaders.code]: d.code,
          [DeadLetterHeaders.topic]: raw?.topic ?? '',
          [DeadLetterHeaders.partition]: raw === undefined ? '' : String(raw.partition),
          [DeadLetterHeaders.offset]: raw?.offset ?? d.position,
          [DeadLetterHeaders.failedAt]: new Date().toISOString(),
        },
      },
    ]);
  };
}

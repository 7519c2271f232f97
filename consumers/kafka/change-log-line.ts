/**
 * A Kafka record as a change-log line (JSONL, the format `decode`, `replay` and `verify` read):
 * `{ topic, partition, offset, key, value }`, key and value parsed JSON (null for a tombstone or an
 * absent key; text that is not JSON kept as a string, so decoding the line reports it), offset a
 * decimal string. The one mapping from a consumed record to a line: record, the fixture capture
 * and `verify --kafka` all use it.
 *
 * Invariant: numbers keep their exact digits. Integers beyond 2^53 (Debezium's ts_ns, for one)
 * stay `JSON.rawJSON` values, which `JSON.stringify` writes back verbatim.
 */
import { parseExactJson } from '../../core/json/exact-json.ts';
import type { KafkaMessage } from './kafka-port.ts';

/** One Kafka record as a change-log line. */
export interface KafkaLine {
  topic: string;
  partition: number;
  offset: string;
  key: unknown;
  value: unknown;
}

function parseBytes(buf: Buffer | null): unknown {
  if (buf === null || buf.length === 0) return null;
  const text = buf.toString('utf8');
  try {
    return parseExactJson(text);
  } catch {
    return text; // not JSON: recorded verbatim, so decoding the change log reports it
  }
}

/** The change-log line of one consumed message. */
export function kafkaLine(topic: string, partition: number, message: KafkaMessage): KafkaLine {
  return {
    topic,
    partition,
    offset: message.offset,
    key: parseBytes(message.key),
    value: parseBytes(message.value),
  };
}

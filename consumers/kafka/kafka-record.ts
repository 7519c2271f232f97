/**
 * Kafka message → SourceRecord, on the fast path: the value text goes straight to
 * `decodeDebeziumText` (plain JSON.parse, exact re-parse only when a number could have been
 * rounded); the key is parsed exactly (a non-JSON key stays a string). Decoding stays lazy, and the
 * newest commit time seen is reported for the end-to-end lag metric.
 */
import { decodeDebeziumText } from '../../core/decode/debezium-text.ts';
import type { SourceRecord } from '../../core/decode/document.ts';
import { DecodeError, ErrorCode } from '../../core/errors.ts';
import { parseExactJson } from '../../core/json/exact-json.ts';
import type { RawKafkaRecord } from './dead-letter-topic.ts';
import type { KafkaMessage } from './kafka-port.ts';

/** Decoding options for Kafka records. */
export interface KafkaDecodeOptions {
  /** Table for values that name none (ExtractNewRecordState without `__table`). */
  table?: string;
  /** PostgreSQL unchanged-TOAST placeholder. */
  unavailablePlaceholder?: string;
}

function parseKey(key: Buffer | null): unknown {
  if (key === null || key.length === 0) return null;
  const text = key.toString('utf8');
  try {
    return parseExactJson(text);
  } catch {
    return text;
  }
}

/** Wraps one message as a lazily decoded SourceRecord; `onEvent` sees each decoded event's commit time. */
export function kafkaSourceRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  options: KafkaDecodeOptions,
  onCommitTime: (ts: number) => void,
): SourceRecord {
  const label = `${topic}/${partition}@${message.offset}`;
  const raw: RawKafkaRecord = {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
  };
  return {
    kind: 'debezium',
    label,
    raw,
    decode() {
      try {
        const ctx: Parameters<typeof decodeDebeziumText>[1] & object = {
          topic,
          partition,
          offset: message.offset,
          key: parseKey(message.key),
        };
        if (options.table !== undefined) ctx.table = options.table;
        if (options.unavailablePlaceholder !== undefined)
          ctx.unavailablePlaceholder = options.unavailablePlaceholder;
        const event = decodeDebeziumText(message.value === null ? null : message.value.toString('utf8'), ctx);
        if (event !== null) onCommitTime(event.ts);
        return event;
      } catch (error) {
        const e = error as Error & { code?: string };
        throw new DecodeError(
          (e.code as DecodeError['code'] | undefined) ?? ErrorCode.BadShape,
          `${label}: ${e.message}`,
          { cause: error, position: label },
        );
      }
    },
  };
}

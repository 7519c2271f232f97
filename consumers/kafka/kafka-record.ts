/**
 * Kafka message → SourceRecord, on the fast path: the value text goes straight to
 * `decodeDebeziumText` (plain JSON.parse, exact re-parse only when a number could have been
 * rounded); the key is parsed exactly (a non-JSON key stays a string). Decoding stays lazy, and the
 * newest commit time seen is reported for the end-to-end lag metric.
 */
import type { KafkaContext } from '../../core/decode/debezium.ts';
import { decodeDebeziumText } from '../../core/decode/debezium-text.ts';
import type { SourceRecord } from '../../core/decode/document.ts';
import { DecodeError, ErrorCode } from '../../core/errors.ts';
import { parseExactJson } from '../../core/json/exact-json.ts';
import { decodeUtf8 } from '../../core/json/utf8.ts';
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
  // A key that is not UTF-8 text (a binary serializer) names no fields: opaque, never used in a key.
  let text: string;
  try {
    text = decodeUtf8(key, 'the Kafka key');
  } catch {
    return null;
  }
  try {
    return parseExactJson(text);
  } catch {
    return text;
  }
}

/**
 * One Kafka message as a SourceRecord. A class, so the hot path allocates one small object per
 * message (no closures); the label and the raw record are built only when asked for (dead letters,
 * errors), never for a record that decodes.
 */
class KafkaSourceRecord implements SourceRecord {
  readonly kind = 'debezium' as const;
  readonly #topic: string;
  readonly #partition: number;
  readonly #message: KafkaMessage;
  readonly #options: KafkaDecodeOptions;
  readonly #onCommitTime: (ts: number) => void;
  #raw: RawKafkaRecord | undefined;

  constructor(
    topic: string,
    partition: number,
    message: KafkaMessage,
    options: KafkaDecodeOptions,
    onCommitTime: (ts: number) => void,
  ) {
    this.#topic = topic;
    this.#partition = partition;
    this.#message = message;
    this.#options = options;
    this.#onCommitTime = onCommitTime;
  }

  get label(): string {
    return `${this.#topic}/${this.#partition}@${this.#message.offset}`;
  }

  get raw(): RawKafkaRecord {
    const m = this.#message;
    this.#raw ??= {
      topic: this.#topic,
      partition: this.#partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
    };
    return this.#raw;
  }

  decode() {
    const m = this.#message;
    try {
      const ctx: KafkaContext = {
        topic: this.#topic,
        partition: this.#partition,
        offset: m.offset,
        key: parseKey(m.key),
      };
      const o = this.#options;
      if (o.table !== undefined) ctx.table = o.table;
      if (o.unavailablePlaceholder !== undefined) ctx.unavailablePlaceholder = o.unavailablePlaceholder;
      const event = decodeDebeziumText(m.value === null ? null : decodeUtf8(m.value, 'the Kafka value'), ctx);
      if (event !== null) this.#onCommitTime(event.ts);
      return event;
    } catch (error) {
      const e = error as Error & { code?: string };
      const label = this.label;
      throw new DecodeError(
        (e.code as DecodeError['code'] | undefined) ?? ErrorCode.BadShape,
        `${label}: ${e.message}`,
        {
          cause: error,
          position: label,
        },
      );
    }
  }
}

/** Wraps one message as a lazily decoded SourceRecord; `onCommitTime` sees each decoded event's commit time. */
export function kafkaSourceRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  options: KafkaDecodeOptions,
  onCommitTime: (ts: number) => void,
): SourceRecord {
  return new KafkaSourceRecord(topic, partition, message, options, onCommitTime);
}

/**
 * Source documents → source records → ChangeEvents.
 *
 * A document is whatever arrives in one piece: a Lambda event (DynamoDB Streams, Kinesis, MSK or
 * self-managed Kafka), a GetRecords response, a single stream record, a Debezium value, a change-log
 * line wrapping a Debezium value with its Kafka key/topic/partition/offset, or a JSON array of these.
 * `splitDocument` finds the records without decoding them (decoding is lazy, per record), so a
 * stream can dead-letter exactly the record that fails and go on.
 */

import { DecodeError, ErrorCode } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import { parseDocumentJson, parseExactJson } from '../json/exact-json.ts';
import { decodeUtf8, stripBom } from '../json/utf8.ts';
import { decodeDebeziumValue, type KafkaContext } from './debezium.ts';
import { decodeDebeziumText } from './debezium-text.ts';
import { decodeDynamoDbRecord } from './dynamodb.ts';
import { MissingVersionError } from './missing-version.ts';
import { isObj, type Obj, optIntText, typeName } from './shape.ts';

/** Which decoder to use; `auto` detects it per record. */
export const SourceHints = ['auto', 'dynamodb', 'debezium', 'lambda-kafka'] as const;
/** One of {@link SourceHints}. */
export type SourceHint = (typeof SourceHints)[number];

/** Options for splitting and decoding documents. */
export interface DecodeOptions {
  /** Source format. @default 'auto' */
  source?: SourceHint;
  /** Table name for records that carry none (GetRecords records, bare Debezium values). */
  table?: string;
  /** PostgreSQL unchanged-TOAST placeholder. @default '__debezium_unavailable_value' */
  unavailablePlaceholder?: string;
}

/** One source record, located in its document, decoded on demand. */
export interface SourceRecord {
  /** Decoder family. */
  readonly kind: 'dynamodb' | 'debezium';
  /** Where the record is, for messages: `record 3`, `dbserver1.inventory.customers/0@42`. */
  readonly label: string;
  /** The record as it arrived, for dead letters. */
  readonly raw: unknown;
  /** Decodes the record: a ChangeEvent, or null when it is not a row change. Throws DecodeError. */
  decode(): ChangeEvent | null;
}

function withLabel(error: unknown, label: string): DecodeError {
  if (error instanceof MissingVersionError)
    return new MissingVersionError(`${label}: ${error.message}`, error.event, { position: label });
  if (error instanceof DecodeError) {
    return new DecodeError(error.code, `${label}: ${error.message}`, { cause: error.cause, position: label });
  }
  return new DecodeError(ErrorCode.BadShape, `${label}: ${(error as Error).message}`, {
    cause: error,
    position: label,
  });
}

function record(
  kind: SourceRecord['kind'],
  label: string,
  raw: unknown,
  decode: () => ChangeEvent | null,
): SourceRecord {
  return {
    kind,
    label,
    raw,
    decode() {
      try {
        return decode();
      } catch (error) {
        throw withLabel(error, label);
      }
    },
  };
}

/** Parses Kafka key/value text; a non-JSON key stays a string. */
function parseKafkaText(text: string, what: 'key' | 'value'): unknown {
  try {
    return parseExactJson(text);
  } catch (cause) {
    if (what === 'key') return text;
    throw new DecodeError(
      ErrorCode.BadJson,
      `the Kafka value is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function base64Text(v: unknown, what: 'key' | 'value'): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    throw new DecodeError(
      ErrorCode.MissingField,
      `field "${what}" must be base64 text, got a ${typeName(v)}`,
    );
  }
  const text = decodeUtf8(Buffer.from(v, 'base64'), `the Kafka ${what}`);
  return text === '' ? null : text;
}

function parsedKey(v: unknown, base64: boolean): unknown {
  if (base64) {
    let text: string | null;
    try {
      text = base64Text(v, 'key');
    } catch (error) {
      // A key that is not UTF-8 text (a binary serializer) names no fields: opaque, never used in a key.
      if ((error as DecodeError).code === ErrorCode.BadUtf8) return null;
      throw error;
    }
    return text === null ? null : parseKafkaText(text, 'key');
  }
  return typeof v === 'string' ? parseKafkaText(v, 'key') : (v ?? null);
}

function kafkaRecord(doc: Obj, label: string, options: DecodeOptions, base64: boolean): SourceRecord {
  const topic = typeof doc.topic === 'string' ? doc.topic : undefined;
  const partition = typeof doc.partition === 'number' ? doc.partition : 0;
  const offset = optIntText(doc, 'offset');
  const where = topic !== undefined && offset !== undefined ? `${topic}/${partition}@${offset}` : label;
  return record('debezium', where, doc, () => {
    const ctx: KafkaContext = { partition, key: parsedKey(doc.key, base64) };
    if (topic !== undefined) ctx.topic = topic;
    if (offset !== undefined) ctx.offset = offset;
    if (options.table !== undefined) ctx.table = options.table;
    if (options.unavailablePlaceholder !== undefined)
      ctx.unavailablePlaceholder = options.unavailablePlaceholder;
    if (base64) return decodeDebeziumText(base64Text(doc.value, 'value'), ctx);
    if (typeof doc.value === 'string') return decodeDebeziumText(doc.value, ctx);
    return decodeDebeziumValue(doc.value ?? null, ctx);
  });
}

function dynamoRecord(doc: Obj, label: string, options: DecodeOptions): SourceRecord {
  return record('dynamodb', label, doc, () =>
    decodeDynamoDbRecord(doc, options.table === undefined ? {} : { table: options.table }),
  );
}

function kinesisRecord(doc: Obj, label: string, options: DecodeOptions): SourceRecord {
  return record('dynamodb', label, doc, () => {
    if (doc.eventSource !== undefined && doc.eventSource !== 'aws:kinesis')
      throw new DecodeError(
        ErrorCode.BadShape,
        `eventSource ${JSON.stringify(doc.eventSource)} is not a Kinesis record (expected "aws:kinesis")`,
      );
    const kinesis = doc.kinesis as Obj;
    if (typeof kinesis.data !== 'string')
      throw new DecodeError(ErrorCode.MissingField, 'field "kinesis.data" must be base64 text');
    const inner = parseExactJson(decodeUtf8(Buffer.from(kinesis.data, 'base64'), 'field "kinesis.data"'));
    if (!isObj(inner))
      throw new DecodeError(ErrorCode.BadShape, 'kinesis.data does not hold a DynamoDB change record');
    const ctx: { table?: string; streamArn?: string; kinesisSequenceNumber?: string } = {};
    if (typeof kinesis.sequenceNumber === 'string') ctx.kinesisSequenceNumber = kinesis.sequenceNumber;
    if (options.table !== undefined) ctx.table = options.table;
    return decodeDynamoDbRecord(inner, ctx);
  });
}

/** `eventSource` of Lambda Kafka events: MSK, self-managed (the AWS docs' and Powertools' spellings). */
const KAFKA_EVENT_SOURCES: readonly string[] = ['aws:kafka', 'SelfManagedKafka', 'aws:SelfManagedKafka'];

function isLambdaKafkaRecord(doc: Obj, hint: SourceHint): boolean {
  if (hint === 'lambda-kafka') return true;
  if ('timestampType' in doc) return true;
  const v = doc.value;
  return typeof v === 'string' && !/^\s*[[{"n]/.test(v);
}

function split(doc: unknown, label: string, options: DecodeOptions, out: SourceRecord[]): void {
  const hint = options.source ?? 'auto';
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) split(doc[i], `${label}[${i}]`, options, out);
    return;
  }
  if (doc === null && hint !== 'dynamodb') {
    out.push(record('debezium', label, doc, () => null)); // a bare tombstone
    return;
  }
  if (!isObj(doc))
    throw new DecodeError(ErrorCode.BadShape, `${label}: expected a JSON object, got a ${typeName(doc)}`, {
      position: label,
    });
  if (isObj(doc.DDBStreamBatchInfo)) {
    // A Lambda on-failure invocation record: it names a range of the stream, not the records.
    throw new DecodeError(
      ErrorCode.BadShape,
      `${label}: a Lambda on-failure record (DDBStreamBatchInfo) carries no change records, only their shard and sequence-number range: read them again from the stream with "cdc-cache dead-letters redrive QUEUE_URL"`,
      { position: label },
    );
  }
  if (Array.isArray(doc.Records) && hint !== 'debezium' && hint !== 'lambda-kafka') {
    for (let i = 0; i < doc.Records.length; i++)
      split(doc.Records[i], `${label} Records[${i}]`, options, out);
    return;
  }
  if (isObj(doc.records) && (hint === 'lambda-kafka' || hint === 'auto') && !('dynamodb' in doc)) {
    const es = doc.eventSource;
    if (es !== undefined && !KAFKA_EVENT_SOURCES.includes(es as string))
      throw new DecodeError(
        ErrorCode.BadShape,
        `${label}: eventSource ${JSON.stringify(es)} is not a Kafka event (expected ${KAFKA_EVENT_SOURCES.map((s) => `"${s}"`).join(', ')})`,
        { position: label },
      );
    for (const [tp, list] of Object.entries(doc.records)) {
      if (!Array.isArray(list)) {
        throw new DecodeError(ErrorCode.MissingField, `${label}: field "records.${tp}" must be an array`, {
          position: label,
        });
      }
      list.forEach((r, i) => {
        if (!isObj(r))
          throw new DecodeError(ErrorCode.BadShape, `${label} records.${tp}[${i}]: expected an object`, {
            position: label,
          });
        out.push(kafkaRecord(r, `${label} records.${tp}[${i}]`, options, true));
      });
    }
    return;
  }
  if (hint !== 'debezium' && hint !== 'lambda-kafka' && isObj(doc.dynamodb)) {
    out.push(dynamoRecord(doc, label, options));
    return;
  }
  if (hint !== 'debezium' && hint !== 'lambda-kafka' && isObj(doc.kinesis)) {
    out.push(kinesisRecord(doc, label, options));
    return;
  }
  if (hint === 'dynamodb') {
    throw new DecodeError(
      ErrorCode.BadShape,
      `${label}: not a DynamoDB stream record (no "dynamodb" field, no "Records")`,
      { position: label },
    );
  }
  if ('value' in doc && ('topic' in doc || 'offset' in doc || 'partition' in doc || 'key' in doc)) {
    out.push(kafkaRecord(doc, label, options, isLambdaKafkaRecord(doc, hint)));
    return;
  }
  if (hint === 'lambda-kafka') {
    throw new DecodeError(
      ErrorCode.BadShape,
      `${label}: not a Lambda Kafka event or record (no "records", no "value")`,
      { position: label },
    );
  }
  const ctx: KafkaContext = {};
  if (options.table !== undefined) ctx.table = options.table;
  if (options.unavailablePlaceholder !== undefined)
    ctx.unavailablePlaceholder = options.unavailablePlaceholder;
  out.push(record('debezium', label, doc, () => decodeDebeziumValue(doc, ctx)));
}

/** Splits a parsed document into its source records (not yet decoded). Throws DecodeError on a bad shape. */
export function splitDocument(doc: unknown, options: DecodeOptions = {}, label = 'record'): SourceRecord[] {
  const out: SourceRecord[] = [];
  split(doc, label, options, out);
  return out;
}

/** Parses JSON text exactly, with a DecodeError naming `label` on failure. */
export function parseDocument(text: string, label = 'input'): unknown {
  try {
    return parseDocumentJson(stripBom(text)); // a leading UTF-8 BOM (.NET, Windows tools) is not JSON
  } catch (cause) {
    throw new DecodeError(ErrorCode.BadJson, `${label}: invalid JSON: ${(cause as Error).message}`, {
      cause,
      position: label,
    });
  }
}

/**
 * Decodes one document (JSON text, bytes, or an already-parsed value) into its ChangeEvents,
 * skipping records that are not row changes. Throws a DecodeError at the first bad record.
 */
export function decodeDocument(
  input: string | Uint8Array | unknown,
  options: DecodeOptions = {},
): ChangeEvent[] {
  let doc = input;
  if (typeof input === 'string') doc = parseDocument(input);
  else if (input instanceof Uint8Array) doc = parseDocument(decodeUtf8(input, 'the document'));
  const events: ChangeEvent[] = [];
  for (const r of splitDocument(doc, options)) {
    const e = r.decode();
    if (e !== null) events.push(e);
  }
  return events;
}

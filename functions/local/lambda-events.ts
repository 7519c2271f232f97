/**
 * Builds correctly shaped Lambda events from source records, for `replay --target lambda:NAME`
 * and the local Kafka event source: DynamoDB Streams events (`{ Records }`, one stream per event,
 * as Lambda sends one shard per invocation) and MSK events (`records` keyed `topic-partition`,
 * keys and values base64, timestamps in ms, headers as byte arrays).
 */
import type { SourceRecord } from '../../core/decode/document.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One record of an MSK / self-managed Kafka event. */
export interface LambdaKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  key: string | null;
  value: string | null;
  headers: Record<string, number[]>[];
}

/** Options of the Kafka event envelope. */
export interface KafkaEnvelope {
  /** `aws:kafka` (MSK) or `SelfManagedKafka`. @default 'aws:kafka' */
  eventSource?: string;
  eventSourceArn?: string;
  bootstrapServers?: string;
}

const b64 = (v: string | Uint8Array | null | undefined): string | null =>
  v === null || v === undefined ? null : Buffer.from(v).toString('base64');

/** A Lambda Kafka record from a Kafka message (kafkajs shape: Buffers, string offsets/timestamps). */
export function lambdaKafkaRecord(m: {
  topic: string;
  partition: number;
  offset: string | number;
  timestamp?: string | number;
  key?: string | Uint8Array | null;
  value?: string | Uint8Array | null;
  headers?: Record<string, string | Uint8Array | (string | Uint8Array)[] | undefined>;
}): LambdaKafkaRecord {
  const headers: Record<string, number[]>[] = [];
  for (const [name, v] of Object.entries(m.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v])
      headers.push({ [name]: [...Buffer.from(one)] });
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp ?? Date.now()),
    timestampType: 'CREATE_TIME',
    key: b64(m.key),
    value: b64(m.value),
    headers,
  };
}

/** An MSK event holding `records` (grouped by topic-partition, order kept within each). */
export function kafkaEvent(records: readonly LambdaKafkaRecord[], envelope: KafkaEnvelope = {}): Obj {
  const grouped: Record<string, LambdaKafkaRecord[]> = {};
  for (const r of records) {
    const tp = `${r.topic}-${r.partition}`;
    const list = grouped[tp];
    if (list === undefined) grouped[tp] = [r];
    else list.push(r);
  }
  return {
    eventSource: envelope.eventSource ?? 'aws:kafka',
    eventSourceArn:
      envelope.eventSourceArn ?? 'arn:aws:kafka:local:000000000000:cluster/cdc-cache-local/replay',
    bootstrapServers: envelope.bootstrapServers ?? '127.0.0.1:9092',
    records: grouped,
  };
}

/** A DynamoDB Streams event. */
export function dynamoDbEvent(records: readonly Obj[]): { Records: Obj[] } {
  return { Records: [...records] };
}

/** Synthetic stream ARN for records that carry none (GetRecords output): the table comes from it. */
export function localStreamArn(table: string): string {
  return `arn:aws:dynamodb:local:000000000000:table/${table}/stream/replay`;
}

/** The stream record of a decoded change-log record, completed to the Lambda event shape. */
export function lambdaDynamoDbRecord(record: SourceRecord, table: string | undefined): Obj {
  const raw = isObj(record.raw) ? { ...record.raw } : {};
  if (isObj(raw.kinesis)) return raw;
  raw.eventSource ??= 'aws:dynamodb';
  raw.eventVersion ??= '1.1';
  if (raw.eventSourceARN === undefined && table !== undefined) raw.eventSourceARN = localStreamArn(table);
  return raw;
}

/** Topic for a bare Debezium value: `<server>.<schema|db>.<table>` from its source block. */
function topicOf(value: unknown): string {
  const source = isObj(value) && isObj(value.source) ? value.source : {};
  const parts = [source.name, source.schema ?? source.db, source.table].filter((p) => typeof p === 'string');
  return parts.length === 3 ? parts.join('.') : 'cdc-cache.replay';
}

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);

/**
 * The Lambda Kafka record of a decoded change-log record: a Lambda Kafka record stays as it is; a
 * change-log line `{topic, partition, offset, key, value}` or a bare Debezium value is encoded
 * (values re-serialised exactly: big numbers keep their digits). `nextOffset` numbers records
 * that carry no offset.
 */
export function lambdaKafkaRecordOf(
  record: SourceRecord,
  nextOffset: (tp: string) => number,
): LambdaKafkaRecord {
  const raw = record.raw;
  if (isObj(raw) && 'timestampType' in raw) return raw as unknown as LambdaKafkaRecord;
  const wrapped =
    isObj(raw) && 'value' in raw && ('topic' in raw || 'offset' in raw || 'partition' in raw || 'key' in raw);
  const value = wrapped ? raw.value : raw;
  const topic = wrapped && typeof raw.topic === 'string' ? raw.topic : topicOf(value);
  const partition = wrapped && typeof raw.partition === 'number' ? raw.partition : 0;
  const offset =
    wrapped && raw.offset !== undefined ? Number(raw.offset) : nextOffset(`${topic}-${partition}`);
  const keyText = wrapped ? text(raw.key) : null;
  const valueText = text(value);
  const ts = isObj(value) && typeof value.ts_ms === 'number' ? value.ts_ms : Date.now();
  return lambdaKafkaRecord({ topic, partition, offset, timestamp: ts, key: keyText, value: valueText });
}

/**
 * Capture of real change-stream records as change-log lines (JSONL), shared by the fixture capture
 * script (infra/local/capture-fixtures.ts), the e2e smoke tests and the `cdc-cache record` CLI verb.
 *
 * Line formats (one source record per line):
 * - Kafka / Debezium: `{ topic, partition, offset, key, value }`, key and value parsed JSON (null for
 *   a tombstone or an absent key), offset a decimal string.
 * - DynamoDB Streams: the GetRecords record as its wire JSON, `ApproximateCreationDateTime` as epoch
 *   seconds (a number), binary attributes as base64 strings, and the stream ARN as `eventSourceARN`.
 *
 * Invariant: numbers keep their exact digits. JSON is parsed with the source text of each number,
 * and integers beyond 2^53 (Debezium's ts_ns, for one) stay `JSON.rawJSON` values, which
 * `JSON.stringify` writes back verbatim.
 */
import type { _Record, AttributeValue, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { Admin, Kafka } from 'kafkajs';
import { parseExactJson } from '../../core/json/exact-json.ts';
import { patchKafkajsRequestQueue } from '../kafka/kafkajs-client.ts';

/** One captured Kafka record. */
export interface KafkaLine {
  topic: string;
  partition: number;
  offset: string;
  key: unknown;
  value: unknown;
}

/** Per topic, per partition: the first offset to capture (a high watermark taken earlier). */
export type StartOffsets = Record<string, Record<number, string>>;

/** Serialises lines as JSONL (trailing newline included). */
export function toJsonl(lines: readonly unknown[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

function decodeBuffer(buf: Buffer | null): unknown {
  if (buf === null || buf.length === 0) return null;
  const text = buf.toString('utf8');
  try {
    return parseExactJson(text);
  } catch {
    return text; // not JSON: recorded verbatim, so decoding the change log reports it
  }
}

/** High watermarks of `topics` (topics that do not exist yet start at offset 0). */
export async function highWatermarks(admin: Admin, topics: readonly string[]): Promise<StartOffsets> {
  const existing = new Set(await admin.listTopics());
  const out: StartOffsets = {};
  for (const topic of topics) {
    out[topic] = {};
    if (!existing.has(topic)) continue;
    for (const p of await admin.fetchTopicOffsets(topic)) out[topic][p.partition] = p.high;
  }
  return out;
}

/** Options of {@link readKafkaTopics}. */
export interface ReadKafkaOptions {
  topics: readonly string[];
  /** Skip records below these offsets. @default every record from the beginning */
  from?: StartOffsets;
  /** Stop as soon as this returns true for the lines read so far. */
  until: (lines: readonly KafkaLine[]) => boolean;
  /** Give up after this long and return what was read. @default 60_000 */
  timeoutMs?: number;
  /** Once `until` holds, keep reading this long to catch stragglers. @default 0 */
  settleMs?: number;
}

/**
 * Reads `topics` from the beginning and returns the records as {@link KafkaLine}s, in per-partition
 * order. Topics may not exist yet: they are polled for. Read-only: the throw-away consumer group
 * commits nothing (autoCommit off) and is deleted at the end, so no `cdc-cache-capture-*` group is
 * left behind on the cluster.
 */
export async function readKafkaTopics(kafka: Kafka, options: ReadKafkaOptions): Promise<KafkaLine[]> {
  patchKafkajsRequestQueue(); // no TimeoutNegativeWarning from kafkajs's request queue
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Subscribing to a missing topic fails; Debezium creates its topics on the first change.
    for (;;) {
      const existing = new Set(await admin.listTopics());
      if (options.topics.every((t) => existing.has(t))) break;
      if (Date.now() > deadline) {
        const missing = options.topics.filter((t) => !existing.has(t));
        throw new Error(`topics never appeared within ${timeoutMs} ms: ${missing.join(', ')}`);
      }
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }

  const groupId = `cdc-cache-capture-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const lines: KafkaLine[] = [];
  let satisfiedAt = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const start = options.from?.[topic]?.[partition];
        if (start !== undefined && BigInt(message.offset) < BigInt(start)) return;
        lines.push({
          topic,
          partition,
          offset: message.offset,
          key: decodeBuffer(message.key),
          value: decodeBuffer(message.value),
        });
      },
    });
    const settleMs = options.settleMs ?? 0;
    while (Date.now() < deadline) {
      if (satisfiedAt === 0 && options.until(lines)) satisfiedAt = Date.now();
      if (satisfiedAt !== 0 && Date.now() - satisfiedAt >= settleMs) break;
      await sleep(100);
    }
  } finally {
    await consumer.disconnect();
    await deleteGroup(kafka, groupId);
  }
  return lines;
}

/** Deletes the (empty, offset-less) capture group; a failure only leaves an empty group behind. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // The broker expires an empty group on its own (offsets.retention.minutes); nothing was committed.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A DynamoDB Streams record in its wire JSON form (what a Lambda event or GetRecords carries). */
export type DynamoDbRecordJson = Record<string, unknown>;

function attributeToJson(value: AttributeValue): unknown {
  const v = value as unknown as Record<string, unknown>;
  if (v.B instanceof Uint8Array) return { B: Buffer.from(v.B).toString('base64') };
  if (Array.isArray(v.BS)) return { BS: v.BS.map((b: Uint8Array) => Buffer.from(b).toString('base64')) };
  if (Array.isArray(v.L)) return { L: v.L.map((x: AttributeValue) => attributeToJson(x)) };
  if (v.M && typeof v.M === 'object') return { M: imageToJson(v.M as Record<string, AttributeValue>) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && k !== '$unknown') out[k] = x;
  return out;
}

function imageToJson(image: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) out[k] = attributeToJson(v);
  return out;
}

/**
 * Converts an SDK v3 GetRecords record into its wire JSON ({@link DynamoDbRecordJson}). With
 * `streamArn`, the line carries it as `eventSourceARN` (as a Lambda event record does): the table
 * is in the ARN, so the line decodes and replays without `--table`.
 */
export function dynamoDbRecordToJson(record: _Record, streamArn?: string): DynamoDbRecordJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined && k !== 'dynamodb') out[k] = v;
  const d = record.dynamodb;
  if (d) {
    const dyn: Record<string, unknown> = {};
    if (d.ApproximateCreationDateTime)
      dyn.ApproximateCreationDateTime = d.ApproximateCreationDateTime.getTime() / 1000;
    if (d.Keys) dyn.Keys = imageToJson(d.Keys);
    if (d.NewImage) dyn.NewImage = imageToJson(d.NewImage);
    if (d.OldImage) dyn.OldImage = imageToJson(d.OldImage);
    for (const k of ['SequenceNumber', 'SizeBytes', 'StreamViewType'] as const) {
      if (d[k] !== undefined) dyn[k] = d[k];
    }
    out.dynamodb = dyn;
  }
  if (streamArn !== undefined && out.eventSourceARN === undefined) out.eventSourceARN = streamArn;
  return out;
}

/** The structural slice of a DynamoDB Streams client that {@link readDynamoDbStream} uses. */
export type StreamsClient = Pick<DynamoDBStreamsClient, 'send'>;

/** Options of {@link readDynamoDbStream}. */
export interface ReadDynamoDbStreamOptions {
  streamArn: string;
  /** Stop as soon as this returns true for the records read so far. */
  until: (records: readonly DynamoDbRecordJson[]) => boolean;
  /** Give up after this long and return what was read. @default 30_000 */
  timeoutMs?: number;
}

/**
 * Reads every shard of a stream from TRIM_HORIZON, in shard order, polling open shards until
 * `until` holds or the time is up. Returns the records as wire JSON.
 */
export async function readDynamoDbStream(
  client: StreamsClient,
  options: ReadDynamoDbStreamOptions,
): Promise<DynamoDbRecordJson[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const records: DynamoDbRecordJson[] = [];
  const iterators = new Map<string, string | undefined>();
  while (Date.now() < deadline) {
    const shards = [];
    let start: string | undefined;
    do {
      const d = await client.send(
        new DescribeStreamCommand({ StreamArn: options.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(d.StreamDescription?.Shards ?? []));
      start = d.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    for (const shard of shards) {
      const id = shard.ShardId;
      if (!id || (iterators.has(id) && iterators.get(id) === undefined)) continue;
      let it = iterators.get(id);
      if (it === undefined) {
        const r = await client.send(
          new GetShardIteratorCommand({
            StreamArn: options.streamArn,
            ShardId: id,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        it = r.ShardIterator;
      }
      const got = it
        ? await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }))
        : undefined;
      for (const r of got?.Records ?? []) records.push(dynamoDbRecordToJson(r, options.streamArn));
      iterators.set(id, got?.NextShardIterator);
    }
    if (options.until(records)) return records;
    await sleep(250);
  }
  return records;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

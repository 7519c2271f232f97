/**
 * Capture of real change-stream records as change-log lines (JSONL), shared by the fixture capture
 * script (infra/local/capture-fixtures.ts), the e2e smoke tests and the `cdc-cache record` CLI verb.
 * Both read through the ports' read-only modes: a Kafka tail (consumers/kafka/kafka-tail.ts) and a
 * DynamoDB stream tail (consumers/dynamodb/stream-tail.ts); nothing is committed or checkpointed.
 *
 * Line formats (one source record per line):
 * - Kafka / Debezium: consumers/kafka/change-log-line.ts (`{ topic, partition, offset, key, value }`).
 * - DynamoDB Streams: consumers/dynamodb/change-log-record.ts (the record's wire JSON).
 */
import { type DynamoDbRecordJson, dynamoDbRecordToJson } from '../dynamodb/change-log-record.ts';
import { tailDynamoDbStream } from '../dynamodb/stream-tail.ts';
import type { StreamsPort } from '../dynamodb/streams-port.ts';
import { type KafkaLine, kafkaLine } from '../kafka/change-log-line.ts';
import type { KafkaClientPort, KafkaOffsets } from '../kafka/kafka-port.ts';
import { tailKafka, waitForTopics } from '../kafka/kafka-tail.ts';

export { type DynamoDbRecordJson, dynamoDbRecordToJson } from '../dynamodb/change-log-record.ts';
export type { KafkaLine } from '../kafka/change-log-line.ts';
export { highWatermarks } from '../kafka/kafka-tail.ts';

/** Per topic, per partition: the first offset to capture (a high watermark taken earlier). */
export type StartOffsets = KafkaOffsets;

/** Serialises lines as JSONL (trailing newline included). */
export function toJsonl(lines: readonly unknown[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
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
 * Reads `topics` (from the beginning, or from `from`) and returns the records as
 * {@link KafkaLine}s, in per-partition order. Topics may not exist yet: they are polled for.
 * Read-only: a tail of the port (kafka-tail.ts) commits nothing and deletes its group at the end.
 */
export async function readKafkaTopics(
  client: KafkaClientPort,
  options: ReadKafkaOptions,
): Promise<KafkaLine[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const admin = client.admin();
  try {
    await waitForTopics(admin, options.topics, deadline).catch((error: Error) => {
      throw new Error(`${error.message} (waited ${timeoutMs} ms)`);
    });
  } finally {
    await admin.close();
  }
  const lines: KafkaLine[] = [];
  const tail = await tailKafka(client, {
    topics: options.topics,
    from: options.from ?? 'earliest',
    groupPrefix: 'cdc-cache-capture',
    onMessage: (topic, partition, message) => lines.push(kafkaLine(topic, partition, message)),
  });
  try {
    const settleMs = options.settleMs ?? 0;
    let satisfiedAt = 0;
    while (Date.now() < deadline) {
      if (satisfiedAt === 0 && options.until(lines)) satisfiedAt = Date.now();
      if (satisfiedAt !== 0 && Date.now() - satisfiedAt >= settleMs) break;
      await sleep(100);
    }
  } finally {
    await tail.stop();
  }
  return lines;
}

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
  port: StreamsPort,
  options: ReadDynamoDbStreamOptions,
): Promise<DynamoDbRecordJson[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const records: DynamoDbRecordJson[] = [];
  await tailDynamoDbStream(port, {
    streamArn: options.streamArn,
    from: 'trim-horizon',
    onRecord: (r) =>
      records.push(dynamoDbRecordToJson(r as Parameters<typeof dynamoDbRecordToJson>[0], options.streamArn)),
    done: () => Date.now() >= deadline || options.until(records),
  });
  return records;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

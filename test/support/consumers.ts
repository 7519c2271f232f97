/**
 * Helpers for the consumer tests against real services: SQL through `psql`, Kafka admin/produce/read
 * through kafkajs, a bounded `waitFor`, and the rules used by the Debezium tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { patchKafkajsRequestQueue } from '../../consumers/kafka/kafkajs-client.ts';
import { serviceEnv } from '../setup/require-services.ts';

/** Runs SQL in the harness's PostgreSQL; returns psql's unaligned output. */
export function sql(statements: string): string {
  return execFileSync('psql', [serviceEnv('CDC_CACHE_PG_URL'), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'], {
    input: statements,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** A kafkajs instance on the harness's broker (tests only; the product goes through consumers/kafka). */
export function testKafka(): Kafka {
  patchKafkajsRequestQueue();
  return new Kafka({
    brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(','),
    clientId: 'cdc-cache-tests',
    logLevel: logLevel.NOTHING,
  });
}

/** Polls `check` every `everyMs` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}

/** Committed offset of a group on a topic's partitions (-1 = none). */
export async function committedOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** High watermarks of a topic, per partition. */
export async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** True once the topic exists. */
export async function topicExists(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic (idempotent). */
export async function createTopic(kafka: Kafka, topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** A message read back by {@link readTopic}. */
export interface ReadMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads every message of a topic from the beginning until `count` arrived (or, given a predicate,
 * until it holds over what was read) or the timeout. Use the predicate where a topic is written
 * at least once (a dead-letter topic after a SIGKILL can hold the same letter twice).
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number | ((read: readonly ReadMessage[]) => boolean),
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  const out: ReadMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
    },
  });
  try {
    const done = typeof count === 'number' ? () => out.length >= count : () => count(out);
    const what = typeof count === 'number' ? `${count} messages` : 'the expected messages';
    await waitFor(`${what} on ${topic}`, done, timeoutMs).catch((e: Error) => {
      const keys = out.slice(0, 20).map((m) => m.key);
      throw new Error(`${e.message}; read ${out.length}, keys ${JSON.stringify(keys)}`, { cause: e });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Debezium topics of the harness's plain-JSON connector (decimals as strings). */
export const plainTopic = (table: string) =>
  `${process.env.CDC_CACHE_DEBEZIUM_PLAIN_PREFIX ?? 'dbz_plain'}.public.${table}`;

/** The rules of the Debezium tests: customers refresh a projection, orders invalidate. */
export const DEBEZIUM_RULES = {
  defaults: { ttl: 0 },
  rules: [
    {
      table: 'public.customers',
      source: 'debezium',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'email', 'name', 'tier'] },
      // public.customers is at REPLICA IDENTITY FULL (infra/local/conf/postgres-init.sql): declared,
      // since schemaless old images cannot show it and the old email key is built from them.
      images: 'both',
    },
    {
      table: 'public.orders',
      source: 'debezium',
      keys: ['order:{id}'],
      dependents: ['customer-orders:{customer_id}'],
      // public.orders is at REPLICA IDENTITY DEFAULT: updates and deletes carry no customer_id in
      // their old image, so the customer's order list is invalidated by prefix (issue 14).
      onPartialImage: { invalidatePrefix: 'customer-orders:' },
    },
    {
      table: 'public.documents',
      source: 'debezium',
      keys: ['doc:{id}'],
      refresh: { fields: ['id', 'title'] },
    },
  ],
} as const;

/** Writes the Debezium rules to a temp file; returns its path. */
export function writeRulesFile(rules: unknown = DEBEZIUM_RULES): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-rules-'));
  const file = join(dir, 'cdc-cache.config.json');
  writeFileSync(file, JSON.stringify(rules));
  return file;
}

/** A random id base so runs do not collide with rows of earlier runs. */
export const idBase = () => 1_000_000 + Math.floor(Math.random() * 1_000_000) * 100;

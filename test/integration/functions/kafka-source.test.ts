/**
 * The local Kafka event source (`cdc-cache lambda kafka-source`) against the harness's real Kafka
 * and Debezium: records reach the Kafka handler through `lambda serve` in MSK-shaped batches, a
 * partial batch response holds its partition's committed offset at the failing record (and only
 * that partition), and a PostgreSQL insert/update/delete flows Postgres → Debezium → Kafka →
 * handler → cache.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { startKafkaEventSource } from '../../../functions/local/kafka-event-source.ts';
import { lambdaClient } from '../../../functions/local/lambda-client.ts';
import { type ServedFunctions, serveFunctions } from '../../../functions/local/serve.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { failingFor, RULES } from '../../support/lambda.ts';

const run = promisify(execFile);
const quiet = () => {};

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function orderValue(id: number, offset: number) {
  return JSON.stringify({
    before: null,
    after: { id, total: id * 10 },
    source: {
      connector: 'postgresql',
      name: 'it',
      schema: 'public',
      table: 'orders',
      lsn: 5000 + offset,
      txId: 1,
    },
    op: 'c',
    ts_ms: Date.now(),
  });
}

describe('lambda kafka-source: MSK event source emulation on real Kafka', () => {
  let brokers: string[];
  let kafka: Kafka;
  let served: ServedFunctions;
  const failing = new Set(['order:11']);
  let target: CacheTarget;
  const topic = `it-lambda-src-${process.pid}-${Date.now()}`;
  const groupId = `${topic}-group`;

  beforeAll(async () => {
    requireServices('kafka');
    brokers = serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',');
    kafka = new Kafka({ clientId: 'it-lambda', brokers, logLevel: logLevel.NOTHING });
    target = failingFor(failing);
    served = await serveFunctions({
      port: 0,
      logSink: quiet,
      target,
      env: { CDC_CACHE_RULES: JSON.stringify(RULES), CDC_CACHE_RETRY_ATTEMPTS: '1' },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const msgs = (partition: number, ids: number[]) =>
      ids.map((id, offset) => ({ partition, key: JSON.stringify({ id }), value: orderValue(id, offset) }));
    await producer.send({ topic, messages: [...msgs(0, [1, 2, 3]), ...msgs(1, [10, 11, 12])] });
    await producer.disconnect();
  });
  afterAll(async () => {
    await served?.close();
    if (kafka === undefined) return;
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  async function committed(): Promise<Record<number, string>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Object.fromEntries((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
    } finally {
      await admin.disconnect();
    }
  }

  it('commits up to the failing record of the failing partition only, and resumes there', {
    timeout: 150_000,
  }, async () => {
    const client = lambdaClient({ endpoint: served.url });
    const source = await startKafkaEventSource({
      brokers,
      topics: [topic],
      groupId,
      functionName: 'kafka',
      client,
      retryDelayMs: 100,
      maxRetryDelayMs: 400,
      log: quiet,
    });
    try {
      await waitFor('partition 0 applied and a partial failure on partition 1', async () =>
        (await target.get('order:3')) !== null && source.stats.reported > 0 ? true : undefined,
      );
      await waitFor('committed offsets 3 / 1', async () => {
        const c = await committed();
        return c[0] === '3' && c[1] === '1' ? c : undefined;
      });
      expect(await target.get('order:10')).toBe('{"id":10,"total":100}');
      expect(await target.get('order:11')).toBeNull(); // refused by the target, so not acknowledged
      failing.clear(); // the outage ends: the retry goes through
      await waitFor('partition 1 resumed', async () =>
        (await target.get('order:11')) !== null ? true : undefined,
      );
      await waitFor('committed offsets 3 / 3', async () => {
        const c = await committed();
        return c[0] === '3' && c[1] === '3' ? c : undefined;
      });
    } finally {
      await source.stop();
      client.destroy();
    }
  });
});

describe('lambda kafka-source: PostgreSQL → Debezium → Kafka → Lambda handler → cache', () => {
  let served: ServedFunctions;
  let target: CacheTarget;
  const id = 900_000_000 + Math.floor(Math.random() * 99_999_999);
  const prefix = `it-lambda-dbz-${process.pid}:`;

  beforeAll(async () => {
    requireServices('postgres', 'kafka', 'connect');
    served = await serveFunctions({
      port: 0,
      logSink: quiet,
      env: {
        CDC_CACHE_TARGET: 'engine',
        CDC_CACHE_RULES: JSON.stringify({
          keyPrefix: prefix,
          rules: [
            {
              table: 'public.customers',
              keys: ['customer:{id}'],
              refresh: { fields: ['id', 'email', 'name'] },
            },
          ],
        }),
      },
    });
    target = (await served.environment.get()).target;
  });
  afterAll(async () => {
    await served?.close();
  });

  const psql = (sql: string) =>
    run('psql', [serviceEnv('CDC_CACHE_PG_URL'), '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);

  it('insert, update and delete of a row reach the cache through the Kafka handler', {
    timeout: 200_000,
  }, async () => {
    const client = lambdaClient({ endpoint: served.url });
    const source = await startKafkaEventSource({
      brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(','),
      topics: [`${serviceEnv('CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX')}.public.customers`],
      groupId: `it-lambda-dbz-${process.pid}-${Date.now()}`,
      functionName: 'kafka',
      client,
      log: quiet,
    });
    const key = `${prefix}customer:${id}`;
    try {
      await psql(
        `INSERT INTO public.customers (id, email, name) VALUES (${id}, 'l${id}@example.com', 'Lambda One')`,
      );
      expect(await waitFor('the insert', async () => (await target.get(key)) ?? undefined)).toBe(
        JSON.stringify({ id, email: `l${id}@example.com`, name: 'Lambda One' }),
      );
      await psql(`UPDATE public.customers SET name = 'Lambda Two' WHERE id = ${id}`);
      await waitFor('the update', async () =>
        (await target.get(key))?.includes('Lambda Two') ? true : undefined,
      );
      await psql(`DELETE FROM public.customers WHERE id = ${id}`);
      await waitFor('the delete', async () => ((await target.get(key)) === null ? true : undefined));
    } finally {
      await source.stop();
      client.destroy();
      await psql(`DELETE FROM public.customers WHERE id = ${id}`).catch(() => {});
    }
  });
});

/**
 * E2E: several live `cdc-cache consume kafka` processes in one consumer group, while records keep
 * arriving on a 4-partition topic. Consumer A starts; B joins mid-stream (rebalance); A is stopped
 * with SIGTERM (drain + commit, exit 0); C joins (rebalance); B is SIGKILLed (its partitions move to
 * C after the session timeout, and what B applied but had not committed is delivered again and
 * fenced by version). After the producer stops: every key in the target equals the projection of
 * its last change or is absent, the group's committed offset equals the high watermark on every
 * partition, and the dead-letter topic is empty.
 *
 * Records are Debezium change events shaped exactly like the captured `dbz_plain.public.customers`
 * records (test/fixtures/captured/debezium-postgres-plain.jsonl: JsonConverter without schemas,
 * PostgreSQL connector), produced directly with kafkajs so the pace and the keys are under the test's
 * control; LSNs increase with every record. Delete events are followed by a tombstone, as Debezium
 * does. The rules reach the workers inline in CDC_CACHE_RULES (the variable the Lambda handlers read).
 * The scenario runs once per Kafka client (`--kafka-client kafkajs|platformatic`), on its own topic.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/server/server.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  committedOffsets,
  createTopic,
  highWatermarks,
  testKafka,
  waitFor,
} from '../../support/consumers.ts';
import { startWorker, type Worker } from '../../support/workers.ts';

const PARTITIONS = 4;
const KEYS = 200;
const run = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const CLIENTS = ['kafkajs', 'platformatic'] as const;
const topicOf = (client: string) => `e2e-group-${client}-${run}`;
const deadLetterTopicOf = (client: string) => `e2e-group-dlq-${client}-${run}`;

let server: EngineServer;
let producer: Producer;
const kafka = () => testKafka();
const workers: Worker[] = [];

beforeAll(async () => {
  requireServices('kafka');
  server = await startEngineServer({ port: 0 });
  for (const client of CLIENTS) {
    await createTopic(kafka(), topicOf(client), PARTITIONS);
    await createTopic(kafka(), deadLetterTopicOf(client), 1);
  }
  producer = kafka().producer();
  await producer.connect();
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await producer?.disconnect();
  await server?.close();
  const admin = kafka().admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: CLIENTS.flatMap((c) => [topicOf(c), deadLetterTopicOf(c)]) })
    .catch(() => {});
  await admin.disconnect();
});

type Row = { id: number; email: string; name: string; tier: string };

/** The change stream: per key the current row (or absent), and the Debezium records for it. */
function changeStream() {
  const rows = new Map<number, Row>();
  let lsn = 300_000_000;
  let txId = 5000;
  let n = 0;
  const source = (now: number) => {
    lsn += 8;
    txId++;
    return {
      version: '3.4.3.Final',
      connector: 'postgresql',
      name: 'dbz_plain',
      ts_ms: now,
      snapshot: 'false',
      db: 'cdc',
      sequence: `["${lsn - 8}","${lsn}"]`,
      ts_us: now * 1000,
      ts_ns: now * 1_000_000,
      schema: 'public',
      table: 'customers',
      txId,
      lsn,
      xmin: null,
    };
  };
  /** The next `count` messages (a delete adds its tombstone). */
  const next = (count: number): { key: string; value: string | null }[] => {
    const out: { key: string; value: string | null }[] = [];
    for (let i = 0; i < count; i++) {
      n++;
      const id = Math.floor(Math.random() * KEYS);
      const key = JSON.stringify({ id });
      const before = rows.get(id) ?? null;
      const now = Date.now();
      const del = before !== null && Math.random() < 0.25;
      const after: Row | null = del
        ? null
        : { id, email: `c${id}@example.com`, name: `name-${n}`, tier: n % 3 === 0 ? 'gold' : 'free' };
      const op = before === null ? 'c' : del ? 'd' : 'u';
      const value = {
        before,
        after,
        source: source(now),
        transaction: null,
        op,
        ts_ms: now,
        ts_us: now * 1000,
      };
      out.push({ key, value: JSON.stringify(value) });
      if (after === null) {
        rows.delete(id);
        out.push({ key, value: null }); // the tombstone Debezium writes after a delete
      } else rows.set(id, after);
    }
    return out;
  };
  return { rows, next };
}

/** Logs of `w` that report a group join. */
const joins = (w: Worker) => w.logs.filter((l) => l.message === 'group joined');
describe.each(CLIENTS)(
  'consume kafka (%s client): three consumers take turns in one group while records arrive',
  (client) => {
    const topic = topicOf(client);
    const deadLetterTopic = deadLetterTopicOf(client);
    const groupId = `e2e-group-${client}-${run}`;
    const keyPrefix = `grp-${client}-${run}:`;
    /** Partitions of `topic` in `w`'s latest assignment. */
    const assigned = (w: Worker): number[] =>
      ((joins(w).at(-1)?.assigned as Record<string, number[]> | undefined)?.[topic] ?? []).slice().sort();

    it('loses nothing across rebalances, a drain and a kill; every offset is committed', async () => {
      const stream = changeStream();
      let producing = true;
      let produced = 0;
      const producerLoop = (async () => {
        while (producing) {
          const messages = stream.next(20);
          await producer.send({ topic, messages });
          produced += messages.length;
          await new Promise((r) => setTimeout(r, 40));
        }
      })();

      const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-group-e2e-'));
      const consumerConfig = join(dir, 'consumer.json');
      // 6 s: the broker's minimum session timeout, so a killed member's partitions move quickly.
      writeFileSync(consumerConfig, JSON.stringify({ kafka: { sessionTimeoutMs: 6000 } }));
      const rules = {
        keyPrefix,
        defaults: { ttl: 0 },
        rules: [
          {
            table: 'public.customers',
            source: 'debezium',
            keys: ['customer:{id}'],
            refresh: { fields: ['id', 'email', 'name', 'tier'] },
          },
        ],
      };
      const start = () => {
        const w = startWorker(
          [
            'kafka',
            '--consumer-config',
            consumerConfig,
            '--brokers',
            serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
            '--group',
            groupId,
            '--topic',
            topic,
            '--dead-letter-topic',
            deadLetterTopic,
            '--target',
            `engine://127.0.0.1:${server.port}`,
            '--chunk-size',
            '50',
            '--http-port',
            '0',
            '--no-progress',
            '--kafka-client',
            client,
          ],
          { CDC_CACHE_RULES: JSON.stringify(rules) },
        );
        workers.push(w);
        return w;
      };

      try {
        // A alone: it holds every partition.
        const a = start();
        await waitFor('A owning all partitions', () => assigned(a).length === PARTITIONS, 60_000);
        expect(a.logs.find((l) => l.message === 'kafka client')?.client).toBe(client);
        await waitFor('A applying records', () => server.engine.keys(`${keyPrefix}*`).length > 0, 30_000);

        // B joins mid-stream: the group rebalances and the partitions are split.
        const b = start();
        await waitFor(
          'A and B sharing the partitions',
          () =>
            assigned(a).length > 0 &&
            assigned(b).length > 0 &&
            assigned(a).length + assigned(b).length === PARTITIONS,
          60_000,
        );
        expect(assigned(a).filter((p) => assigned(b).includes(p))).toEqual([]);
        await new Promise((r) => setTimeout(r, 1000));

        // A drains and leaves (SIGTERM): B takes everything over without waiting for a session timeout.
        a.kill('SIGTERM');
        expect(await a.exited).toBe(0);
        expect(a.logs.some((l) => l.message === 'stopping: draining in-flight batches')).toBe(true);
        await waitFor('B owning all partitions', () => assigned(b).length === PARTITIONS, 60_000);

        // C joins, then B is killed outright: C gets B's partitions once B's session expires.
        const c = start();
        await waitFor(
          'B and C sharing the partitions',
          () => assigned(c).length > 0 && assigned(c).length < PARTITIONS,
          60_000,
        );
        await new Promise((r) => setTimeout(r, 1000));
        b.kill('SIGKILL');
        await b.exited;
        await waitFor('C owning all partitions', () => assigned(c).length === PARTITIONS, 60_000);
        await new Promise((r) => setTimeout(r, 1000));

        producing = false;
        await producerLoop;
        expect(produced).toBeGreaterThan(200);

        // Every key ends at its last change; every offset is committed; no dead letters.
        const matches = () => {
          for (let id = 0; id < KEYS; id++) {
            const v = server.engine.get(`${keyPrefix}customer:${id}`);
            const row = stream.rows.get(id);
            if (row === undefined ? v !== null : v === null || !isDeepStrictEqual(JSON.parse(v), row))
              return false;
          }
          return true;
        };
        await waitFor('the cache equal to the last change of every key', matches, 60_000, 250);
        const high = await highWatermarks(kafka(), topic);
        expect([...high.values()].reduce((s, h) => s + h, 0n)).toBe(BigInt(produced));
        await waitFor(
          'the committed offsets at the high watermarks',
          async () => {
            const committed = await committedOffsets(kafka(), groupId, topic);
            return [...high].every(([p, h]) => committed.get(p) === h);
          },
          30_000,
          500,
        );
        const dlq = await highWatermarks(kafka(), deadLetterTopic);
        expect([...dlq.values()]).toEqual([0n]);
        expect(server.engine.keys(`${keyPrefix}*`).length).toBe(stream.rows.size);

        c.kill('SIGTERM');
        expect(await c.exited).toBe(0);
      } finally {
        producing = false;
        await producerLoop;
      }
    });
  },
);

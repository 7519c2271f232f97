/**
 * E2E with faults: PostgreSQL writes → Debezium → Kafka → `cdc-cache consume kafka` (a real child
 * process, subscribed by topic pattern) → Valkey. During a burst of random INSERT/UPDATE/DELETE over
 * two tables the consumer is SIGKILLed and restarted at random points, Valkey (a private instance,
 * so other tests keep theirs) is stopped for 10 s (CDC_CACHE_E2E_OUTAGE_MS), and malformed records
 * are injected into a subscribed topic. After the drain: every customer key equals the row's projection
 * or is absent, every order key the burst touched was invalidated (pre-filled stale values are gone),
 * every malformed record is in the dead-letter topic, and SIGTERM exits cleanly.
 *
 * Sizes: the issue's full size by default (CDC_CACHE_E2E_EVENTS=10000 changes, CDC_CACHE_E2E_KILLS=10
 * SIGKILLs; ~40 s on the 2-core CI machine); lower them for a quicker local run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterHeaders } from '../../../consumers/kafka/dead-letter-topic.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  createTopic,
  idBase,
  plainTopic,
  readTopic,
  sql,
  testKafka,
  topicExists,
  waitFor,
} from '../../support/consumers.ts';
import { type PrivateValkey, startPrivateValkey } from '../../support/private-valkey.ts';
import { startWorker, type Worker } from '../../support/workers.ts';

const EVENTS = Number(process.env.CDC_CACHE_E2E_EVENTS ?? 10_000);
const KILLS = Number(process.env.CDC_CACHE_E2E_KILLS ?? 10);
const MALFORMED = 5;
const workers: Worker[] = [];
let valkey: Valkey;
/** The private Valkey of the outage variant (undefined: the harness's shared Valkey, never stopped). */
let privateValkey: PrivateValkey | undefined;
let valkeyUrl: string;
/** How long a private Valkey is stopped mid-burst (0 = use the harness's shared Valkey, never stopped). */
const OUTAGE_MS = Number(process.env.CDC_CACHE_E2E_OUTAGE_MS ?? 10_000);

beforeAll(async () => {
  requireServices('kafka', 'postgres', 'connect', 'valkey');
  if (OUTAGE_MS > 0) privateValkey = await startPrivateValkey();
  valkeyUrl = privateValkey?.url ?? serviceEnv('CDC_CACHE_VALKEY_URL');
  valkey = new Valkey(valkeyUrl);
  valkey.on('error', () => {}); // reconnects by itself after the outage
  sql(`INSERT INTO customers (id, email) VALUES (1, 'seed@x.io') ON CONFLICT (id) DO UPDATE SET name = 'seed';
       INSERT INTO orders (id, customer_id, status, total_cents) VALUES (1, 1, 'seed', 0) ON CONFLICT (id) DO UPDATE SET status = 'seed';`);
  const kafka = testKafka();
  await waitFor(
    'the Debezium topics',
    async () =>
      (await topicExists(kafka, plainTopic('customers'))) && (await topicExists(kafka, plainTopic('orders'))),
    120_000,
    500,
  );
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  valkey?.disconnect();
  await privateValkey?.stop();
});

/** Random statements over customers [base, base+span) and orders [base, base+span). */
function burstStatements(base: number, span: number, count: number): string[] {
  const out: string[] = [];
  const rnd = (n: number) => Math.floor(Math.random() * n);
  for (let i = 0; i < count; i++) {
    const id = base + rnd(span);
    const kind = rnd(6);
    if (kind === 0)
      out.push(
        `INSERT INTO customers (id, email, name) VALUES (${id}, 'c${id}-${i}@x.io', 'n${i}') ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name;`,
      );
    else if (kind === 1)
      out.push(`UPDATE customers SET tier = 't${i}', email = 'u${id}-${i}@x.io' WHERE id = ${id};`);
    else if (kind === 2) out.push(`DELETE FROM customers WHERE id = ${id};`);
    else if (kind === 3)
      out.push(
        `INSERT INTO orders (id, customer_id, status, total_cents) VALUES (${id}, ${id}, 'new', ${i}) ON CONFLICT (id) DO UPDATE SET status = 'again';`,
      );
    else if (kind === 4) out.push(`UPDATE orders SET status = 's${i}' WHERE id = ${id};`);
    else out.push(`DELETE FROM orders WHERE id = ${id};`);
  }
  return out;
}

describe('consume kafka under faults', () => {
  it(`${EVENTS} random changes, ${KILLS} SIGKILLs, ${OUTAGE_MS > 0 ? `Valkey down ${OUTAGE_MS / 1000} s, ` : ''}${MALFORMED} malformed records: nothing lost, nothing stale`, async () => {
    const base = idBase();
    const span = Math.max(50, Math.floor(EVENTS / 8));
    const prefix = `e2e${base}:`;
    const suffix = `${base}`;
    const inject = `e2e-inject-${suffix}`;
    const dlq = `e2e-dlq-${suffix}`;
    const kafka = testKafka();
    await createTopic(kafka, inject, 1);
    await createTopic(kafka, dlq, 1);
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-kafka-e2e-'));
    const rules = join(dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({
        keyPrefix: prefix,
        defaults: { ttl: 0 },
        rules: [
          {
            table: 'public.customers',
            keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
            refresh: { fields: ['id', 'email', 'name', 'tier'] },
            images: 'both', // REPLICA IDENTITY FULL on the harness; the records carry no schema
          },
          { table: 'public.orders', keys: ['order:{id}'] },
        ],
      }),
    );
    // The app cached stale order values: every one the burst touches must be invalidated.
    const pipeline = valkey.pipeline();
    for (let i = 0; i < span; i++) pipeline.set(`${prefix}order:${base + i}`, 'stale');
    await pipeline.exec();

    // The service config file: a short session timeout so a SIGKILLed member leaves the group fast.
    const serviceConfig = join(dir, 'consumer.json');
    writeFileSync(
      serviceConfig,
      JSON.stringify({ kafka: { sessionTimeoutMs: 6000 }, log: { level: 'info' } }),
    );
    const args = [
      'kafka',
      '--consumer-config',
      serviceConfig,
      '--config',
      rules,
      '--target',
      valkeyUrl,
      '--brokers',
      serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
      '--group',
      `e2e-${suffix}`,
      '--topic-pattern',
      `^(dbz_plain\\.public\\.(customers|orders)|${inject})$`,
      '--dead-letter-topic',
      dlq,
      '--http-port',
      '0',
      '--no-progress',
    ];
    let current = startWorker(args);
    workers.push(current);
    const statements = burstStatements(base, span, EVENTS);
    const touchedOrders = new Set<number>();
    // An INSERT … ON CONFLICT always changes the row (insert or update), so it always emits an event;
    // UPDATE/DELETE of an absent row emit nothing and need no invalidation.
    for (const s of statements) {
      const m = /^INSERT INTO orders .*?VALUES \((\d+)/.exec(s);
      if (m) touchedOrders.add(Number(m[1]));
    }
    const chunks = 20;
    const per = Math.ceil(statements.length / chunks);
    const killAt = new Set<number>();
    const outageAt = 10;
    const killable = Array.from({ length: chunks - 1 }, (_, i) => i + 1).filter(
      (c) => c !== outageAt && c !== outageAt + 1,
    );
    while (killAt.size < Math.min(KILLS, killable.length))
      killAt.add(killable[Math.floor(Math.random() * killable.length)]!);
    const producer = kafka.producer();
    await producer.connect();
    for (let c = 0; c < chunks; c++) {
      sql(statements.slice(c * per, (c + 1) * per).join('\n'));
      if (c % 4 === 0 && c / 4 < MALFORMED) {
        await producer.send({
          topic: inject,
          messages: [{ key: `{"id":${c}}`, value: `{"op":"c","after":{"id":${c}` }],
        });
      }
      if (c === outageAt && privateValkey !== undefined) {
        // Valkey stops for OUTAGE_MS while the burst goes on; the consumer must wait, not advance.
        await privateValkey.stop();
        const downSince = Date.now();
        sql(statements.slice((c + 1) * per, (c + 2) * per).join('\n'));
        c++;
        await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
        await privateValkey.start();
      }
      if (killAt.has(c)) {
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
        current.kill('SIGKILL');
        await current.exited;
        current = startWorker(args);
        workers.push(current);
      }
    }
    for (let m = Math.ceil(chunks / 4); m < MALFORMED; m++) {
      await producer.send({ topic: inject, messages: [{ key: `{"id":${m}}`, value: 'not json' }] });
    }
    await producer.disconnect();

    const rows = new Map<number, Record<string, unknown>>();
    for (const line of sql(
      `SELECT id, email, name, tier FROM customers WHERE id >= ${base} AND id < ${base + span}`,
    )
      .trim()
      .split('\n')
      .filter(Boolean)) {
      const [id, email, name, tier] = line.split('|');
      rows.set(Number(id), { id: Number(id), email, name: name === '' ? null : name, tier });
    }
    const stale = async (): Promise<string[]> => {
      const bad: string[] = [];
      const keys = Array.from({ length: span }, (_, i) => `${prefix}customer:${base + i}`);
      const values = await valkey.mget(...keys);
      values.forEach((v, i) => {
        const row = rows.get(base + i);
        if (
          row === undefined ? v !== null : v === null || JSON.stringify(JSON.parse(v)) !== JSON.stringify(row)
        )
          bad.push(keys[i]!);
      });
      for (const id of touchedOrders)
        if ((await valkey.get(`${prefix}order:${id}`)) !== null) bad.push(`${prefix}order:${id}`);
      return bad;
    };
    let last: string[] = [];
    await waitFor(
      'the cache to converge',
      async () => {
        last = await stale();
        return last.length === 0;
      },
      150_000,
      1000,
    ).catch(async (e) => {
      const tail = current.logs.slice(-15).map((l) => JSON.stringify(l));
      const http = current.logs.find((l) => l.message === 'http endpoint up') as { port: number } | undefined;
      const m =
        http === undefined
          ? ''
          : await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text().catch(() => '');
      tail.push(
        ...m.split('\n').filter((l) => /^cdc_cache_(events|ops|kafka|retries|target|checkpoints)/.test(l)),
      );
      for (const k of last.slice(0, 3)) tail.push(`${k} = ${await valkey.get(k)}`);
      if (process.env.CDC_CACHE_E2E_LOG_DIR)
        workers.forEach((w, i) => {
          writeFileSync(
            join(process.env.CDC_CACHE_E2E_LOG_DIR!, `worker-${i}.jsonl`),
            w.logs.map((l) => JSON.stringify(l)).join('\n'),
          );
        });
      throw new Error(
        `${(e as Error).message}; still stale: ${last.slice(0, 5).join(', ')} (${last.length}); consumer log tail:\n${tail.join('\n')}`,
      );
    });
    if (process.env.CDC_CACHE_E2E_LOG_DIR) {
      workers.forEach((w, i) => {
        writeFileSync(
          join(process.env.CDC_CACHE_E2E_LOG_DIR!, `worker-${i}.jsonl`),
          w.logs.map((l) => JSON.stringify(l)).join('\n'),
        );
      });
    }
    // Dead letters are at least once: a consumer SIGKILLed after writing a letter and before
    // committing the record's offset writes it again on restart. So read until every malformed
    // record's offset is there (not merely MALFORMED letters, which a duplicate could make up).
    const injected = (read: readonly { headers: Record<string, string> }[]) =>
      new Set(
        read
          .filter((d) => d.headers[DeadLetterHeaders.topic] === inject)
          .map((d) => d.headers[DeadLetterHeaders.offset]),
      );
    const expected = Array.from({ length: MALFORMED }, (_, i) => String(i));
    const dead = await readTopic(
      kafka,
      dlq,
      (read) => expected.every((o) => injected(read).has(o)),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; expected dead letters for offsets ${expected.join(', ')} of ${inject}`);
    });
    // Only the malformed records are dead letters: a change event here would be a lost change.
    const foreign = dead
      .filter((d) => d.headers[DeadLetterHeaders.topic] !== inject)
      .map((d) => Object.values(d.headers).join(' | '));
    const deadLog = workers.flatMap((w, i) =>
      w.logs
        .filter((l) => l.message === 'dead letter')
        .map((l) => `worker ${i}: ${String((l as { reason?: unknown }).reason)}`),
    );
    expect(foreign, `dead letters logged by the consumers:\n${deadLog.join('\n')}`).toEqual([]);
    expect([...injected(dead)].sort()).toEqual(expected);
    // A duplicate comes only from a restart: at most one extra letter per SIGKILL.
    expect(dead.length).toBeLessThanOrEqual(MALFORMED + KILLS);
    // The service endpoint of the running consumer: ready, and exporting the metrics.
    const http = current.logs.find((l) => l.message === 'http endpoint up') as { port: number } | undefined;
    expect(http).toBeDefined();
    const endpoint = `http://127.0.0.1:${http!.port}`;
    expect((await fetch(`${endpoint}/livez`)).status).toBe(200);
    await waitFor('readiness', async () => (await fetch(`${endpoint}/readyz`)).status === 200, 30_000);
    const metrics = await (await fetch(`${endpoint}/metrics`)).text();
    // The last worker may start after earlier ones applied everything (a SIGKILL late in the
    // burst), so it can have applied nothing itself: the families must be exported, counts may be 0.
    expect(metrics).toMatch(/# TYPE cdc_cache_ops_total counter/);
    expect(metrics).toMatch(/# TYPE cdc_cache_apply_seconds histogram/);
    expect(metrics).toMatch(
      /cdc_cache_kafka_consumer_lag\{topic="dbz_plain.public.customers",partition="0"\} \d+/,
    );
    current.kill('SIGTERM');
    expect(await current.exited).toBe(0);
    expect(current.logs.some((l) => l.message === 'stopped cleanly')).toBe(true);
  });
});

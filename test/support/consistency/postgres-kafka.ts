/**
 * The PostgreSQL source of the consistency run (run.ts): writers on a few customer rows, captured by
 * the harness's plain Debezium connector; one more writer moves a few orders between those customers
 * and deletes them (public.orders is at REPLICA IDENTITY DEFAULT: no old image on update, key-only on
 * delete; issue 14), and apps cache each customer's order list, a dependent key that the moved
 * order's old customer can only reach through the rule's declared `onPartialImage` prefix fallback.
 * The CDC child is the project's Kafka consumer, fed from a copy topic with 3 partitions into which
 * the source re-delivers the Debezium records shuffled across partitions (reordering between keys
 * and, for the same key, across partitions), with random duplicates. Its own fault: an order moves
 * between two customers whose order lists are cached. After the full check: every cached order list
 * against PostgreSQL, and `cdc-cache verify` on the captured change log.
 * Protected runs also start near-cache readers (near-readers.ts) on Valkey and on an engine server
 * with a CDC child of its own; after the final drain they must serve 0 stale reads (tracked) and
 * stale ones with the test-only `tracking: false` switch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import pg from 'pg';
import { createCacheClient, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { decodeDocument } from '../../../core/decode/document.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { formatDuration, postgresTruth } from '../../../core/verify/index.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { type CliResult, runCli } from '../cli.ts';
import {
  committedOffsets,
  createTopic,
  highWatermarks,
  idBase,
  plainTopic,
  sql,
  testKafka,
  topicExists,
  waitFor,
} from '../consumers.ts';
import { prng } from './harness.ts';
import { formatNearChecks, type NearCheck, type NearReaders, startNearReaders } from './near-readers.ts';
import { APPS, type ConsistencyRun, type ConsistencySource, DURATION_MS, ROWS, WRITERS } from './run.ts';
import { CUSTOMER_FIELDS, CUSTOMER_ORDERS_SQL, customerProjection, scenarioRules } from './scenario.ts';

const ORDERS = 6;
const PARTITIONS = 3;
const DUPLICATE_SHARE = 0.15;

/** What the PostgreSQL source counts beside the common run. */
export interface PostgresKafkaStats {
  writes: number;
  rowChanges: number;
  cdcRecords: number;
  duplicates: number;
  /** `cdc-cache verify` on the run's captured change log (real Debezium records), --json. */
  cli: CliResult;
  /** Order writes (row changes) on public.orders, REPLICA IDENTITY DEFAULT. */
  orderChanges: number;
  /** `co:{customer}` keys holding another list than PostgreSQL's, after the drain. */
  staleOrderLists: string[];
  /** `co:{customer}` keys present (checked) after the drain. */
  orderListsChecked: number;
  /** Near-cache readers on Valkey and the engine server, tracked and not (protected runs only). */
  near: NearCheck[];
}

/** A run of the PostgreSQL source. */
export type PostgresKafkaRun = ConsistencyRun & PostgresKafkaStats;

/** The PostgreSQL source with what it counted (`stats()`, complete after the run). */
export interface PostgresKafkaSource extends ConsistencySource {
  stats(): PostgresKafkaStats;
}

/**
 * Checks the services and makes sure the Debezium topics of public.customers and public.orders
 * exist (on freshly started services a topic exists only once a row changed). Returns the client.
 */
export async function preparePostgresKafka(): Promise<Kafka> {
  requireServices('kafka', 'postgres', 'connect', 'valkey');
  const kafka = testKafka();
  execFileSync('psql', [serviceEnv('CDC_CACHE_PG_URL'), '-X', '-q', '-c', 'SELECT 1'], { timeout: 30_000 });
  if (!(await topicExists(kafka, plainTopic('customers')))) {
    const marker = idBase();
    sql(
      `INSERT INTO public.customers (id, email) VALUES (${marker}, 'topic-${marker}@x.io'); DELETE FROM public.customers WHERE id = ${marker};`,
    );
  }
  await waitFor(
    'the Debezium customers topic',
    () => topicExists(kafka, plainTopic('customers')),
    120_000,
    500,
  );
  if (!(await topicExists(kafka, plainTopic('orders')))) {
    const marker = idBase();
    sql(
      `INSERT INTO public.orders (id, customer_id, status, total_cents) VALUES (${marker}, 0, 'x', 0); DELETE FROM public.orders WHERE id = ${marker};`,
    );
  }
  await waitFor('the Debezium orders topic', () => topicExists(kafka, plainTopic('orders')), 120_000, 500);
  return kafka;
}

/** Sets up one run's rows, copy topic, shuffler and counters. */
export async function postgresKafkaSource(kafka: Kafka, protectedRun: boolean): Promise<PostgresKafkaSource> {
  const base = idBase();
  const ids = Array.from({ length: ROWS }, (_, i) => base + i);
  const idSet = new Set(ids);
  const orderIds = Array.from({ length: ORDERS }, (_, i) => base + 1000 + i);
  const orderIdSet = new Set(orderIds);
  const ordersTopic = plainTopic('orders');
  const prefix = `cons${base}:`;
  const copyTopic = `cons-copy-${base}`;
  const group = `cons-cdc-${base}`;
  const rules = scenarioRules(prefix, protectedRun);
  const pgUrl = serviceEnv('CDC_CACHE_PG_URL');
  const valkeyUrl = serviceEnv('CDC_CACHE_VALKEY_URL');
  const pool = new pg.Pool({ connectionString: pgUrl, max: WRITERS + 2 });
  // The verifier's own connections, so its reads never queue behind the writers.
  const truthPool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  const truth = postgresTruth(
    async (text, params) => (await truthPool.query(text, [...params])).rows.map((r) => Object.values(r)[0]),
    () => truthPool.end(),
  );
  await createTopic(kafka, copyTopic, PARTITIONS);

  const stats: Omit<PostgresKafkaStats, 'cli'> & { cli?: CliResult } = {
    writes: 0,
    rowChanges: 0,
    cdcRecords: 0,
    duplicates: 0,
    orderChanges: 0,
    staleOrderLists: [],
    orderListsChecked: 0,
    near: [],
  };
  // Near-cache readers (issue 18, protected runs): on Valkey, and on an engine server fed by a CDC
  // child of its own under `engineGroup`.
  const engineGroup = `cons-cdc-engine-${base}`;
  let near: NearReaders | undefined;
  const childEnv = () => ({
    CONS_SOURCE: 'kafka',
    CONS_BROKERS: serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
    CONS_TOPIC: copyTopic,
    CONS_GROUP: group,
    CONS_VALKEY: valkeyUrl,
    CONS_RULES: JSON.stringify(rules),
    CONS_FENCING: protectedRun ? '1' : '0',
  });
  // The shuffler: Debezium records of this run's rows → held → re-delivered shuffled across the
  // copy topic's partitions, some twice.
  const changeLog: string[] = [];
  const firstChange = new Map<number, { key: Buffer; value: Buffer }>();
  let held: { key: Buffer; value: Buffer | null }[] = [];
  let rowRecords = 0;
  const random = prng(base);
  const source = kafka.consumer({ groupId: `cons-src-${base}` });
  const producer: Producer = kafka.producer();
  let shuffling = true;
  let shuffler: Promise<void> = Promise.resolve();

  const drained = async (what: string) => {
    await waitFor(`${what}: every row change captured`, () => rowRecords >= stats.rowChanges, 120_000, 100);
    await waitFor(`${what}: the shuffler emptied`, () => held.length === 0, 60_000, 50);
    // Not there yet: throws what is missing, so a timeout names the group and partition behind.
    await waitFor(
      `${what}: the CDC consumer committed the copy topic's end`,
      async () => {
        const high = await highWatermarks(kafka, copyTopic);
        for (const g of near === undefined ? [group] : [group, engineGroup]) {
          const committed = await committedOffsets(kafka, g, copyTopic);
          const behind = [...high].filter(([p, h]) => (committed.get(p) ?? -1n) < h);
          if (behind.length > 0)
            throw new Error(
              `group ${g}: ${behind.map(([p, h]) => `partition ${p} committed ${committed.get(p) ?? -1n} of ${h}`).join(', ')}`,
            );
        }
        return true;
      },
      120_000,
      250,
    );
  };
  const count = (r: pg.QueryResult, order = false) => {
    stats.rowChanges += r.rowCount ?? 0;
    if (order) stats.orderChanges += r.rowCount ?? 0;
  };

  return {
    label: '',
    base,
    prefix,
    config: compileConfig(rules, 'scenarioRules'),
    fields: CUSTOMER_FIELDS,
    truth,
    appData: { pgUrl },

    async follow(sink) {
      await source.connect();
      await source.subscribe({ topics: [plainTopic('customers'), ordersTopic], fromBeginning: true });
      await source.run({
        eachMessage: async ({ topic, partition, message }) => {
          if (message.key === null) return;
          const id = Number(
            (JSON.parse(message.key.toString()) as { id?: number; payload?: { id?: number } }).id,
          );
          if (!(topic === ordersTopic ? orderIdSet : idSet).has(id)) return;
          held.push({ key: message.key, value: message.value });
          if (message.value === null) return;
          rowRecords++;
          const line = `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":${message.offset},"key":${message.key.toString()},"value":${message.value.toString()}}`;
          changeLog.push(line);
          for (const e of decodeDocument(line, { source: 'debezium' })) {
            sink.observe(e);
            if (topic !== ordersTopic && !firstChange.has(id) && e.op !== 'delete')
              firstChange.set(id, { key: message.key, value: message.value });
          }
        },
      });
      await producer.connect();
      shuffler = (async () => {
        while (shuffling || held.length > 0) {
          const batch = held;
          held = [];
          for (let i = batch.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [batch[i], batch[j]] = [batch[j]!, batch[i]!];
          }
          const messages = batch.map((r) => ({
            key: r.key,
            value: r.value,
            partition: Math.floor(random() * PARTITIONS),
          }));
          for (const r of batch) {
            if (r.value !== null && random() < DUPLICATE_SHARE) {
              held.push(r); // delivered again with a later batch: a duplicate, out of order
              stats.duplicates++;
            }
          }
          if (messages.length > 0) await producer.send({ topic: copyTopic, messages });
          stats.cdcRecords += messages.length;
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      if (protectedRun) {
        near = await startNearReaders({
          valkeyUrl,
          pgUrl,
          prefix,
          ids,
          durationMs: DURATION_MS,
          seed: base,
          cdcEnv: childEnv(),
          engineGroup,
        });
      }
    },

    childEnv,

    async write(n, i, id, k) {
      const tag = `${n}-${i}`;
      const r =
        k < 0.45
          ? await pool.query(
              `INSERT INTO customers (id, email, name, tier) VALUES ($1, $2, $3, 'free')
               ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name`,
              [id, `c${id}-${tag}@x.io`, `n${tag}`],
            )
          : k < 0.85
            ? await pool.query(`UPDATE customers SET tier = $2, name = $3 WHERE id = $1`, [
                id,
                `t${tag}`,
                `u${tag}`,
              ])
            : await pool.query(`DELETE FROM customers WHERE id = $1`, [id]);
      stats.writes++;
      count(r);
    },

    // Orders move between the run's customers and go away: the old customer is never in the image.
    async background(until) {
      const rnd = prng(base * 37);
      for (let i = 0; Date.now() < until; i++) {
        const id = orderIds[Math.floor(rnd() * orderIds.length)]!;
        const customer = ids[Math.floor(rnd() * ids.length)]!;
        const k = rnd();
        const r =
          k < 0.4
            ? await pool.query(
                `INSERT INTO orders (id, customer_id, status, total_cents) VALUES ($1, $2, 'new', $3)
               ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, total_cents = EXCLUDED.total_cents`,
                [id, customer, i],
              )
            : k < 0.8
              ? await pool.query('UPDATE orders SET customer_id = $2, status = $3 WHERE id = $1', [
                  id,
                  customer,
                  `s${i}`,
                ])
              : await pool.query('DELETE FROM orders WHERE id = $1', [id]);
        stats.writes++;
        count(r, true);
        await new Promise((res) => setTimeout(res, 15));
      }
    },

    drained,

    async replayOldest() {
      const late = [...firstChange.values()].map((r) => ({
        key: r.key,
        value: r.value,
        partition: Math.floor(random() * PARTITIONS),
      }));
      await producer.send({ topic: copyTopic, messages: late });
      stats.cdcRecords += late.length;
      stats.duplicates += late.length;
      await drained('after the late duplicates');
    },

    async raceBefore(id) {
      count(
        await pool.query(
          `INSERT INTO customers (id, email, name, tier) VALUES ($1, 'race@x.io', 'race-before', 'free')
     ON CONFLICT (id) DO UPDATE SET name = 'race-before'`,
          [id],
        ),
      );
    },

    async raceRead(id) {
      const { rows } = await pool.query('SELECT row_to_json(t)::text AS j FROM customers t WHERE id = $1', [
        id,
      ]);
      return customerProjection(JSON.parse(rows[0].j as string));
    },

    async raceUpdate(id) {
      count(await pool.query(`UPDATE customers SET name = 'race-after' WHERE id = $1`, [id]));
      stats.writes++;
    },

    // Fault 3 (dependent key over REPLICA IDENTITY DEFAULT): both customers' order lists are
    // cached, then an order moves from one to the other. The update carries no old image, so only
    // the rule's onPartialImage can reach the old customer's list.
    async moreFaults(appTarget, leases) {
      const [fromId, toId] = [ids[1]!, ids[2]!];
      const moved = orderIds[0]!;
      count(
        await pool.query(
          `INSERT INTO orders (id, customer_id, status, total_cents) VALUES ($1, $2, 'new', 1)
     ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id`,
          [moved, fromId],
        ),
        true,
      );
      await drained('before the order move');
      const loadList = async (id: number) =>
        (await pool.query(CUSTOMER_ORDERS_SQL, [id])).rows[0].j as string;
      // A client of its own: the racing fill's outcome stays what it was.
      const lists = createCacheClient({
        store: leaseStoreFor(appTarget),
        leases,
        ttlMs: 0,
        codec: textCodec,
      });
      for (const id of [fromId, toId])
        await lists.getOrLoad(`${prefix}co:${id}`, () => loadList(id), { codec: textCodec });
      await lists.close();
      count(await pool.query('UPDATE orders SET customer_id = $2 WHERE id = $1', [moved, toId]), true);
      stats.writes++;
      await drained('after the order move');
    },

    async stopFollowing() {
      shuffling = false;
      await shuffler;
      await drained('at the end');
      if (near !== undefined) {
        stats.near = await near.check();
        await near.stop();
        for (const c of stats.near) {
          process.stdout.write(
            `\nnear readers on ${c.backend}, tracking ${c.tracking ? 'on' : 'off'}: ${c.reads} reads (${c.nearHits} near hits), after the drain ${c.checked} reads (${c.nearServed} near), ${c.stale.length} stale${c.stale.length > 0 ? `\n  ${c.stale.slice(0, 10).join('\n  ')}` : ''}\n`,
          );
        }
      }
    },

    async afterCheck(reader) {
      // The dependent keys: every customer's cached order list must be absent or PostgreSQL's list.
      for (const id of ids) {
        const cached = await reader.get(`${prefix}co:${id}`);
        if (cached === null) continue;
        stats.orderListsChecked++;
        const { rows } = await pool.query(CUSTOMER_ORDERS_SQL, [id]);
        if (cached !== rows[0].j)
          stats.staleOrderLists.push(`${prefix}co:${id}: cached ${cached}, database ${rows[0].j}`);
      }
      process.stdout.write(
        `\norder lists (dependent keys, REPLICA IDENTITY DEFAULT): ${stats.orderListsChecked} cached, ${stats.staleOrderLists.length} stale${stats.staleOrderLists.length > 0 ? `\n  ${stats.staleOrderLists.join('\n  ')}` : ''}\n`,
      );
      // The CLI on the same evidence: the captured records as a change log.
      const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-consistency-'));
      writeFileSync(join(dir, 'changes.jsonl'), `${changeLog.join('\n')}\n`);
      writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
      stats.cli = await runCli([
        'verify',
        join(dir, 'changes.jsonl'),
        '--config',
        join(dir, 'rules.json'),
        '--target',
        valkeyUrl,
        '--pg',
        pgUrl,
        '--expect',
        CUSTOMER_FIELDS.join(','),
        '--json',
      ]);
    },

    async close() {
      await near?.stop();
      await source.disconnect();
      await producer.disconnect();
      await pool.query('DELETE FROM orders WHERE id = ANY($1)', [orderIds]);
      await pool.end();
      await truth.close();
    },

    stats() {
      if (stats.cli === undefined) throw new Error('postgresKafkaSource: stats() before the run ended');
      return stats as PostgresKafkaStats;
    },
  };
}

/** The results section of the PostgreSQL runs (bench/results/consistency.md). */
export function formatPostgresKafkaResults(rs: PostgresKafkaRun[]): string {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const lines = [
    `## ${new Date().toISOString()}`,
    '',
    `Command: \`CDC_CACHE_KEEP_SERVICES=1 CDC_CACHE_CONSISTENCY_MS=${DURATION_MS} npx vitest run --project e2e-solo test/e2e/consistency/consistency.test.ts\``,
    `Load average: ${load} (2 cores, shared). ${ROWS} rows, ${WRITERS} writers, ${APPS} app threads, ${PARTITIONS} partitions, ${DURATION_MS} ms of writes per run.`,
    '',
    '| run | stale keys (full check) | order lists stale / cached (dependent keys, DEFAULT identity; order row changes) | keys checked | writes (row changes) | app reads / loads / fills / lease-rejected | CDC records delivered (duplicates) | consumer kills | race fill | live: changes followed | staleness p50 / p99 / max | stream lag p99 / check lateness p99 | last window (5 s) consistent |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rs) {
    const w = r.live.windows.at(-1)!;
    const f = r.full.windows[0]!;
    lines.push(
      `| ${r.name} | **${r.full.staleKeys}** | ${r.staleOrderLists.length} / ${r.orderListsChecked} (${r.orderChanges}) | ${f.checked} rows (${r.full.reads.cache} keys) | ${r.writes} (${r.rowChanges}) | ${r.reads} / ${r.loads} / ${r.fills} / ${r.rejected} | ${r.cdcRecords} (${r.duplicates}) | ${r.kills} | ${r.raceFill} | ${r.live.changes.sampled} | ≤ ${formatDuration(r.live.staleness.p50Ms)} / ≤ ${formatDuration(r.live.staleness.p99Ms)} / ${formatDuration(r.live.staleness.maxMs)} | ${formatDuration(r.live.streamLag.p99Ms)} / ${formatDuration(r.live.lateness.p99Ms)} | ${(w.fraction * 100).toFixed(2)}% (${w.inconsistent} of ${w.checked}) |`,
    );
  }
  const near = rs.flatMap((r) => formatNearChecks(r.name, r.near));
  if (near.length > 0) {
    lines.push(
      '',
      'Near-cache readers (issue 18): each reads through its own near cache during the run, then every key twice more after the drain, compared with PostgreSQL.',
      '',
      '| run | backend | tracking | workers | reads / near hits during the run | reads / near hits after the drain | stale reads after the drain | invalidations received |',
      '|---|---|---|---|---|---|---|---|',
      ...near,
    );
  }
  lines.push('');
  lines.push(
    'Staleness: age of a change (since the verifier saw it; add the stream lag for time since commit) at the first check (windows 100 ms, 500 ms, 1 s, 2 s, 5 s, run late by the check lateness) that found the cache reflecting it or a newer change; ∞ = stale at every window.',
  );
  return `${lines.join('\n')}\n`;
}

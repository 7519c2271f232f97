/**
 * Randomized consistency test (issue 9). Per run:
 * - writers: concurrent random INSERT … ON CONFLICT / UPDATE / DELETE on a few customer rows in
 *   PostgreSQL (high contention), captured by the harness's plain Debezium connector; one more
 *   writer moves a few orders between those customers and deletes them (public.orders is at
 *   REPLICA IDENTITY DEFAULT: no old image on update, key-only on delete; issue 14), and apps cache
 *   each customer's order list, a dependent key that the moved order's old customer can only reach
 *   through the rule's declared `onPartialImage` prefix fallback — checked at the end against
 *   PostgreSQL;
 * - apps: worker threads doing cache-aside `getOrLoad` through the project's cache client (leases on
 *   or off) with a slow loader reading PostgreSQL, against Valkey (key prefix unique to the run);
 * - the CDC pipeline: the project's Kafka consumer in a child process, fed from a copy topic with 3
 *   partitions into which the test re-delivers the Debezium records shuffled across partitions
 *   (reordering between keys and, for the same key, across partitions), with random duplicates; the
 *   child is SIGKILLed mid-run and restarted from its group's committed offsets;
 * - deterministic faults at the end (so the unprotected run is always stale): every row's oldest
 *   change is delivered again late, one slow load races an update + its invalidation, and an order
 *   moves between two customers whose order lists are cached (the old one is reached only by the
 *   rule's onPartialImage prefix fallback; the unprotected run ignores it and keeps a stale list);
 * - the verifier (core/verify) follows every change live (windows 100 ms … 5 s: staleness p50/p99)
 *   and, after the drain, checks every touched key in full mode against PostgreSQL.
 * With fencing and leases the full check finds 0 stale keys; the same run with the test-only
 * switches (`fencing: false` target, `leases: false` client) finds stale keys.
 *
 * Size: CDC_CACHE_CONSISTENCY_MS (default 8000) of writes per run. The report is printed and
 * appended to bench/results/consistency.md (with CDC_CACHE_WRITE_RESULTS=1).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Kafka, Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheClient, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import {
  createVerifier,
  formatDuration,
  formatReport,
  postgresTruth,
  type VerifyReport,
  verifyFull,
} from '../../../core/verify/index.ts';
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
} from '../../integration/consumers/support.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { type CliResult, runCli } from '../../support/cli.ts';
import { appendResults, prng, startChild, stopChild } from './harness.ts';
import { CUSTOMER_FIELDS, CUSTOMER_ORDERS_SQL, customerProjection, scenarioRules } from './scenario.ts';

const DURATION_MS = Number(process.env.CDC_CACHE_CONSISTENCY_MS ?? 8000);
const ROWS = 5;
const ORDERS = 6;
const WRITERS = 3;
const APPS = 3;
const PARTITIONS = 3;
const DUPLICATE_SHARE = 0.15;
const WINDOWS_MS = [100, 500, 1000, 2000, 5000];
const CHILD = join(import.meta.dirname, 'cdc-child.ts');
const WORKER = join(import.meta.dirname, 'app-worker.ts');

interface RunResult {
  name: string;
  full: VerifyReport;
  live: VerifyReport;
  writes: number;
  rowChanges: number;
  reads: number;
  loads: number;
  fills: number;
  rejected: number;
  cdcRecords: number;
  duplicates: number;
  kills: number;
  raceFill: string;
  raceKey: string;
  /** `cdc-cache verify` on the run's captured change log (real Debezium records), --json. */
  cli: CliResult;
  /** Order writes (row changes) on public.orders, REPLICA IDENTITY DEFAULT. */
  orderChanges: number;
  /** `co:{customer}` keys holding another list than PostgreSQL's, after the drain. */
  staleOrderLists: string[];
  /** `co:{customer}` keys present (checked) after the drain. */
  orderListsChecked: number;
}

const results: RunResult[] = [];
let kafka: Kafka;

beforeAll(async () => {
  requireServices('kafka', 'postgres', 'connect', 'valkey');
  kafka = testKafka();
  execFileSync('psql', [serviceEnv('CDC_CACHE_PG_URL'), '-X', '-q', '-c', 'SELECT 1'], { timeout: 30_000 });
  // On freshly started services the topic exists only once a customers row changed: make one change.
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
});

afterAll(() => {
  if (results.length > 0) appendResults(formatResults(results));
});

function formatResults(rs: RunResult[]): string {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const lines = [
    `## ${new Date().toISOString()}`,
    '',
    `Command: \`CDC_CACHE_KEEP_SERVICES=1 CDC_CACHE_CONSISTENCY_MS=${DURATION_MS} npx vitest run --project e2e test/e2e/consistency/consistency.test.ts\``,
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
  lines.push('');
  lines.push(
    'Staleness: age of a change (since the verifier saw it; add the stream lag for time since commit) at the first check (windows 100 ms, 500 ms, 1 s, 2 s, 5 s, run late by the check lateness) that found the cache reflecting it or a newer change; ∞ = stale at every window.',
  );
  return `${lines.join('\n')}\n`;
}

async function runScenario(name: string, protectedRun: boolean): Promise<RunResult> {
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
  const config = compileConfig(rules, 'scenarioRules');
  const pgUrl = serviceEnv('CDC_CACHE_PG_URL');
  const valkeyUrl = serviceEnv('CDC_CACHE_VALKEY_URL');
  const pool = new pg.Pool({ connectionString: pgUrl, max: WRITERS + 2 });
  const reader: ValkeyTarget = await createValkeyTarget({ url: valkeyUrl });
  // The verifier's own connections, so its reads never queue behind the writers.
  const truthPool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  const truth = postgresTruth(
    async (text, params) => (await truthPool.query(text, [...params])).rows.map((r) => Object.values(r)[0]),
    () => truthPool.end(),
  );
  const expect = { fields: [...CUSTOMER_FIELDS] };
  const live = createVerifier({
    config,
    target: reader,
    truth,
    expect,
    windowsMs: WINDOWS_MS,
    ratePerSec: 20_000,
  });
  await createTopic(kafka, copyTopic, PARTITIONS);

  // The shuffler: Debezium records of this run's rows → held → re-delivered shuffled across the
  // copy topic's partitions, some twice.
  const events: ChangeEvent[] = [];
  const changeLog: string[] = [];
  const firstChange = new Map<number, { key: Buffer; value: Buffer }>();
  let held: { key: Buffer; value: Buffer | null }[] = [];
  let rowRecords = 0;
  let delivered = 0;
  let duplicates = 0;
  const random = prng(base);
  const source = kafka.consumer({ groupId: `cons-src-${base}` });
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
        events.push(e);
        live.observe(e);
        if (topic !== ordersTopic && !firstChange.has(id) && e.op !== 'delete')
          firstChange.set(id, { key: message.key, value: message.value });
      }
    },
  });
  const producer: Producer = kafka.producer();
  await producer.connect();
  let shuffling = true;
  const shuffler = (async () => {
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
          duplicates++;
        }
      }
      if (messages.length > 0) await producer.send({ topic: copyTopic, messages });
      delivered += messages.length;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  let verifying = true;
  const verifierLoop = (async () => {
    while (verifying) {
      await live.runDue();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const cdcEnv = {
    CONS_BROKERS: serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
    CONS_TOPIC: copyTopic,
    CONS_GROUP: group,
    CONS_VALKEY: valkeyUrl,
    CONS_RULES: JSON.stringify(rules),
    CONS_FENCING: protectedRun ? '1' : '0',
  };
  let cdc = await startChild(CHILD, cdcEnv);
  let kills = 0;

  const apps = Array.from({ length: APPS }, (_, n) => {
    const w = new Worker(WORKER, {
      workerData: {
        valkeyUrl,
        pgUrl,
        prefix,
        ids,
        durationMs: DURATION_MS,
        leases: protectedRun,
        seed: base + n,
      },
    });
    return new Promise<{ reads: number; loads: number; fills: number; rejected: number }>(
      (resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      },
    );
  });

  let writes = 0;
  let rowChanges = 0;
  let orderChanges = 0;
  const until = Date.now() + DURATION_MS;
  // Orders move between the run's customers and go away: the old customer is never in the image.
  const orderWriter = (async () => {
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
      writes++;
      rowChanges += r.rowCount ?? 0;
      orderChanges += r.rowCount ?? 0;
      await new Promise((res) => setTimeout(res, 15));
    }
  })();
  const writers = Array.from({ length: WRITERS }, async (_, n) => {
    const rnd = prng(base * 31 + n);
    for (let i = 0; Date.now() < until; i++) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const k = rnd();
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
      writes++;
      rowChanges += r.rowCount ?? 0;
    }
  });
  // Crash the CDC consumer mid-run and restart it from the group's committed offsets.
  const crash = (async () => {
    await new Promise((r) => setTimeout(r, DURATION_MS / 2));
    await stopChild(cdc, 'SIGKILL');
    kills++;
    cdc = await startChild(CHILD, cdcEnv);
  })();
  await Promise.all(writers);
  await orderWriter;
  const appCounts = await Promise.all(apps);
  await crash;

  const drained = async (what: string) => {
    await waitFor(`${what}: every row change captured`, () => rowRecords >= rowChanges, 120_000, 100);
    await waitFor(`${what}: the shuffler emptied`, () => held.length === 0, 60_000, 50);
    await waitFor(
      `${what}: the CDC consumer committed the copy topic's end`,
      async () => {
        const [high, committed] = await Promise.all([
          highWatermarks(kafka, copyTopic),
          committedOffsets(kafka, group, copyTopic),
        ]);
        return [...high].every(([p, h]) => (committed.get(p) ?? -1n) >= h);
      },
      120_000,
      250,
    );
  };
  await drained('after the burst');

  // Deterministic fault 1: every row's oldest change again, late (fencing must reject it).
  const late = [...firstChange.values()].map((r) => ({
    key: r.key,
    value: r.value,
    partition: Math.floor(random() * PARTITIONS),
  }));
  await producer.send({ topic: copyTopic, messages: late });
  delivered += late.length;
  duplicates += late.length;
  await drained('after the late duplicates');

  // Deterministic fault 2: a slow load of `ca:` reads the row, an update commits and its
  // invalidation is applied, then the load fills (a lease must reject the fill).
  const raceId = ids[0]!;
  const raceKey = `${prefix}ca:${raceId}`;
  const up = await pool.query(
    `INSERT INTO customers (id, email, name, tier) VALUES ($1, 'race@x.io', 'race-before', 'free')
     ON CONFLICT (id) DO UPDATE SET name = 'race-before'`,
    [raceId],
  );
  rowChanges += up.rowCount ?? 0;
  await drained('before the racing fill');
  const appTarget = await createValkeyTarget({ url: valkeyUrl });
  let raceOutcome = 'none';
  const app = createCacheClient({
    store: leaseStoreFor(appTarget),
    leases: protectedRun,
    ttlMs: 0,
    codec: textCodec,
    onEvent: (e) => {
      if (e.type === 'fill') raceOutcome = 'filled';
      else if (e.type === 'lease-rejected') raceOutcome = `rejected (${e.outcome})`;
    },
  });
  await app.getOrLoad(
    raceKey,
    async () => {
      const { rows } = await pool.query('SELECT row_to_json(t)::text AS j FROM customers t WHERE id = $1', [
        raceId,
      ]);
      const old = customerProjection(JSON.parse(rows[0].j as string));
      const u = await pool.query(`UPDATE customers SET name = 'race-after' WHERE id = $1`, [raceId]);
      rowChanges += u.rowCount ?? 0;
      writes++;
      await drained('during the racing fill');
      return old;
    },
    { codec: textCodec },
  );

  // Deterministic fault 3 (dependent key over REPLICA IDENTITY DEFAULT): both customers' order
  // lists are cached, then an order moves from one to the other. The update carries no old image,
  // so only the rule's onPartialImage can reach the old customer's list.
  const [fromId, toId] = [ids[1]!, ids[2]!];
  const moved = orderIds[0]!;
  const placed = await pool.query(
    `INSERT INTO orders (id, customer_id, status, total_cents) VALUES ($1, $2, 'new', 1)
     ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id`,
    [moved, fromId],
  );
  rowChanges += placed.rowCount ?? 0;
  orderChanges += placed.rowCount ?? 0;
  await drained('before the order move');
  const loadList = async (id: number) => (await pool.query(CUSTOMER_ORDERS_SQL, [id])).rows[0].j as string;
  // A client of its own: the racing fill's outcome above stays what it was.
  const lists = createCacheClient({
    store: leaseStoreFor(appTarget),
    leases: protectedRun,
    ttlMs: 0,
    codec: textCodec,
  });
  for (const id of [fromId, toId])
    await lists.getOrLoad(`${prefix}co:${id}`, () => loadList(id), { codec: textCodec });
  await lists.close();
  const move = await pool.query('UPDATE orders SET customer_id = $2 WHERE id = $1', [moved, toId]);
  rowChanges += move.rowCount ?? 0;
  orderChanges += move.rowCount ?? 0;
  writes++;
  await drained('after the order move');
  await app.close();
  await appTarget.close();

  shuffling = false;
  await shuffler;
  await drained('at the end');
  verifying = false;
  await verifierLoop;
  await live.drain(Date.now() + WINDOWS_MS.at(-1)! + 1000);
  const full = await verifyFull(events, {
    config,
    target: reader,
    truth,
    expect,
    ratePerSec: 20_000,
    maxInconsistencies: 1000,
  });
  // The dependent keys: every customer's cached order list must be absent or PostgreSQL's list.
  const staleOrderLists: string[] = [];
  let orderListsChecked = 0;
  for (const id of ids) {
    const cached = await reader.get(`${prefix}co:${id}`);
    if (cached === null) continue;
    orderListsChecked++;
    const { rows } = await pool.query(CUSTOMER_ORDERS_SQL, [id]);
    if (cached !== rows[0].j)
      staleOrderLists.push(`${prefix}co:${id}: cached ${cached}, database ${rows[0].j}`);
  }
  process.stdout.write(
    `\n[${name}] order lists (dependent keys, REPLICA IDENTITY DEFAULT): ${orderListsChecked} cached, ${staleOrderLists.length} stale${staleOrderLists.length > 0 ? `\n  ${staleOrderLists.join('\n  ')}` : ''}\n`,
  );
  process.stdout.write(
    `\n[${name}] live verifier:\n${formatReport(live.report())}\n[${name}] full check after drain:\n${formatReport(full)}`,
  );

  // The CLI on the same evidence: the captured records as a change log.
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-consistency-'));
  writeFileSync(join(dir, 'changes.jsonl'), `${changeLog.join('\n')}\n`);
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
  const cli = await runCli([
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

  await stopChild(cdc, 'SIGTERM');
  await source.disconnect();
  await producer.disconnect();
  await reader.close();
  await pool.query('DELETE FROM orders WHERE id = ANY($1)', [orderIds]);
  await pool.end();
  await truth.close();
  const sum = (k: 'reads' | 'loads' | 'fills' | 'rejected') => appCounts.reduce((a, c) => a + c[k], 0);
  const result: RunResult = {
    name,
    full,
    live: live.report(),
    writes,
    rowChanges,
    reads: sum('reads'),
    loads: sum('loads'),
    fills: sum('fills'),
    rejected: sum('rejected'),
    cdcRecords: delivered,
    duplicates,
    kills,
    raceFill: raceOutcome,
    raceKey,
    cli,
    orderChanges,
    staleOrderLists,
    orderListsChecked,
  };
  results.push(result);
  return result;
}

describe('randomized consistency: writers, lease-guarded apps, CDC with duplicates, reordering and a crash', () => {
  it('with version fencing and leases the verifier finds 0 stale keys after the drain', async () => {
    const r = await runScenario('fencing + leases', true);
    expect(r.full.windows[0]!.checked).toBeGreaterThan(0);
    expect(r.full.windows[0]!.unverified).toBe(0);
    expect(r.full.inconsistencies).toEqual([]);
    expect(r.full.staleKeys).toBe(0);
    expect(r.raceFill).toMatch(/^rejected/);
    expect(r.kills).toBe(1);
    expect(r.live.changes.sampled).toBeGreaterThan(0);
    // Dependent keys over a REPLICA IDENTITY DEFAULT table: never stale with the declared fallback.
    expect(r.orderChanges).toBeGreaterThan(0);
    expect(r.staleOrderLists).toEqual([]);
    // The CLI agrees on the captured change log: exit 0, no stale key; its --pg check names the
    // DEFAULT table and the rule's declared fallback.
    const warnings = r.cli.stderr.trim().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^warning: rules\[1\] \(public\.orders\): table public\.orders has REPLICA IDENTITY DEFAULT, so old images carry only id, but the rule reads customer_id from them: its updates and deletes invalidate "cons\d+:co:" instead; fix: ALTER TABLE public\.orders REPLICA IDENTITY FULL$/,
    );
    expect(warnings[1]).toMatch(
      /^warning: rules\[1\] \(public\.orders\): \d+ events? with a partial image invalidated "cons\d+:co:" instead; e\.g\. dependent "co:\{customer_id\}" needs field "customer_id"/,
    );
    expect(r.cli.code).toBe(0);
    expect(JSON.parse(r.cli.stdout)).toMatchObject({ mode: 'full', staleKeys: 0 });
  }, 300_000);

  it('the same run with fencing and leases switched off leaves stale keys (the check can fail)', async () => {
    const r = await runScenario('no fencing, no leases', false);
    expect(r.raceFill).toBe('filled');
    expect(r.full.staleKeys).toBeGreaterThan(0);
    // The racing fill stored the row as it was before the update: stale, found by the verifier.
    const keys = r.full.inconsistencies.map((i) => i.key);
    expect(keys).toContain(r.raceKey);
    // The late duplicate of a row's oldest change overwrote a newer refresh (or resurrected a delete).
    expect(keys.some((k) => k.includes(':cr:'))).toBe(true);
    // The moved order's old customer kept its cached list: the dependent key is stale.
    expect(r.staleOrderLists.length).toBeGreaterThan(0);
    // The CLI finds the same stale keys and exits 1.
    expect(r.cli.code).toBe(1);
    const cli = JSON.parse(r.cli.stdout) as { staleKeys: number; inconsistencies: { key: string }[] };
    expect(cli.staleKeys).toBe(r.full.staleKeys);
    expect(cli.inconsistencies.map((i) => i.key).sort()).toEqual([...keys].sort());
  }, 300_000);
});

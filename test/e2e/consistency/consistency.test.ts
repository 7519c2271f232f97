/**
 * Randomized consistency test (issue 9) on PostgreSQL → Debezium → Kafka: the shared run
 * (test/support/consistency/run.ts) with the PostgreSQL source (postgres-kafka.ts). Per run:
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
 * - near-cache readers (protected run, issue 18): worker threads reading through a near cache on
 *   Valkey and on the engine server (fed by a second CDC child under its own group); after the drain
 *   the tracked ones serve 0 stale reads and the test-only untracked ones serve stale values
 *   (test/support/consistency/near-readers.ts);
 * - the verifier (core/verify) follows every change live (windows 100 ms … 5 s: staleness p50/p99)
 *   and, after the drain, checks every touched key in full mode against PostgreSQL.
 * With fencing and leases the full check finds 0 stale keys; the same run with the test-only
 * switches (`fencing: false` target, `leases: false` client) finds stale keys.
 *
 * Size: CDC_CACHE_CONSISTENCY_MS (default 8000) of writes per run. The report is printed and
 * appended to bench/results/consistency.md (with CDC_CACHE_WRITE_RESULTS=1).
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendResults } from '../../support/consistency/harness.ts';
import {
  formatPostgresKafkaResults,
  type PostgresKafkaRun,
  postgresKafkaSource,
  preparePostgresKafka,
} from '../../support/consistency/postgres-kafka.ts';
import { runConsistency } from '../../support/consistency/run.ts';

const results: PostgresKafkaRun[] = [];
let kafka: Kafka;

beforeAll(async () => {
  kafka = await preparePostgresKafka();
});

afterAll(() => {
  if (results.length > 0) appendResults(formatPostgresKafkaResults(results));
});

async function run(name: string, protectedRun: boolean): Promise<PostgresKafkaRun> {
  const source = await postgresKafkaSource(kafka, protectedRun);
  const result = { ...(await runConsistency(source, name, protectedRun)), ...source.stats() };
  results.push(result);
  return result;
}

describe('randomized consistency: writers, lease-guarded apps, CDC with duplicates, reordering and a crash', () => {
  it('with version fencing and leases the verifier finds 0 stale keys after the drain', async () => {
    const r = await run('fencing + leases', true);
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
    // Near caches on Valkey and on the engine server (issue 18): tracked ones served near and never
    // stale after the drain; the test-only untracked ones kept values from the run and serve them stale.
    expect(r.near.map((c) => `${c.backend}/${c.tracking}`).sort()).toEqual([
      'engine/false',
      'engine/true',
      'valkey/false',
      'valkey/true',
    ]);
    for (const c of r.near) {
      // The near cache served reads (else "0 stale" proves nothing): during the run, or at the
      // latest in the check's second pass over the same keys after the drain. A run under heavy
      // load can churn every kept value before it is read again (seen once in CI: 0 run hits).
      expect(c.nearHits + c.nearServed, `${c.backend}/${c.tracking}: near hits`).toBeGreaterThan(0);
      if (c.tracking) {
        expect(c.stale).toEqual([]);
        expect(c.invalidations).toBeGreaterThan(0);
      } else {
        expect(c.stale.length).toBeGreaterThan(0);
      }
    }
  }, 300_000);

  it('the same run with fencing and leases switched off leaves stale keys (the check can fail)', async () => {
    const r = await run('no fencing, no leases', false);
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

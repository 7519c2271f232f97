/**
 * The records of the Kafka consumer benchmark (bench/consumers/kafka-consumer.ts) and the rules it
 * applies them with, side-effect free so a unit test can check that every record plans (the load
 * process bench/consumers/producer.ts appends them).
 *
 * Records are Debezium JSON values (no schemas) of a PostgreSQL `public.customers` row under
 * REPLICA IDENTITY FULL, as the harness's table is: record `i` is a version of row `i % keys`; the
 * first `keys` records create the rows (`op: "c"`, `before: null`), every later one updates a row
 * and carries its previous version as `before` (the full old image REPLICA IDENTITY FULL captures).
 * An update without an old image would be a partial image to rules keyed on a non-key field (the
 * email template below): a dead letter, which the benchmark treats as a failure.
 */
import type { CdcCacheConfig } from '../../core/rules/config.ts';

/** The benchmark's rules: refresh by id, invalidate by email (a non-key field of both images). */
export const BENCH_RULES: CdcCacheConfig = {
  keyPrefix: 'bench:',
  defaults: { ttl: 600 },
  rules: [
    {
      table: 'public.customers',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'email', 'name', 'tier', 'balance'] },
      images: 'both', // REPLICA IDENTITY FULL on the harness; the records carry no schema
    },
  ],
};

/** Version `i` of row `i % keys` of `public.customers`. */
function row(i: number, keys: number) {
  const id = i % keys;
  return {
    id,
    email: `user${id}@example.com`,
    name: `Customer ${id}`,
    tier: i % 7 === 0 ? 'gold' : 'free',
    balance: '12.50',
    updated_at: '2026-11-22T20:00:00.000000Z',
  };
}

/**
 * Record `i` of the load over `keys` rows: its Kafka key and Debezium value (~500 bytes for a
 * create, ~650 for an update with its old image). `now` is the commit time it reports, epoch ms.
 */
export function loadRecord(i: number, keys: number, now = Date.now()): { key: string; value: string } {
  const lsn = 100_000_000 + 8 * (i + 1);
  const create = i < keys;
  return {
    key: JSON.stringify({ id: i % keys }),
    value: JSON.stringify({
      before: create ? null : row(i - keys, keys),
      after: row(i, keys),
      source: {
        version: '3.3.1.Final',
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
        txId: 1000 + i,
        lsn,
        xmin: null,
      },
      transaction: null,
      op: create ? 'c' : 'u',
      ts_ms: now,
      ts_us: now * 1000,
      ts_ns: now * 1_000_000,
    }),
  };
}

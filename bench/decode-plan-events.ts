/**
 * The input of the decode + plan benchmarks (bench/decode-plan.ts, bench/decode-plan-ab.ts): Debezium
 * JSON values of a PostgreSQL `public.customers` row (~620 bytes, no schema) and the rule they are
 * planned with.
 */
import type { CdcCacheConfig } from '../core/rules/config.ts';

/**
 * One event in the shape Debezium 3.x's PostgreSQL connector writes with the schemaless JSON
 * converter (the fields of test/fixtures/captured), with `ts_us` / `ts_ns` as Debezium 2.6+ adds.
 */
export function makeEvent(i: number): string {
  const id = 1000 + (i % 50_000);
  const before =
    i % 3 === 0
      ? null
      : { id, first_name: 'Sally', last_name: 'Thomas', email: `sally.${id}@acme.com`, status: 'active' };
  const after = {
    id,
    first_name: i % 2 ? 'Sally' : 'Sarah',
    last_name: 'Thomas',
    email: `sally.${id}@acme.com`,
    status: 'active',
    score: i % 997,
  };
  const ts = 1732262400000 + i;
  const lsn = 24023128 + i * 2;
  return JSON.stringify({
    before,
    after,
    source: {
      version: '3.0.1.Final',
      connector: 'postgresql',
      name: 'dbserver1',
      ts_ms: ts,
      ts_us: ts * 1000 + 123,
      ts_ns: `${ts * 1000 + 123}456`,
      snapshot: 'false',
      db: 'inventory',
      sequence: `["${lsn}","${lsn + 1}"]`,
      schema: 'public',
      table: 'customers',
      txId: 556 + i,
      lsn: lsn + 1,
      xmin: null,
    },
    transaction: null,
    op: before === null ? 'c' : 'u',
    ts_ms: ts + 7,
    ts_us: (ts + 7) * 1000 + 45,
    ts_ns: `${(ts + 7) * 1000 + 45}678`,
  }).replace(/"ts_ns":"(\d+)"/g, '"ts_ns":$1');
}

/** The benchmark's rule: refresh by id (TTL with jitter), invalidate by email, full old images. */
export const DECODE_PLAN_RULES: CdcCacheConfig = {
  rules: [
    {
      table: 'public.customers',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'first_name', 'last_name', 'email'], ttl: 300, jitter: 0.1 },
      images: 'both', // full old images (REPLICA IDENTITY FULL); the records carry no schema
    },
  ],
};

/**
 * The harness's PostgreSQL: reachable with CDC_CACHE_PG_URL, logical decoding on, the `cdc`
 * schema in place, and inserts read back.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

describe('postgres', () => {
  let client: pg.Client;
  beforeAll(async () => {
    requireServices('postgres');
    client = new pg.Client({ connectionString: serviceEnv('CDC_CACHE_PG_URL') });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('runs with wal_level=logical and the cdc publication', async () => {
    expect((await client.query('SHOW wal_level')).rows[0]).toEqual({ wal_level: 'logical' });
    const pubs = await client.query('SELECT pubname, puballtables FROM pg_publication');
    expect(pubs.rows).toContainEqual({ pubname: 'cdc_pub', puballtables: true });
  });

  it('inserts and reads back a row', async () => {
    const id = 9_000_000 + (process.pid % 100_000);
    await client.query('DELETE FROM customers WHERE id = $1', [id]);
    await client.query('INSERT INTO customers (id, email, name, balance) VALUES ($1, $2, $3, $4)', [
      id,
      `it-${id}@example.test`,
      'Integration',
      '12.34',
    ]);
    const { rows } = await client.query('SELECT email, balance FROM customers WHERE id = $1', [id]);
    expect(rows).toEqual([{ email: `it-${id}@example.test`, balance: '12.34' }]);
    await client.query('DELETE FROM customers WHERE id = $1', [id]);
  });
});

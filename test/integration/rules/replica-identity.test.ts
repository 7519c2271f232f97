/**
 * Issue 14, item 1: with a PostgreSQL connection, each rule table's replica identity is read at
 * start (the harness's public.orders is at the default REPLICA IDENTITY DEFAULT, public.customers
 * at FULL; infra/local/conf/postgres-init.sql). `consume kafka --pg` refuses a rule that would
 * dead-letter every update and delete, and `verify --pg` warns (`--strict`: refuses), naming the fix.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../core/decode/document.ts';
import { parseExactJson } from '../../../core/json/exact-json.ts';
import { planBatch } from '../../../core/plan/planner.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { checkReplicaIdentity } from '../../../core/rules/replica-identity.ts';
import { opSubject } from '../../../core/targets/cache-op.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { runCli as cli } from '../../support/cli.ts';
import { FIXTURES } from '../../support/fixtures.ts';

const FIX = 'fix: ALTER TABLE public.orders REPLICA IDENTITY FULL';
const dir = mkdtempSync(join(tmpdir(), 'cdc-replica-identity-'));
const write = (name: string, rules: unknown[]) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ rules }));
  return file;
};
const orders = {
  table: 'public.orders',
  keys: ['order:{id}'],
  dependents: ['customer:{customer_id}:orders'],
};

describe('replica identity check', () => {
  let client: pg.Client;
  let url: string;
  beforeAll(async () => {
    requireServices('postgres');
    url = serviceEnv('CDC_CACHE_PG_URL');
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('reports DEFAULT tables whose old images cannot serve the rule, and tables that do not exist', async () => {
    const config = compileConfig({
      rules: [
        orders,
        { table: 'public.orders', keys: ['order:{id}'] }, // key columns only: served
        { table: 'customers', keys: ['customer:{id}', 'customer:email:{email}'] }, // FULL: served
        { ...orders, onPartialImage: { invalidatePrefix: 'customer:' } },
        { table: 'public.order', keys: ['order:{id}'] },
      ],
    });
    const findings = await checkReplicaIdentity(
      config,
      async (text, params) => (await client.query(text, [...params])).rows,
    );
    expect(findings.map((f) => [f.refuse, f.message])).toEqual([
      [
        true,
        `rules[0] (public.orders): table public.orders has REPLICA IDENTITY DEFAULT, so old images carry only id, but the rule reads customer_id from them: its updates and deletes become dead letters (onPartialImage "dead-letter"); ${FIX}`,
      ],
      [
        false,
        `rules[3] (public.orders): table public.orders has REPLICA IDENTITY DEFAULT, so old images carry only id, but the rule reads customer_id from them: its updates and deletes invalidate "customer:" instead; ${FIX}`,
      ],
      [
        false,
        'rules[4] (public.order): no PostgreSQL table matches "public.order" (did you mean "public.orders"?)',
      ],
    ]);
  });

  it('a table found FULL is trusted for schemaless old images; a DEFAULT one is not', async () => {
    // Real capture from the harness (JsonConverter schemas.enable=false): the delete of customers
    // 1001, whose full old image holds email "ada@example.com" (test/fixtures/captured/README.md).
    const del = readFileSync(join(FIXTURES, 'captured/debezium-postgres-plain.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => decodeDocument(parseExactJson(l))[0])
      .find((e) => e?.op === 'delete' && e.table === 'customers')!;
    expect(del.beforeUnverified).toBe('replica-identity');
    const config = compileConfig({
      rules: [{ table: 'customers', keys: ['customer:{id}', 'customer:email:{email}'] }, orders],
    });
    const before = planBatch(config, [del]);
    expect(before.failures[0]!.error.message).toMatch(/or run with --pg to confirm it/);
    await checkReplicaIdentity(config, async (text, params) => (await client.query(text, [...params])).rows);
    expect(config.fullTables.has('public', 'customers')).toBe(true);
    expect(config.fullTables.has('public', 'orders')).toBe(false);
    const after = planBatch(config, [del]);
    expect(after.failures).toEqual([]);
    expect(after.ops.map(opSubject)).toEqual(['customer:1001', 'customer:email:ada@example.com']);
  });

  it('consume kafka --pg refuses to start with the fix (exit 1)', async () => {
    const { code, stderr } = await cli([
      'consume',
      'kafka',
      '--config',
      write('refuse.json', [orders]),
      '--pg',
      url,
      '--target',
      'engine',
      '--brokers',
      '127.0.0.1:1',
      '--topic',
      'unused',
      '--no-http',
    ]);
    expect(stderr).toContain(
      `error: rules[0] (public.orders): table public.orders has REPLICA IDENTITY DEFAULT`,
    );
    expect(stderr).toContain(FIX);
    expect(code).toBe(1);
  });

  it('verify --pg warns; with --strict it refuses (exit 1)', async () => {
    const log = join(dir, 'empty.jsonl');
    writeFileSync(log, '');
    const args = [
      'verify',
      log,
      '--config',
      write('verify.json', [orders]),
      '--target',
      'engine',
      '--pg',
      url,
    ];
    const warned = await cli(args);
    expect(warned.stderr).toContain(
      `warning: rules[0] (public.orders): table public.orders has REPLICA IDENTITY DEFAULT`,
    );
    const strict = await cli([...args, '--strict']);
    expect(strict.stderr).toContain(
      `error: rules[0] (public.orders): table public.orders has REPLICA IDENTITY DEFAULT`,
    );
    expect(strict.code).toBe(1);
  });

  it('verify CHANGELOG --strict: what the rules did with the changes is an error too (exit 1)', async () => {
    const log = join(FIXTURES, 'captured', 'debezium-postgres-plain.jsonl');
    const rules = write('statuz.json', [
      { table: 'customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'statuz'] } },
    ]);
    const args = ['verify', log, '--config', rules, '--target', 'engine', '--pg', url];
    const warned = await cli(args);
    expect(warned.stderr.trim().split('\n')).toEqual([
      'warning: table public.orders: 3 change events matched no rule',
      'warning: table public.documents: 2 change events matched no rule',
      'warning: rules[0] (customers): 2 refreshes fell back to invalidate: field "statuz" is missing from the new image (check refresh.fields for a typo)',
    ]);
    expect(warned.code).toBe(0);
    const strict = await cli([...args, '--strict']);
    expect(strict.stderr).toContain(
      'error: rules[0] (customers): 2 refreshes fell back to invalidate: field "statuz" is missing from the new image',
    );
    expect(strict.code).toBe(1);
  });
});

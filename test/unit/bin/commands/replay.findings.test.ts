/**
 * Issue 14, items 1–3 through the CLI: `replay` says when a rule does nothing (a table typo such as
 * `public.order`, a refresh field no event carries such as `statuz`), `--strict` makes that an
 * error, and a REPLICA IDENTITY DEFAULT delete (real harness capture) is a dead letter naming the
 * fix instead of a key built from Debezium's stand-ins.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../../../support/cli.ts';
import { FIXTURES } from '../../../support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'cdc-replay-findings-'));
const config = (name: string, rules: unknown[]) => {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ rules }));
  return file;
};
const PLAIN = join(FIXTURES, 'captured', 'debezium-postgres-plain.jsonl');
const DEFAULT_IDENTITY = join(FIXTURES, 'captured', 'debezium-postgres-default-identity.jsonl');
// With schemas: old images are trusted, so `when.changed` compares them (schemaless ones hold it).
const WITH_SCHEMA = join(FIXTURES, 'captured', 'debezium-postgres-schema.jsonl');

const typo = config('typo', [
  { table: 'public.order', keys: ['order:{id}'] },
  { table: 'customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'statuz'] } },
  { table: 'documents', keys: ['doc:{id}'] },
]);

describe('replay reports what each rule did', () => {
  it('without --strict: counts per rule and one warning per finding, exit 0', async () => {
    const { code, stdout, stderr } = await cli(['replay', PLAIN, '--config', typo]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'rules: rules[0] (public.order) 0 events, rules[1] (customers) 3 events, rules[2] (documents) 2 events',
    );
    expect(stderr.trim().split('\n')).toEqual([
      'warning: rules[0] (public.order) matched none of the 8 change events (check its table, source and when)',
      'warning: table public.orders: 3 change events matched no rule (did you mean rules[0] table "public.order"?)',
      'warning: rules[1] (customers): 2 refreshes fell back to invalidate: field "statuz" is missing from the new image (check refresh.fields for a typo)',
    ]);
  });

  it('--strict: the same findings are errors, exit 1', async () => {
    const { code, stderr } = await cli(['replay', PLAIN, '--config', typo, '--strict']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'error: rules[0] (public.order) matched none of the 8 change events (check its table, source and when)',
      'error: table public.orders: 3 change events matched no rule (did you mean rules[0] table "public.order"?)',
      'error: rules[1] (customers): 2 refreshes fell back to invalidate: field "statuz" is missing from the new image (check refresh.fields for a typo)',
    ]);
  });

  it('--strict passes when every rule does what it says', async () => {
    const good = config('good', [
      { table: 'public.orders', keys: ['order:{id}'] },
      { table: 'customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'tier'] } },
      { table: 'documents', keys: ['doc:{id}'] },
    ]);
    const { code, stderr } = await cli(['replay', PLAIN, '--config', good, '--strict']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('a when field no event carries (a typo) is a finding, not a silently skipped update', () => {
  it('when.changed: ["tierr"] skips the tier update; replay says why, --strict fails', async () => {
    const typoWhen = config('typo-when', [
      { table: 'customers', keys: ['customer:{id}'], when: { changed: ['tierr'] } },
    ]);
    const { code, stdout, stderr } = await cli([
      'replay',
      WITH_SCHEMA,
      '--config',
      typoWhen,
      '--dry-run',
      '--strict',
      '--batch-size',
      '1',
    ]);
    expect(code).toBe(1);
    // One batch per record (no coalescing): the update (tier free → gold) planned nothing, as the
    // typo'd field never "changes"; the create and the delete did.
    expect(stdout.trim().split('\n')).toHaveLength(2);
    expect(stderr).toContain(
      'error: rules[0] (customers): when.changed names field "tierr", which none of the 3 change events of its table carried (check it for a typo): it never changes, so an update that changes no other listed field is skipped and its keys stay as they were',
    );
    const fixed = config('fixed-when', [
      { table: 'customers', keys: ['customer:{id}'], when: { changed: ['tier'] } },
    ]);
    const good = await cli([
      'replay',
      WITH_SCHEMA,
      '--config',
      fixed,
      '--dry-run',
      '--strict',
      '--batch-size',
      '1',
    ]);
    expect(good.stderr).not.toContain('when.changed');
    expect(good.stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('replay of a REPLICA IDENTITY DEFAULT delete (real capture)', () => {
  it('decode shows the delete with its stand-ins removed and what was really captured', async () => {
    const { code, stdout } = await cli(['decode', DEFAULT_IDENTITY]);
    expect(code).toBe(0);
    const deletes = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.op === 'delete');
    expect(deletes).toHaveLength(2); // with and without schemas
    for (const e of deletes) {
      expect(e.before).toEqual({ id: 770003 });
      expect(e.partial).toEqual({ before: ['id'], cause: 'replica-identity' });
    }
  });

  const rule = {
    table: 'public.orders',
    keys: ['order:{id}'],
    dependents: ['customer:{customer_id}:orders'],
  };

  it('by default: dead letters naming the fix, exit 1, and no customer:0 key', async () => {
    const { code, stdout, stderr } = await cli([
      'replay',
      DEFAULT_IDENTITY,
      '--config',
      config('orders', [rule]),
      '--dry-run',
    ]);
    expect(code).toBe(1);
    expect(stdout).not.toContain('customer:0');
    expect(stderr).toContain(
      'dead letter: dbz_plain.public.orders/0@2: [E_PARTIAL_IMAGE] rules[0] (public.orders): dependent "customer:{customer_id}:orders" needs field "customer_id", which the old image of this delete does not carry (the source captured only id); fix: ALTER TABLE public.orders REPLICA IDENTITY FULL, or declare onPartialImage: { invalidatePrefix: "customer:" } on the rule',
    );
  });

  it('with a declared prefix fallback: applied, reported, and an error under --strict', async () => {
    const file = config('fallback', [{ ...rule, onPartialImage: { invalidatePrefix: 'customer:' } }]);
    const ok = await cli(['replay', DEFAULT_IDENTITY, '--config', file, '--dry-run']);
    expect(ok.code).toBe(0);
    const ops = ok.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The update (no old image) and the delete (key-only old image) of each connector's records.
    expect(ops.filter((o) => o.op === 'invalidatePrefix').map((o) => o.prefix)).toEqual(
      Array(4).fill('customer:'),
    );
    expect(ops.filter((o) => o.key === 'order:770003')).toHaveLength(4);
    expect(ops.some((o) => String(o.key).includes('customer:0'))).toBe(false);
    expect(ok.stderr).toMatch(
      /^warning: rules\[0\] \(public\.orders\): 4 events with a partial image invalidated "customer:" instead; e\.g\. dependent/m,
    );
    const strict = await cli(['replay', DEFAULT_IDENTITY, '--config', file, '--dry-run', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^error: rules\[0\] \(public\.orders\): 4 events with a partial image/m);
  });
});

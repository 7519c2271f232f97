/**
 * Issue 14, item 1, the hole a review found: without schemas a NOT NULL column with a DEFAULT reads
 * as captured in a key-only old image.
 *
 * Origin of the records: the reviewer's capture on the local harness (Debezium 3.4, PostgreSQL,
 * table `(id PK, status text NOT NULL DEFAULT 'active', active boolean NOT NULL DEFAULT true, email
 * text)` at REPLICA IDENTITY DEFAULT, JsonConverter schemas.enable=false): deleting a row that held
 * `'closed'` / `false` gave `"before":{"id":1,"status":"active","active":true,"email":null}`. The
 * envelope around it is the harness's (test/fixtures/captured/debezium-postgres-default-identity.jsonl,
 * same connector version and source fields); the row values are the reviewer's, as captured. The
 * schema variant carries the column schemas Debezium writes for that table (defaults included).
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { ConfigError, PartialImageError } from '../../../../core/errors.ts';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { type CompiledConfig, compileConfig } from '../../../../core/rules/compile.ts';
import type { RuleSpec } from '../../../../core/rules/config.ts';
import { opSubject } from '../../../../core/targets/cache-op.ts';

const SOURCE = {
  version: '3.4.3.Final',
  connector: 'postgresql',
  name: 'dbz_plain',
  ts_ms: 1796633445432,
  snapshot: 'false',
  db: 'cdc',
  sequence: '["26576616","26576616"]',
  schema: 'public',
  table: 'accounts',
  txId: 751,
  lsn: 26576616,
  xmin: null,
};
/** The reviewer's DELETE old image, exactly as it arrived without schemas. */
const STALE_BEFORE = { id: 1, status: 'active', active: true, email: null };

function record(
  payload: Record<string, unknown>,
  schema?: Record<string, unknown>,
  source: Record<string, unknown> = SOURCE,
): ChangeEvent {
  const value = { ...payload, source, transaction: null, ts_ms: 1796633445572 };
  const line = JSON.stringify({
    topic: `dbz_plain.${String(source.schema ?? source.db)}.accounts`,
    partition: 0,
    offset: '2',
    key: { id: 1 },
    value: schema === undefined ? value : { schema, payload: value },
  });
  const [event] = decodeDocument(parseExactJson(line));
  return event!;
}
const plainDelete = () => record({ before: STALE_BEFORE, after: null, op: 'd' });

/** The row schema Debezium writes for the table (schemas.enable=true): defaults included. */
const ROW = {
  type: 'struct',
  optional: true,
  name: 'dbz_schema.public.accounts.Value',
  fields: [
    { type: 'int32', optional: false, field: 'id' },
    { type: 'string', optional: false, default: 'active', field: 'status' },
    { type: 'boolean', optional: false, default: true, field: 'active' },
    { type: 'string', optional: true, field: 'email' },
  ],
};
const ENVELOPE = {
  type: 'struct',
  optional: false,
  name: 'dbz_schema.public.accounts.Envelope',
  fields: [
    { ...ROW, field: 'before' },
    { ...ROW, field: 'after' },
    {
      type: 'struct',
      optional: false,
      name: 'io.debezium.connector.postgresql.Source',
      fields: [],
      field: 'source',
    },
    { type: 'string', optional: false, field: 'op' },
    { type: 'int64', optional: true, field: 'ts_ms' },
  ],
};

const rule: RuleSpec = {
  table: 'public.accounts',
  keys: ['account:{id}', { template: 'account:status:{status}:{id}', action: 'invalidate' }],
};
function plan(config: CompiledConfig, events: ChangeEvent[]) {
  const p = planBatch(config, events);
  return {
    ops: p.ops.map((o) =>
      o.kind === 'invalidatePrefix' ? `prefix ${o.prefix}` : `${o.kind} ${opSubject(o)}`,
    ),
    failures: p.failures.map((f) => f.error),
  };
}
const FIX =
  'fix: without a schema a column default cannot be told from a captured value: enable schemas on the converter (value.converter.schemas.enable=true), or declare images: "both" on the rule after ALTER TABLE public.accounts REPLICA IDENTITY FULL, or run with --pg to confirm it, or declare onPartialImage: { invalidatePrefix: "account:status:" } on the rule';

describe('a schemaless old image with a column DEFAULT (reviewer capture)', () => {
  it('decodes as it arrived, marked unverified (values cannot tell it from a full image)', () => {
    const event = plainDelete();
    expect(event.before).toEqual(STALE_BEFORE);
    expect(event.partial).toBeUndefined();
    expect(event.beforeUnverified).toBe('replica-identity');
  });

  it('by default: a dead letter naming the fixes, never account:status:active:1', () => {
    const { ops, failures } = plan(compileConfig({ rules: [rule] }), [plainDelete()]);
    expect(ops).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(PartialImageError);
    expect(failures[0]!.message).toBe(
      `rules[0] (public.accounts): key template "account:status:{status}:{id}" needs field "status", which the old image of this delete does not carry (the source captured an old image without a schema, which may hold column defaults in place of values); ${FIX}`,
    );
  });

  it('a declared fallback applies instead: the keys that can be built, and the prefix', () => {
    const config = compileConfig({
      rules: [{ ...rule, onPartialImage: { invalidatePrefix: 'account:status:' } }],
    });
    expect(plan(config, [plainDelete()]).ops).toEqual(['invalidate account:1', 'prefix account:status:']);
  });

  it('templates over key columns only are built without any declaration', () => {
    const { ops, failures } = plan(
      compileConfig({ rules: [{ table: 'public.accounts', keys: ['account:{id}'] }] }),
      [plainDelete()],
    );
    expect(failures).toEqual([]);
    expect(ops).toEqual(['invalidate account:1']);
  });

  it('a JSON filter over a non-key column follows the policy too', () => {
    const config = compileConfig({
      rules: [
        { table: 'public.accounts', keys: ['account:{id}'], when: { equals: { 'before.active': true } } },
      ],
    });
    const { failures } = plan(config, [plainDelete()]);
    expect(failures[0]).toBeInstanceOf(PartialImageError);
    expect(failures[0]!.message).toMatch(
      /filter when\.equals\.before\.active.*enable schemas on the converter/,
    );
  });

  it('an update with a schemaless old image is unverified too; the new-image keys stay trusted', () => {
    const update = record({
      before: { id: 1, status: 'closed', active: false, email: 'a@example.com' },
      after: { id: 1, status: 'open', active: true, email: 'a@example.com' },
      op: 'u',
    });
    expect(update.beforeUnverified).toBe('replica-identity');
    const { ops, failures } = plan(compileConfig({ rules: [rule] }), [update]);
    expect(ops).toEqual([]);
    expect(failures[0]!.message).toMatch(/needs field "status", which the old image of this update/);
    const declared = plan(compileConfig({ rules: [{ ...rule, images: 'both' }] }), [update]);
    expect(declared.ops).toEqual([
      'invalidate account:1',
      'invalidate account:status:open:1',
      'invalidate account:status:closed:1',
    ]);
  });

  it('when.changed does not compare against an unverified old image: the filter holds', () => {
    // An old image filled with defaults would say "status did not change" and skip the rule.
    const update = record({
      before: { id: 1, status: 'active', active: true, email: null },
      after: { id: 1, status: 'active', active: true, email: null },
      op: 'u',
    });
    const changed: RuleSpec = {
      table: 'public.accounts',
      keys: ['account:{id}'],
      when: { changed: ['status'] },
    };
    expect(plan(compileConfig({ rules: [changed] }), [update]).ops).toEqual(['invalidate account:1']);
    // Declared full, the image is compared, and an unchanged status skips the rule.
    expect(plan(compileConfig({ rules: [{ ...changed, images: 'both' }] }), [update]).ops).toEqual([]);
  });

  it('an update without an old image stays partial whatever is declared about it', () => {
    const update = record({
      before: null,
      after: { id: 1, status: 'open', active: true, email: null },
      op: 'u',
    });
    expect(update.partial).toEqual({ before: [], cause: 'replica-identity' });
    expect(update.beforeUnverified).toBeUndefined();
    const { failures } = plan(compileConfig({ rules: [{ ...rule, images: 'both' }] }), [update]);
    expect(failures[0]!.message).toMatch(
      /the source captured no old image\); fix: ALTER TABLE public\.accounts REPLICA IDENTITY FULL/,
    );
  });

  it('declared images: "both" (after REPLICA IDENTITY FULL): the image is trusted and the key built', () => {
    const { ops, failures } = plan(compileConfig({ rules: [{ ...rule, images: 'both' }] }), [plainDelete()]);
    expect(failures).toEqual([]);
    expect(ops).toEqual(['invalidate account:1', 'invalidate account:status:active:1']);
  });

  it('images left at its default is not a declaration; "both" written out is', () => {
    const [defaulted, declared] = compileConfig({ rules: [rule, { ...rule, images: 'both' }] }).rules;
    expect(defaulted!.images).toBe('both');
    expect(defaulted!.oldImagesDeclared).toBe(false);
    expect(declared!.oldImagesDeclared).toBe(true);
  });

  it('a table --pg confirmed at REPLICA IDENTITY FULL: trusted; another table is not', () => {
    const config = compileConfig({ rules: [{ ...rule, table: 'public.*' }] });
    config.fullTables.add('public', 'accounts');
    expect(plan(config, [plainDelete()]).ops).toEqual([
      'invalidate account:1',
      'invalidate account:status:active:1',
    ]);
    const other = compileConfig({ rules: [{ ...rule, table: 'public.*' }] });
    other.fullTables.add('public', 'customers');
    other.fullTables.add('other', 'accounts');
    expect(plan(other, [plainDelete()]).failures[0]).toBeInstanceOf(PartialImageError);
  });

  it('MySQL without schemas: the same, with the binlog fix and no --pg', () => {
    const mysql = {
      version: '3.4.3.Final',
      connector: 'mysql',
      name: 'dbz',
      ts_ms: 1796633445432,
      snapshot: 'false',
      db: 'inventory',
      table: 'accounts',
      server_id: 223344,
      file: 'mysql-bin.000003',
      pos: 484,
      row: 0,
    };
    const event = record({ before: STALE_BEFORE, after: null, op: 'd' }, undefined, mysql);
    expect(event.beforeUnverified).toBe('binlog-row-image');
    const config = compileConfig({ rules: [{ ...rule, table: 'inventory.accounts' }] });
    expect(plan(config, [event]).failures[0]!.message).toMatch(
      /fix: without a schema .*declare images: "both" on the rule after SET GLOBAL binlog_row_image = 'FULL', or declare onPartialImage/,
    );
    const declared = compileConfig({ rules: [{ ...rule, table: 'inventory.accounts', images: 'both' }] });
    expect(plan(declared, [event]).ops).toEqual([
      'invalidate account:1',
      'invalidate account:status:active:1',
    ]);
  });

  it('with schemas: the column defaults are recognised per column, as before (partial, dead letter)', () => {
    const event = record({ before: STALE_BEFORE, after: null, op: 'd' }, ENVELOPE);
    expect(event.beforeUnverified).toBeUndefined();
    expect(event.partial).toEqual({ before: ['id'], cause: 'replica-identity' });
    expect(event.before).toEqual({ id: 1 });
    const { failures } = plan(compileConfig({ rules: [rule] }), [event]);
    expect(failures[0]!.message).toMatch(
      /needs field "status", which the old image of this delete does not carry \(the source captured only id\); fix: ALTER TABLE public\.accounts REPLICA IDENTITY FULL,/,
    );
  });

  it('with schemas: a full old image (values that are not the defaults) builds the key, undeclared', () => {
    const before = { id: 1, status: 'closed', active: false, email: null };
    const event = record({ before, after: null, op: 'd' }, ENVELOPE);
    expect(event.partial).toBeUndefined();
    expect(event.beforeUnverified).toBeUndefined();
    expect(plan(compileConfig({ rules: [rule] }), [event]).ops).toEqual([
      'invalidate account:1',
      'invalidate account:status:closed:1',
    ]);
  });

  it('images is validated with the path, the choices and a did-you-mean', () => {
    expect(() => compileConfig({ rules: [{ ...rule, images: 'full' as 'both' }] }, 'rules.json')).toThrow(
      ConfigError,
    );
    expect(() => compileConfig({ rules: [{ ...rule, images: 'bot' as 'both' }] }, 'rules.json')).toThrow(
      'rules.json: rules[0].images: must be one of keys, new, old, both (did you mean "both"?)',
    );
  });
});

/**
 * Debezium decoding over events from the Debezium documentation (test/fixtures/debezium; origins in
 * its README.md).
 */
import { describe, expect, it } from 'vitest';
import { decodeDebeziumValue } from '../../../../core/decode/debezium.ts';
import { formatDecimal, unscaledFromBase64 } from '../../../../core/decode/debezium-schema.ts';
import { decodeDocument, splitDocument } from '../../../../core/decode/document.ts';
import { DecodeError } from '../../../../core/errors.ts';
import { fixture, fixtureText } from '../../../support/fixtures.ts';

const one = (path: string, options = {}) => {
  const events = decodeDocument(fixture(path), options);
  expect(events).toHaveLength(1);
  return events[0]!;
};

describe('Debezium decoder: PostgreSQL', () => {
  it('decodes create/update/delete with schemas; version = lsn, namespace = schema', () => {
    const c = one('debezium/postgres-create-with-schema.json');
    expect(c).toMatchObject({
      source: 'debezium',
      table: 'customers',
      namespace: 'public',
      op: 'create',
      before: null,
      version: '24023128',
      ts: 1559033904863,
    });
    expect(c.after).toEqual({
      id: 1,
      first_name: 'Anne',
      last_name: 'Kretchmar',
      email: 'annek@noanswer.org',
    });
    expect(one('debezium/postgres-update.json').op).toBe('update');
    const d = one('debezium/postgres-delete.json');
    expect(d).toMatchObject({ op: 'delete', before: { id: 1 }, after: null, version: '46523128' });
  });

  it('decodes the schemaless form identically', () => {
    const withSchema = one('debezium/postgres-create-with-schema.json');
    const without = one('debezium/postgres-no-schema-create.json');
    expect(without).toEqual(withSchema);
  });

  it('decodes snapshot reads and truncates', () => {
    expect(one('debezium/postgres-read-snapshot.json').op).toBe('read');
    const t = one('debezium/postgres-truncate.json');
    expect(t).toMatchObject({ op: 'truncate', key: null, before: null, after: null, table: 'customers' });
  });

  it('lists unchanged-TOAST fields as unavailable and never uses the placeholder as a value', () => {
    const e = one('debezium/postgres-toast-unavailable.json');
    expect(e.unavailable).toEqual(['biography']);
    expect(e.after).not.toHaveProperty('biography');
    expect(JSON.stringify(e)).not.toContain('__debezium_unavailable_value');
  });

  it('turns Decimal (base64, scale from the schema) into exact decimal strings', () => {
    const e = one('debezium/postgres-decimal-with-schema.json');
    expect(e.after).toMatchObject({
      price: '1234567.89',
      discount: '-0.50',
      qty: '128',
      exact: '0.1000000000000000055511151231257827',
      balance: '-12345678901234567890.12',
      amount: '3.14159',
    });
  });

  it('keeps decimals raw without a schema and marks VariableScaleDecimal structs', () => {
    const e = one('debezium/postgres-decimal-no-schema.json');
    expect(e.after?.price).toBe('B1vNFQ==');
    expect(e.raw).toEqual(['amount']);
  });

  it('keeps int64 beyond 2^53 exact, in the value and in the key', () => {
    const value = fixture('debezium/postgres-bigint-create.json');
    const key = fixture('debezium/postgres-bigint-create.key.json');
    const e = decodeDebeziumValue(value, {
      key,
      topic: 'PostgreSQL_server.public.customers',
      partition: 0,
      offset: '7',
    });
    expect(JSON.stringify(e?.after?.id)).toBe('9007199254740993');
    expect(JSON.stringify(e?.key)).toBe('{"id":9007199254740993}');
    expect(e?.position).toEqual({
      kind: 'kafka',
      topic: 'PostgreSQL_server.public.customers',
      partition: 0,
      offset: '7',
    });
  });

  it('produces no event for logical-decoding messages, transaction markers, tombstones, key documents, heartbeats', () => {
    for (const f of [
      'postgres-message.json',
      'postgres-message-nontransactional.json',
      'transaction-begin.json',
      'transaction-end.json',
      'postgres-create-with-schema.key.json',
    ]) {
      expect(decodeDocument(fixture(`debezium/${f}`)), f).toEqual([]);
    }
    expect(decodeDebeziumValue(null)).toBeNull();
    expect(decodeDebeziumValue({ schema: { type: 'struct' }, payload: null })).toBeNull();
    expect(decodeDebeziumValue({ ts_ms: 1700000000000 })).toBeNull();
  });
});

describe('Debezium decoder: MySQL, SQL Server, MongoDB', () => {
  it('MySQL: version from binlog file index, pos and row; namespace = database', () => {
    const c = one('debezium/mysql-create.json');
    expect(c).toMatchObject({ table: 'customers', namespace: 'inventory', version: '3.154.0' });
    expect(c.ts).toBeGreaterThan(0); // snapshot source.ts_ms = 0 falls back to the envelope time
    expect(one('debezium/mysql-update.json').version).toBe('3.484.0');
    expect(one('debezium/mysql-delete.json')).toMatchObject({ op: 'delete', version: '3.805.0' });
  });

  it('SQL Server: version from commit and change LSNs (hex → integer) and event serial', () => {
    const u = one('debezium/sqlserver-update.json');
    expect(u).toMatchObject({ namespace: 'dbo', op: 'update' });
    expect(u.version).toBe('10977524272070663.10977524272070658.2');
    const c = one('debezium/sqlserver-create.json');
    const d = one('debezium/sqlserver-delete.json');
    expect(c.version < u.version || c.version.length < u.version.length).toBe(true);
    expect(d.after).toBeNull();
  });

  it('MongoDB: documents from extended-JSON strings, key from _id', () => {
    const c = one('debezium/mongodb-create.json');
    expect(c).toMatchObject({ table: 'customers', namespace: 'inventory', key: { _id: 1004 } });
    expect(c.after).toEqual({
      _id: 1004,
      first_name: 'Anne',
      last_name: 'Kretchmar',
      email: 'annek@noanswer.org',
    });
    const u = one('debezium/mongodb-update.json');
    expect(u.after?.first_name).toBe('Anne Marie');
    expect(one('debezium/mongodb-delete.json').after).toBeNull();
  });

  it('MongoDB legacy patch/filter: key from the filter, after unknown (so refresh falls back to invalidate)', () => {
    const u = one('debezium/mongodb-legacy-update-patch.json');
    expect(u).toMatchObject({ op: 'update', key: { _id: 1004 }, after: null, version: '1558965508000.6' });
    expect(one('debezium/mongodb-legacy-delete-filter.json')).toMatchObject({
      op: 'delete',
      key: { _id: 1004 },
    });
    expect(one('debezium/mongodb-legacy-create.json').after?._id).toBe(1004);
  });
});

describe('Debezium decoder: ExtractNewRecordState output', () => {
  it('reads __op, __table, __lsn and __source_ts_ms and strips metadata from the row', () => {
    const e = one('debezium/unwrap-create-with-fields.json');
    expect(e).toMatchObject({ op: 'create', table: 'customers', version: '24023128', ts: 1559033904863 });
    expect(Object.keys(e.after!).some((k) => k.startsWith('__'))).toBe(false);
  });

  it('a rewritten delete (__deleted: "true") becomes a delete with the last state as before', () => {
    const e = one('debezium/unwrap-delete-rewrite-with-fields.json');
    expect(e).toMatchObject({ op: 'delete', before: { id: 1 }, after: null, version: '46523128' });
  });

  it('a flat row without metadata needs a topic or --table, and the Kafka offset becomes the version', () => {
    expect(() => decodeDocument(fixture('debezium/unwrap-update-docs.json'))).toThrow(DecodeError);
    const [e] = decodeDocument({
      topic: 'dbserver1.inventory.customers',
      partition: 2,
      offset: 99,
      key: { id: 1 },
      value: fixture('debezium/unwrap-update-docs.json'),
    });
    expect(e).toMatchObject({ table: 'customers', namespace: 'inventory', version: '99', key: { id: 1 } });
  });
});

describe('Debezium decoder: bad input', () => {
  it('names the record and the problem', () => {
    expect(() => decodeDebeziumValue({ op: 'x', source: { lsn: 1, table: 't' } })).toThrow(/unknown op "x"/);
    expect(() => decodeDebeziumValue({ before: null, after: {}, source: {} })).toThrow(/"op" is missing/);
    expect(() =>
      decodeDebeziumValue({
        op: 'c',
        after: 'nope',
        source: { connector: 'postgresql', lsn: 1, table: 't' },
      }),
    ).toThrow(/"after" must be an object/);
    expect(() => decodeDebeziumValue({ op: 'c', after: { id: 1 }, source: { table: 't' } })).toThrow(
      /no version/,
    );
    expect(() => decodeDebeziumValue({ hello: 'world' })).toThrow(/not a Debezium change event/);
    expect(() => decodeDebeziumValue([1, 2])).toThrow(/must be an object/);
  });

  it('splits lazily: one bad record fails alone', () => {
    const good = fixture('debezium/postgres-no-schema-create.json');
    const records = splitDocument([good, { op: 'c' }, good]);
    expect(records).toHaveLength(3);
    expect(records[0]!.decode()?.op).toBe('create');
    expect(() => records[1]!.decode()).toThrow(/record\[1\]/);
    expect(records[2]!.decode()?.op).toBe('create');
  });

  it('rejects truncated JSON with the position', () => {
    const text = fixtureText('debezium/postgres-no-schema-create.json');
    expect(() => decodeDocument(text.slice(0, text.length / 2))).toThrow(/invalid JSON/);
  });
});

describe('decimal helpers', () => {
  it('decodes two’s-complement big-endian unscaled values', () => {
    expect(unscaledFromBase64(Buffer.from([0x00, 0x80]).toString('base64'))).toBe(128n);
    expect(unscaledFromBase64(Buffer.from([0xff]).toString('base64'))).toBe(-1n);
    expect(unscaledFromBase64('')).toBe(0n);
    expect(formatDecimal(-5n, 2)).toBe('-0.05');
    expect(formatDecimal(150n, 2)).toBe('1.50');
    expect(formatDecimal(12n, -2)).toBe('1200');
  });
});

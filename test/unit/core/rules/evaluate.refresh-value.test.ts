/**
 * The refreshed value of `refresh.fields`: the JSON text of the picked fields, in the order the rule
 * lists them, each as often as listed. Since 2026-12-07 it is built with JSON.stringify of a picked
 * object where that gives the same bytes, and as text otherwise (an array-index name, which an
 * object would list first; a name listed twice; `__proto__`, which an assignment would not store):
 * both paths are pinned here against the text definition, on fixed and random rows.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, JsonValue, Row } from '../../../../core/event/change-event.ts';
import { rawNumber } from '../../../../core/json/exact-json.ts';
import { opsForEvent } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';

/** The definition: each listed field as `"name":value`, in list order, in one object. */
const expected = (fields: string[], row: Row) =>
  `{${fields.map((f) => `${JSON.stringify(f)}:${JSON.stringify(row[f])}`).join(',')}}`;

function refreshValue(fields: string[], after: Row, unavailable?: string[]): string | undefined {
  const config = compileConfig({ rules: [{ table: 't', keys: ['k:{id}'], refresh: { fields } }] });
  const event: ChangeEvent = {
    source: 'debezium',
    table: 't',
    namespace: null,
    op: 'create',
    key: null,
    before: null,
    after,
    version: '1',
    ts: 0,
  };
  if (unavailable !== undefined) event.unavailable = unavailable;
  const op = opsForEvent(config, event).ops[0]!;
  return op.kind === 'refresh' ? op.value : undefined;
}

describe('refresh value of refresh.fields', () => {
  const row: Row = {
    id: 7,
    '2': 'two',
    '10': 'ten',
    name: 'Zoë "Z" \\ \u0001 \ud800',
    big: rawNumber('12345678901234567890'),
    neg: -0,
    inf: Number.POSITIVE_INFINITY,
    nested: { a: [1, 'x', null], b: true },
    nul: null,
    __proto__x: 'p',
  };

  it.each([
    [['id', 'name']],
    [['name', 'id', 'big', 'neg', 'inf', 'nested', 'nul']],
    [['id', '10', '2']], // index-like names keep the rule's order
    [['id', 'name', 'id']], // a name listed twice is written twice
    [['__proto__x', 'id']],
  ])('fields %j give the listed fields in order', (fields) => {
    expect(refreshValue(fields, row)).toBe(expected(fields, row));
  });

  it('a field named __proto__ is written as a field', () => {
    const withProto = JSON.parse('{"id":1,"__proto__":{"x":1}}') as Row;
    expect(refreshValue(['__proto__', 'id'], withProto)).toBe('{"__proto__":{"x":1},"id":1}');
  });

  it('a missing or unavailable field falls back to invalidate', () => {
    expect(refreshValue(['id', 'gone'], row)).toBeUndefined();
    expect(refreshValue(['id', 'name'], row, ['name'])).toBeUndefined();
    expect(refreshValue(['id'], row, ['name'])).toBe('{"id":7}');
  });

  it('a missing field named like an Object.prototype member falls back to invalidate (both paths)', () => {
    const plain = JSON.parse('{"id":1}') as Row;
    // Was `{}` on the object path and `{"constructor":undefined}` (not JSON) on the text path.
    for (const f of ['constructor', 'toString', 'valueOf', 'hasOwnProperty'])
      for (const fields of [
        ['id', f],
        ['id', f, 'id'],
      ])
        expect(refreshValue(fields, plain), f).toBeUndefined();
    // `__proto__` missing read Object.prototype and wrote `{"__proto__":{}}`.
    expect(refreshValue(['__proto__', 'id'], plain)).toBeUndefined();
  });

  it('matches the text definition on random rows and field lists', () => {
    let seed = 20261207;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const names = ['id', 'a', 'b_c', '0', '7', '4294967295', '01', 'é', 'x y', '"q"', '__proto__', 'zz'];
    const values: (() => JsonValue)[] = [
      () => Math.floor(rnd() * 1e6),
      () => rnd() * 1e3 - 500,
      () =>
        String.fromCharCode(
          ...Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 0x3000)),
        ),
      () => null,
      () => rnd() < 0.5,
      () => ({ k: Math.floor(rnd() * 10) }),
    ];
    for (let n = 0; n < 500; n++) {
      const row: Row = JSON.parse('{}');
      for (const name of names) {
        // Defined as JSON.parse would (an own "__proto__" field), never through the prototype.
        Object.defineProperty(row, name, {
          // The key template reads id: a scalar there, anything elsewhere.
          value: name === 'id' ? n : values[Math.floor(rnd() * values.length)]!(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      const fields = Array.from(
        { length: 1 + Math.floor(rnd() * 5) },
        () => names[Math.floor(rnd() * names.length)]!,
      );
      expect(refreshValue(fields, row)).toBe(expected(fields, row));
    }
  });
});

/**
 * The in-house AttributeValue conversion (core/decode/attribute-value.ts) against the library it
 * replaces: `@aws-sdk/util-dynamodb` (a devDependency kept for this test), through the conversion
 * the decoder used, `toJson(unmarshall(map, { wrapNumbers: exactNumber }))`, on every kind.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { attributeMapToRow, attributeValueToJson } from '../../../../core/decode/attribute-value.ts';
import { exactNumber } from '../../../../core/json/exact-json.ts';

// The decoder's former post-processing of unmarshall's output (bytes → base64, sets → arrays).
function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Set) return Array.from(value, toJson);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null && !('rawJSON' in value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

function library(map: Record<string, unknown>): unknown {
  return toJson(unmarshall(map as never, { wrapNumbers: exactNumber }));
}

// Compare as JSON text, so JSON.rawJSON numbers compare by their exact digits.
const text = (v: unknown) => JSON.stringify(v);

const bytes = new Uint8Array([0, 1, 2, 250, 255]);
const ITEM: Record<string, unknown> = {
  s: { S: 'text with "quotes" and ünïcode' },
  empty: { S: '' },
  n: { N: '42' },
  negative: { N: '-17' },
  decimal: { N: '3.14' },
  trailingZero: { N: '1.50' },
  exponent: { N: '1E+3' },
  bigInt: { N: '12345678901234567890123' },
  beyondSafe: { N: '9007199254740993' },
  precise: { N: '0.12345678901234567890123456789' },
  maxDigits: { N: '-99999999999999999999999999999999999999E+125' },
  tiny: { N: '1E-130' },
  bString: { B: 'AAEC+v8=' },
  bBytes: { B: bytes },
  boolTrue: { BOOL: true },
  boolFalse: { BOOL: false },
  nul: { NULL: true },
  map: { M: { a: { S: 'x' }, nested: { M: { n: { N: '123456789012345678901' } } } } },
  emptyMap: { M: {} },
  list: { L: [{ S: 'a' }, { N: '1' }, { NULL: true }, { L: [{ BOOL: false }] }, { M: { k: { S: 'v' } } }] },
  emptyList: { L: [] },
  ss: { SS: ['a', 'b', 'c'] },
  ns: { NS: ['1', '2.5', '99999999999999999999'] },
  bsStrings: { BS: ['AAE=', 'Av8='] },
  bsBytes: { BS: [bytes, new Uint8Array([7])] },
  firstDefined: { S: undefined, N: '7' },
};

describe('AttributeValue → JSON, against @aws-sdk/util-dynamodb', () => {
  for (const [name, attribute] of Object.entries(ITEM)) {
    it(`${name}: ${Object.keys(attribute as object).join(',')}`, () => {
      const ours = attributeMapToRow({ [name]: attribute });
      expect(text(ours)).toBe(text(library({ [name]: attribute })));
    });
  }

  it('a whole item at once', () => {
    expect(text(attributeMapToRow(ITEM))).toBe(text(library(ITEM)));
  });

  it('keeps exact digits where a double would round, and plain numbers where it would not', () => {
    const row = attributeMapToRow(ITEM);
    expect(text(row.bigInt)).toBe('12345678901234567890123');
    expect(text(row.precise)).toBe('0.12345678901234567890123456789');
    expect(row.n).toBe(42);
    expect(row.decimal).toBe(3.14);
  });

  it('rejects what the library rejects', () => {
    for (const bad of [{ X: 'y' }, {}, { S: undefined }]) {
      expect(() => library({ a: bad })).toThrow();
      expect(() => attributeValueToJson(bad)).toThrow();
    }
    expect(() => attributeValueToJson({ X: 'y' })).toThrow('Unsupported type passed: X');
    expect(() => attributeValueToJson({})).toThrow('No value defined: {}');
    expect(() => attributeValueToJson('text')).toThrow('an attribute value must be an object');
    expect(() => attributeValueToJson({ L: 'nope' })).toThrow('"L" must be an array');
  });

  it('keeps an attribute named __proto__ as an own field (the library loses it)', () => {
    const row = attributeMapToRow(JSON.parse('{"__proto__":{"S":"x"}}'));
    expect(Object.keys(row)).toEqual(['__proto__']);
    expect(text(row)).toBe('{"__proto__":"x"}');
  });
});

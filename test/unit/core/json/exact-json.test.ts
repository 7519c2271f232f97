import { describe, expect, it } from 'vitest';
import {
  exactNumber,
  isRawNumber,
  parseDocumentJson,
  parseExactJson,
  scalarText,
} from '../../../../core/json/exact-json.ts';

describe('exact JSON', () => {
  it('keeps int64 digits beyond 2^53 that JSON.parse rounds', () => {
    const text = '{"id":9007199254740993,"n":[12345678901234567890]}';
    expect((JSON.parse(text) as { id: number }).id).toBe(9007199254740992);
    const v = parseExactJson(text) as { id: unknown; n: unknown[] };
    expect(isRawNumber(v.id)).toBe(true);
    expect(scalarText(v.id as never)).toBe('9007199254740993');
    expect(JSON.stringify(v)).toBe(text);
  });

  it('keeps a bare 16-digit number exact: the shortest text the exact path needs', () => {
    // Texts under 16 characters skip the digit scan (a Kafka key such as {"id":42}); 16 must not.
    const v = parseExactJson('9007199254740993');
    expect(isRawNumber(v) && v.rawJSON).toBe('9007199254740993');
    expect(parseExactJson('900719925474099')).toBe(900719925474099);
    expect(parseExactJson('{"id":42}')).toEqual({ id: 42 });
  });

  it('uses plain numbers when they are exact', () => {
    const v = parseExactJson('{"a":1,"b":1.5,"c":9007199254740991,"d":-0.25}') as Record<string, unknown>;
    expect(v).toEqual({ a: 1, b: 1.5, c: 9007199254740991, d: -0.25 });
  });

  it('keeps long decimals exactly', () => {
    const v = parseExactJson('{"x":0.1000000000000000055511151231257827}') as { x: unknown };
    expect(JSON.stringify(v)).toBe('{"x":0.1000000000000000055511151231257827}');
  });

  it('exactNumber returns doubles only when exact', () => {
    expect(exactNumber('42')).toBe(42);
    expect(exactNumber('123.44')).toBe(123.44);
    expect(isRawNumber(exactNumber('12345678901234567890'))).toBe(true);
    expect(isRawNumber(exactNumber('1e400'))).toBe(true);
  });

  it('throws SyntaxError on truncated JSON, like JSON.parse', () => {
    expect(() => parseExactJson('{"id": 12345678901234567890')).toThrow(SyntaxError);
    expect(() => parseExactJson('{"id": 1')).toThrow(SyntaxError);
  });
});

describe('parseDocumentJson', () => {
  it('keeps row values, keys and positions exact', () => {
    const text =
      '{"key":{"id":9007199254740993},"value":{"after":{"id":9007199254740993,"n":"12345678901234567890"},"source":{"lsn":18446744073709551615,"ts_us":1732262400000123,"ts_ns":1732262400000123456}}}';
    const doc = parseDocumentJson(text);
    const out = JSON.stringify(doc);
    expect(out).toContain('"key":{"id":9007199254740993}');
    expect(out).toContain('"after":{"id":9007199254740993,"n":"12345678901234567890"}');
    expect(out).toContain('"lsn":18446744073709551615');
    expect(out).toContain('"ts_ns":1732262400000123456'); // the exact path keeps everything exact
  });

  it('takes the fast path when only metadata or strings hold long digit runs', () => {
    const text =
      '{"after":{"id":1,"n":"12345678901234567890"},"source":{"ts_ns":1732262400000123456},"ts_us":1732262400000123}';
    const doc = parseDocumentJson(text) as { after: { n: string }; ts_us: unknown };
    expect(doc.after.n).toBe('12345678901234567890');
    expect(isRawNumber(doc.ts_us)).toBe(false);
  });

  it('a negative or array-held long integer takes the exact path', () => {
    expect(JSON.stringify(parseDocumentJson('{"a":[-9007199254740993]}'))).toBe('{"a":[-9007199254740993]}');
    expect(JSON.stringify(parseDocumentJson('[1,9007199254740993]'))).toBe('[1,9007199254740993]');
  });
});

import { describe, expect, it } from 'vitest';
import { exactNumber, isRawNumber, parseExactJson, scalarText } from '../../../core/json/exact-json.ts';

describe('exact JSON', () => {
  it('keeps int64 digits beyond 2^53 that JSON.parse rounds', () => {
    const text = '{"id":9007199254740993,"n":[12345678901234567890]}';
    expect((JSON.parse(text) as { id: number }).id).toBe(9007199254740992);
    const v = parseExactJson(text) as { id: unknown; n: unknown[] };
    expect(isRawNumber(v.id)).toBe(true);
    expect(scalarText(v.id as never)).toBe('9007199254740993');
    expect(JSON.stringify(v)).toBe(text);
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

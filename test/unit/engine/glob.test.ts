import { describe, expect, it } from 'vitest';
import { globMatch } from '../../../engine/glob.ts';
import { parseMemorySize } from '../../../engine/memory.ts';
import { formatFloat, parseI64 } from '../../../engine/server/command-context.ts';

describe('Valkey glob patterns', () => {
  it.each([
    ['*', 'anything', true],
    ['user:*', 'user:1', true],
    ['user:?', 'user:12', false],
    ['h[ae]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-c]llo', 'hbllo', true],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['*:profile', 'acct:7:profile', true],
  ])('%s matches %s: %s', (pattern, s, want) => {
    expect(globMatch(pattern, s)).toBe(want);
  });
});

describe('number helpers', () => {
  it('parses 64-bit integers strictly like string2ll', () => {
    expect(parseI64('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseI64('9223372036854775808')).toBeNull();
    expect(parseI64('01')).toBeNull();
    expect(parseI64('+1')).toBeNull();
    expect(parseI64(' 1')).toBeNull();
    expect(parseI64('-0')).toBeNull();
  });

  it('formats floats as INCRBYFLOAT does', () => {
    expect(formatFloat(0.1 + 0.2)).toBe('0.3');
    expect(formatFloat(10.5)).toBe('10.5');
    expect(formatFloat(3)).toBe('3');
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.5e-7)).toBe('0.00000015');
  });

  it('parses memory sizes with Valkey units', () => {
    expect(parseMemorySize('100')).toBe(100);
    expect(parseMemorySize('1k')).toBe(1000);
    expect(parseMemorySize('1kb')).toBe(1024);
    expect(parseMemorySize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseMemorySize('lots')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { compareVersions, hexToDecimal, isVersion, versionSortKey } from '../../../../core/event/version.ts';

describe('versions', () => {
  it('compares DynamoDB sequence numbers as arbitrary-size integers, not as doubles', () => {
    // These two differ only past 2^53: as doubles they are equal.
    const a = '4421584500000000017450439091';
    const b = '4421584500000000017450439092';
    expect(Number(a)).toBe(Number(b));
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, a)).toBeGreaterThan(0);
    expect(compareVersions(a, a)).toBe(0);
  });

  it('orders by magnitude, not lexicographically', () => {
    expect(compareVersions('9', '10')).toBeLessThan(0);
    expect(compareVersions('0010', '9')).toBeGreaterThan(0);
    expect(compareVersions('007', '7')).toBe(0);
  });

  it('compares multi-component positions left to right (MySQL file.pos.row)', () => {
    expect(compareVersions('3.154.0', '3.1041.0')).toBeLessThan(0);
    expect(compareVersions('4.4.0', '3.99999.0')).toBeGreaterThan(0);
    expect(compareVersions('3.154', '3.154.0')).toBeLessThan(0);
  });

  it('sort keys order bytewise exactly like compareVersions', () => {
    const versions = [
      '9',
      '10',
      '4421584500000000017450439092',
      '4421584500000000017450439091',
      '3.154.0',
      '3.1041.0',
      '3.154',
      '0',
      '100.1',
      '100.0.5',
    ];
    const byCompare = [...versions].sort(compareVersions);
    const byKey = [...versions].sort((x, y) =>
      versionSortKey(x) < versionSortKey(y) ? -1 : versionSortKey(x) > versionSortKey(y) ? 1 : 0,
    );
    expect(byKey).toEqual(byCompare);
  });

  it('encodes single components the same on the fast path and with leading zeros or dots', () => {
    expect(versionSortKey('7')).toBe('017');
    expect(versionSortKey('007')).toBe('017');
    expect(versionSortKey('0')).toBe('010');
    expect(versionSortKey('1234567890')).toBe('101234567890');
    expect(versionSortKey('24023128.7')).toBe(`${versionSortKey('24023128')}.${versionSortKey('7')}`);
    const d99 = `1${'0'.repeat(98)}`;
    expect(versionSortKey(d99)).toBe(`99${d99}`);
    expect(() => versionSortKey(`${d99}0`)).toThrow(RangeError);
    expect(() => versionSortKey('12a')).toThrow(TypeError);
    expect(() => versionSortKey('')).toThrow(TypeError);
  });

  it('rejects malformed versions', () => {
    expect(isVersion('12.3')).toBe(true);
    expect(isVersion('12.')).toBe(false);
    expect(isVersion('0x10')).toBe(false);
    expect(() => versionSortKey('abc')).toThrow(TypeError);
  });

  it('converts SQL Server hex LSNs exactly', () => {
    expect(hexToDecimal('00000025000000d80005')).toBe(BigInt('0x00000025000000d80005').toString());
    expect(hexToDecimal('ffffffffffffffffffff')).toBe('1208925819614629174706175');
  });
});

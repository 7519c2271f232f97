import { describe, expect, it } from 'vitest';
import { compressedJsonCodec, jsonCodec, textCodec, zstdAvailable } from '../../../../core/client/codec.ts';

describe('codecs', () => {
  const big = { rows: Array.from({ length: 100 }, (_, i) => ({ i, s: 'the same words again and again' })) };

  it('json keeps values plain', () => {
    expect(jsonCodec.encode({ a: 1 })).toBe('{"a":1}');
    expect(jsonCodec.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(textCodec.decode(Buffer.from('ünï'))).toBe('ünï');
  });

  for (const algorithm of ['gzip', ...(zstdAvailable ? ['zstd' as const] : [])] as const) {
    it(`${algorithm}: compresses large values, keeps small ones plain, reads plain JSON`, () => {
      const codec = compressedJsonCodec({ algorithm, minBytes: 100 });
      const bytes = codec.encode(big);
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect((bytes as Buffer).length).toBeLessThan(JSON.stringify(big).length / 5);
      expect(codec.decode(bytes as Buffer)).toEqual(big);
      expect(codec.encode({ a: 1 })).toBe('{"a":1}');
      expect(codec.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    });
  }

  it('reads what another compressed codec wrote', () => {
    const gz = compressedJsonCodec({ algorithm: 'gzip', minBytes: 1 });
    const other = compressedJsonCodec({ algorithm: zstdAvailable ? 'zstd' : 'gzip', minBytes: 1 });
    expect(other.decode(gz.encode(big) as Buffer)).toEqual(big);
  });

  it('rejects unknown algorithms', () => {
    expect(() => compressedJsonCodec({ algorithm: 'lz4' as 'gzip' })).toThrow("must be 'gzip' or 'zstd'");
  });
});

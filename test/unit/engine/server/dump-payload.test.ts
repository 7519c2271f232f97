/**
 * DUMP payload reading of hostile input, as units: a payload can carry a valid checksum and still
 * declare lengths it does not hold (anyone can compute the CRC). Such a payload is refused as bad
 * data (`DumpFormatError`, RESTORE's `ERR Bad data format`) without allocating what it declares.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crc64 } from '../../../../engine/server/dump/crc64.ts';
import {
  DumpFormatError,
  decodePayload,
  RDB_VERSION,
  verifyPayload,
} from '../../../../engine/server/dump/dump-payload.ts';
import { lzfDecompress } from '../../../../engine/server/dump/lzf.ts';

/** A complete payload (version and CRC-64 footer) around `body`. */
function payload(...body: number[][]): Buffer {
  const version = Buffer.alloc(2);
  version.writeUInt16LE(RDB_VERSION, 0);
  const head = Buffer.concat([...body.map((b) => Buffer.from(b)), version]);
  return Buffer.concat([head, crc64(head)]);
}

/** RDB length 0x81 + 64-bit big-endian. */
const len64 = (n: bigint) => {
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(n, 1);
  return [...b];
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('LZF strings declaring a huge uncompressed length', () => {
  it('are refused without allocating the declared length', () => {
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    // One literal byte ("A") that claims to decompress to 2 GB.
    expect(lzfDecompress(Buffer.from([0x00, 0x41]), 2 ** 31)).toBeNull();
    const biggest = Math.max(0, ...alloc.mock.calls.map(([n]) => n));
    expect(biggest).toBeLessThan(1024);
  });

  it('answer bad data format from decodePayload, also past what a Buffer can hold', () => {
    for (const ulen of [2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      // String type, LZF encoding (0xc3), compressed length 2, declared length, then the data.
      const p = payload([0x00, 0xc3, 0x02], len64(BigInt(ulen)), [0x00, 0x41]);
      expect(verifyPayload(p)).toBe(true);
      expect(() => decodePayload(p)).toThrow(DumpFormatError);
    }
  });

  it('a real LZF string still decompresses', () => {
    // "aaaaaaaaaa" as liblzf writes it: literal "a", then a back-reference of 9 bytes at distance 1.
    expect(lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x00, 0x00]), 10)?.toString()).toBe('a'.repeat(10));
  });
});

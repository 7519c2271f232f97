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
  encodePayload,
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

/** RDB length 0x80 + 32-bit big-endian, or 0x81 + 64-bit big-endian. */
const len32 = (n: number) => [0x80, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
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

describe('collections declaring more elements than they hold', () => {
  it('are bad data format, whatever the declared count', () => {
    for (const type of [1, 2, 3, 4, 5, 18]) {
      for (const count of [len32(2 ** 31), len64(2n ** 32n + 5n), len64(BigInt(Number.MAX_SAFE_INTEGER))]) {
        const p = payload([type], count, [0x01, 0x61]);
        expect(() => decodePayload(p), `type ${type}`).toThrow(DumpFormatError);
      }
    }
  });

  it('a quicklist node with many entries is read whole', () => {
    // A listpack of 200 000 one-byte integer entries (7-bit uint encoding, back-length 1).
    const n = 200_000;
    const lp = Buffer.alloc(6 + 2 * n + 1);
    lp.writeUInt32LE(lp.length, 0);
    lp.writeUInt16LE(65535, 4);
    for (let i = 0; i < n; i++) {
      lp[6 + 2 * i] = i % 100;
      lp[7 + 2 * i] = 1;
    }
    lp[lp.length - 1] = 0xff;
    const p = payload([18, 0x01, 0x02], len32(lp.length), [...lp]);
    const v = decodePayload(p);
    expect(v.type).toBe('list');
    expect(v.type === 'list' && v.items.length).toBe(n);
    expect(v.type === 'list' && v.items[12345]).toBe('45');
  });

  it('a payload the engine wrote still reads back', () => {
    const p = encodePayload({
      type: 'hash',
      pairs: [
        ['f', 'v'],
        ['n', '12'],
      ],
    });
    expect(decodePayload(p)).toEqual({
      type: 'hash',
      pairs: [
        ['f', 'v'],
        ['n', '12'],
      ],
    });
  });
});

describe('DUMP of big collections', () => {
  it('a list and a set of 300 000 elements dump and read back', () => {
    const items = Array.from({ length: 300_000 }, (_, i) => `m${i}`);
    const list = decodePayload(encodePayload({ type: 'list', items }));
    expect(list.type === 'list' && list.items).toEqual(items);
    const set = decodePayload(encodePayload({ type: 'set', members: items }));
    expect(set.type === 'set' && set.members).toEqual(items);
  });
});

describe('compact payloads written in their encoding', () => {
  it('listpack entries of every header size and an intset of every width read back', () => {
    // String headers: 1 byte under 64, 2 under 4096, 5 beyond; back-lengths of 1, 2 and 3 bytes.
    const long = [
      '',
      'a',
      'x'.repeat(63),
      'x'.repeat(64),
      'y'.repeat(130),
      'z'.repeat(4095),
      'w'.repeat(20_000),
    ];
    const bytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const pairs = long.map((f, i): [string, string] => [`${f}${i}`, i % 2 ? bytes : f]);
    const hash = decodePayload(encodePayload({ type: 'hash', pairs, listpack: true }));
    expect(hash).toEqual({ type: 'hash', pairs, listpack: true });
    const zpairs: [string, number][] = [
      ['a', -Infinity],
      ['b', -1e300],
      ['c', 0.1],
      ['d', 7],
      ['e', 2 ** 60],
      ['f', Infinity],
    ];
    const zset = decodePayload(encodePayload({ type: 'zset', pairs: zpairs, listpack: true }));
    expect(zset).toEqual({ type: 'zset', pairs: zpairs, listpack: true });
    for (const members of [
      ['3', '-2'],
      ['70000', '1'],
      ['-9223372036854775808', '9223372036854775807', '0'],
    ]) {
      const set = decodePayload(encodePayload({ type: 'set', members, intset: true }));
      const sorted = members
        .map(BigInt)
        .sort((a, b) => (a < b ? -1 : 1))
        .map(String);
      expect(set).toEqual({ type: 'set', members: sorted });
    }
  });

  it("reads an entry whose back-length Valkey writes in 3 bytes from 16383 on (lpEncodeBacklen's bound)", () => {
    // A 5-byte header plus 16378 bytes is an entry of 16383: Valkey's back-length takes 3 bytes.
    for (const n of [16377, 16378, 16379]) {
      const pairs: [string, string][] = [
        ['f', 'x'.repeat(n)],
        ['g', 'v'],
      ];
      expect(decodePayload(encodePayload({ type: 'hash', pairs, listpack: true }))).toEqual({
        type: 'hash',
        pairs,
        listpack: true,
      });
    }
  });
});

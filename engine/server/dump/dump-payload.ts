/**
 * DUMP payloads in Valkey's format: one RDB-serialized value, then the RDB version (2 bytes,
 * little-endian) and the CRC-64 of everything before it (8 bytes, little-endian), so a payload is
 * checked before it is read, and payloads travel both ways between the engine and Valkey 8.
 *
 * Written: strings as Valkey writes them up to 20 bytes (small integers in the int encodings, the
 * rest raw; Valkey would LZF-compress a longer string, the engine writes it raw, which Valkey
 * reads alike); sets, sorted sets, hashes and lists in the plain RDB types (set, zset-2, hash, list),
 * which Valkey loads into whatever encoding their size calls for.
 * Read: everything Valkey 8 DUMPs for these types: strings in every encoding (raw, int, LZF), the
 * plain types, intset sets, listpack sets, sorted sets and hashes, and quicklist-2 lists.
 * Anything else (streams, modules, older ziplist types) is a `DumpFormatError`; the engine's bloom
 * filters have their own module payload (bloom-payload.ts).
 */
import { crc64 } from './crc64.ts';
import { lzfDecompress } from './lzf.ts';

/** The RDB version Valkey 8.0 writes and the highest it reads. */
export const RDB_VERSION = 11;

/** RDB object types used here. */
const T = {
  string: 0,
  list: 1,
  set: 2,
  zset: 3,
  hash: 4,
  zset2: 5,
  setIntset: 11,
  hashListpack: 16,
  zsetListpack: 17,
  listQuicklist2: 18,
  setListpack: 20,
} as const;

/**
 * A value as a payload carries it; strings are latin1 byte strings. `listpack` marks a set, sorted
 * set or hash read from (or to be written as) a listpack payload (Valkey loads those as they are,
 * see RESTORE); `intset`, a set to be written as an intset payload (canonical integers).
 */
export type DumpedValue =
  | { type: 'string'; value: string }
  | { type: 'list'; items: string[] }
  | { type: 'set'; members: string[]; listpack?: boolean; intset?: boolean }
  | { type: 'zset'; pairs: [string, number][]; listpack?: boolean }
  | { type: 'hash'; pairs: [string, string][]; listpack?: boolean };

/** The payload is not a value this reader knows (Valkey answers "Bad data format"). */
export class DumpFormatError extends Error {
  readonly code = 'DUMP_FORMAT';
  readonly retriable = false;
}

/** True when `payload` (latin1) carries a version this reader accepts and a matching checksum. */
export function verifyPayload(payload: Buffer): boolean {
  if (payload.length < 10) return false;
  const footer = payload.length - 10;
  if (payload.readUInt16LE(footer) > RDB_VERSION) return false;
  return crc64(payload.subarray(0, payload.length - 8)).equals(payload.subarray(payload.length - 8));
}

// ---- writing ----

/** rdbSaveLen: Valkey's length encoding. */
export function lenBytes(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  if (n <= 0xffffffff) {
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

/** A binary blob (listpack, intset) as an RDB string: its length then its bytes, uncompressed. */
function rawBytes(b: Buffer): Buffer {
  return Buffer.concat([lenBytes(b.length), b]);
}

/** Valkey's rdbSaveRawString without compression: int encodings for small canonical integers. */
function stringBytes(s: string): Buffer {
  if (s.length <= 11 && /^(?:0|-?[1-9]\d*)$/.test(s)) {
    const n = Number(s);
    if (n >= -128 && n <= 127) return Buffer.from([0xc0, n & 0xff]);
    if (n >= -32768 && n <= 32767) {
      const b = Buffer.from([0xc1, 0, 0]);
      b.writeInt16LE(n, 1);
      return b;
    }
    if (n >= -2147483648 && n <= 2147483647) {
      const b = Buffer.from([0xc2, 0, 0, 0, 0]);
      b.writeInt32LE(n, 1);
      return b;
    }
  }
  return Buffer.concat([lenBytes(s.length), Buffer.from(s, 'latin1')]);
}

function doubleBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n, 0);
  return b;
}

/** Valkey's listpack back-length of an entry of `l` bytes (lpEncodeBacklen). */
function backlen(l: number): number[] {
  if (l <= 127) return [l];
  if (l < 16383) return [l >> 7, (l & 127) | 128];
  if (l < 2097151) return [l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128];
  if (l < 268435455) return [l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128];
  return [
    Math.floor(l / 2 ** 28),
    ((l >> 21) & 127) | 128,
    ((l >> 14) & 127) | 128,
    ((l >> 7) & 127) | 128,
    (l & 127) | 128,
  ];
}

/** A listpack of string entries (Valkey reads a string that looks like a number as that string). */
function listpackBytes(entries: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(6)];
  for (const e of entries) {
    const n = e.length;
    const head =
      n < 64
        ? Buffer.from([0x80 | n])
        : n < 4096
          ? Buffer.from([0xe0 | (n >> 8), n & 0xff])
          : Buffer.from([0xf0, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
    parts.push(head, Buffer.from(e, 'latin1'), Buffer.from(backlen(head.length + n)));
  }
  parts.push(Buffer.from([0xff]));
  const lp = Buffer.concat(parts);
  lp.writeUInt32LE(lp.length, 0);
  lp.writeUInt16LE(Math.min(entries.length, 65535), 4);
  return lp;
}

/** An intset of canonical integer strings (ascending, as the intset encoding keeps them). */
function intsetBytes(members: readonly string[]): Buffer {
  const ns = members.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const fits = (lim: bigint) => ns.every((n) => n >= -lim && n < lim);
  const width = fits(2n ** 15n) ? 2 : fits(2n ** 31n) ? 4 : 8;
  const out = Buffer.alloc(8 + width * ns.length);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(ns.length, 4);
  for (const [i, n] of ns.entries()) {
    if (width === 2) out.writeInt16LE(Number(n), 8 + 2 * i);
    else if (width === 4) out.writeInt32LE(Number(n), 8 + 4 * i);
    else out.writeBigInt64LE(n, 8 + 8 * i);
  }
  return out;
}

/** A score as listpack text Valkey's zzlStrtod and this reader parse back to the same double. */
function scoreText(n: number): string {
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

/** Serializes `v` into a complete DUMP payload. */
export function encodePayload(v: DumpedValue): Buffer {
  const parts: Buffer[] = [];
  switch (v.type) {
    case 'string':
      parts.push(Buffer.from([T.string]), stringBytes(v.value));
      break;
    case 'list':
      // Loops, not push(...elements): a collection of 10^5+ elements would overflow the call stack.
      parts.push(Buffer.from([T.list]), lenBytes(v.items.length));
      for (const item of v.items) parts.push(stringBytes(item));
      break;
    case 'set':
      if (v.intset) {
        parts.push(Buffer.from([T.setIntset]), rawBytes(intsetBytes(v.members)));
        break;
      }
      if (v.listpack) {
        parts.push(Buffer.from([T.setListpack]), rawBytes(listpackBytes(v.members)));
        break;
      }
      parts.push(Buffer.from([T.set]), lenBytes(v.members.length));
      for (const m of v.members) parts.push(stringBytes(m));
      break;
    case 'zset':
      if (v.listpack) {
        const entries: string[] = [];
        for (const [m, s] of v.pairs) entries.push(m, scoreText(s));
        parts.push(Buffer.from([T.zsetListpack]), rawBytes(listpackBytes(entries)));
        break;
      }
      parts.push(Buffer.from([T.zset2]), lenBytes(v.pairs.length));
      for (const [m, s] of v.pairs) parts.push(stringBytes(m), doubleBytes(s));
      break;
    case 'hash':
      if (v.listpack) {
        const entries: string[] = [];
        for (const [f, x] of v.pairs) entries.push(f, x);
        parts.push(Buffer.from([T.hashListpack]), rawBytes(listpackBytes(entries)));
        break;
      }
      parts.push(Buffer.from([T.hash]), lenBytes(v.pairs.length));
      for (const [f, x] of v.pairs) parts.push(stringBytes(f), stringBytes(x));
      break;
  }
  return sealPayload(parts);
}

/** A complete payload from the serialized value's parts: they, the RDB version and the CRC-64. */
export function sealPayload(parts: Buffer[]): Buffer {
  const version = Buffer.alloc(2);
  version.writeUInt16LE(RDB_VERSION, 0);
  parts.push(version);
  const body = Buffer.concat(parts);
  return Buffer.concat([body, crc64(body)]);
}

// ---- reading ----

/** Reads RDB primitives from a payload body; every read past the end is a {@link DumpFormatError}. */
export class Reader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new DumpFormatError('payload ends early');
    return this.buf[this.pos++]!;
  }

  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) throw new DumpFormatError('payload ends early');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** rdbLoadLen: [length, isEncoded]. */
  len(): [number, boolean] {
    const b = this.byte();
    const kind = b >> 6;
    if (kind === 3) return [b & 0x3f, true];
    if (kind === 0) return [b & 0x3f, false];
    if (kind === 1) return [((b & 0x3f) << 8) | this.byte(), false];
    if (b === 0x80) return [this.take(4).readUInt32BE(0), false];
    if (b === 0x81) {
      const n = this.take(8).readBigUInt64BE(0);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DumpFormatError('length out of range');
      return [Number(n), false];
    }
    throw new DumpFormatError('bad length');
  }

  count(): number {
    const [n, enc] = this.len();
    if (enc) throw new DumpFormatError('bad length');
    return n;
  }

  /** rdbGenericLoadStringObject, as raw bytes. */
  bytes(): Buffer {
    const [n, enc] = this.len();
    if (!enc) return this.take(n);
    if (n === 0) return Buffer.from(String(this.take(1).readInt8(0)), 'latin1');
    if (n === 1) return Buffer.from(String(this.take(2).readInt16LE(0)), 'latin1');
    if (n === 2) return Buffer.from(String(this.take(4).readInt32LE(0)), 'latin1');
    if (n === 3) {
      const clen = this.count();
      const ulen = this.count();
      const out = lzfDecompress(this.take(clen), ulen);
      if (out === null) throw new DumpFormatError('bad LZF data');
      return out;
    }
    throw new DumpFormatError('bad string encoding');
  }

  string(): string {
    return this.bytes().toString('latin1');
  }

  /** rdbLoadDoubleValue (the old zset's text scores). */
  textDouble(): number {
    const n = this.byte();
    if (n === 253) return Number.NaN;
    if (n === 254) return Number.POSITIVE_INFINITY;
    if (n === 255) return Number.NEGATIVE_INFINITY;
    return strictDouble(this.take(n).toString('latin1'));
  }
}

function strictDouble(s: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) && !/^[+-]?inf(inity)?$/i.test(s))
    throw new DumpFormatError('bad score');
  return s.toLowerCase().includes('inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
}

/** The entries of a listpack blob, integers as decimal text. */
function listpackEntries(lp: Buffer): string[] {
  if (lp.length < 7 || lp.readUInt32LE(0) !== lp.length || lp[lp.length - 1] !== 0xff)
    throw new DumpFormatError('bad listpack header');
  const out: string[] = [];
  let p = 6;
  const need = (n: number) => {
    if (p + n > lp.length - 1) throw new DumpFormatError('listpack entry overflows');
  };
  while (lp[p] !== 0xff) {
    const b = lp[p]!;
    let entryLen: number;
    if ((b & 0x80) === 0) {
      out.push(String(b & 0x7f));
      entryLen = 1;
    } else if ((b & 0xc0) === 0x80) {
      const n = b & 0x3f;
      need(1 + n);
      out.push(lp.toString('latin1', p + 1, p + 1 + n));
      entryLen = 1 + n;
    } else if ((b & 0xe0) === 0xc0) {
      need(2);
      const v = ((b & 0x1f) << 8) | lp[p + 1]!;
      out.push(String(v >= 4096 ? v - 8192 : v));
      entryLen = 2;
    } else if ((b & 0xf0) === 0xe0) {
      need(2);
      const n = ((b & 0x0f) << 8) | lp[p + 1]!;
      need(2 + n);
      out.push(lp.toString('latin1', p + 2, p + 2 + n));
      entryLen = 2 + n;
    } else if (b === 0xf0) {
      need(5);
      const n = lp.readUInt32LE(p + 1);
      need(5 + n);
      out.push(lp.toString('latin1', p + 5, p + 5 + n));
      entryLen = 5 + n;
    } else if (b === 0xf1) {
      need(3);
      out.push(String(lp.readInt16LE(p + 1)));
      entryLen = 3;
    } else if (b === 0xf2) {
      need(4);
      out.push(String(lp.readIntLE(p + 1, 3)));
      entryLen = 4;
    } else if (b === 0xf3) {
      need(5);
      out.push(String(lp.readInt32LE(p + 1)));
      entryLen = 5;
    } else if (b === 0xf4) {
      need(9);
      out.push(String(lp.readBigInt64LE(p + 1)));
      entryLen = 9;
    } else throw new DumpFormatError('bad listpack encoding');
    // The back-length: one byte per 7 bits of entryLen, at lpEncodeBacklen's bounds (16383 itself
    // takes 3 bytes, 2097151 takes 4, …).
    const back =
      entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5;
    need(entryLen + back);
    p += entryLen + back;
  }
  if (p !== lp.length - 1) throw new DumpFormatError('listpack trailing bytes');
  return out;
}

function intsetEntries(is: Buffer): string[] {
  if (is.length < 8) throw new DumpFormatError('bad intset');
  const width = is.readUInt32LE(0);
  const n = is.readUInt32LE(4);
  if (![2, 4, 8].includes(width) || is.length !== 8 + width * n) throw new DumpFormatError('bad intset');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = 8 + i * width;
    out.push(
      String(width === 2 ? is.readInt16LE(at) : width === 4 ? is.readInt32LE(at) : is.readBigInt64LE(at)),
    );
  }
  return out;
}

function pairs<T>(flat: string[], second: (s: string) => T): [string, T][] {
  if (flat.length % 2 !== 0) throw new DumpFormatError('odd listpack');
  const out: [string, T][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, second(flat[i + 1]!)]);
  return out;
}

function nonEmpty<T>(items: T[]): T[] {
  if (items.length === 0) throw new DumpFormatError('empty collection');
  return items;
}

/** Reads the value of a payload already checked by {@link verifyPayload}. */
export function decodePayload(payload: Buffer): DumpedValue {
  const r = new Reader(payload.subarray(0, payload.length - 10));
  const type = r.byte();
  // The declared count comes from the payload: elements are read one by one (each read checks the
  // payload holds it), never preallocated (a count past 2^32 would be a RangeError, not bad data).
  const many = <X>(n: number, one: () => X): X[] => {
    const out: X[] = [];
    for (let i = 0; i < n; i++) out.push(one());
    return out;
  };
  switch (type) {
    case T.string:
      return { type: 'string', value: r.string() };
    case T.list:
      return { type: 'list', items: nonEmpty(many(r.count(), () => r.string())) };
    case T.set:
      return { type: 'set', members: nonEmpty(many(r.count(), () => r.string())) };
    case T.zset:
      return { type: 'zset', pairs: nonEmpty(many(r.count(), () => [r.string(), r.textDouble()])) };
    case T.zset2:
      return {
        type: 'zset',
        pairs: nonEmpty(many(r.count(), () => [r.string(), r.take(8).readDoubleLE(0)])),
      };
    case T.hash:
      return { type: 'hash', pairs: nonEmpty(many(r.count(), () => [r.string(), r.string()])) };
    case T.setIntset:
      return { type: 'set', members: nonEmpty(intsetEntries(r.bytes())) };
    case T.setListpack:
      return { type: 'set', members: nonEmpty(listpackEntries(r.bytes())), listpack: true };
    case T.hashListpack:
      return { type: 'hash', pairs: nonEmpty(pairs(listpackEntries(r.bytes()), (s) => s)), listpack: true };
    case T.zsetListpack:
      return {
        type: 'zset',
        pairs: nonEmpty(pairs(listpackEntries(r.bytes()), strictDouble)),
        listpack: true,
      };
    case T.listQuicklist2: {
      const items: string[] = [];
      for (let n = r.count(); n > 0; n--) {
        const container = r.count();
        if (container === 1) items.push(r.string());
        else if (container === 2) {
          // A loop, not push(...entries): a node of 10^5+ entries would overflow the call stack.
          for (const e of listpackEntries(r.bytes())) items.push(e);
        } else throw new DumpFormatError('bad quicklist container');
      }
      return { type: 'list', items: nonEmpty(items) };
    }
    default:
      throw new DumpFormatError(`RDB type ${type} is not supported`);
  }
}

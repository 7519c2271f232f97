/**
 * DUMP payloads of the engine's bloom filters. Valkey keeps bloom filters in a module type
 * (valkey-bloom's `bloomfltr`), but its bitmaps are indexed by SipHash with the module's keys, the
 * engine's by murmur3 (commands/bloom-filter.ts): the bits mean nothing to the other side, so a
 * payload that claimed to be valkey-bloom's would restore a filter that silently answers wrong.
 *
 * So the engine writes its own module type, framed exactly as Valkey frames module values
 * (RDB_TYPE_MODULE_2, the 64-bit module type id of the name `cdcbloom1` with encoding version 1,
 * then opcode-tagged fields, then RDB_MODULE_OPCODE_EOF), inside the usual DUMP footer (RDB version
 * 11, CRC-64). Engines restore it with every bit, count and rate; Valkey, which has no module of
 * that name, refuses it with `ERR Bad data format` and stores nothing.
 *
 * Fields: DOUBLE error rate, UINT expansion (0 = non-scaling), UINT number of sub-filters, then per
 * sub-filter UINT capacity, DOUBLE error rate, UINT items, UINT bits (m), UINT hash functions (k),
 * STRING bitmap. m and k must be what the engine derives from capacity and rate, and the bitmap
 * ceil(m / 8) bytes, or the payload is bad data.
 */
import { BLOOM_DEFAULTS, BloomValue, SubFilter } from '../commands/bloom-filter.ts';
import { DumpFormatError, lenBytes, Reader, sealPayload } from './dump-payload.ts';

/** RDB_TYPE_MODULE_2: a module value with opcode-tagged fields. */
export const RDB_TYPE_MODULE_2 = 7;
const OP = { eof: 0, uint: 2, double: 4, string: 5 } as const;
/** The module type name the engine writes (9 characters of Valkey's module-type charset). */
export const BLOOM_MODULE_TYPE = 'cdcbloom1';
const ENCODING_VERSION = 1;
const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Valkey's moduleTypeEncodeId: 6 bits per name character, then 10 bits of encoding version. */
export function moduleTypeId(name: string, encver: number): bigint {
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(CHARSET.indexOf(ch));
  return (id << 10n) | BigInt(encver);
}

const MODULE_ID = moduleTypeId(BLOOM_MODULE_TYPE, ENCODING_VERSION);

function uint(n: number): Buffer {
  return Buffer.concat([Buffer.from([OP.uint]), lenBytes(n)]);
}

function double(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = OP.double;
  b.writeDoubleLE(n, 1);
  return b;
}

/** The DUMP payload of `bf`. */
export function encodeBloomPayload(bf: BloomValue): Buffer {
  const id = Buffer.alloc(9);
  id[0] = 0x81;
  id.writeBigUInt64BE(MODULE_ID, 1);
  const parts: Buffer[] = [Buffer.from([RDB_TYPE_MODULE_2]), id];
  parts.push(double(bf.errorRate), uint(bf.expansion), uint(bf.filters.length));
  for (const f of bf.filters) {
    parts.push(uint(f.capacity), double(f.errorRate), uint(f.items), uint(f.m), uint(f.k));
    parts.push(Buffer.from([OP.string]), lenBytes(f.bits.length), Buffer.from(f.bits));
  }
  parts.push(Buffer.from([OP.eof]));
  return sealPayload(parts);
}

/** True when a payload (already verified) carries a module value. */
export function isModulePayload(payload: Buffer): boolean {
  return payload[0] === RDB_TYPE_MODULE_2;
}

/** The bloom filter in a verified module payload; {@link DumpFormatError} for anything else. */
export function decodeBloomPayload(payload: Buffer): BloomValue {
  const r = new Reader(payload.subarray(0, payload.length - 10));
  if (r.byte() !== RDB_TYPE_MODULE_2) throw new DumpFormatError('not a module value');
  if (r.byte() !== 0x81 || r.take(8).readBigUInt64BE(0) !== MODULE_ID)
    throw new DumpFormatError('a module type the engine does not have');
  const op = (want: number): void => {
    if (r.byte() !== want) throw new DumpFormatError('unexpected module field');
  };
  const readUint = (): number => {
    op(OP.uint);
    return r.count();
  };
  const readDouble = (): number => {
    op(OP.double);
    return r.take(8).readDoubleLE(0);
  };
  const errorRate = readDouble();
  const expansion = readUint();
  const count = readUint();
  if (!(errorRate > 0 && errorRate < 1) || expansion > BLOOM_DEFAULTS.maxExpansion || count < 1)
    throw new DumpFormatError('bad bloom header');
  const filters: SubFilter[] = [];
  for (let i = 0; i < count; i++) {
    const capacity = readUint();
    const rate = readDouble();
    const items = readUint();
    const m = readUint();
    const k = readUint();
    op(OP.string);
    const bits = r.bytes();
    if (!(capacity >= 1 && rate > 0 && rate < 1) || items > capacity)
      throw new DumpFormatError('bad sub-filter');
    if (BloomValue.check(capacity, rate) !== null) throw new DumpFormatError('sub-filter too big');
    const f = new SubFilter(capacity, rate);
    if (f.m !== m || f.k !== k || f.bits.length !== bits.length)
      throw new DumpFormatError('bad sub-filter shape');
    f.bits.set(bits);
    f.items = items;
    filters.push(f);
  }
  op(OP.eof);
  if (r.pos !== r.buf.length) throw new DumpFormatError('trailing bytes');
  return BloomValue.fromFilters(errorRate, expansion, filters);
}

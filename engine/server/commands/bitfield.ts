/**
 * BITFIELD and BITFIELD_RO: GET/SET/INCRBY on signed (i1..i64) and unsigned (u1..u63) integers at
 * any bit offset (`#n` = n × width), with OVERFLOW WRAP (default), SAT or FAIL applying to the
 * following SET/INCRBY, exactly as Valkey 8: replies in order, a failed operation replies null and
 * changes nothing, the key is created (zero-padded) only when a write operation is present.
 */
import { KEEP_TTL } from '../../engine-state.ts';
import { Kind } from '../../keyspace.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { slotBytes, stringSlot } from './string-helpers.ts';

const BAD_TYPE =
  'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';

type Overflow = 'wrap' | 'sat' | 'fail';

interface Op {
  kind: 'get' | 'set' | 'incrby';
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: Overflow;
}

function parseType(s: string): { signed: boolean; bits: number } {
  const m = /^([iu])(\d+)$/i.exec(s);
  if (m === null) throw new ReplyError(BAD_TYPE);
  const signed = m[1]!.toLowerCase() === 'i';
  const bits = Number(m[2]);
  if (bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) throw new ReplyError(BAD_TYPE);
  return { signed, bits };
}

function parseOffset(s: string, bits: number): number {
  const mul = s.startsWith('#');
  const n = parseI64(mul ? s.slice(1) : s);
  if (n === null || n < 0n) throw new ReplyError(BAD_OFFSET);
  const offset = mul ? n * BigInt(bits) : n;
  if (offset >= 2n ** 32n) throw new ReplyError(BAD_OFFSET);
  return Number(offset);
}

function parseOps(a: string[], readOnly: boolean): Op[] {
  const ops: Op[] = [];
  let overflow: Overflow = 'wrap';
  for (let i = 2; i < a.length; i++) {
    const sub = a[i]!.toLowerCase();
    const left = a.length - i - 1;
    if (sub === 'get' && left >= 2) {
      const t = parseType(a[i + 1]!);
      ops.push({ kind: 'get', ...t, offset: parseOffset(a[i + 2]!, t.bits), value: 0n, overflow });
      i += 2;
    } else if ((sub === 'set' || sub === 'incrby') && left >= 3) {
      const t = parseType(a[i + 1]!);
      const offset = parseOffset(a[i + 2]!, t.bits);
      if (readOnly) throw new ReplyError('ERR BITFIELD_RO only supports the GET subcommand');
      const value = parseI64(a[i + 3]!);
      if (value === null) throw new ReplyError(Err.notInteger);
      ops.push({ kind: sub, ...t, offset, value, overflow });
      i += 3;
    } else if (sub === 'overflow' && left >= 1) {
      const o = a[i + 1]!.toLowerCase();
      if (o !== 'wrap' && o !== 'sat' && o !== 'fail')
        throw new ReplyError('ERR Invalid OVERFLOW type specified');
      overflow = o;
      i += 1;
    } else throw new ReplyError(Err.syntax);
  }
  return ops;
}

function read(buf: Buffer, offset: number, bits: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    // Offsets reach 2^32 + 63: no 32-bit shifts here.
    const byte = buf[Math.floor(bit / 8)] ?? 0;
    v = (v << 1n) | BigInt((byte >> (7 - (bit % 8))) & 1);
  }
  if (signed && bits > 0 && v >> BigInt(bits - 1) === 1n) v -= 1n << BigInt(bits);
  return v;
}

function write(buf: Buffer, offset: number, bits: number, value: bigint): void {
  const mask = (1n << BigInt(bits)) - 1n;
  let v = value & mask;
  for (let i = bits - 1; i >= 0; i--) {
    const bit = offset + i;
    const byteAt = Math.floor(bit / 8);
    const m = 1 << (7 - (bit % 8));
    buf[byteAt] = (v & 1n) === 1n ? buf[byteAt]! | m : buf[byteAt]! & ~m;
    v >>= 1n;
  }
}

/** Applies the overflow policy; null when FAIL refuses. */
function applyOverflow(v: bigint, bits: number, signed: boolean, overflow: Overflow): bigint | null {
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (v >= min && v <= max) return v;
  if (overflow === 'fail') return null;
  if (overflow === 'sat') return v < min ? min : max;
  const span = 1n << BigInt(bits);
  let w = ((v % span) + span) % span;
  if (signed && w > max) w -= span;
  return w;
}

function bitfield(readOnly: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    const ops = parseOps(a, readOnly);
    const key = a[1]!;
    const slot = stringSlot(ctx, key);
    const writes = ops.some((o) => o.kind !== 'get');
    const current = slot < 0 ? '' : slotBytes(ctx, slot);
    let need = current.length;
    if (writes)
      for (const o of ops) if (o.kind !== 'get') need = Math.max(need, Math.ceil((o.offset + o.bits) / 8));
    if (need > ctx.server.protoMaxBulkLen)
      throw new ReplyError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    // Growth beyond the whole maxmemory is refused rather than allocated (the heap must not run out).
    if (ctx.core.maxmemory > 0 && need - current.length > ctx.core.maxmemory)
      throw new ReplyError("OOM command not allowed when used memory > 'maxmemory'.");
    const buf = Buffer.alloc(need);
    buf.write(current, 'latin1');
    ctx.w.array(ops.length);
    let changed = false;
    for (const o of ops) {
      const old = read(buf, o.offset, o.bits, o.signed);
      if (o.kind === 'get') {
        ctx.w.int(old);
        continue;
      }
      const next = applyOverflow(o.kind === 'set' ? o.value : old + o.value, o.bits, o.signed, o.overflow);
      if (next === null) {
        ctx.w.nil();
        continue;
      }
      write(buf, o.offset, o.bits, next);
      changed = true;
      ctx.w.int(o.kind === 'set' ? old : next);
    }
    if (writes && (changed || need > current.length)) {
      ctx.core.ensureMemory();
      ctx.core.writeString(key, Kind.Bytes, buf.toString('latin1'), KEEP_TTL, ctx.now);
    }
  };
}

const one = [1, 1, 1] as const;

/** The BITFIELD command specs. */
export const bitfieldCommands: CommandSpec[] = [
  command('bitfield', -2, ['write', 'denyoom'], one, bitfield(false)),
  command('bitfield_ro', -2, ['readonly', 'fast'], one, bitfield(true)),
];

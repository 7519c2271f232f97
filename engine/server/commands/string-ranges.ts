/**
 * Byte- and bit-level string commands: SETRANGE GETRANGE SUBSTR SETBIT GETBIT BITCOUNT BITPOS BITOP
 * LCS, with Valkey 8's limits and errors (SETRANGE past proto-max-bulk-len, bit offsets at or past
 * 2^32, LCS whose transient table would exceed proto-max-bulk-len). A write that would grow a value
 * by more than the whole maxmemory is refused with OOM instead of exhausting the heap.
 */
import { KEEP_TTL } from '../../engine-state.ts';
import { wrongTypeError } from '../../errors.ts';
import { isContainerKind, Kind } from '../../keyspace.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  intArg,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { slotBytes, stringSlot } from './string-helpers.ts';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** The raw bytes at `key` ('' when absent); WRONGTYPE for other types. */
function bytesOf(ctx: CommandContext, key: string): { slot: number; bytes: string } {
  const slot = stringSlot(ctx, key);
  return { slot, bytes: slot < 0 ? '' : slotBytes(ctx, slot) };
}

function checkGrowth(ctx: CommandContext, from: number, to: number): void {
  if (to > ctx.server.protoMaxBulkLen)
    throw new ReplyError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  if (ctx.core.maxmemory > 0 && to - from > ctx.core.maxmemory) throw new ReplyError(OOM);
}

function store(ctx: CommandContext, key: string, bytes: string): void {
  ctx.core.ensureMemory();
  ctx.core.writeString(key, Kind.Bytes, bytes, KEEP_TTL, ctx.now);
}

function setrange(ctx: CommandContext, a: string[]): void {
  const offset = parseI64(a[2]!);
  if (offset === null) throw new ReplyError(Err.notInteger);
  if (offset < 0n) throw new ReplyError('ERR offset is out of range');
  const value = a[3]!;
  const { slot, bytes } = bytesOf(ctx, a[1]!);
  if (value.length === 0) {
    ctx.w.int(bytes.length);
    return;
  }
  const end = Number(offset) + value.length;
  checkGrowth(ctx, bytes.length, Math.max(end, bytes.length));
  const off = Number(offset);
  const padded = bytes.length >= off ? bytes : bytes + '\0'.repeat(off - bytes.length);
  const next = padded.slice(0, off) + value + padded.slice(end);
  void slot;
  store(ctx, a[1]!, next);
  ctx.w.int(next.length);
}

/** Normalises Valkey's start/end pair over `len` to an inclusive [start, end], or null when empty. */
function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0 && end < 0 && start > end) return null;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return null;
  return [start, end];
}

function getrange(ctx: CommandContext, a: string[]): void {
  const start = intArg(a[2]!);
  const end = intArg(a[3]!);
  const { bytes } = bytesOf(ctx, a[1]!);
  const r = clampRange(start, end, bytes.length);
  ctx.w.bulk(r === null ? '' : bytes.slice(r[0], r[1] + 1));
}

const BIT_OFFSET = 'ERR bit offset is not an integer or out of range';

function bitOffset(s: string): number {
  const n = parseI64(s);
  if (n === null || n < 0n || n >= 2n ** 32n) throw new ReplyError(BIT_OFFSET);
  return Number(n);
}

function setbit(ctx: CommandContext, a: string[]): void {
  const offset = bitOffset(a[2]!);
  const on = a[3];
  if (on !== '0' && on !== '1') throw new ReplyError('ERR bit is not an integer or out of range');
  const { bytes } = bytesOf(ctx, a[1]!);
  const byte = offset >>> 3;
  const need = byte + 1;
  checkGrowth(ctx, bytes.length, Math.max(need, bytes.length));
  const buf = Buffer.alloc(Math.max(need, bytes.length));
  buf.write(bytes, 'latin1');
  const mask = 1 << (7 - (offset & 7));
  const old = (buf[byte]! & mask) !== 0 ? 1 : 0;
  if (on === '1') buf[byte] = buf[byte]! | mask;
  else buf[byte] = buf[byte]! & ~mask;
  store(ctx, a[1]!, buf.toString('latin1'));
  ctx.w.int(old);
}

function getbit(ctx: CommandContext, a: string[]): void {
  const offset = bitOffset(a[2]!);
  const { bytes } = bytesOf(ctx, a[1]!);
  const byte = offset >>> 3;
  ctx.w.int(byte < bytes.length && (bytes.charCodeAt(byte) & (1 << (7 - (offset & 7)))) !== 0 ? 1 : 0);
}

function popcount(b: number): number {
  b -= (b >> 1) & 0x55;
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** Parses `[start end [BYTE|BIT]]` from a[from]; returns null when absent. */
function parseSpan(a: string[], from: number): { start: number; end: number; bit: boolean } | null {
  if (a.length === from) return null;
  // Valkey's order: start, then the unit, then end; a missing end is -1 (to the end of the string).
  const start = intArg(a[from]!);
  let bit = false;
  if (a.length === from + 3) {
    const unit = a[from + 2]!.toLowerCase();
    if (unit === 'bit') bit = true;
    else if (unit !== 'byte') throw new ReplyError(Err.syntax);
  }
  const end = a.length > from + 1 ? intArg(a[from + 1]!) : -1;
  return { start, end, bit };
}

function bitcount(ctx: CommandContext, a: string[]): void {
  if (a.length > 5) throw new ReplyError(Err.syntax);
  const span = parseSpan(a, 2);
  const { bytes } = bytesOf(ctx, a[1]!);
  let from = 0;
  let to = bytes.length * 8 - 1;
  if (span !== null) {
    const r = clampRange(span.start, span.end, span.bit ? bytes.length * 8 : bytes.length);
    if (r === null) {
      ctx.w.int(0);
      return;
    }
    [from, to] = span.bit ? r : [r[0] * 8, r[1] * 8 + 7];
  }
  let n = 0;
  for (let bit = from; bit <= to; ) {
    if ((bit & 7) === 0 && bit + 7 <= to) {
      n += popcount(bytes.charCodeAt(bit >>> 3));
      bit += 8;
    } else {
      if (bytes.charCodeAt(bit >>> 3) & (1 << (7 - (bit & 7)))) n++;
      bit++;
    }
  }
  ctx.w.int(n);
}

function bitpos(ctx: CommandContext, a: string[]): void {
  const bitArg = parseI64(a[2]!);
  if (bitArg === null) throw new ReplyError(Err.notInteger);
  if (bitArg !== 0n && bitArg !== 1n) throw new ReplyError('ERR The bit argument must be 1 or 0.');
  if (a.length > 6) throw new ReplyError(Err.syntax);
  const target = Number(bitArg);
  let start = 0;
  let end = -1;
  let bitMode = false;
  const endGiven = a.length >= 5;
  if (a.length >= 4) start = intArg(a[3]!);
  if (a.length >= 5) end = intArg(a[4]!);
  if (a.length === 6) {
    const unit = a[5]!.toLowerCase();
    if (unit === 'bit') bitMode = true;
    else if (unit !== 'byte') throw new ReplyError(Err.syntax);
  }
  const { slot, bytes } = bytesOf(ctx, a[1]!);
  if (slot < 0) {
    ctx.w.int(target === 1 ? -1 : 0);
    return;
  }
  const total = bitMode ? bytes.length * 8 : bytes.length;
  const r = clampRange(start, end, total);
  if (r === null) {
    ctx.w.int(-1);
    return;
  }
  const [from, to] = bitMode ? r : [r[0] * 8, r[1] * 8 + 7];
  for (let bit = from; bit <= to; bit++) {
    const v = (bytes.charCodeAt(bit >>> 3) >> (7 - (bit & 7))) & 1;
    if (v === target) {
      ctx.w.int(bit);
      return;
    }
  }
  // Looking for a clear bit with no end given: the first bit past the string counts as clear.
  ctx.w.int(target === 0 && !endGiven ? to + 1 : -1);
}

function bitop(ctx: CommandContext, a: string[]): void {
  const op = a[1]!.toLowerCase();
  if (!['and', 'or', 'xor', 'not'].includes(op)) throw new ReplyError(Err.syntax);
  const sources = a.slice(3);
  if (op === 'not' && sources.length !== 1)
    throw new ReplyError('ERR BITOP NOT must be called with a single source key.');
  const inputs = sources.map((k) => {
    const slot = ctx.core.keyspace.findLive(k, ctx.now);
    if (slot >= 0 && isContainerKind(ctx.core.keyspace.kinds[slot]!)) throw wrongTypeError();
    return Buffer.from(slot < 0 ? '' : slotBytes(ctx, slot), 'latin1');
  });
  const len = Math.max(0, ...inputs.map((b) => b.length));
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    if (op === 'not') {
      out[i] = ~inputs[0]![i]! & 0xff;
      continue;
    }
    let v = inputs[0]![i] ?? 0;
    for (let k = 1; k < inputs.length; k++) {
      const x = inputs[k]![i] ?? 0;
      v = op === 'and' ? v & x : op === 'or' ? v | x : v ^ x;
    }
    out[i] = v;
  }
  const dest = a[2]!;
  if (len === 0) ctx.core.deleteKey(dest, ctx.now);
  else {
    checkGrowth(ctx, 0, len);
    ctx.core.ensureMemory();
    ctx.core.writeString(dest, Kind.Bytes, out.toString('latin1'), 0, ctx.now);
  }
  ctx.w.int(len);
}

function lcs(ctx: CommandContext, a: string[]): void {
  const read = (k: string): string => {
    const slot = ctx.core.keyspace.findLive(k, ctx.now);
    if (slot < 0) return '';
    if (isContainerKind(ctx.core.keyspace.kinds[slot]!))
      throw new ReplyError('ERR The specified keys must contain string values');
    return slotBytes(ctx, slot);
  };
  const x = read(a[1]!);
  const y = read(a[2]!);
  let getLen = false;
  let getIdx = false;
  let withLen = false;
  let minLen = 0;
  for (let i = 3; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withLen = true;
    else if (opt === 'minmatchlen' && i + 1 < a.length) {
      const n = intArg(a[++i]!);
      minLen = Math.max(0, n);
    } else throw new ReplyError(Err.syntax);
  }
  if (getIdx && getLen)
    throw new ReplyError('ERR If you want both the length and indexes, please just use IDX.');
  const alen = x.length;
  const blen = y.length;
  if ((alen + 1) * (blen + 1) * 4 > ctx.server.protoMaxBulkLen)
    throw new ReplyError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  const w = blen + 1;
  const dp = new Uint32Array((alen + 1) * w);
  for (let i = 1; i <= alen; i++)
    for (let j = 1; j <= blen; j++)
      dp[i * w + j] =
        x.charCodeAt(i - 1) === y.charCodeAt(j - 1)
          ? dp[(i - 1) * w + j - 1]! + 1
          : Math.max(dp[(i - 1) * w + j]!, dp[i * w + j - 1]!);
  const total = dp[alen * w + blen]!;
  if (getLen) {
    ctx.w.int(total);
    return;
  }
  const chars: string[] = [];
  const matches: [number, number, number, number][] = [];
  let i = alen;
  let j = blen;
  let range: [number, number, number, number] | null = null;
  const emit = (): void => {
    if (range !== null && range[1] - range[0] + 1 >= minLen) matches.push(range);
    range = null;
  };
  while (i > 0 && j > 0) {
    if (x.charCodeAt(i - 1) === y.charCodeAt(j - 1)) {
      chars.push(x[i - 1]!);
      if (range !== null && range[0] === i && range[2] === j) {
        range[0] = i - 1;
        range[2] = j - 1;
      } else {
        emit();
        range = [i - 1, i - 1, j - 1, j - 1];
      }
      i--;
      j--;
    } else if (dp[(i - 1) * w + j]! > dp[i * w + j - 1]!) i--;
    else j--;
  }
  emit();
  if (!getIdx) {
    ctx.w.bulk(chars.reverse().join(''));
    return;
  }
  ctx.w.map(2);
  ctx.w.bulk('matches');
  ctx.w.array(matches.length);
  for (const [a0, a1, b0, b1] of matches) {
    ctx.w.array(withLen ? 3 : 2);
    ctx.w.array(2);
    ctx.w.int(a0);
    ctx.w.int(a1);
    ctx.w.array(2);
    ctx.w.int(b0);
    ctx.w.int(b1);
    if (withLen) ctx.w.int(a1 - a0 + 1);
  }
  ctx.w.bulk('len');
  ctx.w.int(total);
}

const one = [1, 1, 1] as const;

/** The byte/bit string command specs. */
export const stringRangeCommands: CommandSpec[] = [
  command('setrange', 4, ['write', 'denyoom'], one, setrange),
  command('getrange', 4, ['readonly'], one, getrange),
  command('substr', 4, ['readonly'], one, getrange),
  command('setbit', 4, ['write', 'denyoom'], one, setbit),
  command('getbit', 3, ['readonly', 'fast'], one, getbit),
  command('bitcount', -2, ['readonly'], one, bitcount),
  command('bitpos', -3, ['readonly'], one, bitpos),
  command('bitop', -4, ['write', 'denyoom'], [2, -1, 1], bitop),
  command('lcs', -3, ['readonly'], [1, 1, 1], lcs),
];

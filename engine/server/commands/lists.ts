/**
 * List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS
 * LMOVE RPOPLPUSH, with Valkey's replies and errors. A list is an array of latin1 strings; an emptied
 * list is deleted.
 */
import { Kind } from '../../keyspace.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  intArg,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import {
  findCollection,
  finishWrite,
  ListValue,
  memberBytes,
  noteListSize,
  openCollection,
  readCollection,
  valueAt,
} from './collections.ts';

const read = (ctx: CommandContext, key: string): ListValue | null =>
  readCollection<ListValue>(ctx, key, Kind.List);

/** Pushes onto the list at `key` (creating it unless `mustExist`); returns the new length (0 when absent and mustExist). */
export function pushList(
  ctx: CommandContext,
  key: string,
  values: string[],
  left: boolean,
  mustExist: boolean,
): number {
  if (mustExist && findCollection(ctx, key, Kind.List) < 0) return 0;
  const slot = openCollection(ctx, key, Kind.List, () => new ListValue());
  const v = valueAt<ListValue>(ctx, slot);
  for (const s of values) {
    if (left) v.unshift(s);
    else v.push(s);
    v.bytes += memberBytes(s);
  }
  noteListSize(v);
  finishWrite(ctx, slot, v.length, true);
  return v.length;
}

function push(left: boolean, mustExist: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    ctx.w.int(pushList(ctx, a[1]!, a.slice(2), left, mustExist));
  };
}

/** Pops up to `count` elements from the list at `key` (null when absent). */
export function popList(ctx: CommandContext, key: string, left: boolean, count: number): string[] | null {
  const slot = findCollection(ctx, key, Kind.List);
  if (slot < 0) return null;
  const v = valueAt<ListValue>(ctx, slot);
  const n = Math.min(count, v.length);
  const out = left ? v.shiftMany(n) : v.popMany(n);
  for (const s of out) v.bytes -= memberBytes(s);
  noteListSize(v);
  finishWrite(ctx, slot, v.length, n > 0);
  return out;
}

function pop(left: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    if (a.length > 3) throw new ReplyError(Err.arity(left ? 'lpop' : 'rpop'));
    if (a.length === 2) {
      const out = popList(ctx, a[1]!, left, 1);
      if (out === null || out.length === 0) ctx.w.nil();
      else ctx.w.bulk(out[0]!);
      return;
    }
    const n = parseI64(a[2]!);
    if (n === null || n < 0n) throw new ReplyError('ERR value is out of range, must be positive');
    const out = popList(ctx, a[1]!, left, Number(n));
    if (out === null) {
      ctx.w.nilArray();
      return;
    }
    ctx.w.array(out.length);
    for (const s of out) ctx.w.bulk(s);
  };
}

function llen(ctx: CommandContext, a: string[]): void {
  ctx.w.int(read(ctx, a[1]!)?.length ?? 0);
}

/** Normalises a start/stop pair to [from, to) over `len`. */
function span(start: number, stop: number, len: number): [number, number] {
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return [0, 0];
  if (stop >= len) stop = len - 1;
  return [start, stop + 1];
}

function lrange(ctx: CommandContext, a: string[]): void {
  const start = intArg(a[2]!);
  const stop = intArg(a[3]!);
  const v = read(ctx, a[1]!);
  const [from, to] = span(start, stop, v?.length ?? 0);
  ctx.w.array(to - from);
  for (let i = from; i < to; i++) ctx.w.bulk(v!.at(i)!);
}

function lindex(ctx: CommandContext, a: string[]): void {
  // Valkey looks the key up before parsing the index.
  const v = read(ctx, a[1]!);
  if (!v) {
    ctx.w.nil();
    return;
  }
  let i = intArg(a[2]!);
  if (i < 0) i += v.length;
  const s = v.at(i);
  if (i < 0 || s === undefined) ctx.w.nil();
  else ctx.w.bulk(s);
}

function lset(ctx: CommandContext, a: string[]): void {
  const slot = findCollection(ctx, a[1]!, Kind.List);
  if (slot < 0) throw new ReplyError(Err.noSuchKey);
  const raw = parseI64(a[2]!);
  if (raw === null) throw new ReplyError(Err.notInteger);
  const v = valueAt<ListValue>(ctx, slot);
  // Valkey 8 seeks a listpack-encoded list with a 32-bit index, so a huge index wraps (LSET l
  // 9223372036854775807 x sets the last element); reproduced for byte-identical replies.
  let i = Number(v.big ? raw : BigInt.asIntN(32, raw));
  if (i < 0) i += v.items.length;
  if (i < 0 || i >= v.items.length) throw new ReplyError('ERR index out of range');
  v.bytes += memberBytes(a[3]!) - memberBytes(v.items[i]!);
  v.items[i] = a[3]!;
  noteListSize(v);
  ctx.core.ensureMemory();
  finishWrite(ctx, slot, v.items.length, true);
  ctx.w.simple('OK');
}

function linsert(ctx: CommandContext, a: string[]): void {
  const where = a[2]!.toLowerCase();
  if (where !== 'before' && where !== 'after') throw new ReplyError(Err.syntax);
  const slot = findCollection(ctx, a[1]!, Kind.List);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  const v = valueAt<ListValue>(ctx, slot);
  const at = v.items.indexOf(a[3]!);
  if (at < 0) {
    ctx.w.int(-1);
    return;
  }
  ctx.core.ensureMemory();
  v.items.splice(where === 'before' ? at : at + 1, 0, a[4]!);
  v.bytes += memberBytes(a[4]!);
  noteListSize(v);
  finishWrite(ctx, slot, v.items.length, true);
  ctx.w.int(v.items.length);
}

function lrem(ctx: CommandContext, a: string[]): void {
  const count = intArg(a[2]!);
  if (count === -(2 ** 63))
    throw new ReplyError(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  const slot = findCollection(ctx, a[1]!, Kind.List);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  const v = valueAt<ListValue>(ctx, slot);
  const target = a[3]!;
  const limit = count === 0 ? Number.POSITIVE_INFINITY : Math.abs(count);
  let removed = 0;
  const items = v.items;
  if (count >= 0) {
    const kept: string[] = [];
    for (const s of items) {
      if (s === target && removed < limit) removed++;
      else kept.push(s);
    }
    v.items = kept;
  } else {
    const kept: string[] = [];
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i] === target && removed < limit) removed++;
      else kept.push(items[i]!);
    }
    v.items = kept.reverse();
  }
  if (removed > 0) {
    v.resize();
    noteListSize(v);
  }
  finishWrite(ctx, slot, v.items.length, removed > 0);
  ctx.w.int(removed);
}

function ltrim(ctx: CommandContext, a: string[]): void {
  const start = intArg(a[2]!);
  const stop = intArg(a[3]!);
  const slot = findCollection(ctx, a[1]!, Kind.List);
  if (slot >= 0) {
    const v = valueAt<ListValue>(ctx, slot);
    const [from, to] = span(start, stop, v.items.length);
    const before = v.items.length;
    v.items = v.items.slice(from, to);
    v.resize();
    noteListSize(v);
    finishWrite(ctx, slot, v.items.length, v.items.length !== before);
  }
  ctx.w.simple('OK');
}

function lpos(ctx: CommandContext, a: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let i = 3; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (i + 1 >= a.length) throw new ReplyError(Err.syntax);
    if (opt === 'rank') {
      const n = parseI64(a[++i]!);
      if (n === null) throw new ReplyError(Err.notInteger);
      if (n === -(2n ** 63n)) throw new ReplyError('ERR value is out of range');
      if (n === 0n)
        throw new ReplyError(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      rank = Number(n);
    } else if (opt === 'count') {
      const n = parseI64(a[++i]!);
      if (n === null || n < 0n) throw new ReplyError("ERR COUNT can't be negative");
      count = Number(n);
    } else if (opt === 'maxlen') {
      const n = parseI64(a[++i]!);
      if (n === null || n < 0n) throw new ReplyError("ERR MAXLEN can't be negative");
      maxlen = Number(n);
    } else throw new ReplyError(Err.syntax);
  }
  const v = read(ctx, a[1]!);
  const items = v?.items ?? [];
  const found: number[] = [];
  const want = count < 0 ? 1 : count === 0 ? Number.POSITIVE_INFINITY : count;
  let skip = Math.abs(rank) - 1;
  const len = items.length;
  for (let step = 0; step < len && (maxlen === 0 || step < maxlen) && found.length < want; step++) {
    const i = rank > 0 ? step : len - 1 - step;
    if (items[i] !== a[2]) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    found.push(i);
  }
  if (count < 0) {
    if (found.length === 0) ctx.w.nil();
    else ctx.w.int(found[0]!);
    return;
  }
  ctx.w.array(found.length);
  for (const i of found) ctx.w.int(i);
}

function side(s: string): boolean {
  const l = s.toLowerCase();
  if (l === 'left') return true;
  if (l === 'right') return false;
  throw new ReplyError(Err.syntax);
}

/** Moves one element between lists (LMOVE/RPOPLPUSH/BLMOVE); null when the source is empty. */
export function moveList(
  ctx: CommandContext,
  src: string,
  dst: string,
  fromLeft: boolean,
  toLeft: boolean,
): string | null {
  const s = findCollection(ctx, src, Kind.List);
  findCollection(ctx, dst, Kind.List);
  if (s < 0) return null;
  const out = popList(ctx, src, fromLeft, 1)!;
  pushList(ctx, dst, out, toLeft, false);
  return out[0]!;
}

function lmove(ctx: CommandContext, a: string[]): void {
  const fromLeft = side(a[3]!);
  const toLeft = side(a[4]!);
  const v = moveList(ctx, a[1]!, a[2]!, fromLeft, toLeft);
  if (v === null) ctx.w.nil();
  else ctx.w.bulk(v);
}

function rpoplpush(ctx: CommandContext, a: string[]): void {
  const v = moveList(ctx, a[1]!, a[2]!, false, true);
  if (v === null) ctx.w.nil();
  else ctx.w.bulk(v);
}

const one = [1, 1, 1] as const;

/** The list command specs. */
export const listCommands: CommandSpec[] = [
  command('lpush', -3, ['write', 'denyoom', 'fast'], one, push(true, false)),
  command('rpush', -3, ['write', 'denyoom', 'fast'], one, push(false, false)),
  command('lpushx', -3, ['write', 'denyoom', 'fast'], one, push(true, true)),
  command('rpushx', -3, ['write', 'denyoom', 'fast'], one, push(false, true)),
  command('lpop', -2, ['write', 'fast'], one, pop(true)),
  command('rpop', -2, ['write', 'fast'], one, pop(false)),
  command('llen', 2, ['readonly', 'fast'], one, llen),
  command('lrange', 4, ['readonly'], one, lrange),
  command('lindex', 3, ['readonly'], one, lindex),
  command('lset', 4, ['write', 'denyoom'], one, lset),
  command('linsert', 5, ['write', 'denyoom'], one, linsert),
  command('lrem', 4, ['write'], one, lrem),
  command('ltrim', 4, ['write'], one, ltrim),
  command('lpos', -3, ['readonly'], one, lpos),
  command('lmove', 5, ['write', 'denyoom'], [1, 2, 1], lmove),
  command('rpoplpush', 3, ['write', 'denyoom'], [1, 2, 1], rpoplpush),
];

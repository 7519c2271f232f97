/**
 * Hash commands for session stores: HSET HMSET HGET HMGET HGETALL HDEL HEXISTS HLEN HINCRBY HKEYS
 * HVALS HSCAN. A hash is a packed listpack string or a `Map` of latin1 byte strings in one slot
 * (hash-value.ts); an emptied hash is deleted (as in Valkey). HSCAN returns the whole hash with
 * cursor 0, as Valkey does for small hashes.
 */
import { wrongTypeError } from '../../errors.ts';
import { globMatch } from '../../glob.ts';
import { Kind } from '../../keyspace.ts';
import { lruAccess } from '../access-tracking.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  inI64,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { scanPage, writeScanPage } from './collection-scan.ts';
import { limitsOf } from './collections.ts';
import {
  deleteFields,
  type HashData,
  hashGet,
  hashHas,
  hashPairs,
  hashSize,
  setFields,
} from './hash-value.ts';
import { parseCursor, parseScanOptions, writeFinalScanPage } from './keys.ts';

/** The hash at `key` (null when absent); throws WRONGTYPE on a string. */
function readHash(ctx: CommandContext, key: string): HashData | null {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(key, ctx.now);
  if (slot < 0) return null;
  if (ks.kinds[slot] !== Kind.Hash) throw wrongTypeError();
  if (ks.tracking !== 0) lruAccess(ctx, slot);
  return ks.valueAt(slot) as HashData;
}

/** The slot of the hash at `key`, creating an empty one when absent. */
function writeHash(ctx: CommandContext, key: string): number {
  const ks = ctx.core.keyspace;
  const slot = ks.find(key, ctx.now);
  if (slot >= 0 && ks.kinds[slot] === Kind.Hash) return slot;
  if (slot >= 0 && ks.kinds[slot] !== Kind.Tombstone) throw wrongTypeError();
  ctx.core.ensureMemory();
  // A new hash starts as an empty listpack; setFields converts it when the write needs to.
  if (slot >= 0) {
    ks.replace(slot, Kind.Hash, '');
    ks.setExpire(slot, 0);
    return slot;
  }
  return ks.insert(key, Kind.Hash, '', 0);
}

function hset(name: 'hset' | 'hmset') {
  return (ctx: CommandContext, args: string[]): void => {
    if (args.length % 2 === 1) throw new ReplyError(Err.arity(name));
    const slot = writeHash(ctx, args[1]!);
    const ks = ctx.core.keyspace;
    const added = setFields(ks, slot, limitsOf(ctx), args, 2);
    ks.recomputeSize(slot);
    ctx.core.touched(args[1]!);
    if (name === 'hset') ctx.w.int(added);
    else ctx.w.simple('OK');
  };
}

function hget(ctx: CommandContext, args: string[]): void {
  const h = readHash(ctx, args[1]!);
  const v = h === null ? undefined : hashGet(h, args[2]!);
  if (v === undefined) ctx.w.nil();
  else ctx.w.bulk(v);
}

function hmget(ctx: CommandContext, args: string[]): void {
  const h = readHash(ctx, args[1]!);
  ctx.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const v = h === null ? undefined : hashGet(h, args[i]!);
    if (v === undefined) ctx.w.nil();
    else ctx.w.bulk(v);
  }
}

function hgetall(ctx: CommandContext, args: string[]): void {
  const h = readHash(ctx, args[1]!);
  const pairs = h === null ? [] : hashPairs(h);
  ctx.w.map(pairs.length / 2);
  for (const s of pairs) ctx.w.bulk(s);
}

function hdel(ctx: CommandContext, args: string[]): void {
  const key = args[1]!;
  if (readHash(ctx, key) === null) {
    ctx.w.int(0);
    return;
  }
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(key, ctx.now);
  const n = deleteFields(ks, slot, args, 2);
  if (hashSize(ks.valueAt(slot) as HashData) === 0) ctx.core.deleteSlot(slot);
  else if (n > 0) {
    ks.recomputeSize(slot);
    ctx.core.touched(key);
  }
  ctx.w.int(n);
}

function hexists(ctx: CommandContext, args: string[]): void {
  const h = readHash(ctx, args[1]!);
  ctx.w.int(h !== null && hashHas(h, args[2]!) ? 1 : 0);
}

function hlen(ctx: CommandContext, args: string[]): void {
  const h = readHash(ctx, args[1]!);
  ctx.w.int(h === null ? 0 : hashSize(h));
}

function hincrby(ctx: CommandContext, args: string[]): void {
  const by = parseI64(args[3]!);
  if (by === null) throw new ReplyError(Err.notInteger);
  const key = args[1]!;
  const existing = readHash(ctx, key);
  const currentText = existing === null ? undefined : hashGet(existing, args[2]!);
  let current = 0n;
  if (currentText !== undefined) {
    const n = parseI64(currentText);
    if (n === null) throw new ReplyError(Err.hashNotInteger);
    current = n;
  }
  const next = current + by;
  if (!inI64(next)) throw new ReplyError(Err.overflow);
  const slot = writeHash(ctx, key);
  const ks = ctx.core.keyspace;
  setFields(ks, slot, limitsOf(ctx), [args[2]!, next.toString()], 0);
  ks.recomputeSize(slot);
  ctx.core.touched(key);
  ctx.w.int(next);
}

function hkeysOrVals(values: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    const h = readHash(ctx, args[1]!);
    const pairs = h === null ? [] : hashPairs(h);
    ctx.w.array(pairs.length / 2);
    for (let i = values ? 1 : 0; i < pairs.length; i += 2) ctx.w.bulk(pairs[i]!);
  };
}

function hscan(ctx: CommandContext, args: string[]): void {
  const cursor = parseCursor(args[2]!);
  const o = parseScanOptions(args, 3, false);
  const h = readHash(ctx, args[1]!);
  const out: string[] = [];
  if (h !== null && typeof h !== 'string') {
    // Valkey pages only a hashtable hash; a listpack hash comes whole, with cursor 0.
    const take = ([f, v]: [string, string]) => {
      if (o.match !== null && !globMatch(o.match, f)) return;
      out.push(f);
      if (!o.noValues) out.push(v);
    };
    writeScanPage(ctx, scanPage({ container: h, iterate: () => h.entries() }, cursor, o.count, take), out);
    return;
  }
  const pairs = h === null ? [] : hashPairs(h);
  for (let i = 0; i < pairs.length; i += 2) {
    const f = pairs[i]!;
    if (o.match !== null && !globMatch(o.match, f)) continue;
    out.push(f);
    if (!o.noValues) out.push(pairs[i + 1]!);
  }
  writeFinalScanPage(ctx, out);
}

const one = [1, 1, 1] as const;

/** The hash command specs. */
export const hashCommands: CommandSpec[] = [
  command('hset', -4, ['write', 'denyoom', 'fast'], one, hset('hset')),
  command('hmset', -4, ['write', 'denyoom', 'fast'], one, hset('hmset')),
  command('hget', 3, ['readonly', 'fast'], one, hget),
  command('hmget', -3, ['readonly', 'fast'], one, hmget),
  command('hgetall', 2, ['readonly'], one, hgetall),
  command('hdel', -3, ['write', 'fast'], one, hdel),
  command('hexists', 3, ['readonly', 'fast'], one, hexists),
  command('hlen', 2, ['readonly', 'fast'], one, hlen),
  command('hincrby', 4, ['write', 'denyoom', 'fast'], one, hincrby),
  command('hkeys', 2, ['readonly'], one, hkeysOrVals(false)),
  command('hvals', 2, ['readonly'], one, hkeysOrVals(true)),
  command('hscan', -3, ['readonly'], one, hscan),
];

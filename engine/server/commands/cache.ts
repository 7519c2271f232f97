/**
 * The CACHE.* command family: the engine's native versioned writes, tombstones, leases and lock keys
 * over the protocol, so the remote-engine target behaves exactly like the embedded one. Versions are
 * opaque byte strings compared in byte order (the cdc-cache adapters send `versionSortKey` strings).
 * Replies are simple strings naming the outcome, integers for counts/booleans; see engine/README.md.
 */
import { wrongTypeError } from '../../errors.ts';
import { KIND_BITS, KIND_MASK, Kind } from '../../keyspace.ts';
import * as locks from '../../locks.ts';
import * as soft from '../../soft-invalidation.ts';
import type { TagEpochs } from '../../tags.ts';
import * as versioned from '../../versioned-writes.ts';
import { lruAccess } from '../access-tracking.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';

/** A non-negative millisecond argument. */
function msArg(s: string): number {
  const n = parseI64(s);
  if (n === null || n < 0n) throw new ReplyError(Err.notInteger);
  return Number(n);
}

function refresh(ctx: CommandContext, a: string[]): void {
  const outcome = versioned.refreshIfNewer(ctx.core, a[1]!, Kind.Bytes, a[2]!, msArg(a[3]!), a[4]!, ctx.now);
  ctx.w.simple(outcome);
}

function invalidate(ctx: CommandContext, a: string[]): void {
  const ttl = a.length > 3 ? msArg(a[3]!) : ctx.engine.tombstoneTtlMs;
  ctx.w.simple(versioned.invalidate(ctx.core, a[1]!, a[2]!, ttl, ctx.now));
}

function invalidatePrefix(ctx: CommandContext, a: string[]): void {
  const ttl = a.length > 3 ? msArg(a[3]!) : ctx.engine.tombstoneTtlMs;
  ctx.w.int(versioned.invalidatePrefix(ctx.core, a[1]!, a[2]!, ttl, ctx.now));
}

function softInvalidate(ctx: CommandContext, a: string[]): void {
  const ttl = a.length > 3 ? msArg(a[3]!) : ctx.engine.tombstoneTtlMs;
  ctx.w.simple(soft.softInvalidate(ctx.core, a[1]!, a[2]!, ttl, ctx.now));
}

function stale(ctx: CommandContext, a: string[]): void {
  ctx.w.int(soft.isStale(ctx.core, a[1]!, ctx.now) ? 1 : 0);
}

/**
 * CACHE.READ key → nil, or [value, pttl (-1: none), stale (1|0)]: a cache read in one command (the
 * cache client's reads and a near cache's tracked reads: GET, PTTL and CACHE.STALE of one moment,
 * where a pipeline needs the mark before and after the GET). Read-only, so tracking remembers the key
 * for the calling client as for GET; a tombstone reads as nil; a non-string value is WRONGTYPE.
 */
function read(ctx: CommandContext, a: string[]): void {
  const key = a[1]!;
  const ks = ctx.core.keyspace;
  const packed = ks.index.get(key);
  if (packed === undefined) {
    ctx.w.nil();
    return;
  }
  const slot = packed >>> KIND_BITS;
  const at = ks.expireAt(slot);
  if (at !== 0 && ctx.now > at) {
    ks.remove(slot, 'expire');
    ctx.w.nil();
    return;
  }
  const kind = packed & KIND_MASK;
  if (kind === Kind.Tombstone) {
    ctx.w.nil();
    return;
  }
  if (kind !== Kind.Bytes && kind !== Kind.Text) throw wrongTypeError();
  // An LRU stamp as GET's (under LFU dispatch counted the access; none in NO-TOUCH mode).
  if (ks.tracking !== 0) lruAccess(ctx, slot);
  ctx.w.array(3);
  if (kind === Kind.Bytes) ctx.w.bulk(ks.valueAt(slot) as string);
  else ctx.w.bulkText(ks.valueAt(slot) as string);
  ctx.w.int(at === 0 ? -1 : Math.max(0, at - ctx.now));
  ctx.w.int(soft.isStale(ctx.core, key, ctx.now) ? 1 : 0);
}

function invalidateTag(ctx: CommandContext, a: string[]): void {
  const ttl = a.length > 3 ? msArg(a[3]!) : ctx.engine.tombstoneTtlMs;
  ctx.w.simple(soft.invalidateTag(ctx.core, a[1]!, a[2]!, ttl, ctx.now));
}

/**
 * CACHE.TAGPAGE tag version|'' tombstoneTtlMs count [SOFT] → [applied (1|0), more (1|0), version, key …]:
 * one bounded step of a tag invalidation (soft-invalidation.ts `invalidateTagPage`), the keys it
 * removed (or marked stale); repeat with the answered version while `more` is 1.
 */
function tagPage(ctx: CommandContext, a: string[]): void {
  let softly = false;
  if (a.length === 6) {
    if (a[5]!.toUpperCase() !== 'SOFT') throw new ReplyError(Err.syntax);
    softly = true;
  }
  const limit = msArg(a[4]!);
  if (limit < 1) throw new ReplyError(Err.notInteger);
  const page = soft.invalidateTagPage(ctx.core, a[1]!, a[2]!, softly, limit, msArg(a[3]!), ctx.now);
  ctx.w.array(3 + page.keys.length);
  ctx.w.int(page.applied ? 1 : 0);
  ctx.w.int(page.more ? 1 : 0);
  ctx.w.bulk(page.version);
  for (const key of page.keys) ctx.w.bulk(key);
}

/** CACHE.TAGJOIN key memberTtlMs tag [tag …] → the tags' epochs ('' = never invalidated). */
function tagJoin(ctx: CommandContext, a: string[]): void {
  const epochs = soft.joinTags(ctx.core, a[1]!, a.slice(3), msArg(a[2]!), ctx.now);
  ctx.w.array(epochs.length);
  for (const [, epoch] of epochs) ctx.w.bulk(epoch);
}

/** `tag epoch` pairs from `from` on. */
function tagPairs(a: string[], from: number, name: string): TagEpochs {
  if ((a.length - from) % 2 !== 0) throw new ReplyError(Err.arity(name));
  const out: [string, string][] = [];
  for (let i = from; i < a.length; i += 2) out.push([a[i]!, a[i + 1]!]);
  return out;
}

/** CACHE.TAGFILL key token value ttlMs version|'' tag epoch [tag epoch …] → filled|rejected|fenced. */
function tagFill(ctx: CommandContext, a: string[]): void {
  const tags = tagPairs(a, 6, 'cache.tagfill');
  const v = a[5] === '' ? undefined : a[5]!;
  ctx.w.simple(locks.fillLease(ctx.core, a[1]!, a[2]!, Kind.Bytes, a[3]!, msArg(a[4]!), v, ctx.now, tags));
}

/** CACHE.TAGWRITE key value ttlMs version|'' tag epoch [tag epoch …] → applied|fenced. */
function tagWrite(ctx: CommandContext, a: string[]): void {
  const tags = tagPairs(a, 5, 'cache.tagwrite');
  ctx.w.simple(writeTagged(ctx, a[1]!, a[2]!, msArg(a[3]!), a[4] === '' ? undefined : a[4]!, tags));
}

function writeTagged(
  ctx: CommandContext,
  key: string,
  value: string,
  ttl: number,
  v: string | undefined,
  tags: TagEpochs,
): 'applied' | 'fenced' {
  const now = ctx.now;
  if (!ctx.core.tags.admits(key, tags, now)) return 'fenced';
  if (v !== undefined) {
    if (versioned.refreshIfNewer(ctx.core, key, Kind.Bytes, value, ttl, v, now) === 'fenced') return 'fenced';
  } else {
    ctx.core.ensureMemory();
    ctx.core.writeString(key, Kind.Bytes, value, ttl > 0 ? now + ttl : 0, now);
    if (ctx.core.leases.size !== 0) ctx.core.leases.cancel(key);
  }
  ctx.core.tags.record(key, tags, ttl > 0 ? now + ttl : 0, now);
  return 'applied';
}

function version(ctx: CommandContext, a: string[]): void {
  const v = versioned.versionOf(ctx.core, a[1]!, ctx.now);
  if (v === null) ctx.w.nil();
  else ctx.w.bulk(v);
}

function lease(ctx: CommandContext, a: string[]): void {
  const token = ctx.core.leases.acquire(a[1]!, msArg(a[2]!), ctx.now);
  if (token === null) ctx.w.nil();
  else ctx.w.bulk(token);
}

function fill(ctx: CommandContext, a: string[]): void {
  const v = a.length > 5 ? a[5]! : undefined;
  ctx.w.simple(locks.fillLease(ctx.core, a[1]!, a[2]!, Kind.Bytes, a[3]!, msArg(a[4]!), v, ctx.now));
}

function release(ctx: CommandContext, a: string[]): void {
  ctx.w.int(locks.releaseLease(ctx.core, a[1]!, a[2]!, ctx.now) ? 1 : 0);
}

async function wait(ctx: CommandContext, a: string[]): Promise<void> {
  const reason = await locks.waitForFill(ctx.core, a[1]!, msArg(a[2]!));
  ctx.w.simple(reason);
}

function lock(ctx: CommandContext, a: string[]): void {
  ctx.w.int(locks.acquireLock(ctx.core, a[1]!, a[2]!, msArg(a[3]!), ctx.now) ? 1 : 0);
}

function unlock(ctx: CommandContext, a: string[]): void {
  ctx.w.int(locks.releaseLock(ctx.core, a[1]!, a[2]!, ctx.now) ? 1 : 0);
}

function extend(ctx: CommandContext, a: string[]): void {
  ctx.w.int(locks.extendLock(ctx.core, a[1]!, a[2]!, msArg(a[3]!), ctx.now) ? 1 : 0);
}

async function waitUnlock(ctx: CommandContext, a: string[]): Promise<void> {
  ctx.w.int((await locks.waitForUnlock(ctx.core, a[1]!, msArg(a[2]!))) ? 1 : 0);
}

function arityRange(
  name: string,
  min: number,
  max: number,
  fn: (ctx: CommandContext, a: string[]) => void | Promise<void>,
) {
  return (ctx: CommandContext, a: string[]): void | Promise<void> => {
    if (a.length < min || a.length > max) throw new ReplyError(Err.arity(name));
    return fn(ctx, a);
  };
}

const one = [1, 1, 1] as const;

/** The CACHE.* command specs. */
export const cacheCommands: CommandSpec[] = [
  command('cache.refresh', 5, ['write', 'denyoom'], one, refresh),
  command(
    'cache.invalidate',
    -3,
    ['write', 'denyoom'],
    one,
    arityRange('cache.invalidate', 3, 4, invalidate),
  ),
  command(
    'cache.invalidateprefix',
    -3,
    ['write'],
    [0, 0, 0],
    arityRange('cache.invalidateprefix', 3, 4, invalidatePrefix),
  ),
  command(
    'cache.softinvalidate',
    -3,
    ['write', 'denyoom'],
    one,
    arityRange('cache.softinvalidate', 3, 4, softInvalidate),
  ),
  command('cache.stale', 2, ['readonly', 'fast'], one, stale),
  command('cache.read', 2, ['readonly', 'fast'], one, read),
  command(
    'cache.taginvalidate',
    -3,
    ['write'],
    [0, 0, 0],
    arityRange('cache.taginvalidate', 3, 4, invalidateTag),
  ),
  command('cache.tagpage', -5, ['write'], [0, 0, 0], arityRange('cache.tagpage', 5, 6, tagPage)),
  command('cache.tagjoin', -4, ['write', 'denyoom'], one, tagJoin),
  command('cache.tagfill', -8, ['write', 'denyoom'], one, tagFill),
  command('cache.tagwrite', -7, ['write', 'denyoom'], one, tagWrite),
  command('cache.version', 2, ['readonly', 'fast'], one, version),
  command('cache.lease', 3, ['write', 'fast'], one, lease),
  command('cache.fill', -5, ['write', 'denyoom'], one, arityRange('cache.fill', 5, 6, fill)),
  command('cache.release', 3, ['write', 'fast'], one, release),
  command('cache.wait', 3, ['readonly'], one, wait),
  command('cache.lock', 4, ['write', 'denyoom', 'fast'], one, lock),
  command('cache.unlock', 3, ['write', 'fast'], one, unlock),
  command('cache.extend', 4, ['write', 'fast'], one, extend),
  command('cache.waitunlock', 3, ['readonly'], one, waitUnlock),
];

/**
 * What tools and test harnesses send before anything else, answered as a standalone Valkey 8 without
 * replicas or cluster answers (FUNCTION is in scripting/function-commands.ts): READONLY/READWRITE,
 * WAIT/WAITAOF (no replicas: 0), OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP (Valkey's encoding
 * names), COPY and TOUCH.
 */
import { wrongTypeError } from '../../errors.ts';
import { EvictionPolicy } from '../../eviction.ts';
import { Kind, lfuMinutes } from '../../keyspace.ts';
import { lruAccess } from '../access-tracking.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { collectionEncoding, copyCollection, isCollection } from './collections.ts';
import { copyHash, type HashData, hashEncoding } from './hash-value.ts';

function wait(ctx: CommandContext, a: string[]): void {
  for (const i of [1, 2]) {
    const n = parseI64(a[i]!);
    if (n === null)
      throw new ReplyError(i === 2 ? 'ERR timeout is not an integer or out of range' : Err.notInteger);
    if (i === 2 && n < 0n) throw new ReplyError('ERR timeout is negative');
  }
  ctx.w.int(0);
}

const LFU_REQUIRED =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LRU_REQUIRED =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Valkey's encoding name for the string `s` (int, embstr up to 44 bytes, raw). */
function stringEncoding(s: string): string {
  if (s.length <= 20 && parseI64(s) !== null) return 'int';
  return s.length <= 44 ? 'embstr' : 'raw';
}

function object(ctx: CommandContext, a: string[]): void {
  const sub = a[1]!.toLowerCase();
  if (sub === 'help' && a.length === 2) {
    const lines = [
      'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'ENCODING <key>',
      '    Return the kind of internal representation used in order to store the value',
      '    associated with a <key>.',
      'FREQ <key>',
      '    Return the access frequency index of the <key>. The returned integer is',
      '    proportional to the logarithm of the recent access frequency of the key.',
      'IDLETIME <key>',
      '    Return the idle time of the <key>, that is the approximated number of',
      '    seconds elapsed since the last access to the key.',
      'REFCOUNT <key>',
      '    Return the number of references of the value associated with the specified',
      '    <key>.',
      'HELP',
      '    Print this help.',
    ];
    ctx.w.array(lines.length);
    for (const l of lines) ctx.w.simple(l);
    return;
  }
  if (!['encoding', 'freq', 'idletime', 'refcount'].includes(sub) || a.length !== 3) {
    if (['encoding', 'freq', 'idletime', 'refcount', 'help'].includes(sub))
      throw new ReplyError(Err.arity(`object|${sub}`));
    throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try OBJECT HELP.`);
  }
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(a[2]!, ctx.now);
  if (slot < 0) {
    ctx.w.nil();
    return;
  }
  const kind = ks.kinds[slot]!;
  const value = ks.valueAt(slot)!;
  const policy = ctx.core.policy;
  const lfu = policy === EvictionPolicy.AllKeysLfu || policy === EvictionPolicy.VolatileLfu;
  switch (sub) {
    case 'encoding':
      ctx.w.bulk(
        kind === Kind.Hash
          ? hashEncoding(value as HashData)
          : isCollection(kind)
            ? collectionEncoding(kind, value)
            : stringEncoding(value as string),
      );
      return;
    case 'refcount': {
      // Valkey shares the integers 0..9999 (OBJ_SHARED_REFCOUNT) unless maxmemory evicts by LRU/LFU.
      const shared =
        (kind === Kind.Bytes || kind === Kind.Text) &&
        ctx.core.maxmemory === 0 &&
        /^(?:0|[1-9]\d{0,3})$/.test(value as string);
      ctx.w.int(shared ? 2147483647 : 1);
      return;
    }
    case 'freq':
      if (!lfu) throw new ReplyError(LFU_REQUIRED);
      ctx.w.int(ks.lfuCounter(slot, lfuMinutes(ctx.now)));
      return;
    default: {
      if (lfu) throw new ReplyError(LRU_REQUIRED);
      const stamp = ks.access.length > slot ? ks.access[slot]! : 0;
      ctx.w.int(stamp === 0 ? 0 : Math.max(0, Math.floor(ctx.now / 1000) - stamp));
    }
  }
}

function copy(ctx: CommandContext, a: string[]): void {
  let replace = false;
  for (let i = 3; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'replace') replace = true;
    else if (opt === 'db' && i + 1 < a.length) {
      const n = parseI64(a[++i]!);
      if (n === null) throw new ReplyError(Err.notInteger);
      if (n !== 0n) throw new ReplyError(Err.dbRange);
    } else throw new ReplyError(Err.syntax);
  }
  const src = a[1]!;
  const dst = a[2]!;
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(src, ctx.now);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  if (src === dst) throw new ReplyError('ERR source and destination objects are the same');
  const existing = ks.findLive(dst, ctx.now);
  if (existing >= 0 && !replace) {
    ctx.w.int(0);
    return;
  }
  ctx.core.ensureMemory();
  const kind = ks.kinds[slot]!;
  const v = ks.valueAt(slot)!;
  const value =
    kind === Kind.Hash ? copyHash(v as HashData) : isCollection(kind) ? copyCollection(kind, v) : v;
  const expireAt = ks.expireAt(slot);
  if (existing >= 0) ks.remove(existing, 'delete');
  const tomb = ks.find(dst, ctx.now);
  if (tomb >= 0) ks.remove(tomb, 'delete');
  ks.insert(dst, kind as 1, value, expireAt);
  ctx.core.touched(dst);
  ctx.w.int(1);
}

function touch(ctx: CommandContext, a: string[]): void {
  const ks = ctx.core.keyspace;
  let n = 0;
  for (let i = 1; i < a.length; i++) {
    const slot = ks.findLive(a[i]!, ctx.now);
    if (slot < 0) continue;
    n++;
    if (ks.tracking !== 0) lruAccess(ctx, slot); // under LFU, dispatch counted it (access-tracking.ts)
  }
  ctx.w.int(n);
}

/** READONLY/READWRITE: Valkey 8 standalone accepts both (they matter only to cluster replicas). */
function readonlyCommand(ctx: CommandContext): void {
  ctx.w.simple('OK');
}

const none = [0, 0, 0] as const;

/** The compatibility command specs. */
export const compatCommands: CommandSpec[] = [
  command('readonly', 1, ['fast', 'loading', 'stale'], none, readonlyCommand),
  command('readwrite', 1, ['fast', 'loading', 'stale'], none, readonlyCommand),
  command('wait', 3, [], none, wait),
  command('waitaof', 4, [], none, (ctx, a) => {
    for (const i of [1, 2, 3]) if (parseI64(a[i]!) === null) throw new ReplyError(Err.notInteger);
    if (a[1] !== '0')
      throw new ReplyError('ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.');
    ctx.w.array(2);
    ctx.w.int(0);
    ctx.w.int(0);
  }),
  command('object', -2, ['readonly'], [2, 2, 1], object),
  command('copy', -3, ['write', 'denyoom'], [1, 2, 1], copy),
  command('touch', -2, ['readonly', 'fast'], [1, -1, 1], touch),
];

void wrongTypeError;

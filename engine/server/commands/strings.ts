/**
 * String commands: GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETDEL GETEX GETSET APPEND STRLEN
 * INCR INCRBY INCRBYFLOAT DECR DECRBY, with Valkey 8's argument rules, replies and error texts.
 * GET and SET are the benchmark hot path: no option parsing or allocation beyond the reply when
 * called without options.
 */
import { KEEP_TTL } from '../../engine-state.ts';
import { wrongTypeError } from '../../errors.ts';
import { isContainerKind, KIND_BITS, KIND_MASK, Kind } from '../../keyspace.ts';
import { countAccess, lruAccess } from '../access-tracking.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  formatFloat,
  inI64,
  parseFloatStrict,
  parseI64,
  parseSmallInt,
  ReplyError,
} from '../command-context.ts';
import { replySlot, setChange, slotBytes, slotText, stringSlot, throughHook } from './string-helpers.ts';

const MAX_SAFE_MS = 2 ** 62;

interface ExpireOpt {
  /** Absolute ms, 0 none, KEEP_TTL keep, -2 persist (GETEX). */
  at: number;
}

/** Parses SET/GETEX options from args[from]; throws syntax / integer / expire errors like Valkey. */
function parseSetOptions(
  ctx: CommandContext,
  args: string[],
  from: number,
  cmd: 'set' | 'getex',
): { nx: boolean; xx: boolean; get: boolean; expire: ExpireOpt } {
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let persist = false;
  let unit = '';
  let rawTime = '';
  for (let i = from; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    const hasNext = i + 1 < args.length;
    if (cmd === 'set' && opt === 'nx' && !xx) nx = true;
    else if (cmd === 'set' && opt === 'xx' && !nx) xx = true;
    else if (cmd === 'set' && opt === 'get') get = true;
    else if (cmd === 'set' && opt === 'keepttl' && !persist && unit === '') keepTtl = true;
    else if (cmd === 'getex' && opt === 'persist' && unit === '' && !keepTtl) persist = true;
    else if (
      (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') &&
      hasNext &&
      !keepTtl &&
      !persist &&
      unit === ''
    ) {
      unit = opt;
      rawTime = args[++i]!;
    } else throw new ReplyError(Err.syntax);
  }
  let at = keepTtl ? KEEP_TTL : persist ? -2 : cmd === 'getex' ? KEEP_TTL : 0;
  if (unit !== '') {
    const n = parseI64(rawTime);
    if (n === null) throw new ReplyError(Err.notInteger);
    const seconds = unit === 'ex' || unit === 'exat';
    if (n <= 0n || (seconds && n > 9223372036854775807n / 1000n))
      throw new ReplyError(Err.invalidExpire(cmd));
    let ms = Number(seconds ? n * 1000n : n);
    if (unit === 'ex' || unit === 'px') ms += ctx.now;
    if (ms > MAX_SAFE_MS) throw new ReplyError(Err.invalidExpire(cmd));
    at = ms;
  }
  return { nx, xx, get, expire: { at } };
}

function get(ctx: CommandContext, args: string[]): void {
  // Hot path: the index value carries the kind, so a hit reads only expires[] and values[].
  const ks = ctx.core.keyspace;
  const packed = ks.index.get(args[1]!);
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
  if (ks.tracking !== 0) lruAccess(ctx, slot);
  if (kind === Kind.Bytes) ctx.w.bulk(ks.valueAt(slot) as string);
  else if (kind === Kind.Text) ctx.w.bulkText(ks.valueAt(slot) as string);
  else if (kind === Kind.Tombstone) ctx.w.nil();
  else throw wrongTypeError();
}

function set(ctx: CommandContext, args: string[]): void | Promise<void> {
  const key = args[1]!;
  const value = args[2]!;
  if (args.length === 3) {
    if (!ctx.engine.hooks.active) {
      // Hot path: no write-through hooks, so no closures.
      ctx.core.ensureMemory();
      ctx.core.writeString(key, Kind.Bytes, value, 0, ctx.now);
      ctx.w.simple('OK');
      return;
    }
    const hooked = throughHook(
      ctx,
      key,
      () => setChange(key, value, null),
      () => {
        ctx.core.ensureMemory();
        ctx.core.writeString(key, Kind.Bytes, value, 0, ctx.core.clock.now());
        ctx.w.simple('OK');
      },
    );
    if (hooked) return hooked;
    ctx.core.ensureMemory();
    ctx.core.writeString(key, Kind.Bytes, value, 0, ctx.now);
    ctx.w.simple('OK');
    return;
  }
  const o = parseSetOptions(ctx, args, 3, 'set');
  const apply = (): void => {
    const now = ctx.core.clock.now();
    const slot = o.get ? stringSlot(ctx, key) : ctx.core.keyspace.findLive(key, now);
    if (o.get) {
      if (slot < 0) ctx.w.nil();
      else {
        countAccess(ctx, slot); // Valkey looks the key up twice: the GET's read, then the SET's write
        replySlot(ctx.w, ctx, slot);
      }
    }
    if ((o.nx && slot >= 0) || (o.xx && slot < 0)) {
      if (!o.get) ctx.w.nil();
      return;
    }
    ctx.core.ensureMemory();
    ctx.core.writeString(key, Kind.Bytes, value, o.expire.at, now);
    if (!o.get) ctx.w.simple('OK');
  };
  const ttl = o.expire.at > 0 ? o.expire.at - ctx.now : null;
  return throughHook(ctx, key, () => setChange(key, value, ttl), apply) ?? apply();
}

function setWithTtl(cmd: 'setex' | 'psetex', seconds: boolean) {
  return (ctx: CommandContext, args: string[]): void | Promise<void> => {
    const n = parseI64(args[2]!);
    if (n === null) throw new ReplyError(Err.notInteger);
    if (n <= 0n || (seconds && n > 9223372036854775807n / 1000n))
      throw new ReplyError(Err.invalidExpire(cmd));
    const ttl = Number(seconds ? n * 1000n : n);
    if (ttl + ctx.now > MAX_SAFE_MS) throw new ReplyError(Err.invalidExpire(cmd));
    const key = args[1]!;
    const value = args[3]!;
    const apply = (): void => {
      ctx.core.ensureMemory();
      const now = ctx.core.clock.now();
      ctx.core.writeString(key, Kind.Bytes, value, now + ttl, now);
      ctx.w.simple('OK');
    };
    return throughHook(ctx, key, () => setChange(key, value, ttl), apply) ?? apply();
  };
}

function setnx(ctx: CommandContext, args: string[]): void | Promise<void> {
  const key = args[1]!;
  const value = args[2]!;
  const apply = (): void => {
    const now = ctx.core.clock.now();
    if (ctx.core.keyspace.findLive(key, now) >= 0) {
      ctx.w.int(0);
      return;
    }
    ctx.core.ensureMemory();
    ctx.core.writeString(key, Kind.Bytes, value, 0, now);
    ctx.w.int(1);
  };
  if (ctx.core.keyspace.findLive(key, ctx.now) >= 0) {
    ctx.w.int(0);
    return;
  }
  return throughHook(ctx, key, () => setChange(key, value, null), apply) ?? apply();
}

function mget(ctx: CommandContext, args: string[]): void {
  const ks = ctx.core.keyspace;
  ctx.w.array(args.length - 1);
  for (let i = 1; i < args.length; i++) {
    const slot = ks.findLive(args[i]!, ctx.now);
    if (slot < 0 || isContainerKind(ks.kinds[slot]!)) ctx.w.nil();
    else replySlot(ctx.w, ctx, slot);
  }
}

function mset(nx: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    if (args.length % 2 === 0) throw new ReplyError(Err.arity(nx ? 'msetnx' : 'mset'));
    const ks = ctx.core.keyspace;
    if (nx) {
      for (let i = 1; i < args.length; i += 2) {
        if (ks.findLive(args[i]!, ctx.now) >= 0) {
          ctx.w.int(0);
          return;
        }
      }
    }
    ctx.core.ensureMemory();
    for (let i = 1; i < args.length; i += 2)
      ctx.core.writeString(args[i]!, Kind.Bytes, args[i + 1]!, 0, ctx.now);
    if (nx) ctx.w.int(1);
    else ctx.w.simple('OK');
  };
}

function getdel(ctx: CommandContext, args: string[]): void | Promise<void> {
  const key = args[1]!;
  const slot = stringSlot(ctx, key);
  if (slot < 0) {
    ctx.w.nil();
    return;
  }
  const apply = (): void => {
    const s = stringSlot(ctx, key);
    if (s < 0) {
      ctx.w.nil();
      return;
    }
    replySlot(ctx.w, ctx, s);
    ctx.core.deleteSlot(s);
  };
  return throughHook(ctx, key, () => ({ op: 'delete', key }), apply) ?? apply();
}

function getex(ctx: CommandContext, args: string[]): void {
  const o = parseSetOptions(ctx, args, 2, 'getex');
  const slot = stringSlot(ctx, args[1]!);
  if (slot < 0) {
    ctx.w.nil();
    return;
  }
  replySlot(ctx.w, ctx, slot);
  if (o.expire.at === -2) ctx.core.setExpire(slot, 0);
  else if (o.expire.at > 0) {
    if (o.expire.at <= ctx.now) ctx.core.deleteSlot(slot);
    else ctx.core.setExpire(slot, o.expire.at);
  }
}

function getset(ctx: CommandContext, args: string[]): void {
  const slot = stringSlot(ctx, args[1]!);
  if (slot < 0) ctx.w.nil();
  else {
    countAccess(ctx, slot); // as SET … GET: a read lookup, then the write's
    replySlot(ctx.w, ctx, slot);
  }
  ctx.core.ensureMemory();
  ctx.core.writeString(args[1]!, Kind.Bytes, args[2]!, 0, ctx.now);
}

function append(ctx: CommandContext, args: string[]): void {
  const slot = stringSlot(ctx, args[1]!);
  // Valkey's checkStringLength; here it also keeps the result within V8's longest string.
  if (slot >= 0 && slotBytes(ctx, slot).length + args[2]!.length > ctx.server.protoMaxBulkLen)
    throw new ReplyError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  ctx.core.ensureMemory();
  const bytes = slot < 0 ? args[2]! : slotBytes(ctx, slot) + args[2]!;
  ctx.core.writeString(args[1]!, Kind.Bytes, bytes, KEEP_TTL, ctx.now);
  ctx.w.int(bytes.length);
}

function strlen(ctx: CommandContext, args: string[]): void {
  const slot = stringSlot(ctx, args[1]!);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  const ks = ctx.core.keyspace;
  const v = ks.valueAt(slot) as string;
  ctx.w.int(ks.kinds[slot] === Kind.Text ? Buffer.byteLength(v, 'utf8') : v.length);
}

function incrBy(ctx: CommandContext, key: string, by: number | bigint, decr: boolean): void {
  const slot = stringSlot(ctx, key);
  if (typeof by === 'number') {
    // Both sides under 10^15 (parseSmallInt): the sum is exact and far inside 64 bits, so no
    // BigInt and no overflow check (INCR's hot path).
    const current = slot < 0 ? 0 : parseSmallInt(ctx.core.keyspace.valueAt(slot) as string);
    if (!Number.isNaN(current)) {
      const next = current + by;
      ctx.core.ensureMemory();
      ctx.core.writeString(key, Kind.Bytes, String(next), KEEP_TTL, ctx.now);
      ctx.w.int(next);
      return;
    }
  }
  let current = 0n;
  if (slot >= 0) {
    const n = parseI64(slotText(ctx, slot));
    if (n === null) throw new ReplyError(Err.notInteger);
    current = n;
  }
  const step = BigInt(by);
  const next = current + step;
  if (!inI64(next))
    throw new ReplyError(decr && step === -(2n ** 63n) ? 'ERR decrement would overflow' : Err.overflow);
  ctx.core.ensureMemory();
  ctx.core.writeString(key, Kind.Bytes, next.toString(), KEEP_TTL, ctx.now);
  ctx.w.int(next);
}

function incrByArg(decr: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    const small = parseSmallInt(args[2]!);
    if (!Number.isNaN(small)) {
      incrBy(ctx, args[1]!, decr ? -small : small, decr);
      return;
    }
    const n = parseI64(args[2]!);
    if (n === null) throw new ReplyError(Err.notInteger);
    if (decr && n === -(2n ** 63n)) throw new ReplyError('ERR decrement would overflow');
    incrBy(ctx, args[1]!, decr ? -n : n, decr);
  };
}

function incrbyfloat(ctx: CommandContext, args: string[]): void {
  const slot = stringSlot(ctx, args[1]!);
  let current = 0;
  if (slot >= 0) {
    const n = parseFloatStrict(slotText(ctx, slot));
    if (n === null) throw new ReplyError(Err.notFloat);
    current = n;
  }
  const by = parseFloatStrict(args[2]!);
  if (by === null) throw new ReplyError(Err.notFloat);
  const next = current + by;
  if (!Number.isFinite(next)) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = formatFloat(next);
  ctx.core.ensureMemory();
  ctx.core.writeString(args[1]!, Kind.Bytes, text, KEEP_TTL, ctx.now);
  ctx.w.bulk(text);
}

const one = [1, 1, 1] as const;

/** The string command specs. */
export const stringCommands: CommandSpec[] = [
  command('get', 2, ['readonly', 'fast'], one, get),
  command('set', -3, ['write', 'denyoom', 'hookaware'], one, set),
  command('setnx', 3, ['write', 'denyoom', 'fast', 'hookaware'], one, setnx),
  command('setex', 4, ['write', 'denyoom', 'hookaware'], one, setWithTtl('setex', true)),
  command('psetex', 4, ['write', 'denyoom', 'hookaware'], one, setWithTtl('psetex', false)),
  command('mget', -2, ['readonly', 'fast'], [1, -1, 1], mget),
  command('mset', -3, ['write', 'denyoom'], [1, -1, 2], mset(false)),
  command('msetnx', -3, ['write', 'denyoom'], [1, -1, 2], mset(true)),
  command('getdel', 2, ['write', 'fast', 'hookaware'], one, getdel),
  command('getex', -2, ['write', 'fast'], one, getex),
  command('getset', 3, ['write', 'denyoom', 'fast'], one, getset),
  command('append', 3, ['write', 'denyoom', 'fast'], one, append),
  command('strlen', 2, ['readonly', 'fast'], one, strlen),
  command('incr', 2, ['write', 'denyoom', 'fast'], one, (ctx, a) => incrBy(ctx, a[1]!, 1, false)),
  command('decr', 2, ['write', 'denyoom', 'fast'], one, (ctx, a) => incrBy(ctx, a[1]!, -1, true)),
  command('incrby', 3, ['write', 'denyoom', 'fast'], one, incrByArg(false)),
  command('decrby', 3, ['write', 'denyoom', 'fast'], one, incrByArg(true)),
  command('incrbyfloat', 3, ['write', 'denyoom', 'fast'], one, incrbyfloat),
];

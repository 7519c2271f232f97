/**
 * Keyspace commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX KEYS SCAN RANDOMKEY, the EXPIRE family
 * (with NX/XX/GT/LT), TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST and MEMORY USAGE. Tombstones are
 * invisible to all of them. SCAN cursors are slot indexes: slots never move while occupied, so every
 * key present for the whole scan is returned (Valkey's guarantee), possibly with duplicates never.
 */
import { globMatch } from '../../glob.ts';
import { listKeys } from '../../key-listing.ts';
import { Kind } from '../../keyspace.ts';
import { SLOT_ARRAY_BYTES } from '../../memory.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';

function del(ctx: CommandContext, args: string[]): void | Promise<void> {
  const engine = ctx.engine;
  const hooked: string[] = [];
  let n = 0;
  for (let i = 1; i < args.length; i++) {
    const key = args[i]!;
    if (engine.hooks.active && engine.hooks.match(key)) hooked.push(key);
    else if (ctx.core.deleteKey(key, ctx.now)) n++;
  }
  if (hooked.length === 0) {
    ctx.w.int(n);
    return;
  }
  // Hooked keys: each delete persists first; keys whose hook fails keep their cached value.
  return Promise.allSettled(hooked.map((key) => engine.removeBytes(key))).then((results) => {
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      const message = String((failed.reason as Error)?.message ?? failed.reason);
      ctx.w.error(/^[A-Z]+ /.test(message) ? message : `ERR ${message}`);
      return;
    }
    for (const r of results) if (r.status === 'fulfilled' && r.value) n++;
    ctx.w.int(n);
  });
}

function exists(ctx: CommandContext, args: string[]): void {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (ctx.core.keyspace.findLive(args[i]!, ctx.now) >= 0) n++;
  ctx.w.int(n);
}

const TYPE_NAMES = ['none', 'string', 'string', 'hash', 'none', 'set', 'zset', 'list', 'bloomfltr'];

/** Valkey's TYPE name of a slot kind. */
export function typeName(kind: number): string {
  return TYPE_NAMES[kind] ?? 'none';
}

function type(ctx: CommandContext, args: string[]): void {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(args[1]!, ctx.now);
  ctx.w.simple(slot < 0 ? 'none' : typeName(ks.kinds[slot]!));
}

function rename(nx: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    const ks = ctx.core.keyspace;
    const src = args[1]!;
    const dst = args[2]!;
    const slot = ks.findLive(src, ctx.now);
    if (slot < 0) throw new ReplyError(Err.noSuchKey);
    if (src === dst) {
      if (nx) ctx.w.int(0);
      else ctx.w.simple('OK');
      return;
    }
    if (nx && ks.findLive(dst, ctx.now) >= 0) {
      ctx.w.int(0);
      return;
    }
    const kind = ks.kinds[slot]!;
    const value = ks.valueAt(slot)!;
    const expireAt = ks.expireAt(slot);
    ctx.core.deleteSlot(slot);
    const existing = ks.find(dst, ctx.now);
    if (existing >= 0) ctx.core.deleteSlot(existing);
    ks.insert(dst, kind as 1 | 2 | 3, value, expireAt);
    ctx.core.touched(dst);
    if (nx) ctx.w.int(1);
    else ctx.w.simple('OK');
  };
}

function isVisible(ctx: CommandContext, slot: number): boolean {
  const ks = ctx.core.keyspace;
  const kind = ks.kinds[slot]!;
  if (kind === Kind.Free || kind === Kind.Tombstone) return false;
  const at = ks.expireAt(slot);
  return at === 0 || ctx.now <= at;
}

function keys(ctx: CommandContext, args: string[]): void {
  const out = listKeys(ctx.core.keyspace, args[1]!, ctx.now);
  ctx.w.array(out.length);
  for (const k of out) ctx.w.bulk(k);
}

/**
 * Writes a whole collection scan as one page: cursor `0` (done) and `items`. SSCAN, ZSCAN and HSCAN
 * answer a compact (intset/listpack) collection this way, as Valkey does; large ones page through
 * collection-scan.ts.
 */
export function writeFinalScanPage(ctx: CommandContext, items: readonly string[]): void {
  ctx.w.array(2);
  ctx.w.bulk('0');
  ctx.w.array(items.length);
  for (const s of items) ctx.w.bulk(s);
}

/** Parses `MATCH p COUNT n TYPE t` (SCAN) / `MATCH COUNT NOVALUES` (HSCAN) from args[from]. */
export function parseScanOptions(
  args: string[],
  from: number,
  allowType: boolean,
): { match: string | null; count: number; type: string | null; noValues: boolean } {
  let match: string | null = null;
  let count = 10;
  let typeFilter: string | null = null;
  let noValues = false;
  for (let i = from; i < args.length; i++) {
    const opt = args[i]!.toLowerCase();
    const hasNext = i + 1 < args.length;
    if (opt === 'count' && hasNext) {
      const n = parseI64(args[++i]!);
      if (n === null) throw new ReplyError(Err.notInteger);
      if (n < 1n) throw new ReplyError(Err.syntax);
      count = Number(n);
    } else if (opt === 'match' && hasNext) {
      match = args[++i]!;
      if (match === '*') match = null;
    } else if (allowType && opt === 'type' && hasNext) {
      typeFilter = args[++i]!.toLowerCase();
    } else if (!allowType && opt === 'novalues') {
      noValues = true;
    } else throw new ReplyError(Err.syntax);
  }
  return { match, count, type: typeFilter, noValues };
}

/** Parses a SCAN cursor (unsigned 64-bit decimal). */
export function parseCursor(s: string): number {
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > 18446744073709551615n) throw new ReplyError(Err.invalidCursor);
  return Number(s);
}

function scan(ctx: CommandContext, args: string[]): void {
  const cursor = parseCursor(args[1]!);
  const o = parseScanOptions(args, 2, true);
  const ks = ctx.core.keyspace;
  const out: string[] = [];
  let slot = cursor;
  let visited = 0;
  for (; slot < ks.top && visited < o.count; slot++) {
    if (!isVisible(ctx, slot)) continue;
    visited++;
    const key = ks.keyAt(slot);
    if (o.match !== null && !globMatch(o.match, key)) continue;
    if (o.type !== null && typeName(ks.kinds[slot]!) !== o.type) continue;
    out.push(key);
  }
  ctx.w.array(2);
  ctx.w.bulk(slot >= ks.top ? '0' : String(slot));
  ctx.w.array(out.length);
  for (const k of out) ctx.w.bulk(k);
}

function randomkey(ctx: CommandContext): void {
  const ks = ctx.core.keyspace;
  for (let i = 0; i < 100 && ks.size > 0; i++) {
    const slot = ks.randomSlot();
    if (slot >= 0 && isVisible(ctx, slot)) {
      ctx.w.bulk(ks.keyAt(slot));
      return;
    }
  }
  for (let slot = 0; slot < ks.top; slot++)
    if (isVisible(ctx, slot)) {
      ctx.w.bulk(ks.keyAt(slot));
      return;
    }
  ctx.w.nil();
}

function expireCommand(cmd: string, unitMs: number, absolute: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    for (let i = 3; i < args.length; i++) {
      const opt = args[i]!.toLowerCase();
      if (opt === 'nx') nx = true;
      else if (opt === 'xx') xx = true;
      else if (opt === 'gt') gt = true;
      else if (opt === 'lt') lt = true;
      else throw new ReplyError(`ERR Unsupported option ${args[i]}`);
    }
    if (nx && (xx || gt || lt))
      throw new ReplyError('ERR NX and XX, GT or LT options at the same time are not compatible');
    if (gt && lt) throw new ReplyError('ERR GT and LT options at the same time are not compatible');
    const n = parseI64(args[2]!);
    if (n === null) throw new ReplyError(Err.notInteger);
    const limit = 9223372036854775807n / BigInt(unitMs);
    if (n > limit || n < -limit) throw new ReplyError(Err.invalidExpire(cmd));
    let when = Number(n * BigInt(unitMs));
    if (!absolute) when += ctx.now;
    if (when > 2 ** 62) throw new ReplyError(Err.invalidExpire(cmd));
    const ks = ctx.core.keyspace;
    const slot = ks.findLive(args[1]!, ctx.now);
    if (slot < 0) {
      ctx.w.int(0);
      return;
    }
    const current = ks.expireAt(slot);
    if (nx && current !== 0) {
      ctx.w.int(0);
      return;
    }
    if (xx && current === 0) {
      ctx.w.int(0);
      return;
    }
    if (gt && (current === 0 || when <= current)) {
      ctx.w.int(0);
      return;
    }
    if (lt && current !== 0 && when >= current) {
      ctx.w.int(0);
      return;
    }
    if (when <= ctx.now) ctx.core.deleteSlot(slot);
    else ctx.core.setExpire(slot, when);
    ctx.w.int(1);
  };
}

function ttlCommand(ms: boolean, absolute: boolean) {
  return (ctx: CommandContext, args: string[]): void => {
    const ks = ctx.core.keyspace;
    const slot = ks.findLive(args[1]!, ctx.now);
    if (slot < 0) {
      ctx.w.int(-2);
      return;
    }
    const at = ks.expireAt(slot);
    if (at === 0) {
      ctx.w.int(-1);
      return;
    }
    const t = Math.max(0, absolute ? at : at - ctx.now);
    ctx.w.int(ms ? t : Math.floor((t + 500) / 1000));
  };
}

function persist(ctx: CommandContext, args: string[]): void {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(args[1]!, ctx.now);
  if (slot < 0 || ks.expireAt(slot) === 0) {
    ctx.w.int(0);
    return;
  }
  ctx.core.setExpire(slot, 0);
  ctx.w.int(1);
}

function memory(ctx: CommandContext, args: string[]): void {
  const sub = args[1]!.toLowerCase();
  if (sub === 'usage') {
    if (args.length !== 3 && !(args.length === 5 && args[3]!.toLowerCase() === 'samples')) {
      throw new ReplyError(args.length < 3 ? Err.arity('memory|usage') : Err.syntax);
    }
    if (args.length === 5 && parseI64(args[4]!) === null) throw new ReplyError(Err.notInteger);
    const ks = ctx.core.keyspace;
    const slot = ks.findLive(args[2]!, ctx.now);
    if (slot < 0) {
      ctx.w.nil();
      return;
    }
    ctx.w.int(ks.entryBytes(slot) + SLOT_ARRAY_BYTES);
    return;
  }
  if (sub === 'help') {
    const lines = [
      'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'USAGE <key> [SAMPLES <count>]',
    ];
    ctx.w.array(lines.length);
    for (const l of lines) ctx.w.simple(l);
    return;
  }
  throw new ReplyError(`ERR unknown subcommand '${args[1]!.slice(0, 128)}'. Try MEMORY HELP.`);
}

const one = [1, 1, 1] as const;

/** The keyspace command specs. */
export const keyCommands: CommandSpec[] = [
  command('del', -2, ['write', 'hookaware'], [1, -1, 1], del),
  command('unlink', -2, ['write', 'fast', 'hookaware'], [1, -1, 1], del),
  command('exists', -2, ['readonly', 'fast'], [1, -1, 1], exists),
  command('type', 2, ['readonly', 'fast'], one, type),
  command('rename', 3, ['write'], [1, 2, 1], rename(false)),
  command('renamenx', 3, ['write', 'fast'], [1, 2, 1], rename(true)),
  command('keys', 2, ['readonly'], [0, 0, 0], keys),
  command('scan', -2, ['readonly'], [0, 0, 0], scan),
  command('randomkey', 1, ['readonly'], [0, 0, 0], randomkey),
  command('expire', -3, ['write', 'fast', 'hookaware'], one, expireCommand('expire', 1000, false)),
  command('pexpire', -3, ['write', 'fast', 'hookaware'], one, expireCommand('pexpire', 1, false)),
  command('expireat', -3, ['write', 'fast', 'hookaware'], one, expireCommand('expireat', 1000, true)),
  command('pexpireat', -3, ['write', 'fast', 'hookaware'], one, expireCommand('pexpireat', 1, true)),
  command('ttl', 2, ['readonly', 'fast'], one, ttlCommand(false, false)),
  command('pttl', 2, ['readonly', 'fast'], one, ttlCommand(true, false)),
  command('expiretime', 2, ['readonly', 'fast'], one, ttlCommand(false, true)),
  command('pexpiretime', 2, ['readonly', 'fast'], one, ttlCommand(true, true)),
  command('persist', 2, ['write', 'fast', 'hookaware'], one, persist),
  command('memory', -2, ['readonly'], [0, 0, 0], memory),
];

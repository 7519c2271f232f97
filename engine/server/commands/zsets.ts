/**
 * Sorted-set commands: ZADD (NX/XX/GT/LT/CH/INCR) ZINCRBY ZSCORE ZMSCORE ZRANK ZREVRANK ZREM ZCARD
 * ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN, and the algebra ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD (sets
 * count as members with score 1, as in Valkey). Ranges are in zset-ranges.ts.
 */
import { globMatch } from '../../glob.ts';
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
import { scanPage, writeScanPage } from './collection-scan.ts';
import {
  findCollection,
  finishWrite,
  limitsOf,
  openCollection,
  readCollection,
  storeCollection,
} from './collections.ts';
import { parseCursor, parseScanOptions, writeFinalScanPage } from './keys.ts';
import { parseCardArgs, zsetNumkeys } from './numkeys-args.ts';
import { type SetData, setMembers } from './set-value.ts';
import { formatScore, scoreArg, writeMembers, writeScore } from './zset-format.ts';
import {
  editZSet,
  finishZSet,
  newZSet,
  PackedZSet,
  type ZSetData,
  ZSetEditor,
  type ZSetRead,
  zsetRead,
} from './zset-packed.ts';
import { ZSetValue } from './zset-value.ts';

/** The sorted set at `key` as a read view (either encoding), or null; WRONGTYPE for another type. */
function read(ctx: CommandContext, key: string): ZSetRead | null {
  const v = readCollection<ZSetData>(ctx, key, Kind.ZSet);
  return v === null ? null : zsetRead(v);
}

const NAN_SCORE = 'ERR resulting score is not a number (NaN)';

function zadd(ctx: CommandContext, a: string[]): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = false;
  let i = 2;
  for (; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt === 'gt') gt = true;
    else if (opt === 'lt') lt = true;
    else if (opt === 'ch') ch = true;
    else if (opt === 'incr') incr = true;
    else break;
  }
  const pairs = a.length - i;
  if (pairs === 0 || pairs % 2 !== 0) throw new ReplyError(Err.syntax);
  if (nx && xx) throw new ReplyError('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt))
    throw new ReplyError('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && pairs > 2) throw new ReplyError('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = i; j < a.length; j += 2) scores.push(scoreArg(a[j]!));
  const key = a[1]!;
  if (xx && findCollection(ctx, key, Kind.ZSet) < 0) {
    if (incr) ctx.w.nil();
    else ctx.w.int(0);
    return;
  }
  const lim = limitsOf(ctx);
  let maxLen = 0;
  for (let j = i + 1; j < a.length; j += 2) if (a[j]!.length > maxLen) maxLen = a[j]!.length;
  // Valkey's zsetTypeCreate(elements, maxelelen): the encoding follows the whole command.
  const slot = openCollection(ctx, key, Kind.ZSet, () => newZSet(lim, pairs / 2, maxLen));
  const z = new ZSetEditor(ctx.core.keyspace, slot, lim);
  // And on an existing set, zsetTypeMaybeConvert: the same hints convert a listpack up front.
  z.convertForHints(pairs / 2, maxLen);
  let added = 0;
  let updated = 0;
  let result: number | null = null;
  for (let j = i, k = 0; j < a.length; j += 2, k++) {
    const member = a[j + 1]!;
    let score = scores[k]!;
    const old = z.score(member);
    if (old === undefined) {
      if (xx) continue;
      z.set(member, score);
      added++;
      result = score;
      continue;
    }
    if (nx) continue;
    if (incr) {
      score += old;
      if (Number.isNaN(score)) {
        finishWrite(ctx, slot, z.finish(), added + updated > 0);
        throw new ReplyError(NAN_SCORE);
      }
    }
    if ((gt && score <= old) || (lt && score >= old)) continue;
    result = score;
    if (score !== old) {
      z.set(member, score);
      updated++;
    }
  }
  finishWrite(ctx, slot, z.finish(), added + updated > 0);
  if (incr) {
    if (result === null) ctx.w.nil();
    else writeScore(ctx.w, result);
  } else ctx.w.int(ch ? added + updated : added);
}

/** ZINCRBY is ZADD INCR in Valkey (so an increment spelled like a ZADD flag is parsed as one). */
function zincrby(ctx: CommandContext, a: string[]): void {
  zadd(ctx, ['zadd', a[1]!, 'INCR', a[2]!, a[3]!]);
}

function zscore(ctx: CommandContext, a: string[]): void {
  const s = read(ctx, a[1]!)?.score(a[2]!);
  if (s === undefined) ctx.w.nil();
  else writeScore(ctx.w, s);
}

function zmscore(ctx: CommandContext, a: string[]): void {
  const z = read(ctx, a[1]!);
  ctx.w.array(a.length - 2);
  for (let i = 2; i < a.length; i++) {
    const s = z?.score(a[i]!);
    if (s === undefined) ctx.w.nil();
    else writeScore(ctx.w, s);
  }
}

function zrank(rev: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    if (a.length > 4) throw new ReplyError(Err.arity(rev ? 'zrevrank' : 'zrank'));
    if (a.length === 4 && a[3]!.toLowerCase() !== 'withscore') throw new ReplyError(Err.syntax);
    const z = read(ctx, a[1]!);
    const r = z ? z.rank(a[2]!) : -1;
    if (r < 0) {
      if (a.length === 4) ctx.w.nilArray();
      else ctx.w.nil();
      return;
    }
    const rank = rev ? z!.size - 1 - r : r;
    if (a.length === 4) {
      ctx.w.array(2);
      ctx.w.int(rank);
      writeScore(ctx.w, z!.scoreAt(r));
    } else ctx.w.int(rank);
  };
}

function zrem(ctx: CommandContext, a: string[]): void {
  const slot = findCollection(ctx, a[1]!, Kind.ZSet);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  const z = new ZSetEditor(ctx.core.keyspace, slot, limitsOf(ctx));
  let n = 0;
  for (let i = 2; i < a.length; i++) if (z.delete(a[i]!)) n++;
  finishWrite(ctx, slot, z.finish(), n > 0);
  ctx.w.int(n);
}

function zcard(ctx: CommandContext, a: string[]): void {
  ctx.w.int(read(ctx, a[1]!)?.size ?? 0);
}

/** Pops up to `count` lowest (or highest) members; null when the key is absent. */
export function popZSet(
  ctx: CommandContext,
  key: string,
  max: boolean,
  count: number,
): { members: string[]; scores: number[] } | null {
  const slot = findCollection(ctx, key, Kind.ZSet);
  if (slot < 0) return null;
  const members: string[] = [];
  const scores: number[] = [];
  const size = editZSet(ctx.core.keyspace, slot, (z) => {
    const n = Math.min(count, z.size);
    for (let i = 0; i < n; i++) {
      const r = max ? z.size - 1 - i : i;
      members.push(z.memberAt(r));
      scores.push(z.scoreAt(r));
    }
    if (max) z.deleteRange(z.size - n, z.size);
    else z.deleteRange(0, n);
    return z.size;
  });
  finishWrite(ctx, slot, size, members.length > 0);
  return { members, scores };
}

function zpop(max: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    if (a.length > 3) throw new ReplyError(Err.syntax);
    let count = 1;
    if (a.length === 3) {
      const n = parseI64(a[2]!);
      if (n === null || n < 0n) throw new ReplyError('ERR value is out of range, must be positive');
      count = Number(n);
    }
    const out = popZSet(ctx, a[1]!, max, count) ?? { members: [], scores: [] };
    if (a.length === 2 || ctx.w.resp === 2) {
      ctx.w.array(out.members.length * 2);
      for (let i = 0; i < out.members.length; i++) {
        ctx.w.bulk(out.members[i]!);
        writeScore(ctx.w, out.scores[i]!);
      }
    } else writeMembers(ctx.w, out.members, out.scores);
  };
}

function zrandmember(ctx: CommandContext, a: string[]): void {
  const withScores = a.length === 4 && a[3]!.toLowerCase() === 'withscores';
  if (a.length > 4 || (a.length === 4 && !withScores)) throw new ReplyError(Err.syntax);
  const z = read(ctx, a[1]!);
  const random = ctx.core.keyspace.random;
  if (a.length === 2) {
    if (!z) ctx.w.nil();
    else ctx.w.bulk(z.memberAt(Math.floor(random() * z.size)));
    return;
  }
  const n = intArg(a[2]!);
  if (withScores && (n < -(2 ** 62) || n > 2 ** 62)) throw new ReplyError('ERR value is out of range');
  const ranks: number[] = [];
  if (z && n !== 0) {
    if (n < 0) for (let i = 0; i < -n; i++) ranks.push(Math.floor(random() * z.size));
    else if (n >= z.size) for (let i = 0; i < z.size; i++) ranks.push(i);
    else {
      const pool = Array.from({ length: z.size }, (_, i) => i);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(random() * pool.length);
        ranks.push(pool[at]!);
        pool[at] = pool[pool.length - 1]!;
        pool.pop();
      }
    }
  }
  writeMembers(
    ctx.w,
    ranks.map((r) => z!.memberAt(r)),
    withScores ? ranks.map((r) => z!.scoreAt(r)) : null,
  );
}

function zscan(ctx: CommandContext, a: string[]): void {
  // Valkey's order: cursor, then the key's type, then the options.
  const cursor = parseCursor(a[2]!);
  const z = read(ctx, a[1]!);
  if (z === null) {
    writeFinalScanPage(ctx, []);
    return;
  }
  const o = parseScanOptions(a, 3, false);
  const out: string[] = [];
  if (z instanceof ZSetValue) {
    // Valkey pages only a skiplist sorted set (over its member table, not in score order).
    const take = ([m, score]: [string, number]) => {
      if (o.match !== null && !globMatch(o.match, m)) return;
      out.push(m);
      if (!o.noValues) out.push(formatScore(score));
    };
    writeScanPage(
      ctx,
      scanPage({ container: z.dict, iterate: () => z.dict.entries() }, cursor, o.count, take),
      out,
    );
    return;
  }
  for (let i = 0; i < z.size; i++) {
    const m = z.memberAt(i);
    if (o.match !== null && !globMatch(o.match, m)) continue;
    out.push(m);
    if (!o.noValues) out.push(formatScore(z.scoreAt(i)));
  }
  writeFinalScanPage(ctx, out);
}

type ZOp = 'union' | 'inter' | 'diff';

/** A sorted set or a set as (member → score) for the algebra; null when absent. */
function readScored(ctx: CommandContext, key: string): Map<string, number> | null {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(key, ctx.now);
  if (slot < 0) return null;
  const kind = ks.kinds[slot];
  if (kind === Kind.ZSet) {
    const v = ks.valueAt(slot) as ZSetData;
    if (typeof v !== 'string') return v.dict;
    const view = new PackedZSet(v);
    const out = new Map<string, number>();
    for (let i = 0; i < view.size; i++) out.set(view.memberAt(i), view.scoreAt(i));
    return out;
  }
  if (kind === Kind.Set) {
    const out = new Map<string, number>();
    for (const m of setMembers(ks.valueAt(slot) as SetData)) out.set(m, 1);
    return out;
  }
  throw new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value');
}

function aggregate(how: string, x: number, y: number): number {
  if (how === 'min') return Math.min(x, y);
  if (how === 'max') return Math.max(x, y);
  const s = x + y;
  return Number.isNaN(s) ? 0 : s;
}

/** Parses `numkeys key… [WEIGHTS …] [AGGREGATE …] [WITHSCORES]` from a[at] and computes the result. */
function algebra(
  ctx: CommandContext,
  a: string[],
  at: number,
  op: ZOp,
  name: string,
  allowScores: boolean,
): { z: ZSetValue; withScores: boolean } {
  const numkeys = zsetNumkeys(a, at, name);
  const keys = a.slice(at + 1, at + 1 + numkeys);
  // Valkey reads (and type-checks) the input keys before it parses WEIGHTS/AGGREGATE.
  const inputs = keys.map((k) => readScored(ctx, k));
  const weights = keys.map(() => 1);
  let how = 'sum';
  let withScores = false;
  for (let i = at + 1 + numkeys; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'weights' && op !== 'diff' && i + numkeys < a.length) {
      for (let k = 0; k < numkeys; k++) {
        const w = Number(a[i + 1 + k]);
        if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^[+-]?inf$/i.test(a[i + 1 + k]!) || Number.isNaN(w))
          throw new ReplyError('ERR weight value is not a float');
        weights[k] = /^[+-]?inf$/i.test(a[i + 1 + k]!)
          ? a[i + 1 + k]!.startsWith('-')
            ? -Infinity
            : Infinity
          : w;
      }
      i += numkeys;
    } else if (opt === 'aggregate' && op !== 'diff' && i + 1 < a.length) {
      how = a[++i]!.toLowerCase();
      if (how !== 'sum' && how !== 'min' && how !== 'max') throw new ReplyError(Err.syntax);
    } else if (opt === 'withscores' && allowScores) withScores = true;
    else throw new ReplyError(Err.syntax);
  }
  const weighted = (s: number, k: number): number => {
    const v = s * weights[k]!;
    return Number.isNaN(v) ? 0 : v;
  };
  const acc = new Map<string, number>();
  if (op === 'union') {
    inputs.forEach((m, k) => {
      if (m)
        for (const [member, s] of m) {
          const v = weighted(s, k);
          const old = acc.get(member);
          acc.set(member, old === undefined ? v : aggregate(how, old, v));
        }
    });
  } else if (op === 'inter') {
    if (inputs.every((m) => m !== null)) {
      const [first, ...rest] = inputs as Map<string, number>[];
      for (const [member, s] of first!) {
        let v = weighted(s, 0);
        let all = true;
        for (let k = 0; k < rest.length; k++) {
          const other = rest[k]!.get(member);
          if (other === undefined) {
            all = false;
            break;
          }
          v = aggregate(how, v, weighted(other, k + 1));
        }
        if (all) acc.set(member, v);
      }
    }
  } else if (inputs[0]) {
    for (const [member, s] of inputs[0]) if (!inputs.slice(1).some((m) => m?.has(member))) acc.set(member, s);
  }
  const z = new ZSetValue();
  for (const [m, s] of acc) z.set(m, s);
  return { z, withScores };
}

function zalgebra(op: ZOp) {
  const name = `z${op}`;
  return (ctx: CommandContext, a: string[]): void => {
    const { z, withScores } = algebra(ctx, a, 1, op, name, true);
    writeMembers(ctx.w, z.members, withScores ? z.scores : null);
  };
}

function zalgebraStore(op: ZOp) {
  const name = `z${op}store`;
  return (ctx: CommandContext, a: string[]): void => {
    const { z } = algebra(ctx, a, 2, op, name, false);
    storeCollection(ctx, a[1]!, Kind.ZSet, finishZSet(limitsOf(ctx), z), z.size);
    ctx.w.int(z.size);
  };
}

function zintercard(ctx: CommandContext, a: string[]): void {
  const { keys, limit } = parseCardArgs(a, true);
  const inputs = keys.map((k) => readScored(ctx, k));
  let n = 0;
  if (inputs.every((m) => m !== null)) {
    const [first, ...rest] = inputs as Map<string, number>[];
    for (const member of first!.keys()) {
      if (rest.every((m) => m.has(member))) n++;
      if (limit > 0 && n >= limit) break;
    }
  }
  ctx.w.int(n);
}

const one = [1, 1, 1] as const;
const none = [0, 0, 0] as const;

/** The sorted-set command specs (ranges: zset-ranges.ts). */
export const zsetCommands: CommandSpec[] = [
  command('zadd', -4, ['write', 'denyoom', 'fast'], one, zadd),
  command('zincrby', 4, ['write', 'denyoom', 'fast'], one, zincrby),
  command('zscore', 3, ['readonly', 'fast'], one, zscore),
  command('zmscore', -3, ['readonly', 'fast'], one, zmscore),
  command('zrank', -3, ['readonly', 'fast'], one, zrank(false)),
  command('zrevrank', -3, ['readonly', 'fast'], one, zrank(true)),
  command('zrem', -3, ['write', 'fast'], one, zrem),
  command('zcard', 2, ['readonly', 'fast'], one, zcard),
  command('zpopmin', -2, ['write', 'fast'], one, zpop(false)),
  command('zpopmax', -2, ['write', 'fast'], one, zpop(true)),
  command('zrandmember', -2, ['readonly'], one, zrandmember),
  command('zscan', -3, ['readonly'], one, zscan),
  command('zunion', -3, ['readonly'], none, zalgebra('union')),
  command('zinter', -3, ['readonly'], none, zalgebra('inter')),
  command('zdiff', -3, ['readonly'], none, zalgebra('diff')),
  command('zunionstore', -4, ['write', 'denyoom'], one, zalgebraStore('union')),
  command('zinterstore', -4, ['write', 'denyoom'], one, zalgebraStore('inter')),
  command('zdiffstore', -4, ['write', 'denyoom'], one, zalgebraStore('diff')),
  command('zintercard', -3, ['readonly'], none, zintercard),
];

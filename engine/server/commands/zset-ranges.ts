/**
 * The ZRANGE family: ZRANGE (BYSCORE/BYLEX/REV/LIMIT/WITHSCORES), ZRANGESTORE, ZREVRANGE,
 * ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, ZCOUNT, ZLEXCOUNT and the
 * ZREMRANGEBY{RANK,SCORE,LEX} removals, sharing one range resolver.
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
  limitsOf,
  readCollection,
  storeCollection,
  valueAt,
} from './collections.ts';
import { writeMembers } from './zset-format.ts';
import { editZSet, finishZSet, type ZSetData, type ZSetRead, zsetRead } from './zset-packed.ts';
import { type LexBound, ZSetValue } from './zset-value.ts';

/** The sorted set at `key` as a read view, or null; WRONGTYPE for another type. */
function readZSet(ctx: CommandContext, key: string): ZSetRead | null {
  const v = readCollection<ZSetData>(ctx, key, Kind.ZSet);
  return v === null ? null : zsetRead(v);
}

type By = 'rank' | 'score' | 'lex';

interface ScoreBound {
  value: number;
  exclusive: boolean;
}

function parseScoreBound(s: string): ScoreBound {
  const exclusive = s.startsWith('(');
  const text = exclusive ? s.slice(1) : s;
  let value: number;
  if (/^[+-]?inf$/i.test(text)) value = text.startsWith('-') ? -Infinity : Infinity;
  else {
    value = text.length === 0 || /\s/.test(text[0]!) ? Number.NaN : Number(text);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) value = Number.NaN;
  }
  if (Number.isNaN(value)) throw new ReplyError('ERR min or max is not a float');
  return { value, exclusive };
}

function parseLexBound(s: string): LexBound {
  if (s === '-') return { kind: 'min' };
  if (s === '+') return { kind: 'max' };
  if (s.startsWith('[')) return { kind: 'incl', value: s.slice(1) };
  if (s.startsWith('(')) return { kind: 'excl', value: s.slice(1) };
  throw new ReplyError('ERR min or max not valid string range item');
}

/** Ranks [from, to) of the range in ascending order; `rev` flips rank ranges. */
export function resolveRange(
  z: ZSetRead | null,
  by: By,
  lo: string,
  hi: string,
  rev: boolean,
): [number, number] {
  const len = z?.size ?? 0;
  if (by === 'rank') {
    let start = intArg(lo);
    let stop = intArg(hi);
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) return [0, 0];
    if (stop >= len) stop = len - 1;
    return rev ? [len - 1 - stop, len - start] : [start, stop + 1];
  }
  if (by === 'score') {
    const min = parseScoreBound(rev ? hi : lo);
    const max = parseScoreBound(rev ? lo : hi);
    if (!z) return [0, 0];
    const from = z.firstByScore(min.value, min.exclusive);
    const to = z.endByScore(max.value, max.exclusive);
    return to > from ? [from, to] : [0, 0];
  }
  const min = parseLexBound(rev ? hi : lo);
  const max = parseLexBound(rev ? lo : hi);
  if (!z) return [0, 0];
  const from = z.firstByLex(min);
  const to = z.endByLex(max);
  return to > from ? [from, to] : [0, 0];
}

/** The ranks selected, in reply order, after LIMIT. */
function select(from: number, to: number, rev: boolean, offset: number, count: number): number[] {
  const out: number[] = [];
  if (offset < 0) return out;
  const n = to - from;
  for (let i = offset; i < n && (count < 0 || out.length < count); i++) out.push(rev ? to - 1 - i : from + i);
  return out;
}

interface RangeRequest {
  by: By;
  rev: boolean;
  withScores: boolean;
  offset: number;
  count: number;
  limited: boolean;
}

/** Parses ZRANGE/ZRANGESTORE options from a[from]. */
function parseRangeOptions(
  a: string[],
  from: number,
  store: boolean,
  legacy: { by: By; rev: boolean } | null = null,
): RangeRequest {
  // The legacy commands (ZREVRANGE, ZRANGEBYSCORE, …) fix the range type and direction; they parse
  // WITHSCORES and LIMIT like ZRANGE and refuse the same combinations (Valkey's zrangeGenericCommand).
  const r: RangeRequest = {
    by: legacy?.by ?? 'rank',
    rev: legacy?.rev ?? false,
    withScores: false,
    offset: 0,
    count: -1,
    limited: false,
  };
  for (let i = from; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'withscores' && !store) r.withScores = true;
    else if (opt === 'byscore' && legacy === null) r.by = 'score';
    else if (opt === 'bylex' && legacy === null) r.by = 'lex';
    else if (opt === 'rev' && legacy === null) r.rev = true;
    else if (opt === 'limit' && i + 2 < a.length) {
      r.offset = intArg(a[i + 1]!);
      r.count = intArg(a[i + 2]!);
      r.limited = true;
      i += 2;
    } else throw new ReplyError(Err.syntax);
  }
  if (r.limited && r.by === 'rank')
    throw new ReplyError(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
  if (r.withScores && r.by === 'lex')
    throw new ReplyError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  return r;
}

/** Parses the bounds only (Valkey checks them before looking the key up). */
function checkBounds(by: By, lo: string, hi: string, rev: boolean): void {
  resolveRange(null, by, lo, hi, rev);
}

function runRange(
  ctx: CommandContext,
  key: string,
  lo: string,
  hi: string,
  r: RangeRequest,
): { members: string[]; scores: number[] } {
  checkBounds(r.by, lo, hi, r.rev);
  const z = readZSet(ctx, key);
  const [from, to] = resolveRange(z, r.by, lo, hi, r.rev);
  const ranks = select(from, to, r.rev, r.offset, r.count);
  const members: string[] = [];
  const scores: number[] = [];
  for (const i of ranks) {
    members.push(z!.memberAt(i));
    scores.push(z!.scoreAt(i));
  }
  return { members, scores };
}

function zrange(ctx: CommandContext, a: string[]): void {
  const r = parseRangeOptions(a, 4, false);
  const { members, scores } = runRange(ctx, a[1]!, a[2]!, a[3]!, r);
  writeMembers(ctx.w, members, r.withScores ? scores : null);
}

function zrangestore(ctx: CommandContext, a: string[]): void {
  const r = parseRangeOptions(a, 5, true);
  const { members, scores } = runRange(ctx, a[2]!, a[3]!, a[4]!, r);
  const out = new ZSetValue();
  for (let i = 0; i < members.length; i++) out.set(members[i]!, scores[i]!);
  storeCollection(ctx, a[1]!, Kind.ZSet, finishZSet(limitsOf(ctx), out), out.size);
  ctx.w.int(out.size);
}

/** ZREVRANGE / ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX / ZREVRANGEBYLEX. */
function legacyRange(by: By, rev: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    const r = parseRangeOptions(a, 4, false, { by, rev });
    const { members, scores } = runRange(ctx, a[1]!, a[2]!, a[3]!, r);
    writeMembers(ctx.w, members, r.withScores ? scores : null);
  };
}

function countIn(by: By) {
  return (ctx: CommandContext, a: string[]): void => {
    checkBounds(by, a[2]!, a[3]!, false);
    const z = readZSet(ctx, a[1]!);
    const [from, to] = resolveRange(z, by, a[2]!, a[3]!, false);
    ctx.w.int(to - from);
  };
}

function removeRange(by: By) {
  return (ctx: CommandContext, a: string[]): void => {
    checkBounds(by, a[2]!, a[3]!, false);
    const slot = findCollection(ctx, a[1]!, Kind.ZSet);
    const z = slot < 0 ? null : zsetRead(valueAt<ZSetData>(ctx, slot));
    const [from, to] = resolveRange(z, by, a[2]!, a[3]!, false);
    if (!z) {
      ctx.w.int(0);
      return;
    }
    const size = z.size;
    const n = editZSet(ctx.core.keyspace, slot, (full) => full.deleteRange(from, to));
    finishWrite(ctx, slot, size - n, n > 0);
    ctx.w.int(n);
  };
}

void parseI64;
const one = [1, 1, 1] as const;

/** The sorted-set range command specs. */
export const zsetRangeCommands: CommandSpec[] = [
  command('zrange', -4, ['readonly'], one, zrange),
  command('zrangestore', -5, ['write', 'denyoom'], [1, 2, 1], zrangestore),
  command('zrevrange', -4, ['readonly'], one, legacyRange('rank', true)),
  command('zrangebyscore', -4, ['readonly'], one, legacyRange('score', false)),
  command('zrevrangebyscore', -4, ['readonly'], one, legacyRange('score', true)),
  command('zrangebylex', -4, ['readonly'], one, legacyRange('lex', false)),
  command('zrevrangebylex', -4, ['readonly'], one, legacyRange('lex', true)),
  command('zcount', 4, ['readonly', 'fast'], one, countIn('score')),
  command('zlexcount', 4, ['readonly', 'fast'], one, countIn('lex')),
  command('zremrangebyrank', 4, ['write'], one, removeRange('rank')),
  command('zremrangebyscore', 4, ['write'], one, removeRange('score')),
  command('zremrangebylex', 4, ['write'], one, removeRange('lex')),
];

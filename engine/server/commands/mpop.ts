/**
 * LMPOP, ZMPOP, BLMPOP and BZMPOP: pop up to COUNT elements from the first non-empty list (or
 * sorted set) of `numkeys` keys, replying `[key, elements]` (ZMPOP: `[key, [[member, score]…]]`) or
 * a null array when every key is empty; the blocking forms park the client like BLPOP
 * (blocking.ts) until one of the keys gets elements or the timeout passes.
 *
 * Argument checks in Valkey's order: (timeout,) numkeys ("numkeys should be greater than 0" for
 * anything but a positive integer), LEFT|RIGHT or MIN|MAX (a syntax error when the keys run past
 * the end), then COUNT once ("count should be greater than 0"); anything else is a syntax error.
 */
import { Kind } from '../../keyspace.ts';
import type { CommandContext, CommandSpec } from '../command-context.ts';
import { command, Err, ReplyError } from '../command-context.ts';
import { block, timeoutArg } from './blocking.ts';
import { findCollection } from './collections.ts';
import { popList } from './lists.ts';
import { writeScore } from './zset-format.ts';
import { popZSet } from './zsets.ts';

const MAX_LONG = 9223372036854775807n;

/** A positive 64-bit integer or the given error. */
function positive(s: string, message: string): number {
  if (!/^(?:0|-?[1-9]\d*)$/.test(s) || s.length > 20) throw new ReplyError(`ERR ${message}`);
  const n = BigInt(s);
  if (n < 1n || n > MAX_LONG) throw new ReplyError(`ERR ${message}`);
  return Number(n);
}

/** Parsed `numkeys key… WHERE [COUNT n]` starting at `a[at]`. */
interface MpopArgs {
  keys: string[];
  /** LEFT / MIN. */
  first: boolean;
  count: number;
}

function parseMpop(a: string[], at: number, sides: readonly [string, string]): MpopArgs {
  const numkeys = positive(a[at]!, 'numkeys should be greater than 0');
  const whereAt = at + numkeys + 1;
  if (whereAt >= a.length) throw new ReplyError(Err.syntax);
  const where = a[whereAt]!.toLowerCase();
  if (where !== sides[0] && where !== sides[1]) throw new ReplyError(Err.syntax);
  let count = -1;
  for (let j = whereAt + 1; j < a.length; j++) {
    if (count === -1 && a[j]!.toLowerCase() === 'count' && j + 1 < a.length) {
      count = positive(a[++j]!, 'count should be greater than 0');
    } else throw new ReplyError(Err.syntax);
  }
  return {
    keys: a.slice(at + 1, at + 1 + numkeys),
    first: where === sides[0],
    count: count === -1 ? 1 : count,
  };
}

/** Pops from `key` and replies; false when the key holds no list (WRONGTYPE is thrown). */
function serveList(ctx: CommandContext, key: string, p: MpopArgs): boolean {
  if (findCollection(ctx, key, Kind.List) < 0) return false;
  const out = popList(ctx, key, p.first, p.count)!;
  ctx.w.array(2);
  ctx.w.bulk(key);
  ctx.w.array(out.length);
  for (const s of out) ctx.w.bulk(s);
  return true;
}

/** Pops from `key` and replies; false when the key holds no sorted set. */
function serveZSet(ctx: CommandContext, key: string, p: MpopArgs): boolean {
  const out = popZSet(ctx, key, !p.first, p.count);
  if (out === null || out.members.length === 0) return false;
  ctx.w.array(2);
  ctx.w.bulk(key);
  ctx.w.array(out.members.length);
  for (let i = 0; i < out.members.length; i++) {
    ctx.w.array(2);
    ctx.w.bulk(out.members[i]!);
    writeScore(ctx.w, out.scores[i]!);
  }
  return true;
}

const LIST_SIDES = ['left', 'right'] as const;
const ZSET_SIDES = ['min', 'max'] as const;

function lmpop(ctx: CommandContext, a: string[]): void {
  const p = parseMpop(a, 1, LIST_SIDES);
  for (const key of p.keys) if (serveList(ctx, key, p)) return;
  ctx.w.nilArray();
}

function zmpop(ctx: CommandContext, a: string[]): void {
  const p = parseMpop(a, 1, ZSET_SIDES);
  for (const key of p.keys) if (serveZSet(ctx, key, p)) return;
  ctx.w.nilArray();
}

function blmpop(ctx: CommandContext, a: string[]): void | Promise<void> {
  const timeout = timeoutArg(a[1]!);
  const p = parseMpop(a, 2, LIST_SIDES);
  return block(ctx, p.keys, timeout, (c, key) => serveList(c, key, p));
}

function bzmpop(ctx: CommandContext, a: string[]): void | Promise<void> {
  const timeout = timeoutArg(a[1]!);
  const p = parseMpop(a, 2, ZSET_SIDES);
  return block(ctx, p.keys, timeout, (c, key) => serveZSet(c, key, p));
}

/** The *MPOP command specs (keys follow numkeys, so the key spec is empty as for SINTERCARD). */
export const mpopCommands: CommandSpec[] = [
  command('lmpop', -4, ['write'], [0, 0, 0], lmpop),
  command('zmpop', -4, ['write'], [0, 0, 0], zmpop),
  command('blmpop', -5, ['write'], [0, 0, 0], blmpop),
  command('bzmpop', -5, ['write'], [0, 0, 0], bzmpop),
];

/**
 * The sorted-set algebra: ZUNION ZINTER ZDIFF, their STORE forms, and ZINTERCARD, over sorted sets
 * and sets (a set's members count with score 1, as in Valkey), with WEIGHTS and AGGREGATE.
 */
import { Kind } from '../../keyspace.ts';
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';
import { limitsOf, storeCollection } from './collections.ts';
import { parseCardArgs, zsetNumkeys } from './numkeys-args.ts';
import { type SetData, setMembers } from './set-value.ts';
import { writeMembers } from './zset-format.ts';
import { finishZSet, PackedZSet, type ZSetData } from './zset-packed.ts';
import { ZSetValue } from './zset-value.ts';

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

/** The algebra's command specs (part of zsets.ts `zsetCommands`). */
export const zsetAlgebraCommands: CommandSpec[] = [
  command('zunion', -3, ['readonly'], none, zalgebra('union')),
  command('zinter', -3, ['readonly'], none, zalgebra('inter')),
  command('zdiff', -3, ['readonly'], none, zalgebra('diff')),
  command('zunionstore', -4, ['write', 'denyoom'], one, zalgebraStore('union')),
  command('zinterstore', -4, ['write', 'denyoom'], one, zalgebraStore('inter')),
  command('zdiffstore', -4, ['write', 'denyoom'], one, zalgebraStore('diff')),
  command('zintercard', -3, ['readonly'], none, zintercard),
];

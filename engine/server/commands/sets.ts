/**
 * Set commands: SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SSCAN
 * SINTER SUNION SDIFF (+STORE) SINTERCARD, over the set encodings of set-value.ts. Replies order
 * members as Valkey does for its compact encodings (intset: ascending numbers; listpack: insertion
 * order); SSCAN returns the whole set with cursor 0, as Valkey does for compact sets.
 */
import { globMatch } from '../../glob.ts';
import { Kind } from '../../keyspace.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
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
  valueAt,
} from './collections.ts';
import { parseCursor, parseScanOptions, writeFinalScanPage } from './keys.ts';
import { parseCardArgs } from './numkeys-args.ts';
import {
  addMembers,
  compactAfterPop,
  newSet,
  removeMembers,
  SetBuilder,
  type SetData,
  setHas,
  setMembers,
  setSize,
} from './set-value.ts';

const read = (ctx: CommandContext, key: string): SetData | null =>
  readCollection<SetData>(ctx, key, Kind.Set);

/** `finishWrite` for the set in `slot` (its value may have been re-stored). */
function finishSet(ctx: CommandContext, slot: number, changed: boolean): void {
  finishWrite(ctx, slot, setSize(valueAt<SetData>(ctx, slot)), changed);
}

function sadd(ctx: CommandContext, a: string[]): void {
  const lim = limitsOf(ctx);
  const slot = openCollection(ctx, a[1]!, Kind.Set, () => newSet(lim, a[2]!, a.length - 2));
  const n = addMembers(ctx.core.keyspace, slot, lim, a, 2);
  // A set SADD just wrote to is never empty: skip the size walk.
  finishWrite(ctx, slot, 1, n > 0);
  ctx.w.int(n);
}

function srem(ctx: CommandContext, a: string[]): void {
  const slot = findCollection(ctx, a[1]!, Kind.Set);
  if (slot < 0) {
    ctx.w.int(0);
    return;
  }
  const n = removeMembers(ctx.core.keyspace, slot, a, 2);
  finishSet(ctx, slot, n > 0);
  ctx.w.int(n);
}

function sismember(ctx: CommandContext, a: string[]): void {
  const v = read(ctx, a[1]!);
  ctx.w.int(v !== null && setHas(v, a[2]!) ? 1 : 0);
}

function smismember(ctx: CommandContext, a: string[]): void {
  const v = read(ctx, a[1]!);
  ctx.w.array(a.length - 2);
  for (let i = 2; i < a.length; i++) ctx.w.int(v !== null && setHas(v, a[i]!) ? 1 : 0);
}

function writeSet(ctx: CommandContext, members: string[]): void {
  ctx.w.set(members.length);
  for (const m of members) ctx.w.bulk(m);
}

function smembers(ctx: CommandContext, a: string[]): void {
  const v = read(ctx, a[1]!);
  writeSet(ctx, v ? setMembers(v) : []);
}

function scard(ctx: CommandContext, a: string[]): void {
  const v = read(ctx, a[1]!);
  ctx.w.int(v === null ? 0 : setSize(v));
}

function randomPick(ctx: CommandContext, list: string[]): number {
  return Math.floor(ctx.core.keyspace.random() * list.length);
}

function spop(ctx: CommandContext, a: string[]): void {
  if (a.length > 3) throw new ReplyError(Err.syntax);
  let count = -1;
  if (a.length === 3) {
    const n = parseI64(a[2]!);
    if (n === null || n < 0n) throw new ReplyError('ERR value is out of range, must be positive');
    count = Number(n);
  }
  const slot = findCollection(ctx, a[1]!, Kind.Set);
  if (slot < 0) {
    if (count < 0) ctx.w.nil();
    else writeSet(ctx, []);
    return;
  }
  const members = setMembers(valueAt<SetData>(ctx, slot));
  const out: string[] = [];
  const want = count < 0 ? 1 : Math.min(count, members.length);
  for (let i = 0; i < want; i++) {
    const at = randomPick(ctx, members);
    out.push(members[at]!);
    members[at] = members[members.length - 1]!;
    members.pop();
  }
  removeMembers(ctx.core.keyspace, slot, out, 0);
  const left = members.length;
  if (count >= 0 && left > 0 && left * 5 <= count) compactAfterPop(ctx.core.keyspace, slot, limitsOf(ctx));
  finishSet(ctx, slot, out.length > 0);
  if (count < 0) ctx.w.bulk(out[0]!);
  else writeSet(ctx, out);
}

function srandmember(ctx: CommandContext, a: string[]): void {
  if (a.length > 3) throw new ReplyError(Err.syntax);
  const v = read(ctx, a[1]!);
  if (a.length === 2) {
    if (!v) ctx.w.nil();
    else {
      const members = setMembers(v);
      ctx.w.bulk(members[randomPick(ctx, members)]!);
    }
    return;
  }
  const n = parseI64(a[2]!);
  if (n === null) throw new ReplyError(Err.notInteger);
  if (n < -(2n ** 62n)) throw new ReplyError('ERR value is out of range');
  const members = v ? setMembers(v) : [];
  if (members.length === 0 || n === 0n) {
    ctx.w.array(0);
    return;
  }
  if (n < 0n) {
    const count = Number(-n);
    ctx.w.array(count);
    for (let i = 0; i < count; i++) ctx.w.bulk(members[randomPick(ctx, members)]!);
    return;
  }
  if (n >= BigInt(members.length)) {
    ctx.w.array(members.length);
    for (const m of members) ctx.w.bulk(m);
    return;
  }
  const out: string[] = [];
  for (let i = 0; i < Number(n); i++) {
    const at = randomPick(ctx, members);
    out.push(members[at]!);
    members[at] = members[members.length - 1]!;
    members.pop();
  }
  ctx.w.array(out.length);
  for (const m of out) ctx.w.bulk(m);
}

function smove(ctx: CommandContext, a: string[]): void {
  const [, src, dst, member] = a as [string, string, string, string];
  const from = findCollection(ctx, src, Kind.Set);
  // Valkey answers 0 for a missing source before it checks the destination's type.
  if (from < 0) {
    ctx.w.int(0);
    return;
  }
  findCollection(ctx, dst, Kind.Set);
  if (src === dst) {
    ctx.w.int(setHas(valueAt<SetData>(ctx, from), member) ? 1 : 0);
    return;
  }
  if (removeMembers(ctx.core.keyspace, from, a, 3) === 0) {
    ctx.w.int(0);
    return;
  }
  finishSet(ctx, from, true);
  const lim = limitsOf(ctx);
  const to = openCollection(ctx, dst, Kind.Set, () => newSet(lim, member, 1));
  addMembers(ctx.core.keyspace, to, lim, a, 3);
  finishWrite(ctx, to, 1, true);
  ctx.w.int(1);
}

function sscan(ctx: CommandContext, a: string[]): void {
  // Valkey's order: cursor, then the key's type, then the options.
  const cursor = parseCursor(a[2]!);
  const v = read(ctx, a[1]!);
  if (v === null) {
    writeFinalScanPage(ctx, []);
    return;
  }
  const o = parseScanOptions(a, 3, false);
  const out: string[] = [];
  const take = (m: string) => {
    if (o.match === null || globMatch(o.match, m)) out.push(m);
  };
  if (typeof v !== 'string') {
    // Valkey pages only a hashtable set; intset and listpack sets come whole, with cursor 0.
    const next = scanPage({ container: v.m, iterate: () => v.m.values() }, cursor, o.count, take);
    writeScanPage(ctx, next, out);
    return;
  }
  for (const m of setMembers(v)) take(m);
  writeFinalScanPage(ctx, out);
}

type SetOp = 'inter' | 'union' | 'diff';

/** Computes an INTER/UNION/DIFF over the keys (WRONGTYPE checked on every key first). */
function compute(ctx: CommandContext, op: SetOp, keys: string[], limit = 0): SetBuilder {
  const sets = keys.map((k) => read(ctx, k));
  const out = new SetBuilder(limitsOf(ctx));
  if (op === 'union') {
    for (const s of sets) if (s) for (const m of setMembers(s)) out.add(m);
  } else if (op === 'diff') {
    const first = sets[0];
    if (first)
      for (const m of setMembers(first))
        if (!sets.slice(1).some((s) => s !== null && setHas(s, m))) out.add(m);
  } else if (sets.every((s) => s !== null)) {
    const sized = (sets as SetData[]).map((s) => ({ s, n: setSize(s) })).sort((x, y) => x.n - y.n);
    for (const m of setMembers(sized[0]!.s)) {
      if (sized.every((x) => setHas(x.s, m))) {
        out.add(m);
        if (limit > 0 && out.size >= limit) break;
      }
    }
  }
  return out;
}

function setOp(op: SetOp) {
  return (ctx: CommandContext, a: string[]): void =>
    writeSet(ctx, setMembers(compute(ctx, op, a.slice(1)).value()));
}

function setOpStore(op: SetOp) {
  return (ctx: CommandContext, a: string[]): void => {
    const out = compute(ctx, op, a.slice(2));
    storeCollection(ctx, a[1]!, Kind.Set, out.value(), out.size);
    ctx.w.int(out.size);
  };
}

function sintercard(ctx: CommandContext, a: string[]): void {
  const { keys, limit } = parseCardArgs(a);
  ctx.w.int(compute(ctx, 'inter', keys, limit).size);
}

const one = [1, 1, 1] as const;
const all = [1, -1, 1] as const;

/** The set command specs. */
export const setCommands: CommandSpec[] = [
  command('sadd', -3, ['write', 'denyoom', 'fast'], one, sadd),
  command('srem', -3, ['write', 'fast'], one, srem),
  command('sismember', 3, ['readonly', 'fast'], one, sismember),
  command('smismember', -3, ['readonly', 'fast'], one, smismember),
  command('smembers', 2, ['readonly'], one, smembers),
  command('scard', 2, ['readonly', 'fast'], one, scard),
  command('spop', -2, ['write', 'fast'], one, spop),
  command('srandmember', -2, ['readonly'], one, srandmember),
  command('smove', 4, ['write', 'fast'], [1, 2, 1], smove),
  command('sscan', -3, ['readonly'], one, sscan),
  command('sinter', -2, ['readonly'], all, setOp('inter')),
  command('sunion', -2, ['readonly'], all, setOp('union')),
  command('sdiff', -2, ['readonly'], all, setOp('diff')),
  command('sinterstore', -3, ['write', 'denyoom'], all, setOpStore('inter')),
  command('sunionstore', -3, ['write', 'denyoom'], all, setOpStore('union')),
  command('sdiffstore', -3, ['write', 'denyoom'], all, setOpStore('diff')),
  command('sintercard', -3, ['readonly'], [0, 0, 0], sintercard),
];

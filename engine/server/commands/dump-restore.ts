/**
 * DUMP and RESTORE with Valkey's payload format (dump/dump-payload.ts), so a key moves between
 * the engine and Valkey 8 in either direction: strings, hashes, sets, sorted sets and lists.
 *
 * RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ n] checks in Valkey's order:
 * options, then BUSYKEY (unless REPLACE), then the TTL, then the payload's version and checksum
 * (`ERR DUMP payload version or checksum are wrong`), then its contents (`ERR Bad data format`).
 * A TTL already in the past restores nothing (and REPLACE still deletes the old key), as Valkey.
 * IDLETIME sets the key's LRU idle time under an LRU policy, FREQ its LFU counter under an LFU policy.
 * Bloom filters travel between engines in the engine's own module payload (dump/bloom-payload.ts);
 * Valkey refuses that payload with `ERR Bad data format`.
 */
import { AccessTracking, Kind } from '../../keyspace.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { decodeBloomPayload, encodeBloomPayload, isModulePayload } from '../dump/bloom-payload.ts';
import {
  type DumpedValue,
  DumpFormatError,
  decodePayload,
  encodePayload,
  verifyPayload,
} from '../dump/dump-payload.ts';
import type { BloomValue } from './bloom-filter.ts';
import { ListValue, limitsOf, noteListSize } from './collections.ts';
import type { EncodingLimits } from './encoding-limits.ts';
import { finishHash, type HashData, hashPairs } from './hash-value.ts';
import { restoredListpackSet, SetBuilder, type SetData, setEncoding, setMembers } from './set-value.ts';
import { finishZSet, type ZSetData, zsetRead } from './zset-packed.ts';
import { ZSetValue } from './zset-value.ts';

/** The payload form of the value in `slot`; null for a type DUMP does not carry. */
function dumpedValue(kind: number, v: unknown): DumpedValue | null {
  switch (kind) {
    case Kind.Text:
      return { type: 'string', value: Buffer.from(v as string, 'utf8').toString('latin1') };
    case Kind.Bytes:
      return { type: 'string', value: v as string };
    case Kind.Hash: {
      const flatPairs = hashPairs(v as HashData);
      const pairs: [string, string][] = [];
      for (let i = 0; i < flatPairs.length; i += 2) pairs.push([flatPairs[i]!, flatPairs[i + 1]!]);
      return { type: 'hash', pairs, listpack: typeof v === 'string' };
    }
    case Kind.Set: {
      // A compact set dumps in its encoding, as Valkey's does (RESTORE keeps a listpack listpack).
      const enc = setEncoding(v as SetData);
      return {
        type: 'set',
        members: setMembers(v as SetData),
        listpack: enc === 'listpack',
        intset: enc === 'intset',
      };
    }
    case Kind.ZSet: {
      const z = zsetRead(v as ZSetData);
      const pairs: [string, number][] = [];
      for (let i = 0; i < z.size; i++) pairs.push([z.memberAt(i), z.scoreAt(i)]);
      return { type: 'zset', pairs, listpack: typeof v === 'string' };
    }
    case Kind.List:
      return { type: 'list', items: (v as ListValue).items.slice() };
    default:
      return null;
  }
}

function dump(ctx: CommandContext, a: string[]): void {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(a[1]!, ctx.now);
  if (slot < 0) {
    ctx.w.nil();
    return;
  }
  const kind = ks.kinds[slot]!;
  if (kind === Kind.Bloom) {
    ctx.w.bulk(encodeBloomPayload(ks.valueAt(slot) as BloomValue).toString('latin1'));
    return;
  }
  const value = dumpedValue(kind, ks.valueAt(slot));
  if (value === null) throw new ReplyError(`ERR DUMP of this key type is not supported by the engine`);
  ctx.w.bulk(encodePayload(value).toString('latin1'));
}

const duplicate = () => new DumpFormatError('duplicate element');

/** An engine value from a decoded payload: [kind, value]. */
function engineValue(d: DumpedValue, lim: EncodingLimits): [number, unknown] {
  switch (d.type) {
    case 'string':
      return [Kind.Bytes, d.value];
    case 'hash': {
      const h = new Map<string, string>();
      for (const [f, v] of d.pairs) {
        if (h.has(f)) throw duplicate();
        h.set(f, v);
      }
      return [Kind.Hash, finishHash(lim, h, d.listpack)];
    }
    case 'set': {
      if (d.listpack) {
        if (new Set(d.members).size !== d.members.length) throw duplicate();
        return [Kind.Set, restoredListpackSet(lim, d.members)];
      }
      const s = new SetBuilder(lim);
      for (const m of d.members) {
        const before = s.size;
        s.add(m);
        if (s.size === before) throw duplicate();
      }
      return [Kind.Set, s.value()];
    }
    case 'zset': {
      const z = new ZSetValue();
      for (const [m, score] of d.pairs) {
        if (Number.isNaN(score) || z.dict.has(m)) throw duplicate();
        z.set(m, score);
      }
      return [Kind.ZSet, finishZSet(lim, z, d.listpack)];
    }
    case 'list': {
      const l = new ListValue();
      for (const item of d.items) l.push(item);
      l.resize();
      noteListSize(l);
      return [Kind.List, l];
    }
  }
}

function restore(ctx: CommandContext, a: string[]): void {
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < a.length; j++) {
    const opt = a[j]!.toLowerCase();
    const more = j + 1 < a.length;
    if (opt === 'replace') replace = true;
    else if (opt === 'absttl') absttl = true;
    else if (opt === 'idletime' && more && freq < 0) {
      const n = parseI64(a[++j]!);
      if (n === null) throw new ReplyError(Err.notInteger);
      if (n < 0n) throw new ReplyError('ERR Invalid IDLETIME value, must be >= 0');
      idle = n > 4_000_000_000n ? 4_000_000_000 : Number(n);
    } else if (opt === 'freq' && more && idle < 0) {
      const n = parseI64(a[++j]!);
      if (n === null) throw new ReplyError(Err.notInteger);
      if (n < 0n || n > 255n) throw new ReplyError('ERR Invalid FREQ value, must be >= 0 and <= 255');
      freq = Number(n);
    } else throw new ReplyError(Err.syntax);
  }
  const key = a[1]!;
  const ks = ctx.core.keyspace;
  if (!replace && ks.findLive(key, ctx.now) >= 0)
    throw new ReplyError('BUSYKEY Target key name already exists.');
  const ttl = parseI64(a[2]!);
  if (ttl === null) throw new ReplyError(Err.notInteger);
  if (ttl < 0n) throw new ReplyError('ERR Invalid TTL value, must be >= 0');
  const payload = Buffer.from(a[3]!, 'latin1');
  if (!verifyPayload(payload)) throw new ReplyError('ERR DUMP payload version or checksum are wrong');
  let kind: number;
  let value: unknown;
  try {
    if (isModulePayload(payload)) [kind, value] = [Kind.Bloom, decodeBloomPayload(payload)];
    else [kind, value] = engineValue(decodePayload(payload), limitsOf(ctx));
  } catch (e) {
    if (e instanceof DumpFormatError) throw new ReplyError('ERR Bad data format');
    throw e;
  }
  ctx.core.ensureMemory();
  let at = Number(ttl);
  if (at !== 0 && !absttl) at += ctx.now;
  const existing = ks.findLive(key, ctx.now);
  if (at !== 0 && at <= ctx.now) {
    // Already expired: nothing is restored; REPLACE still deletes the old key (a `del` event).
    if (replace && existing >= 0) ctx.core.deleteSlot(existing);
    ctx.w.simple('OK');
    return;
  }
  // Replaced silently, as Valkey: the only event is `restore` (core.touched below).
  if (replace && existing >= 0) ks.remove(existing, 'delete');
  const tomb = ks.find(key, ctx.now);
  if (tomb >= 0) ks.remove(tomb, 'delete');
  const slot = ks.insert(key, kind as 1, value as string, at);
  // As Valkey's objectSetLRUOrLFU: FREQ sets the LFU counter, IDLETIME the LRU stamp, each only
  // under a policy of its kind.
  if (freq >= 0 && ks.tracking === AccessTracking.Lfu) ks.setLfuCounter(slot, freq);
  if (idle >= 0 && ks.tracking === AccessTracking.Lru) ks.setIdleSeconds(slot, idle);
  ctx.core.touched(key);
  ctx.w.simple('OK');
}

/** The DUMP and RESTORE specs. */
export const dumpRestoreCommands: CommandSpec[] = [
  command('dump', 2, ['readonly'], [1, 1, 1], dump),
  command('restore', -4, ['write', 'denyoom'], [1, 1, 1], restore),
];

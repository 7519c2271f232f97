/**
 * The values of sets, sorted sets and lists, and the slot helpers their commands share: find a
 * collection of one kind (WRONGTYPE otherwise), create one on first write, delete it when emptied
 * (Valkey never keeps an empty collection), keep its accounted size, and report the change to
 * listeners (WATCH, keyspace notifications) through `core.touched`/`core.deleteSlot`.
 *
 * Each value object keeps `bytes`, its heap estimate, updated by every edit (O(1) per member), so
 * `MEMORY USAGE`, `INFO memory` and maxmemory see collections as they grow. A small set, sorted set
 * or hash is instead a packed string in its slot (packed.ts), accounted as the string it is.
 */
import { wrongTypeError } from '../../errors.ts';
import { Kind, type SizedValue } from '../../keyspace.ts';
import { stringBytes } from '../../memory.ts';
import { lruAccess } from '../access-tracking.ts';
import type { CommandContext } from '../command-context.ts';
import type { BloomValue } from './bloom-filter.ts';
import { ENCODING_LIMITS, type EncodingLimits, encodingLimitsOf } from './encoding-limits.ts';
import { type SetData, SetValue, setEncoding } from './set-value.ts';
import { type ZSetData, zsetEncoding } from './zset-packed.ts';
import type { ZSetValue } from './zset-value.ts';

/** Fixed bytes of an empty collection object. */
const BASE_BYTES = 96;

/**
 * A list of latin1 byte strings (index 0 = head). A deque: elements live in `#a` from offset `#h`,
 * so pushes and pops at either end are O(1) amortized (an `Array.unshift` on a list of 10⁵ elements
 * moves all of them, as LPUSH used to). `items` hands out the plain array (compacting the offset
 * away first) for the rarer whole-list edits; `at`, `length` and the push/pop methods do not copy.
 */
export class ListValue implements SizedValue {
  #a: string[] = [];
  #h = 0;
  bytes = BASE_BYTES;
  /** Set once the list outgrew one listpack (Valkey's quicklist; it converts back only when small again). */
  big = false;

  /** Number of elements. */
  get length(): number {
    return this.#a.length - this.#h;
  }

  /** The element at index `i` (0 = head), or undefined outside the list. */
  at(i: number): string | undefined {
    return i < 0 ? undefined : this.#a[this.#h + i];
  }

  /** The elements as a plain array (head first); edits to it edit the list. */
  get items(): string[] {
    if (this.#h > 0) {
      this.#a = this.#a.slice(this.#h);
      this.#h = 0;
    }
    return this.#a;
  }

  set items(items: string[]) {
    this.#a = items;
    this.#h = 0;
  }

  /** Adds `s` at the head. */
  unshift(s: string): void {
    if (this.#h === 0) {
      // Re-lay out with free room before the head as large as the list (amortized O(1)).
      const len = this.#a.length;
      const room = Math.max(8, len);
      const a: string[] = new Array(room + len);
      for (let i = 0; i < len; i++) a[room + i] = this.#a[i]!;
      this.#a = a;
      this.#h = room;
    }
    this.#a[--this.#h] = s;
  }

  /** Adds `s` at the tail. */
  push(s: string): void {
    this.#a.push(s);
  }

  /** Removes and returns up to `n` elements from the head (head first). */
  shiftMany(n: number): string[] {
    const h = this.#h;
    const out = this.#a.slice(h, h + n);
    for (let i = h; i < h + out.length; i++) (this.#a as (string | undefined)[])[i] = undefined;
    this.#h = h + out.length;
    if (this.#h === this.#a.length) this.items = [];
    else if (this.#h > 64 && this.#h > this.length) void this.items; // give the freed room back
    return out;
  }

  /** Removes and returns up to `n` elements from the tail (tail first). */
  popMany(n: number): string[] {
    const take = Math.min(n, this.length);
    return this.#a.splice(this.#a.length - take, take).reverse();
  }

  /** Recomputes `bytes` after a bulk edit. */
  resize(): void {
    let n = BASE_BYTES;
    for (const s of this.items) n += memberBytes(s);
    this.bytes = n;
  }
}

/** Bytes of one member in a collection (entry overhead plus the string). */
export function memberBytes(s: string): number {
  return 24 + stringBytes(s);
}

/** True for set, sorted set and list kinds. */
export function isCollection(kind: number): boolean {
  return kind === Kind.Set || kind === Kind.ZSet || kind === Kind.List || kind === Kind.Bloom;
}

/** A deep copy of a collection value (COPY). */
export function copyCollection(kind: number, v: unknown): SizedValue | string {
  if (kind === Kind.Set) {
    // A packed set is an immutable string: the copy shares it.
    if (typeof v === 'string') return v;
    const out = new SetValue();
    out.m = new Set((v as SetValue).m);
    out.bytes = (v as SetValue).bytes;
    return out;
  }
  if (kind === Kind.ZSet) return typeof v === 'string' ? v : (v as ZSetValue).clone();
  if (kind === Kind.Bloom) return (v as BloomValue).clone();
  const out = new ListValue();
  out.items = (v as ListValue).items.slice();
  out.bytes = (v as ListValue).bytes;
  out.big = (v as ListValue).big;
  return out;
}

/**
 * The compact-encoding thresholds in force for this command (Valkey's `*-max-listpack-*` and
 * `set-max-intset-entries`).
 */
export function limitsOf(ctx: CommandContext): Readonly<EncodingLimits> {
  return encodingLimitsOf(ctx.server);
}

/** Approximate listpack bytes of a list (header, per-entry header and backlen, payload). */
function listpackBytes(items: string[]): number {
  let n = 7;
  for (const s of items) n += s.length + (s.length < 64 ? 2 : s.length < 4096 ? 4 : 10);
  return n;
}

/** Updates the list's encoding flag after an edit (quicklist past one listpack; back under half). */
export function noteListSize(v: ListValue): void {
  // Every entry takes at least 2 bytes, so the length alone often decides and the O(n) sum is
  // skipped: a big list of more than half a listpack's entries cannot be back under half, and a
  // list of more entries than fit in one listpack is big. (Summing on every push made LPUSH on a
  // long list O(n).)
  const n = v.length;
  if (v.big && n * 2 + 7 > ENCODING_LIMITS.listMaxListpackBytes / 2) return;
  if (!v.big && n * 2 + 7 > ENCODING_LIMITS.listMaxListpackBytes) {
    v.big = true;
    return;
  }
  const bytes = listpackBytes(v.items);
  if (!v.big && bytes > ENCODING_LIMITS.listMaxListpackBytes) v.big = true;
  else if (v.big && bytes <= ENCODING_LIMITS.listMaxListpackBytes / 2) v.big = false;
}

/** Valkey's OBJECT ENCODING name of a collection. */
export function collectionEncoding(kind: number, v: unknown): string {
  if (kind === Kind.Set) return setEncoding(v as SetData);
  if (kind === Kind.ZSet) return zsetEncoding(v as ZSetData);
  if (kind === Kind.Bloom) return 'raw';
  return (v as ListValue).big ? 'quicklist' : 'listpack';
}

/** The slot of the live collection of `kind` at `key`, -1 when absent; WRONGTYPE for another type. */
export function findCollection(ctx: CommandContext, key: string, kind: number): number {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(key, ctx.now);
  if (slot < 0) return -1;
  if (ks.kinds[slot] !== kind) throw wrongTypeError();
  if (ks.tracking !== 0) lruAccess(ctx, slot);
  return slot;
}

/** The collection value at `slot`. */
export function valueAt<T>(ctx: CommandContext, slot: number): T {
  return ctx.core.keyspace.valueAt(slot) as T;
}

/** The collection of `kind` at `key`, or null; WRONGTYPE for another type. */
export function readCollection<T>(ctx: CommandContext, key: string, kind: number): T | null {
  const slot = findCollection(ctx, key, kind);
  return slot < 0 ? null : (ctx.core.keyspace.valueAt(slot) as T);
}

/**
 * The slot of the collection at `key`, creating an empty one (after the memory check) when absent.
 * The caller must call {@link finishWrite} after editing it.
 */
export function openCollection(
  ctx: CommandContext,
  key: string,
  kind: number,
  make: () => SizedValue | string,
): number {
  const slot = findCollection(ctx, key, kind);
  if (slot >= 0) return slot;
  ctx.core.ensureMemory();
  const ks = ctx.core.keyspace;
  const tomb = ks.find(key, ctx.now);
  if (tomb >= 0) ks.remove(tomb, 'delete');
  return ks.insert(key, kind as 5, make(), 0);
}

/**
 * After an edit of the collection at `slot`: deletes it when empty, else refreshes its accounted
 * size; reports a change (when `changed`) to waiters and listeners.
 */
export function finishWrite(ctx: CommandContext, slot: number, size: number, changed: boolean): void {
  const ks = ctx.core.keyspace;
  if (size === 0) {
    ctx.core.deleteSlot(slot);
    return;
  }
  ks.recomputeSize(slot);
  if (changed) ctx.core.touched(ks.keyAt(slot));
}

/** Replaces whatever is at `key` with a new collection (the STORE commands); deletes when empty. */
export function storeCollection(
  ctx: CommandContext,
  key: string,
  kind: number,
  value: SizedValue | string,
  size: number,
): void {
  const ks = ctx.core.keyspace;
  const existing = ks.find(key, ctx.now);
  if (existing >= 0) {
    if (size === 0) {
      if (ks.kinds[existing] !== Kind.Tombstone) ctx.core.deleteSlot(existing);
      return;
    }
    ks.remove(existing, 'delete');
  }
  if (size === 0) return;
  ctx.core.ensureMemory();
  ks.insert(key, kind as 5, value, 0);
  ctx.core.touched(key);
}

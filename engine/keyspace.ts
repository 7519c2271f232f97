/**
 * The keyspace: every key the engine holds, its value, kind, expiry, fencing version and access
 * stamp. This is the measured hot path, so it is one file and avoids per-entry objects: a hash index
 * from key to slot (key-index.ts), one array holding each slot's key and value side by side (`kv`,
 * see below), and parallel typed arrays indexed by slot for numbers. Freed slots are reused through
 * a free list; slots never move while occupied (SCAN cursors rely on it).
 *
 * Why keys and values are interleaved in one array (`kv[2 * slot]` = key, `kv[2 * slot + 1]` =
 * value) instead of a `keys` and a `values` array: on a keyspace larger than the CPU caches, a GET
 * is dominated by cache misses (index cell, key pointer, key string, value pointer, value string).
 * Side by side, the key and value pointers share one cache line: one miss fewer per GET and per
 * SET of an existing key. Measured (session 6, 100k keys, 32-byte values): a cold-cache lookup by
 * bytes plus value copy ~12 % less CPU than with two arrays; the server at pipeline 1, three paired
 * runs against two arrays (`bench/engine/ab-compare.ts … --tests SET,GET --warmup 300000`), user
 * CPU per request −1…−17 % for GET and −1…−5 % for SET. Same bytes per key.
 * Tried and not kept: making a fresh key string beside every SET's value (so V8 promotes key and
 * value next to each other): ~30 % less per lookup in the cold-cache micro-benchmark, but in the
 * server the extra string per SET cancelled it (SET +2 %, GET −2 %, within noise).
 *
 * Invariants:
 * - `index.get(key) === slot * 16 + kinds[slot]` ⇔ `keyAt(slot) === key` and `kinds[slot] !== Kind.Free`:
 *   the index value packs the kind beside the slot (see {@link KIND_BITS}), so the hot read path learns
 *   the kind without touching the `kinds` array (one cache miss fewer per GET on a large keyspace).
 *   The index is an open-addressing table over the keys in `kv` (key-index.ts), not a `Map`: ~8 bytes per key
 *   instead of ~29.
 * - `expireAt(slot)` is 0 (no TTL) or an absolute epoch-ms; a key is expired when `now > expireAt`
 *   (Valkey's rule), and an expired key is removed the first time anything looks at it (lazy expiry)
 *   or when the active expiry cycle samples it.
 * - `usedBytes` is the sum of {@link Keyspace.entryBytes} over occupied slots plus per-slot array
 *   overhead. String sizes are derived from the strings themselves (no per-slot size field, to keep
 *   bytes per key low); container objects (hashtable hashes, sets, sorted sets, lists), edited in
 *   place, keep theirs in `hashBytes`. A compact container (a packed string: small sets, sorted
 *   sets and hashes) is sized from its string like a string value, and has no `hashBytes` entry.
 * - Values are latin1 strings holding raw bytes (`Kind.Bytes`), JS text strings written in-process
 *   (`Kind.Text`, UTF-8 on the wire), `Map`s for hashes, or `''` for tombstones.
 */
import { activeExpireCycle } from './active-expiry.ts';
import type { Clock } from './clock.ts';
import { KeyIndex } from './key-index.ts';
import { ENTRY_OVERHEAD_BYTES, hashFieldBytes, SLOT_ARRAY_BYTES, stringBytes } from './memory.ts';

/** Low bits of an `index` value holding the slot's kind; the slot is `value >>> KIND_BITS`. */
export const KIND_BITS = 4;
/** Mask of the kind bits of an `index` value. */
export const KIND_MASK = 15;

/** What a slot holds. */
export const Kind = {
  Free: 0,
  /** A JS string written in-process; UTF-8 when sent over the wire. */
  Text: 1,
  /** Raw bytes held as a latin1 string (one char per byte). */
  Bytes: 2,
  /** A hash: field → value, both latin1 byte strings. */
  Hash: 3,
  /** An invalidation tombstone: no visible value, only a version until it expires. */
  Tombstone: 4,
  /** A set (`SetValue`, see server/commands/collections.ts). */
  Set: 5,
  /** A sorted set (`ZSetValue`). */
  ZSet: 6,
  /** A list (`ListValue`). */
  List: 7,
  /** A scaling bloom filter (`BloomValue`, see server/commands/bloom-filter.ts). */
  Bloom: 8,
} as const;

/** True for kinds whose value is a container with its own accounted size (hash, set, sorted set, list). */
export function isContainerKind(kind: number): boolean {
  return kind === Kind.Hash || kind >= Kind.Set;
}

/** A container value other than a hash; its `bytes` is its accounted heap size, kept by its editor. */
export interface SizedValue {
  bytes: number;
}

/** One of the {@link Kind} values. */
export type KindValue = (typeof Kind)[keyof typeof Kind];

/**
 * A stored value: string for Text/Bytes/Tombstone and for compact (packed) hashes, sets and sorted
 * sets; Map for a hashtable Hash; a {@link SizedValue} for the other Set/ZSet/List encodings.
 */
export type StoredValue = string | Map<string, string> | SizedValue;

/** Why a key left the keyspace (listeners and stats see it). */
export type RemoveReason = 'delete' | 'expire' | 'evict';

/** Which access stamp the keyspace maintains for eviction. */
export const AccessTracking = { None: 0, Lru: 1, Lfu: 2 } as const;

/** Valkey's LFU_INIT_VAL: the LFU counter of a new key. */
export const LFU_INIT_VAL = 5;

/** Epoch minutes in the 24 bits the LFU stamp keeps (Valkey keeps 16). */
export function lfuMinutes(nowMs: number): number {
  return ((nowMs / 60_000) >>> 0) & 0xffffff;
}

const INITIAL_CAPACITY = 1024;
/** Expiry cell value meaning "see the far map" (see {@link Keyspace.expireAt}). */
const FAR = 0xffffffff;

/** The slot store. Callers pass `now` so one clock read serves a whole command. */
export class Keyspace {
  /** key → packed slot value (`slot << KIND_BITS | kind`); see key-index.ts. */
  readonly index = new KeyIndex(() => this.kv);
  /**
   * Keys and values interleaved (see the file header): `kv[2 * slot]` is the slot's key (`''` when
   * free), `kv[2 * slot + 1]` its value (undefined when free). Read through {@link Keyspace.keyAt}
   * and {@link Keyspace.valueAt}; written only by the keyspace.
   */
  kv: (StoredValue | undefined)[];
  /** slot → {@link Kind}. */
  kinds: Uint8Array;
  /**
   * slot → expiry cell: 0 for none, else epoch ms − `#expBase` (1 … 2^32 − 2), or {@link FAR} when
   * the expiry is outside that range (before the base, 49.7 days past it, or not a whole ms) and
   * sits in `#far`. Read it through {@link Keyspace.expireAt}. 4 bytes per slot instead of a
   * Float64's 8.
   */
  #exp: Uint32Array;
  /** Epoch ms the expiry cells count from (moved forward by {@link Keyspace.rebaseExpiries}). */
  #expBase: number;
  /** slot → absolute expiry for the cells holding {@link FAR}. */
  readonly #far = new Map<number, number>();
  /** slot → LRU stamp (seconds) or LFU counter; allocated only when an eviction policy needs it. */
  access: Uint32Array = new Uint32Array(0);
  /** slot → accounted value bytes, for container objects only (edited in place; not packed strings). */
  readonly hashBytes = new Map<number, number>();
  /** slot → fencing version (versionSortKey bytes), only for versioned keys. */
  readonly versions = new Map<number, string>();
  /** Number of occupied slots (tombstones included). */
  count = 0;
  /** Occupied slots with a TTL. */
  volatileCount = 0;
  /** Occupied slots holding tombstones. */
  tombstoneCount = 0;
  /** Estimated heap bytes held by the keyspace. */
  usedBytes = 0;
  /** Keys removed by expiry since creation (INFO stats). */
  expiredKeys = 0;
  #tracking: number = AccessTracking.None;
  /** Valkey's `lfu-log-factor`: how hard the LFU counter is to raise (0: +1 per access). @default 10 */
  lfuLogFactor = 10;
  /** Valkey's `lfu-decay-time`: idle minutes per LFU counter decrement (0: no decay). @default 1 */
  lfuDecayTime = 1;
  /** Called after a key is removed by expiry or eviction (set by the engine for listeners). */
  onRemoved: ((key: string, reason: RemoveReason) => void) | undefined;

  readonly clock: Clock;
  /** Random source for sampling (eviction candidates, LFU increments). Injectable for deterministic tests. */
  random: () => number = Math.random;
  #free: number[] = [];
  #top = 0;
  #capacity: number;

  constructor(clock: Clock) {
    this.clock = clock;
    this.#capacity = INITIAL_CAPACITY;
    this.kinds = new Uint8Array(INITIAL_CAPACITY);
    this.#exp = new Uint32Array(INITIAL_CAPACITY);
    this.#expBase = clock.now() - 1;
    this.kv = new Array(INITIAL_CAPACITY * 2);
    this.usedBytes = INITIAL_CAPACITY * SLOT_ARRAY_BYTES;
  }

  /** Access tracking mode ({@link AccessTracking}); turning it on allocates the access stamps. */
  get tracking(): number {
    return this.#tracking;
  }

  set tracking(mode: number) {
    if (mode !== AccessTracking.None && this.access.length !== this.#capacity) {
      this.access = new Uint32Array(this.#capacity);
      this.usedBytes += this.#capacity * 4;
    }
    this.#tracking = mode;
  }

  /** The key of an occupied slot (`''` for a free one). */
  keyAt(slot: number): string {
    return this.kv[slot * 2] as string;
  }

  /** The value of an occupied slot (undefined for a free one). */
  valueAt(slot: number): StoredValue | undefined {
    return this.kv[slot * 2 + 1];
  }

  /** Accounted bytes of the occupied slot (entry overhead, key, value). */
  entryBytes(slot: number): number {
    const kind = this.kinds[slot]!;
    const v = this.kv[slot * 2 + 1];
    const value =
      kind === Kind.Tombstone ? 0 : typeof v === 'string' ? stringBytes(v) : (this.hashBytes.get(slot) ?? 0);
    return ENTRY_OVERHEAD_BYTES + stringBytes(this.kv[slot * 2] as string) + value;
  }

  /** One past the highest slot ever used (bound for sampling and SCAN). */
  get top(): number {
    return this.#top;
  }

  /** Visible keys (tombstones excluded). */
  get size(): number {
    return this.count - this.tombstoneCount;
  }

  /** Slot of `key` (tombstones included), or -1. Removes the key first if it has expired. */
  find(key: string, now: number): number {
    const packed = this.index.get(key);
    if (packed === undefined) return -1;
    const slot = packed >>> KIND_BITS;
    const at = this.expireAt(slot);
    if (at !== 0 && now > at) {
      this.remove(slot, 'expire');
      return -1;
    }
    return slot;
  }

  /** Slot of `key` when it holds a visible value (not a tombstone), or -1. */
  findLive(key: string, now: number): number {
    const slot = this.find(key, now);
    return slot >= 0 && this.kinds[slot] === Kind.Tombstone ? -1 : slot;
  }

  /** Adds `key` (which must be absent) and returns its slot. */
  insert(key: string, kind: KindValue, value: StoredValue, expireAt: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#top === this.#capacity) this.#grow();
      slot = this.#top++;
    }
    // The key first: the index compares (and, growing, rehashes) through it.
    this.kv[slot * 2] = key;
    this.index.set(key, (slot << KIND_BITS) | kind);
    this.kv[slot * 2 + 1] = value;
    this.kinds[slot] = kind;
    this.#storeExpire(slot, expireAt);
    if (expireAt !== 0) this.volatileCount++;
    if (kind === Kind.Tombstone) this.tombstoneCount++;
    this.count++;
    if (typeof value !== 'string') this.hashBytes.set(slot, valueBytes(kind, value));
    this.usedBytes += this.entryBytes(slot);
    if (this.#tracking !== AccessTracking.None) this.#stampNew(slot);
    return slot;
  }

  /**
   * Writes a string value under `key` (inserting or replacing; expired entries count as absent)
   * and returns the slot. `expireAt` 0 = no TTL, -1 = keep the current TTL. Hot path of SET.
   * Overwriting stamps the LRU time; under LFU it is not counted here (the caller counts its
   * lookup, as Valkey's does: server/access-tracking.ts).
   */
  setString(key: string, kind: KindValue, value: string, expireAt: number, now: number): number {
    const packed = this.index.get(key);
    if (packed !== undefined) {
      const slot = this.overwriteString(packed, kind, value, expireAt, now);
      if (slot >= 0) return slot;
      this.remove(packed >>> KIND_BITS, 'expire');
    }
    return this.insert(key, kind, value, expireAt === -1 ? 0 : expireAt);
  }

  /**
   * {@link Keyspace.setString} for a key already looked up (`packed` is its index value): writes
   * and returns the slot, or returns -1 without writing when the key has expired (the caller then
   * goes through setString, which removes it and inserts anew).
   */
  overwriteString(packed: number, kind: KindValue, value: string, expireAt: number, now: number): number {
    const slot = packed >>> KIND_BITS;
    const at = this.expireAt(slot);
    if (at !== 0 && now > at) return -1;
    if ((packed & KIND_MASK) === kind) {
      this.usedBytes += stringBytes(value) - stringBytes(this.kv[slot * 2 + 1] as string);
      this.kv[slot * 2 + 1] = value;
    } else this.replace(slot, kind, value);
    if (expireAt !== -1) {
      if (at === 0 && expireAt !== 0) this.volatileCount++;
      else if (at !== 0 && expireAt === 0) this.volatileCount--;
      // No TTL before or after: the cell already holds 0 (and touching it costs a cache miss).
      if (at !== 0 || expireAt !== 0) this.#storeExpire(slot, expireAt);
    }
    if (this.#tracking === AccessTracking.Lru) this.touch(slot);
    return slot;
  }

  /** Replaces the value (and kind) of an occupied slot. */
  replace(slot: number, kind: KindValue, value: StoredValue): void {
    const old = this.kinds[slot]!;
    this.usedBytes -= this.entryBytes(slot);
    if (old === Kind.Tombstone) this.tombstoneCount--;
    if (kind === Kind.Tombstone) this.tombstoneCount++;
    if (typeof this.kv[slot * 2 + 1] !== 'string') this.hashBytes.delete(slot);
    if (old !== kind) this.index.set(this.kv[slot * 2] as string, (slot << KIND_BITS) | kind);
    this.kinds[slot] = kind;
    this.kv[slot * 2 + 1] = value;
    if (typeof value !== 'string') this.hashBytes.set(slot, valueBytes(kind, value));
    this.usedBytes += this.entryBytes(slot);
  }

  /** Recomputes a container slot's size from its contents after in-place edits. */
  recomputeSize(slot: number): void {
    const value = this.kv[slot * 2 + 1];
    if (typeof value === 'string' || value === undefined) return;
    this.usedBytes -= this.entryBytes(slot);
    this.hashBytes.set(slot, valueBytes(Kind.Hash, value));
    this.usedBytes += this.entryBytes(slot);
  }

  /** Sets or clears (0) the expiry of an occupied slot. */
  setExpire(slot: number, at: number): void {
    const old = this.#exp[slot]!;
    if (old === 0 && at !== 0) this.volatileCount++;
    else if (old !== 0 && at === 0) this.volatileCount--;
    this.#storeExpire(slot, at);
  }

  /** Absolute expiry (epoch ms) of a slot, 0 for none. */
  expireAt(slot: number): number {
    // No key has a TTL (a common cache layout): every cell is 0, so skip reading one, which on a
    // large keyspace is a cache miss per lookup (Valkey likewise skips its empty expires dict).
    if (this.volatileCount === 0) return 0;
    const c = this.#exp[slot]!;
    return c === 0 ? 0 : c !== FAR ? this.#expBase + c : this.#far.get(slot)!;
  }

  #storeExpire(slot: number, at: number): void {
    if (this.#exp[slot] === FAR) this.#far.delete(slot);
    if (at === 0) {
      this.#exp[slot] = 0;
      return;
    }
    const rel = at - this.#expBase;
    if (rel >= 1 && rel < FAR && Number.isInteger(rel)) {
      this.#exp[slot] = rel;
      return;
    }
    this.#exp[slot] = FAR;
    this.#far.set(slot, at);
    // A long-running process: once many expiries fall past the cells' range, move the base forward.
    if (rel >= FAR && this.#far.size > 1024 && this.clock.now() - this.#expBase > 2 ** 31)
      this.rebaseExpiries(this.clock.now());
  }

  /** Number of expiries held outside the 4-byte cells (see {@link Keyspace.expireAt}). */
  get farExpiries(): number {
    return this.#far.size;
  }

  /** Counts expiries from `now` − 1 from here on (O(slots)); exact expiries are unchanged. */
  rebaseExpiries(now: number): void {
    const ats = new Float64Array(this.#top);
    for (let slot = 0; slot < this.#top; slot++) ats[slot] = this.expireAt(slot);
    this.#far.clear();
    this.#exp.fill(0);
    this.#expBase = now - 1;
    for (let slot = 0; slot < this.#top; slot++) if (ats[slot] !== 0) this.#storeExpire(slot, ats[slot]!);
  }

  /** Removes an occupied slot. */
  remove(slot: number, reason: RemoveReason): void {
    const key = this.kv[slot * 2] as string;
    this.index.delete(key);
    if (this.#exp[slot] !== 0) this.volatileCount--;
    if (this.kinds[slot] === Kind.Tombstone) this.tombstoneCount--;
    if (this.versions.size !== 0) this.versions.delete(slot);
    this.usedBytes -= this.entryBytes(slot);
    if (typeof this.kv[slot * 2 + 1] !== 'string') this.hashBytes.delete(slot);
    this.kv[slot * 2] = '';
    this.kv[slot * 2 + 1] = undefined;
    this.kinds[slot] = Kind.Free;
    this.#storeExpire(slot, 0);
    this.count--;
    this.#free.push(slot);
    if (reason === 'expire') this.expiredKeys++;
    if (reason !== 'delete' && this.onRemoved !== undefined) this.onRemoved(key, reason);
  }

  /** Records an access for LRU/LFU eviction (only when tracking is on). */
  touch(slot: number): void {
    if (this.#tracking === AccessTracking.Lru) {
      this.access[slot] = (this.clock.now() / 1000) >>> 0;
    } else if (this.#tracking === AccessTracking.Lfu) {
      // Valkey's LFULogIncr: past LFU_INIT_VAL the counter grows with probability
      // 1 / ((counter - 5) * lfu-log-factor + 1), so it is logarithmic in the access count.
      const minutes = lfuMinutes(this.clock.now());
      let c = this.lfuCounter(slot, minutes);
      if (c < 255) {
        const base = c > LFU_INIT_VAL ? c - LFU_INIT_VAL : 0;
        if (this.random() < 1 / (base * this.lfuLogFactor + 1)) c++;
      }
      this.access[slot] = ((minutes << 8) | c) >>> 0;
    }
  }

  /**
   * Stamps a new key as Valkey stamps a new object: LRU "now", or the LFU counter at
   * {@link LFU_INIT_VAL} (so a new key is not evicted before it had a chance to be used).
   */
  #stampNew(slot: number): void {
    if (this.#tracking === AccessTracking.Lru) this.access[slot] = (this.clock.now() / 1000) >>> 0;
    else this.setLfuCounter(slot, LFU_INIT_VAL);
  }

  /** Sets the slot's LFU counter (0–255) as of now (RESTORE … FREQ). */
  setLfuCounter(slot: number, counter: number): void {
    this.access[slot] = ((lfuMinutes(this.clock.now()) << 8) | counter) >>> 0;
  }

  /** Sets the slot's LRU stamp to `seconds` ago (RESTORE … IDLETIME). */
  setIdleSeconds(slot: number, seconds: number): void {
    this.access[slot] = Math.max(1, (this.clock.now() / 1000 - seconds) >>> 0);
  }

  /**
   * The slot's LFU counter after decay at `minutes` ({@link lfuMinutes}): Valkey's
   * LFUDecrAndReturn, one less per `lfu-decay-time` idle minutes (0: never decays).
   */
  lfuCounter(slot: number, minutes: number): number {
    const packed = this.access[slot]!;
    if (packed === 0) return LFU_INIT_VAL;
    const last = packed >>> 8;
    const idle = minutes >= last ? minutes - last : 0xffffff - last + minutes;
    const c = packed & 0xff;
    if (this.lfuDecayTime === 0) return c;
    const periods = Math.floor(idle / this.lfuDecayTime);
    return periods >= c ? 0 : c - periods;
  }

  /** A random occupied slot, or -1 when none is found within a few probes. */
  randomSlot(): number {
    if (this.count === 0) return -1;
    for (let i = 0; i < 64; i++) {
      const slot = (this.random() * this.#top) | 0;
      if (this.kinds[slot] !== Kind.Free) return slot;
    }
    for (let slot = 0; slot < this.#top; slot++) if (this.kinds[slot] !== Kind.Free) return slot;
    return -1;
  }

  /** One sampled active-expiry cycle within `budgetMs`; returns the number removed. See active-expiry.ts. */
  activeExpire(now: number, budgetMs: number): number {
    return activeExpireCycle(this, now, budgetMs);
  }

  /** Removes every key. */
  clear(): void {
    this.index.clear();
    this.kv = new Array(this.#capacity * 2);
    this.kinds.fill(0);
    this.#exp.fill(0);
    this.#far.clear();
    this.access.fill(0);
    this.versions.clear();
    this.hashBytes.clear();
    this.#free = [];
    this.#top = 0;
    this.count = 0;
    this.volatileCount = 0;
    this.tombstoneCount = 0;
    this.usedBytes = this.#capacity * (SLOT_ARRAY_BYTES + (this.access.length > 0 ? 4 : 0));
  }

  #grow(): void {
    const cap = this.#capacity * 2;
    const kinds = new Uint8Array(cap);
    kinds.set(this.kinds);
    const expires = new Uint32Array(cap);
    expires.set(this.#exp);
    if (this.access.length > 0) {
      const access = new Uint32Array(cap);
      access.set(this.access);
      this.access = access;
      this.usedBytes += (cap - this.#capacity) * 4;
    }
    // Pre-sized (holey) arrays grow in step with the typed arrays: no 1.5x slack per push.
    const kv: (StoredValue | undefined)[] = new Array(cap * 2);
    for (let i = 0; i < this.#top * 2; i++) kv[i] = this.kv[i];
    this.kv = kv;
    this.kinds = kinds;
    this.#exp = expires;
    this.usedBytes += (cap - this.#capacity) * SLOT_ARRAY_BYTES;
    this.#capacity = cap;
  }
}

/** Heap bytes of a value of the given kind. */
export function valueBytes(kind: number, value: StoredValue): number {
  if (typeof value === 'string') return kind === Kind.Tombstone ? 0 : stringBytes(value);
  if (!(value instanceof Map)) return value.bytes;
  let n = 0;
  for (const [f, v] of value) n += hashFieldBytes(f, v);
  return n + 96;
}

/**
 * The in-process engine: the public API over the keyspace, versioned writes, lock keys, leases,
 * write-through hooks, listeners, TTLs and eviction. The protocol server drives the same
 * {@link EngineState}, so both surfaces see one keyspace with one set of rules.
 *
 * Keys are text: each method turns a key into its UTF-8 bytes (key-text.ts), the key a protocol
 * client names with the same text, and every key handed back is that text again.
 * Values are binary-safe: strings are stored as given and read back as given (UTF-8 on the wire);
 * Buffers are stored as raw bytes. TTLs follow Valkey: a key with expiry `at` is gone once
 * `now > at`; expiry is lazy on access plus a sampled active cycle every `activeExpireIntervalMs`.
 *
 * The file is longer than our usual ~300 lines because the API is wide (strings, TTLs, versions,
 * locks, leases, hooks, listeners); every method past `get`/`set` is a thin delegation to its module.
 * Its options and value types are in engine-options.ts, SET and the write-through writes in
 * engine-writes.ts, the tag/hook key conversions in api-key-forms.ts.
 */
import { epochsBytes, epochsText, hookBytes, hookedKeyError } from './api-key-forms.ts';
import { type Clock, systemClock } from './clock.ts';
import {
  ENGINE_DEFAULTS,
  type EngineOptions,
  type EngineValue,
  encodeValue,
  type SetOptions,
} from './engine-options.ts';
import { EngineState } from './engine-state.ts';
import { applySet, removeThrough, writeThrough } from './engine-writes.ts';
import { EngineError, EngineErrorCode, wrongTypeError } from './errors.ts';
import { EvictionPolicy, type EvictionPolicyValue, isEvictionPolicy } from './eviction.ts';
import { NOT_ASCII } from './key-index.ts';
import { dumpStrings, listKeys } from './key-listing.ts';
import { keyBytes, keysBytes, keysText, keyText } from './key-text.ts';
import { isContainerKind, KIND_BITS, KIND_MASK, Kind } from './keyspace.ts';
import type { EngineEvent, EngineEventType, EngineListener } from './listeners.ts';
import * as locks from './locks.ts';
import * as soft from './soft-invalidation.ts';
import type { TagEpochs } from './tags.ts';
import * as versioned from './versioned-writes.ts';
import type { WakeReason } from './waiters.ts';
import { WriteThrough, type WriteThroughHook } from './write-through.ts';

export { ENGINE_DEFAULTS, type EngineOptions, type EngineValue, type SetOptions } from './engine-options.ts';

/** The cache engine. Create with {@link createEngine}. */
export class Engine {
  /** Shared internals, for the protocol server and target adapters. */
  readonly core: EngineState;
  /** Default tombstone lifetime (ms). */
  readonly tombstoneTtlMs: number;
  readonly #hooks: WriteThrough;
  #cancelCycle: (() => void) | undefined;
  #closed = false;

  constructor(options: EngineOptions = {}) {
    const clock = options.clock ?? systemClock;
    const policy = options.maxmemoryPolicy ?? EvictionPolicy.NoEviction;
    if (!isEvictionPolicy(policy)) {
      throw new EngineError(EngineErrorCode.Config, `unknown maxmemoryPolicy ${JSON.stringify(policy)}`);
    }
    const maxmemory = options.maxmemory ?? 0;
    if (!Number.isFinite(maxmemory) || maxmemory < 0) {
      throw new EngineError(EngineErrorCode.Config, 'maxmemory must be a byte count >= 0 (0 = unlimited)');
    }
    this.core = new EngineState(clock, options.onListenerError ?? (() => {}));
    if (options.random !== undefined) this.core.keyspace.random = options.random;
    this.core.configureMemory(maxmemory, policy);
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? ENGINE_DEFAULTS.tombstoneTtlMs;
    this.#hooks = new WriteThrough(clock);
    if (options.activeExpire ?? true) {
      const interval = options.activeExpireIntervalMs ?? ENGINE_DEFAULTS.activeExpireIntervalMs;
      const tick = (): void => {
        this.activeExpireCycle();
        this.#cancelCycle = clock.setTimer(tick, interval);
      };
      this.#cancelCycle = clock.setTimer(tick, interval);
    }
  }

  /** The engine's clock. */
  get clock(): Clock {
    return this.core.clock;
  }

  /** The write-through hook registry (the server consults it for protocol writes). */
  get hooks(): WriteThrough {
    return this.#hooks;
  }

  /** Number of visible keys (tombstones excluded). */
  get size(): number {
    return this.core.keyspace.size;
  }

  /** Estimated heap bytes held by the keyspace. */
  get usedMemory(): number {
    return this.core.keyspace.usedBytes;
  }

  /** Changes the memory limit and policy at run time (CONFIG SET). */
  configureMemory(maxmemory: number, policy: EvictionPolicyValue = this.core.policy): void {
    this.core.configureMemory(maxmemory, policy);
  }

  /** The value as text (raw bytes decoded as UTF-8), or null when absent/expired/tombstoned. Throws WRONGTYPE on a hash. */
  get(key: string): string | null {
    // Hot path: one index lookup (which also checks the key is ASCII), then only the arrays this key needs.
    const ks = this.core.keyspace;
    let packed = ks.index.getAscii(key);
    if (packed === NOT_ASCII) packed = ks.index.get(keyBytes(key));
    if (packed === undefined) return null;
    const slot = packed >>> KIND_BITS;
    const at = ks.expireAt(slot);
    if (at !== 0 && this.core.clock.now() > at) {
      ks.remove(slot, 'expire');
      return null;
    }
    const kind = packed & KIND_MASK;
    if (ks.tracking !== 0) ks.touch(slot);
    if (kind === Kind.Text) return ks.valueAt(slot) as string;
    if (kind === Kind.Tombstone) return null;
    if (isContainerKind(kind)) throw wrongTypeError();
    return EngineState.asText(kind, ks.valueAt(slot));
  }

  /** The value as bytes, or null. Throws WRONGTYPE on a hash. */
  getBuffer(key: string): Buffer | null {
    key = keyBytes(key);
    const ks = this.core.keyspace;
    const slot = ks.findLive(key, this.core.clock.now());
    if (slot < 0) return null;
    const kind = ks.kinds[slot]!;
    if (isContainerKind(kind)) throw wrongTypeError();
    if (ks.tracking !== 0) ks.touch(slot);
    return Buffer.from(ks.valueAt(slot) as string, kind === Kind.Text ? 'utf8' : 'latin1');
  }

  /** True when `key` holds a visible value. */
  has(key: string): boolean {
    key = keyBytes(key);
    return this.core.keyspace.findLive(key, this.core.clock.now()) >= 0;
  }

  /**
   * Sets a string value (Valkey SET). Returns false when NX/XX prevented it. Throws
   * `E_ENGINE_HOOKED_KEY` for keys under a write-through hook (use {@link Engine.write}).
   */
  set(key: string, value: EngineValue, options?: SetOptions): boolean {
    key = keyBytes(key);
    if (this.#hooks.active && this.#hooks.match(key)) throw hookedKeyError(key);
    return applySet(this.core, key, value, options);
  }

  /** Deletes `key`; returns whether it held a value. Throws for hooked keys (use {@link Engine.remove}). */
  delete(key: string): boolean {
    key = keyBytes(key);
    if (this.#hooks.active && this.#hooks.match(key)) throw hookedKeyError(key);
    return this.core.deleteKey(key, this.core.clock.now());
  }

  /** Remaining TTL in ms; -1 without TTL; -2 when absent (Valkey PTTL). */
  ttl(key: string): number {
    key = keyBytes(key);
    const ks = this.core.keyspace;
    const now = this.core.clock.now();
    const slot = ks.findLive(key, now);
    if (slot < 0) return -2;
    const at = ks.expireAt(slot);
    return at === 0 ? -1 : at - now;
  }

  /** Sets a relative TTL; a TTL <= 0 deletes the key (Valkey). Returns whether the key existed. */
  expire(key: string, ttlMs: number): boolean {
    key = keyBytes(key);
    const core = this.core;
    const now = core.clock.now();
    const slot = core.keyspace.findLive(key, now);
    if (slot < 0) return false;
    if (ttlMs <= 0) core.deleteSlot(slot);
    else core.setExpire(slot, now + ttlMs);
    return true;
  }

  /** Removes the TTL; returns whether there was one. */
  persist(key: string): boolean {
    key = keyBytes(key);
    const ks = this.core.keyspace;
    const slot = ks.findLive(key, this.core.clock.now());
    if (slot < 0 || ks.expireAt(slot) === 0) return false;
    this.core.setExpire(slot, 0);
    return true;
  }

  /** Visible keys matching a Valkey glob pattern. */
  keys(pattern = '*'): string[] {
    return keysText(listKeys(this.core.keyspace, keyBytes(pattern), this.core.clock.now()));
  }

  /** Every visible string key and its text value (hashes, tombstones and expired keys excluded). */
  dump(): Record<string, string> {
    const raw = dumpStrings(this.core.keyspace, this.core.clock.now());
    const out: Record<string, string> = {};
    for (const k of Object.keys(raw)) out[keyText(k)] = raw[k]!;
    return out;
  }

  /** Removes every key, lease and prefix fence. */
  flush(): void {
    this.core.flush();
  }

  /** Writes `value` only if `version` (byte-ordered string) is newer than the key's; see versioned-writes.ts. */
  refreshIfNewer(
    key: string,
    value: EngineValue,
    ttlMs: number,
    version: string,
  ): versioned.VersionedOutcome {
    key = keyBytes(key);
    const { kind, stored } = encodeValue(value);
    return versioned.refreshIfNewer(this.core, key, kind, stored, ttlMs, version, this.core.clock.now());
  }

  /** Replaces the value with a tombstone carrying `version`; cancels the key's lease. */
  invalidate(key: string, version: string, tombstoneTtlMs = this.tombstoneTtlMs): versioned.VersionedOutcome {
    key = keyBytes(key);
    return versioned.invalidate(this.core, key, version, tombstoneTtlMs, this.core.clock.now());
  }

  /** Invalidates every key under `prefix`; returns how many were tombstoned. */
  invalidatePrefix(prefix: string, version: string, tombstoneTtlMs = this.tombstoneTtlMs): number {
    prefix = keyBytes(prefix);
    return versioned.invalidatePrefix(this.core, prefix, version, tombstoneTtlMs, this.core.clock.now());
  }

  /** The key's fencing version (value or tombstone), or null. */
  versionOf(key: string): string | null {
    key = keyBytes(key);
    return versioned.versionOf(this.core, key, this.core.clock.now());
  }

  /** Takes lock key `key` with `token` for `ttlMs` (SET NX PX). */
  acquireLock(key: string, token: string, ttlMs: number): boolean {
    key = keyBytes(key);
    return locks.acquireLock(this.core, key, token, ttlMs, this.core.clock.now());
  }

  /** Deletes the lock only if `token` holds it. */
  releaseLock(key: string, token: string): boolean {
    key = keyBytes(key);
    return locks.releaseLock(this.core, key, token, this.core.clock.now());
  }

  /** Resets the lock TTL only if `token` holds it. */
  extendLock(key: string, token: string, ttlMs: number): boolean {
    key = keyBytes(key);
    return locks.extendLock(this.core, key, token, ttlMs, this.core.clock.now());
  }

  /** Resolves true when the lock is free, false after `timeoutMs`. No polling. */
  waitForUnlock(key: string, timeoutMs: number): Promise<boolean> {
    key = keyBytes(key);
    return locks.waitForUnlock(this.core, key, timeoutMs);
  }

  /** Takes a fill lease on `key`; returns its token or null while another is live. */
  acquireLease(key: string, ttlMs: number): string | null {
    key = keyBytes(key);
    return this.core.leases.acquire(key, ttlMs, this.core.clock.now());
  }

  /**
   * Fills `key` under the lease; rejected if the lease was cancelled/expired; fenced by version, and
   * by `tags` (the epochs {@link Engine.joinTags} answered before the load).
   */
  fillLease(
    key: string,
    token: string,
    value: EngineValue,
    ttlMs: number,
    version?: string,
    tags?: TagEpochs,
  ): locks.EngineFillOutcome {
    key = keyBytes(key);
    const { kind, stored } = encodeValue(value);
    const now = this.core.clock.now();
    const t = tags === undefined ? undefined : epochsBytes(tags);
    return locks.fillLease(this.core, key, token, kind, stored, ttlMs, version, now, t);
  }

  /**
   * Marks the value stale at `version` (soft invalidation) unless the key holds that version or a
   * newer one; an absent key gets a tombstone. See soft-invalidation.ts.
   */
  softInvalidate(
    key: string,
    version: string,
    tombstoneTtlMs = this.tombstoneTtlMs,
  ): versioned.VersionedOutcome {
    key = keyBytes(key);
    return soft.softInvalidate(this.core, key, version, tombstoneTtlMs, this.core.clock.now());
  }

  /** True when the key's value was soft-invalidated and nothing newer replaced it. */
  isStale(key: string): boolean {
    key = keyBytes(key);
    return soft.isStale(this.core, key, this.core.clock.now());
  }

  /** Adds `key` to each tag (for `memberTtlMs`, 0 = no expiry) and answers the tags' epochs. */
  joinTags(key: string, tags: readonly string[], memberTtlMs: number): TagEpochs {
    const epochs = soft.joinTags(
      this.core,
      keyBytes(key),
      keysBytes(tags),
      memberTtlMs,
      this.core.clock.now(),
    );
    return epochsText(epochs);
  }

  /**
   * Invalidates every entry tagged `tag` not already current with `version` (with `soft`, marks them
   * stale instead); fenced when the tag saw as new a change. All pages at once: see
   * {@link Engine.invalidateTagPage} for a bounded step.
   */
  invalidateTag(
    tag: string,
    version: string,
    tombstoneTtlMs = this.tombstoneTtlMs,
    softly = false,
  ): versioned.VersionedOutcome {
    return soft.invalidateTag(
      this.core,
      keyBytes(tag),
      version,
      tombstoneTtlMs,
      this.core.clock.now(),
      softly,
    );
  }

  /**
   * One bounded step of a tag invalidation (soft-invalidation.ts `invalidateTagPage`): at most
   * `limit` of the tag's pending keys; call again with the answered `version` while `more`. `version`
   * '' is an app-side invalidation without a version.
   */
  invalidateTagPage(
    tag: string,
    version: string,
    options: { soft?: boolean; limit?: number; tombstoneTtlMs?: number } = {},
  ): soft.TagPage {
    const page = soft.invalidateTagPage(
      this.core,
      keyBytes(tag),
      version,
      options.soft === true,
      options.limit ?? soft.TAG_PAGE_SIZE,
      options.tombstoneTtlMs ?? this.tombstoneTtlMs,
      this.core.clock.now(),
    );
    keysText(page.keys);
    return page;
  }

  /**
   * A write-through write of a tagged entry: fenced when one of `tags` was invalidated for the key
   * after the epochs joined; with a version, fenced like {@link Engine.refreshIfNewer}. Records the tags.
   */
  writeTagged(
    key: string,
    value: EngineValue,
    ttlMs: number,
    version: string | undefined,
    tags: TagEpochs,
  ): versioned.VersionedOutcome {
    const text = key;
    key = keyBytes(key);
    tags = epochsBytes(tags);
    const now = this.core.clock.now();
    if (!this.core.tags.admits(key, tags, now)) return 'fenced';
    if (version !== undefined) {
      if (this.refreshIfNewer(text, value, ttlMs, version) === 'fenced') return 'fenced';
    } else {
      applySet(this.core, key, value, ttlMs > 0 ? { ttlMs } : undefined);
      if (this.core.leases.size !== 0) this.core.leases.cancel(key);
    }
    this.core.tags.record(key, tags, ttlMs > 0 ? now + ttlMs : 0, now);
    return 'applied';
  }

  /** Gives up a lease without filling. */
  releaseLease(key: string, token: string): boolean {
    key = keyBytes(key);
    return locks.releaseLease(this.core, key, token, this.core.clock.now());
  }

  /** Waits (bounded) until the key is filled, written, released or its lease cancelled. */
  waitForFill(key: string, timeoutMs: number): Promise<WakeReason> {
    key = keyBytes(key);
    return locks.waitForFill(this.core, key, timeoutMs);
  }

  /** Registers a write-through hook; returns a function that removes it. */
  addWriteThroughHook(hook: WriteThroughHook): () => void {
    return this.#hooks.add(hookBytes(hook));
  }

  /** Writes through the matching hook (if any) first, then the cache. See write-through.ts. */
  write(key: string, value: EngineValue, options?: SetOptions): Promise<boolean> {
    return writeThrough(this.core, this.#hooks, key, value, options);
  }

  /** Deletes through the matching hook (if any) first, then the cache. */
  remove(key: string): Promise<boolean> {
    return this.removeBytes(keyBytes(key));
  }

  /** {@link Engine.remove} of a key already in keyspace form (latin1 bytes; the protocol server's DEL). */
  removeBytes(key: string): Promise<boolean> {
    return removeThrough(this.core, this.#hooks, key);
  }

  /** Registers a listener (write, invalidate, delete, expire, evict, ttl, flush); returns a function that removes it. */
  on(type: EngineEventType, listener: EngineListener): () => void {
    return this.core.listeners.on(type, (event: EngineEvent): void => {
      const text = keyText(event.key);
      listener(text === event.key ? event : ({ ...event, key: text } as EngineEvent));
    });
  }

  /** Runs one sampled active-expiry cycle now; returns the number of keys removed. */
  activeExpireCycle(budgetMs: number = ENGINE_DEFAULTS.activeExpireBudgetMs): number {
    return this.core.keyspace.activeExpire(this.core.clock.now(), budgetMs);
  }

  /** Stops timers and ends every wait. The keyspace stays readable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelCycle?.();
    this.core.waiters.wakeAll();
  }
}

/** Creates an engine. */
export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options);
}

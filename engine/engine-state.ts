/**
 * The engine's shared internals: the keyspace plus the write primitives every surface goes through
 * (in-process API, versioned writes, leases, protocol commands), so eviction, waiter wake-ups and
 * listeners happen in one place whatever wrote the key.
 *
 * Invariants: every write calls {@link EngineState.ensureMemory} before changing the keyspace (a
 * refused write changes nothing); every change of a key wakes its waiters and emits its event.
 */
import type { Clock } from './clock.ts';
import { EngineError, EngineErrorCode } from './errors.ts';
import { EvictionPolicy, type EvictionPolicyValue, evictUntilUnder, trackingFor } from './eviction.ts';
import { Keyspace, KIND_BITS, Kind, type KindValue, type RemoveReason } from './keyspace.ts';
import { Leases } from './leases.ts';
import { Listeners } from './listeners.ts';
import { TagRegistry } from './tags.ts';
import { Waiters, type WakeReason } from './waiters.ts';

/** Pass as `expireAt` to keep a key's current TTL. */
export const KEEP_TTL = -1;

/** Shared engine state. */
export class EngineState {
  readonly clock: Clock;
  readonly keyspace: Keyspace;
  readonly waiters: Waiters;
  readonly listeners: Listeners;
  readonly leases = new Leases();
  /**
   * Soft-invalidation marks: key → the version that marked it stale; valid only while equal to the
   * entry's version (soft-invalidation.ts). Deleted by every write, delete, expiry, eviction, flush.
   */
  readonly staleMarks = new Map<string, string>();
  /** Tag epochs, members and per-key tag versions (tags.ts). */
  readonly tags = new TagRegistry();
  /** Prefix invalidations still fencing keys created after them (see versioned-writes.ts). */
  prefixFences: { prefix: string; version: string; expiresAt: number }[] = [];
  /** Memory limit in bytes; 0 = none. */
  maxmemory = 0;
  /** Eviction policy when over `maxmemory`. */
  policy: EvictionPolicyValue = EvictionPolicy.NoEviction;
  /** Keys evicted since start (INFO stats). */
  evictedKeys = 0;

  constructor(clock: Clock, onListenerError: (error: unknown) => void) {
    this.clock = clock;
    this.keyspace = new Keyspace(clock);
    this.waiters = new Waiters(clock);
    this.listeners = new Listeners(onListenerError);
    this.keyspace.onRemoved = (key: string, reason: RemoveReason) => {
      if (reason === 'evict') this.evictedKeys++;
      if (this.staleMarks.size !== 0) this.staleMarks.delete(key);
      if (this.waiters.size !== 0) this.waiters.wake(key, reason === 'expire' ? 'expired' : 'deleted');
      if (this.listeners.active) this.listeners.emit({ type: reason === 'expire' ? 'expire' : 'evict', key });
    };
  }

  /** Sets the memory limit and policy. */
  configureMemory(maxmemory: number, policy: EvictionPolicyValue): void {
    this.maxmemory = maxmemory;
    this.policy = policy;
    this.keyspace.tracking = trackingFor(policy);
  }

  /** Makes room for a write, evicting per policy; throws OOM (Valkey's message) when it cannot. */
  ensureMemory(): void {
    if (this.maxmemory === 0 || this.keyspace.usedBytes <= this.maxmemory) return;
    if (!evictUntilUnder(this.keyspace, this.maxmemory, this.policy)) {
      throw new EngineError(
        EngineErrorCode.OutOfMemory,
        "OOM command not allowed when used memory > 'maxmemory'.",
        {
          retriable: true,
        },
      );
    }
  }

  /**
   * Writes a string value (`kind` Text or Bytes) with absolute expiry `expireAt` (0 = none,
   * {@link KEEP_TTL} = keep). A tombstone is overwritten (its version stays: see README). Returns the slot.
   */
  writeString(
    key: string,
    kind: KindValue,
    value: string,
    expireAt: number,
    now: number,
    wake: WakeReason = 'written',
  ): number {
    const slot = this.keyspace.setString(key, kind, value, expireAt, now);
    if (this.staleMarks.size !== 0) this.staleMarks.delete(key);
    if (this.waiters.size !== 0) this.waiters.wake(key, wake);
    if (this.listeners.active) this.listeners.emit({ type: 'write', key });
    return slot;
  }

  /**
   * {@link EngineState.writeString} for a key the caller already found in the index (`packed` is
   * its index value): the same write and the same effects, without looking the key up again.
   */
  writeStringAt(packed: number, kind: KindValue, value: string, expireAt: number, now: number): number {
    const ks = this.keyspace;
    const key = ks.keyAt(packed >>> KIND_BITS);
    const slot = ks.overwriteString(packed, kind, value, expireAt, now);
    if (slot < 0) return this.writeString(key, kind, value, expireAt, now);
    if (this.staleMarks.size !== 0) this.staleMarks.delete(key);
    if (this.waiters.size !== 0) this.waiters.wake(key, 'written');
    if (this.listeners.active) this.listeners.emit({ type: 'write', key });
    return slot;
  }

  /** Deletes a live key (not a tombstone); returns whether it existed. */
  deleteKey(key: string, now: number): boolean {
    const slot = this.keyspace.findLive(key, now);
    if (slot < 0) return false;
    this.deleteSlot(slot);
    return true;
  }

  /** Deletes an occupied slot, waking waiters and emitting `delete`. */
  deleteSlot(slot: number): void {
    const key = this.keyspace.keyAt(slot);
    this.keyspace.remove(slot, 'delete');
    if (this.staleMarks.size !== 0) this.staleMarks.delete(key);
    if (this.leases.size !== 0) this.leases.cancel(key);
    if (this.waiters.size !== 0) this.waiters.wake(key, 'deleted');
    if (this.listeners.active) this.listeners.emit({ type: 'delete', key });
  }

  /** Signals that a key changed in place (hash edits, INCR…). */
  touched(key: string): void {
    if (this.waiters.size !== 0) this.waiters.wake(key, 'written');
    if (this.listeners.active) this.listeners.emit({ type: 'write', key });
  }

  /** Sets (`at` epoch ms) or clears (0) the TTL of an occupied slot, emitting `ttl` (WATCH sees it). */
  setExpire(slot: number, at: number): void {
    this.keyspace.setExpire(slot, at);
    if (this.listeners.active)
      this.listeners.emit({ type: 'ttl', key: this.keyspace.keyAt(slot), expireAt: at });
  }

  /** Removes every key (after emitting `flush`), lease and prefix fence. */
  flush(): void {
    if (this.listeners.active) this.listeners.emit({ type: 'flush', key: '' });
    this.keyspace.clear();
    this.leases.clear();
    this.prefixFences = [];
    this.staleMarks.clear();
    this.tags.clear();
  }

  /** Reads a string value as text (UTF-8-decoding raw bytes); null when absent; throws WRONGTYPE for hashes. */
  static asText(kind: number, value: unknown): string {
    if (kind === Kind.Text) return value as string;
    const s = value as string;
    // Raw bytes: decode as UTF-8 unless plain ASCII (the common case, no copy).
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1').toString('utf8');
    }
    return s;
  }
}

/**
 * Lock keys and fill leases on top of the keyspace.
 *
 * Lock keys are ordinary string keys whose value is the holder's token, so `SET lock tok NX PX 3000`
 * over the protocol and {@link acquireLock} interoperate. Release and extend compare the token first
 * (compare-and-release). Waiters are woken by the write/delete of the key itself (no polling); a
 * wait on a lock whose TTL runs out re-checks when the TTL ends, bounded by the caller's timeout.
 *
 * Fill leases (see leases.ts) are filled here: the fill succeeds only under the live lease, and a
 * versioned fill is still fenced by the key's version.
 */
import type { EngineState } from './engine-state.ts';
import { Kind, type KindValue } from './keyspace.ts';
import type { TagEpochs } from './tags.ts';
import type { WakeReason } from './waiters.ts';

/** What the engine's lease fill (`fillLease`, `CACHE.FILL`) did. */
export type EngineFillOutcome = 'filled' | 'rejected' | 'fenced';

/** Takes the lock key `key` with `token` for `ttlMs` if nobody holds it (SET NX PX). */
export function acquireLock(
  core: EngineState,
  key: string,
  token: string,
  ttlMs: number,
  now: number,
): boolean {
  if (core.keyspace.findLive(key, now) >= 0) return false;
  core.ensureMemory();
  core.writeString(key, Kind.Bytes, token, now + ttlMs, now);
  return true;
}

function heldBy(core: EngineState, key: string, token: string, now: number): number {
  const slot = core.keyspace.findLive(key, now);
  if (slot < 0) return -1;
  const kind = core.keyspace.kinds[slot];
  if (kind !== Kind.Bytes && kind !== Kind.Text) return -1;
  return core.keyspace.valueAt(slot) === token ? slot : -1;
}

/** Deletes the lock key only if `token` holds it. */
export function releaseLock(core: EngineState, key: string, token: string, now: number): boolean {
  const slot = heldBy(core, key, token, now);
  if (slot < 0) return false;
  core.deleteSlot(slot);
  if (core.waiters.size !== 0) core.waiters.wake(key, 'released');
  return true;
}

/** Resets the lock's TTL to `ttlMs` only if `token` holds it. */
export function extendLock(
  core: EngineState,
  key: string,
  token: string,
  ttlMs: number,
  now: number,
): boolean {
  const slot = heldBy(core, key, token, now);
  if (slot < 0) return false;
  core.setExpire(slot, now + ttlMs);
  return true;
}

/** Resolves true once the lock key is free (released, deleted or expired), false after `timeoutMs`. */
export async function waitForUnlock(core: EngineState, key: string, timeoutMs: number): Promise<boolean> {
  const deadline = core.clock.now() + timeoutMs;
  for (;;) {
    const now = core.clock.now();
    const slot = core.keyspace.findLive(key, now);
    if (slot < 0) return true;
    const left = deadline - now;
    if (left <= 0) return false;
    const at = core.keyspace.expireAt(slot);
    const reason = await core.waiters.wait(key, left, at === 0 ? undefined : at - now + 1);
    if (reason === 'timeout') return core.keyspace.findLive(key, core.clock.now()) < 0;
  }
}

/**
 * Fills `key` under lease `token`: rejected unless the lease is live; fenced when `version` is given
 * and the key already holds that version or a newer one, or when `tags` were invalidated for this key
 * after the epochs the load saw (tags.ts). Ends the lease and wakes waiters either way except on
 * rejection. A fill clears a soft-invalidation mark and records the entry's tags.
 */
export function fillLease(
  core: EngineState,
  key: string,
  token: string,
  kind: KindValue,
  value: string,
  ttlMs: number,
  version: string | undefined,
  now: number,
  tags?: TagEpochs,
): EngineFillOutcome {
  if (core.leases.holder(key, now) !== token) return 'rejected';
  const ks = core.keyspace;
  const tagFenced = tags !== undefined && tags.length > 0 && !core.tags.admits(key, tags, now);
  if (version !== undefined || tagFenced) {
    const slot = ks.find(key, now);
    const current = slot >= 0 && version !== undefined ? ks.versions.get(slot) : undefined;
    if (tagFenced || (current !== undefined && version !== undefined && current >= version)) {
      core.leases.end(key, token, now);
      if (core.waiters.size !== 0) core.waiters.wake(key, 'released');
      return 'fenced';
    }
  }
  core.ensureMemory();
  core.leases.end(key, token, now);
  const expireAt = ttlMs > 0 ? now + ttlMs : 0;
  const slot = core.writeString(key, kind, value, expireAt, now, 'filled');
  if (version !== undefined) ks.versions.set(slot, version);
  if (tags !== undefined) core.tags.record(key, tags, expireAt, now);
  return 'filled';
}

/** Gives up a lease without filling; waiters wake with `'released'`. */
export function releaseLease(core: EngineState, key: string, token: string, now: number): boolean {
  if (!core.leases.end(key, token, now)) return false;
  if (core.waiters.size !== 0) core.waiters.wake(key, 'released');
  return true;
}

/** Waits until the key is filled, written, or its lease released/cancelled; `'timeout'` after `timeoutMs`. */
export function waitForFill(core: EngineState, key: string, timeoutMs: number): Promise<WakeReason> {
  return core.waiters.wait(key, timeoutMs);
}

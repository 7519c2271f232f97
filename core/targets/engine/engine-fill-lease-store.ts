/**
 * FillLeaseStore over an in-process cache engine (the embedded target's `engine`). Typed structurally,
 * so core/client does not import engine/. Waits are woken by the engine itself (no polling).
 */
import type { FillLeaseStore, FillOutcome, TagEpochs } from '../../client/fill-lease-store.ts';
import { versionSortKey } from '../../event/version.ts';
import { engineListenerTracker } from './engine-listener-tracker.ts';
import { invalidateTagInPages } from './engine-tags.ts';

/** The engine event types a near cache listens to (engine/listeners.ts `EngineEventType`). */
export type EngineEventTypeLike = 'write' | 'invalidate' | 'delete' | 'expire' | 'evict' | 'ttl' | 'flush';

/** The part of an engine event the near cache reads (engine/listeners.ts `EngineEvent`). */
export interface EngineEventLike {
  type: string;
  key: string;
}

/** The engine methods the store uses (engine/engine.ts `Engine`). */
export interface EngineLike {
  getBuffer(key: string): Buffer | null;
  ttl(key: string): number;
  set(key: string, value: string | Buffer, options?: { ttlMs?: number }): boolean;
  delete(key: string): boolean;
  refreshIfNewer(key: string, value: string | Buffer, ttlMs: number, version: string): 'applied' | 'fenced';
  invalidate(key: string, version: string): 'applied' | 'fenced';
  acquireLease(key: string, ttlMs: number): string | null;
  fillLease(
    key: string,
    token: string,
    value: string | Buffer,
    ttlMs: number,
    version?: string,
    tags?: TagEpochs,
  ): FillOutcome;
  isStale(key: string): boolean;
  joinTags(key: string, tags: readonly string[], memberTtlMs: number): TagEpochs;
  writeTagged(
    key: string,
    value: string | Buffer,
    ttlMs: number,
    version: string | undefined,
    tags: TagEpochs,
  ): 'applied' | 'fenced';
  releaseLease(key: string, token: string): boolean;
  waitForFill(key: string, timeoutMs: number): Promise<unknown>;
  /** One bounded step of a tag invalidation (engine/engine.ts `invalidateTagPage`). */
  invalidateTagPage(
    tag: string,
    version: string,
    options?: { soft?: boolean; limit?: number; tombstoneTtlMs?: number },
  ): { applied: boolean; version: string; keys: string[]; more: boolean };
  /** Listener registration (engine/engine.ts `on`); needed only by a near cache. */
  on?(type: EngineEventTypeLike, listener: (event: EngineEventLike) => void): () => void;
}

/** A FillLeaseStore over `engine`. */
export function engineLeaseStore(engine: EngineLike): FillLeaseStore {
  return {
    kind: 'engine',
    wakes: true,
    async read(key) {
      const value = engine.getBuffer(key);
      if (value === null) return null;
      return engine.isStale(key)
        ? { value, ttlMs: engine.ttl(key), stale: true }
        : { value, ttlMs: engine.ttl(key) };
    },
    async acquireLease(key, ttlMs) {
      return engine.acquireLease(key, ttlMs);
    },
    async fill(key, token, value, ttlMs, version, tags) {
      const v = version === undefined ? undefined : versionSortKey(version);
      return engine.fillLease(key, token, value, ttlMs, v, tags);
    },
    async joinTags(key, tags, memberTtlMs) {
      return engine.joinTags(key, tags, memberTtlMs);
    },
    async releaseLease(key, token) {
      engine.releaseLease(key, token);
    },
    async waitForFill(key, timeoutMs) {
      await engine.waitForFill(key, timeoutMs);
    },
    async write(key, value, ttlMs, version, tags) {
      if (tags !== undefined && tags.length > 0) {
        const v = version === undefined ? undefined : versionSortKey(version);
        return engine.writeTagged(key, value, ttlMs, v, tags);
      }
      if (version !== undefined) return engine.refreshIfNewer(key, value, ttlMs, versionSortKey(version));
      engine.set(key, value, ttlMs > 0 ? { ttlMs } : undefined);
      return 'applied';
    },
    async invalidate(key, version) {
      if (version === undefined) engine.delete(key);
      else engine.invalidate(key, versionSortKey(version));
    },
    async invalidateTag(tag, options = {}) {
      const version = options.version === undefined ? '' : versionSortKey(options.version);
      return invalidateTagInPages(engine, tag, version, { soft: options.soft === true });
    },
    async close() {},
    ...(engine.on === undefined ? {} : { nearTracker: () => engineListenerTracker(engine) }),
  };
}

/**
 * An in-memory FillLeaseStore with an injectable clock, for unit tests of the cache client's policy
 * (it follows the FillLeaseStore contract: one live lease per key, fills rejected once cancelled).
 */
import type { FillLeaseStore, FillOutcome } from '../../core/client/fill-lease-store.ts';

/** The store plus hooks to inspect and disturb it. */
export interface MemoryStore extends FillLeaseStore {
  values: Map<string, { value: Buffer; expiresAt: number }>;
  leases: Map<string, { token: string; expiresAt: number }>;
  /** When set, every call rejects with it (a cache outage). */
  failWith: Error | undefined;
}

/** Creates a memory store on clock `now`. */
export function memoryStore(now: () => number, wakes = false): MemoryStore {
  let n = 0;
  const s: MemoryStore = {
    kind: 'memory',
    wakes,
    values: new Map(),
    leases: new Map(),
    failWith: undefined,
    async read(key) {
      if (s.failWith) throw s.failWith;
      const e = s.values.get(key);
      if (!e || (e.expiresAt > 0 && e.expiresAt <= now())) return null;
      return { value: e.value, ttlMs: e.expiresAt === 0 ? -1 : e.expiresAt - now() };
    },
    async acquireLease(key, ttlMs) {
      if (s.failWith) throw s.failWith;
      const held = s.leases.get(key);
      if (held && held.expiresAt > now()) return null;
      const token = `t${++n}`;
      s.leases.set(key, { token, expiresAt: now() + ttlMs });
      return token;
    },
    async fill(key, token, value, ttlMs): Promise<FillOutcome> {
      if (s.failWith) throw s.failWith;
      if (s.leases.get(key)?.token !== token) return 'rejected';
      s.leases.delete(key);
      s.values.set(key, { value: Buffer.from(value), expiresAt: ttlMs > 0 ? now() + ttlMs : 0 });
      return 'filled';
    },
    async joinTags(_key, tags) {
      if (s.failWith) throw s.failWith;
      return tags.map((tag) => [tag, ''] as const);
    },
    async releaseLease(key, token) {
      if (s.leases.get(key)?.token === token) s.leases.delete(key);
    },
    async waitForFill(_key, ms) {
      await new Promise((r) => setTimeout(r, ms));
    },
    async write(key, value, ttlMs) {
      if (s.failWith) throw s.failWith;
      s.leases.delete(key);
      s.values.set(key, { value: Buffer.from(value), expiresAt: ttlMs > 0 ? now() + ttlMs : 0 });
      return 'applied';
    },
    async invalidate(key) {
      if (s.failWith) throw s.failWith;
      s.leases.delete(key);
      s.values.delete(key);
    },
    async invalidateTag() {
      // This store keeps no tag state (joinTags answers '' epochs): a tag names no entries here.
      if (s.failWith) throw s.failWith;
      return { outcome: 'fenced', keys: [] };
    },
    async close() {},
  };
  return s;
}

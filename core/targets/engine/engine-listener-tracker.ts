/**
 * NearTracker over the in-process engine: its listeners report every change of a key (write,
 * versioned invalidation, delete, expiry, eviction, TTL change) and flushes synchronously, so
 * tracking is up from the start and never lost.
 */

import type { NearTracker } from '../../client/near-cache/tracker.ts';
import type { EngineLike } from './engine-fill-lease-store.ts';

const KEY_EVENTS = ['write', 'invalidate', 'delete', 'expire', 'evict', 'ttl'] as const;

/** A NearTracker over `engine` (which must offer `on`, as engine/engine.ts `Engine` does). */
export function engineListenerTracker(engine: EngineLike): NearTracker {
  const off: (() => void)[] = [];
  const on = (
    type: Parameters<NonNullable<EngineLike['on']>>[0],
    listener: (event: { key: string }) => void,
  ) => {
    if (engine.on === undefined) throw new Error('near cache: this engine has no listeners (on)');
    return engine.on(type, listener);
  };
  return {
    kind: 'engine',
    async read(key) {
      const value = engine.getBuffer(key);
      if (value === null) return null;
      // Soft-invalidated entries are reported stale (the client serves them, never keeps them near).
      return engine.isStale(key)
        ? { value, ttlMs: engine.ttl(key), stale: true }
        : { value, ttlMs: engine.ttl(key) };
    },
    start(sink) {
      for (const type of KEY_EVENTS) off.push(on(type, (event) => sink.invalidate([event.key])));
      off.push(on('flush', () => sink.invalidate(null)));
      sink.up();
    },
    async close() {
      for (const stop of off.splice(0)) stop();
    },
  };
}

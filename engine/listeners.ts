/**
 * Engine listeners: callbacks after a write, invalidation, delete, expiry, eviction, TTL change or
 * flush, for metrics, fan-out and WATCH. Listeners run synchronously after the keyspace changed; a listener that throws is
 * reported through `onListenerError` and never undoes or blocks the change. The engine checks
 * `active` before building an event, so an engine without listeners pays nothing.
 */

/** What happened to a key. */
export type EngineEvent =
  | { type: 'write'; key: string; version?: string }
  | { type: 'invalidate'; key: string; version: string }
  | { type: 'delete'; key: string }
  | { type: 'expire'; key: string }
  | { type: 'evict'; key: string }
  /** A live key's TTL was set (`expireAt` epoch ms) or removed (`expireAt` 0): EXPIRE, PERSIST, GETEX, lock extension. */
  | { type: 'ttl'; key: string; expireAt: number }
  /** Every key is about to go (FLUSHALL/FLUSHDB, `engine.flush()`); emitted before the keyspace is cleared. */
  | { type: 'flush'; key: '' };

/** The event type names. */
export type EngineEventType = EngineEvent['type'];

/** A listener for one event type. */
export type EngineListener = (event: EngineEvent) => void;

/** Listener registry. */
export class Listeners {
  /** True when any listener is registered. */
  active = false;
  #byType = new Map<EngineEventType, Set<EngineListener>>();
  readonly #onError: (error: unknown, event: EngineEvent) => void;

  constructor(onError: (error: unknown, event: EngineEvent) => void) {
    this.#onError = onError;
  }

  /** Registers `listener` for `type`; returns a function that removes it. */
  on(type: EngineEventType, listener: EngineListener): () => void {
    let set = this.#byType.get(type);
    if (!set) {
      set = new Set();
      this.#byType.set(type, set);
    }
    set.add(listener);
    this.active = true;
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byType.delete(type);
      this.active = this.#byType.size > 0;
    };
  }

  /** Delivers `event` to its listeners. */
  emit(event: EngineEvent): void {
    const set = this.#byType.get(event.type);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(error, event);
      }
    }
  }
}

/**
 * Bounded waits on keys: a caller waits until a key is released, filled or changed, or its time is
 * up. There is no polling: writers call {@link Waiters.wake} for the keys they touch (the engine
 * checks `size` first so keys nobody waits on cost one comparison). Every wait has a timer from the
 * engine's clock, so a wait never outlives its bound.
 */
import type { CancelTimer, Clock } from './clock.ts';

/** Why a wait ended. */
export type WakeReason = 'released' | 'filled' | 'cancelled' | 'written' | 'deleted' | 'expired' | 'timeout';

interface Waiter {
  resolve: (reason: WakeReason) => void;
  cancelTimer: CancelTimer;
}

/** Waiters keyed by key. */
export class Waiters {
  readonly #byKey = new Map<string, Set<Waiter>>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of keys with waiters. */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Waits for a wake-up on `key`, at most `timeoutMs` (then resolves `'timeout'`). `recheckMs`, when
   * given and shorter, ends the wait early with `'expired'` so a caller can re-check a lock whose TTL
   * runs out (expiry happens lazily, so nothing else would wake it).
   */
  wait(key: string, timeoutMs: number, recheckMs?: number): Promise<WakeReason> {
    return new Promise((resolve) => {
      let set = this.#byKey.get(key);
      if (!set) {
        set = new Set();
        this.#byKey.set(key, set);
      }
      const bySet = set;
      const early = recheckMs !== undefined && recheckMs < timeoutMs;
      const waiter: Waiter = {
        resolve: (reason) => {
          waiter.cancelTimer();
          bySet.delete(waiter);
          if (bySet.size === 0 && this.#byKey.get(key) === bySet) this.#byKey.delete(key);
          resolve(reason);
        },
        cancelTimer: () => {},
      };
      waiter.cancelTimer = this.#clock.setTimer(
        () => waiter.resolve(early ? 'expired' : 'timeout'),
        early ? Math.max(0, recheckMs) : Math.max(0, timeoutMs),
      );
      set.add(waiter);
    });
  }

  /** Wakes every waiter on `key` with `reason`. */
  wake(key: string, reason: WakeReason): void {
    const set = this.#byKey.get(key);
    if (!set) return;
    this.#byKey.delete(key);
    for (const waiter of [...set]) waiter.resolve(reason);
  }

  /** Ends every wait (engine close) with `'cancelled'`. */
  wakeAll(): void {
    for (const key of [...this.#byKey.keys()]) this.wake(key, 'cancelled');
  }
}

/**
 * Clocks: where the engine reads time and schedules its (few) timers.
 *
 * Every TTL, lease and bounded wait in the engine goes through a Clock, so tests drive time with a
 * ManualClock and stay deterministic. Times are epoch milliseconds. Timers created through a clock
 * must never keep the process alive (the system clock unrefs them).
 */

/** Cancels a timer created by {@link Clock.setTimer}; calling it twice is harmless. */
export type CancelTimer = () => void;

/** A source of time and timers. */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (never keeps the process alive). */
  setTimer(fn: () => void, ms: number): CancelTimer;
}

// Date.now() is a call into C++ (~25 ns); the engine reads the clock on every TTL check. The system
// clock caches the reading until the event loop turns (setImmediate) or 256 readings were served,
// whichever comes first, so a synchronous burst sees at most ~256 operations of staleness (lru-cache
// makes the same trade with its ttlResolution).
let cachedNow = 0;
let readsLeft = 0;
const forget = (): void => {
  cachedNow = 0;
};

function cachedDateNow(): number {
  if (readsLeft-- > 0 && cachedNow !== 0) return cachedNow;
  if (cachedNow === 0) setImmediate(forget);
  cachedNow = Date.now();
  readsLeft = 256;
  return cachedNow;
}

/** setTimeout's longest delay (2^31 - 1 ms, ~24.8 days); longer ones fire at once with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock: a cached `Date.now()` (see above) and unref'd `setTimeout`. A delay beyond
 * {@link MAX_TIMER_MS} is waited in steps of at most that, so a huge timeout (`CACHE.WAIT k
 * 3000000000`) waits instead of firing at once; a non-finite delay never fires.
 */
export const systemClock: Clock = {
  now: cachedDateNow,
  setTimer(fn, ms) {
    let t: NodeJS.Timeout | undefined;
    let left = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    const arm = (): void => {
      if (left === Number.POSITIVE_INFINITY) return;
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      t = setTimeout(left > 0 ? arm : fn, step);
      t.unref();
    };
    arm();
    return () => {
      left = 0;
      if (t !== undefined) clearTimeout(t);
    };
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers fire, in due order, during {@link ManualClock.advance}.
 * Used by the unit tests and by the `testing` helper so TTLs are deterministic.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  /** @param start initial time, epoch ms. @default 1_700_000_000_000 */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): CancelTimer {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.#timers) {
        if (t.cancelled || t.at > target) continue;
        if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
      }
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    this.#now = target;
  }

  /** Sets the time (only forwards; timers due by then fire). */
  set(now: number): void {
    if (now > this.#now) this.advance(now - this.#now);
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}

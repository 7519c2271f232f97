/**
 * The near cache's storage: a bounded map of decoded values, each with its own deadline, evicting
 * by CLOCK (second chance, the approximation of LRU that Valkey and most OS page caches use).
 * Built for the hit path (issue 18: a near hit at least as fast as an `lru-cache` get): one Map
 * lookup, one deadline check and one byte store (the slot's "used" bit); no recency list to relink,
 * no per-entry objects, no per-call options, no diagnostics. An exact LRU moves six links per hit,
 * which is most of what an `lru-cache` get costs beyond its Map lookup.
 *
 * Invariants:
 * - At most `maxEntries` entries and `maxBytes` bytes (the sizes given to {@link set}); an entry
 *   larger than `maxBytes` is not kept. To make room, the clock hand sweeps the slots in order,
 *   giving each entry used since the hand last passed a second chance, and evicts the first one
 *   that was not used.
 * - An entry is never returned once the clock reached its deadline (`now() >= deadline`); the
 *   default clock is `performance.now()`, cached as said below; an injected clock is read every time.
 * - Slots grow with use (doubling from 1,024, never past `maxEntries`): ~33 bytes a slot.
 */

// A clock read costs more than a whole near hit (~25 ns quiet, ~300 ns on a loaded VM), so deadlines
// are checked against a cached `performance.now()`, read again when the event loop turns
// (setImmediate) or after 256 readings, whichever comes first: the engine's system clock makes the
// same trade (engine/clock.ts; core cannot import it), lru-cache its ttlResolution. A synchronous
// burst sees at most ~256 lookups of staleness, and a tracking invalidation waits for the event loop
// anyway: the near cache's staleness bound is the event loop's, for TTLs as for invalidations.
// The setImmediate is kept referenced: an unreferenced one does not stop the loop's poll phase from
// blocking, so I/O callbacks after an idle wait of any length read the reading from before the wait
// and serve entries long past their deadline. A referenced one runs in the check phase of the same
// turn (or makes the next poll not wait) and holds the process for no more than that turn.
// The cache lives in the store's own fields (a module-level `let` costs a hole check per read).
const READS_PER_CLOCK = 256;

/** No slot. */
const NONE = -1;

/** A bounded map of values with per-entry deadlines, CLOCK eviction (see module invariants). */
export class NearStore {
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #index = new Map<string, number>();
  /** Per slot: its key (undefined: free), value, its resolved promise, deadline, size and used bit. */
  readonly #keys: (string | undefined)[] = [];
  readonly #values: unknown[] = [];
  readonly #resolved: (Promise<unknown> | undefined)[] = [];
  #deadlines = new Float64Array(0);
  #sizes = new Float64Array(0);
  #used = new Uint8Array(0);
  /** Free slots (a stack) and how many it holds. */
  #free = new Int32Array(0);
  #freeTop = 0;
  #capacity = 0;
  /** The clock hand: the next slot the eviction sweep looks at. */
  #hand = 0;
  #bytes = 0;
  /** The cached clock reading, how many more lookups may use it, and how many a reading serves. */
  #cachedNow = 0;
  #readsLeft = 0;
  readonly #readsPerClock: number;
  #forgetScheduled = false;
  readonly #forget = (): void => {
    this.#forgetScheduled = false;
    this.#readsLeft = 0;
  };

  /**
   * @param maxEntries most entries kept
   * @param maxBytes most bytes kept (sum of the sizes given to {@link set})
   * @param now the clock deadlines are compared with, ms (tests); default `performance.now()`, cached
   */
  constructor(maxEntries: number, maxBytes: number, now?: () => number) {
    this.#max = maxEntries;
    this.#maxBytes = maxBytes;
    this.#now = now ?? (() => performance.now());
    this.#readsPerClock = now === undefined ? READS_PER_CLOCK : 0;
    this.#grow();
  }

  /** Entries now. */
  get size(): number {
    return this.#index.size;
  }

  /** Bytes now (sum of the kept entries' sizes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The live value of `key` (marked used), or undefined (absent, or its deadline passed: dropped). */
  get(key: string): unknown {
    const i = this.#live(key);
    return i === NONE ? undefined : this.#values[i];
  }

  /**
   * {@link get} as a resolved promise, made once per entry and shared by every later call: an async
   * API's hit costs no allocation.
   */
  getResolved(key: string): Promise<unknown> | undefined {
    const i = this.#live(key);
    if (i === NONE) return undefined;
    const resolved = this.#resolved[i];
    if (resolved !== undefined) return resolved;
    const made = Promise.resolve(this.#values[i]);
    this.#resolved[i] = made;
    return made;
  }

  /** The slot of `key`'s live entry, marked used, or NONE (absent, or expired and dropped). */
  #live(key: string): number {
    const i = this.#index.get(key);
    if (i === undefined) return NONE;
    if (this.#clock() >= this.#deadlines[i]!) {
      this.#remove(key, i);
      return NONE;
    }
    this.#used[i] = 1;
    return i;
  }

  /** Keeps `value` under `key` for `ttlMs` from now, counting `size` bytes; replaces an older entry. */
  set(key: string, value: unknown, ttlMs: number, size: number): void {
    const old = this.#index.get(key);
    if (old !== undefined) this.#remove(key, old);
    if (size > this.#maxBytes) return;
    while (this.#index.size >= this.#max || this.#bytes + size > this.#maxBytes) this.#evictOne();
    if (this.#freeTop === 0) this.#grow();
    const i = this.#free[--this.#freeTop]!;
    this.#index.set(key, i);
    this.#keys[i] = key;
    this.#values[i] = value;
    this.#deadlines[i] = this.#clock() + ttlMs;
    this.#sizes[i] = size;
    this.#used[i] = 1; // new: the most recently used, as in an LRU
    this.#bytes += size;
  }

  /** Drops `key`; whether it was kept. */
  delete(key: string): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#remove(key, i);
    return true;
  }

  /** Drops everything. */
  clear(): void {
    if (this.#index.size === 0) return;
    this.#index.clear();
    this.#keys.fill(undefined);
    this.#values.fill(undefined);
    this.#resolved.fill(undefined);
    for (let i = 0; i < this.#capacity; i++) this.#free[i] = this.#capacity - 1 - i;
    this.#freeTop = this.#capacity;
    this.#hand = 0;
    this.#bytes = 0;
  }

  /** The time, ms: the cached reading while it lasts (see above). */
  #clock(): number {
    if (this.#readsLeft-- > 0) return this.#cachedNow;
    this.#cachedNow = this.#now();
    this.#readsLeft = this.#readsPerClock;
    if (!this.#forgetScheduled && this.#readsPerClock > 0) {
      this.#forgetScheduled = true;
      setImmediate(this.#forget);
    }
    return this.#cachedNow;
  }

  /** Evicts one entry (called only while at least one is kept): the first unused one from the hand. */
  #evictOne(): void {
    for (;;) {
      const i = this.#hand;
      this.#hand = i + 1 === this.#capacity ? 0 : i + 1;
      const key = this.#keys[i];
      if (key === undefined) continue;
      if (this.#used[i] === 1) {
        this.#used[i] = 0;
        continue;
      }
      this.#remove(key, i);
      return;
    }
  }

  #remove(key: string, i: number): void {
    this.#index.delete(key);
    this.#keys[i] = undefined;
    this.#values[i] = undefined;
    this.#resolved[i] = undefined;
    this.#bytes -= this.#sizes[i]!;
    this.#free[this.#freeTop++] = i;
  }

  /** More slots (called when none is free and fewer than `maxEntries` are used). */
  #grow(): void {
    const old = this.#capacity;
    const capacity = Math.min(this.#max, Math.max(1024, old * 2));
    const deadlines = new Float64Array(capacity);
    deadlines.set(this.#deadlines);
    this.#deadlines = deadlines;
    const sizes = new Float64Array(capacity);
    sizes.set(this.#sizes);
    this.#sizes = sizes;
    const used = new Uint8Array(capacity);
    used.set(this.#used);
    this.#used = used;
    const free = new Int32Array(capacity);
    free.set(this.#free.subarray(0, this.#freeTop));
    this.#free = free;
    for (let i = old; i < capacity; i++) {
      this.#keys.push(undefined);
      this.#values.push(undefined);
      this.#resolved.push(undefined);
    }
    // New slots go on the free stack, lowest index on top.
    for (let i = capacity - 1; i >= old; i--) this.#free[this.#freeTop++] = i;
    this.#capacity = capacity;
  }
}

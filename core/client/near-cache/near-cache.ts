/**
 * The near cache: an in-process tier in front of the shared cache, bounded by entries and bytes
 * (a {@link NearStore}, CLOCK eviction), each entry living at most `ttlMs` and never past its fresh life in the
 * shared cache.
 * The shared cache's server keeps it true through a {@link NearTracker} (CLIENT TRACKING on Valkey and
 * the engine server, listeners on the in-process engine).
 *
 * Invariants:
 * - Only a value read through the tracker is installed, and only if no invalidation of that key,
 *   no flush and no loss of tracking came between the start of its read and its install (each read
 *   holds a token the invalidation marks, plus the tracking epoch): a read in flight when the key
 *   changes never installs the older value.
 * - While tracking is down (lost, reconnecting) the near cache is empty and bypassed; it serves again
 *   only after the tracker reports `up`, so nothing read before the loss is served after it.
 * - Values are kept decoded and shared between callers: treat them as immutable.
 */
import { TargetError } from '../../errors.ts';
import type { CacheClientListener } from '../events.ts';
import { NearStore } from './near-store.ts';
import type { NearTracker, TrackingSink } from './tracker.ts';

/** Options of {@link createNearCache}. */
export interface NearCacheOptions {
  /** Most entries kept. @default 10000 */
  maxEntries?: number;
  /** Most bytes kept (stored value bytes plus key length per entry). @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Longest an entry is served locally, ms, whatever its TTL in the shared cache. @default 60000 */
  ttlMs?: number;
  /**
   * TEST/DIAGNOSTIC ONLY: `false` keeps values with no tracking at all, so only `ttlMs` bounds how
   * stale a near read can be (the consistency test uses it to show what tracking prevents). @default true
   */
  tracking?: boolean;
}

/** The largest `maxEntries` (slot indexes are 32-bit). */
const MAX_ENTRIES = 2 ** 30;

/** Near cache defaults. */
export const NEAR_CACHE_DEFAULTS = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 } as const;

/** Counters of a near cache (since it was created). */
export interface NearCacheStats {
  /** Reads served locally. */
  hits: number;
  /** Lookups that found nothing while tracking was up. */
  misses: number;
  /** Lookups not tried because tracking was down. */
  bypassed: number;
  /** Keys invalidated by the server (a flush counts once). */
  invalidations: number;
  /** Times tracking was lost and the near cache emptied. */
  resets: number;
  /** Entries now. */
  entries: number;
  /** Bytes now (as counted for `maxBytes`). */
  bytes: number;
  /** Whether reads are served locally now. */
  tracking: 'up' | 'down';
}

/** @internal One read through the tracker, from its start to its install (see module invariants). */
export interface NearRead {
  readonly key: string;
  readonly epoch: number;
  stale: boolean;
}

/** An in-process near cache; give it to `createCacheClient({ near })`. One client per near cache. */
export class NearCache implements TrackingSink {
  /** The resolved options. */
  readonly options: Readonly<Required<NearCacheOptions>>;
  readonly #lru: NearStore;
  readonly #pending = new Map<string, Set<NearRead>>();
  #up = false;
  #epoch = 0;
  #hits = 0;
  #misses = 0;
  #bypassed = 0;
  #invalidations = 0;
  #resets = 0;
  #emit: CacheClientListener = () => {};
  #emitHits = false;
  #tracker: NearTracker | undefined;
  #lastDown = '';

  /**
   * Prefer {@link createNearCache}.
   * @param now the clock of the entries' deadlines, ms (tests); by default a cached monotonic clock
   */
  constructor(options: NearCacheOptions = {}, now?: () => number) {
    const o = {
      maxEntries: options.maxEntries ?? NEAR_CACHE_DEFAULTS.maxEntries,
      maxBytes: options.maxBytes ?? NEAR_CACHE_DEFAULTS.maxBytes,
      ttlMs: options.ttlMs ?? NEAR_CACHE_DEFAULTS.ttlMs,
      tracking: options.tracking ?? true,
    };
    for (const name of ['maxEntries', 'maxBytes', 'ttlMs'] as const) {
      if (!(Number.isInteger(o[name]) && o[name] > 0)) {
        throw new TargetError(`near cache: ${name} must be a positive integer, got ${String(o[name])}`, {
          retriable: false,
        });
      }
    }
    if (o.maxEntries > MAX_ENTRIES) {
      throw new TargetError(`near cache: maxEntries must be at most ${MAX_ENTRIES}, got ${o.maxEntries}`, {
        retriable: false,
      });
    }
    this.options = o;
    this.#lru = new NearStore(o.maxEntries, o.maxBytes, now);
  }

  /** The counters. */
  stats(): NearCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      bypassed: this.#bypassed,
      invalidations: this.#invalidations,
      resets: this.#resets,
      entries: this.#lru.size,
      bytes: this.#lru.bytes,
      tracking: this.#up ? 'up' : 'down',
    };
  }

  /** @internal Binds the near cache to its client's tracker and events (once). */
  attach(tracker: NearTracker, emit: CacheClientListener, emitsHits: boolean): void {
    if (this.#tracker !== undefined) {
      throw new TargetError('near cache: already attached to a cache client; create one per client', {
        retriable: false,
      });
    }
    this.#tracker = tracker;
    this.#emit = emit;
    this.#emitHits = emitsHits;
    tracker.start(this);
  }

  /** @internal The local value of `key`, or undefined (absent, expired, or tracking down). The hit path. */
  get(key: string): unknown {
    // No tracking check before the lookup: while tracking is down the store is empty (down() clears
    // it and install() refuses), so a hit is always served with tracking up.
    const value = this.#lru.get(key);
    if (value !== undefined) {
      this.#hits++;
      if (this.#emitHits) this.#emit({ type: 'near-hit', key });
      return value;
    }
    this.#missed(key);
    return undefined;
  }

  /** @internal {@link get} as a resolved promise shared by every hit of this entry (getOrLoad's hit path). */
  getResolved(key: string): Promise<unknown> | undefined {
    const resolved = this.#lru.getResolved(key);
    if (resolved !== undefined) {
      this.#hits++;
      if (this.#emitHits) this.#emit({ type: 'near-hit', key });
      return resolved;
    }
    this.#missed(key);
    return undefined;
  }

  #missed(key: string): void {
    if (!this.#up) {
      this.#bypassed++;
      return;
    }
    this.#misses++;
    if (this.#emitHits) this.#emit({ type: 'near-miss', key });
  }

  /**
   * @internal Starts a tracked read of `key` (pair with {@link install} or {@link end}); undefined
   * while tracking is down: read the store directly then.
   */
  begin(key: string): NearRead | undefined {
    if (!this.#up) return undefined;
    const read: NearRead = { key, epoch: this.#epoch, stale: false };
    let set = this.#pending.get(key);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(key, set);
    }
    set.add(read);
    return read;
  }

  /** @internal Keeps `value` for at most `ttlMs` unless `read` was overtaken; ends the read. */
  install(read: NearRead, value: unknown, bytes: number, ttlMs: number): void {
    this.end(read);
    if (read.stale || read.epoch !== this.#epoch || !this.#up || value === undefined || value === null)
      return;
    const ttl = Math.min(this.options.ttlMs, Math.floor(ttlMs));
    if (!(ttl >= 1)) return;
    this.#lru.set(read.key, value, ttl, Math.max(1, bytes + read.key.length));
  }

  /** @internal Ends a read without installing. */
  end(read: NearRead): void {
    const set = this.#pending.get(read.key);
    if (set === undefined) return;
    set.delete(read);
    if (set.size === 0) this.#pending.delete(read.key);
  }

  /** @internal Drops `key` here (this client wrote or invalidated it); in-flight reads of it lose. */
  drop(key: string): void {
    this.#lru.delete(key);
    const set = this.#pending.get(key);
    if (set !== undefined) for (const r of set) r.stale = true;
  }

  /** TrackingSink: the server says these keys changed (`null`: all of them). */
  invalidate(keys: readonly string[] | null): void {
    if (keys === null) {
      this.#invalidations++;
      this.#epoch++;
      this.#lru.clear();
      this.#emit({ type: 'near-invalidate', keys: 'all' });
      return;
    }
    this.#invalidations += keys.length;
    for (const key of keys) this.drop(key);
    this.#emit({ type: 'near-invalidate', keys: keys.length });
  }

  /** TrackingSink: tracking is lost; empty and bypass until `up`. */
  down(reason: string): void {
    this.#epoch++;
    this.#lru.clear();
    if (this.#up) {
      this.#up = false;
      this.#resets++;
      this.#lastDown = reason;
      this.#emit({ type: 'near-tracking', state: 'down', reason });
    } else if (reason !== this.#lastDown) {
      // Still down, for a new reason (a failing re-establish): said once per distinct reason.
      this.#lastDown = reason;
      this.#emit({ type: 'near-tracking', state: 'down', reason });
    }
  }

  /** TrackingSink: tracking is on; serve locally again. */
  up(): void {
    if (this.#up) return;
    this.#epoch++;
    this.#lru.clear();
    this.#up = true;
    this.#lastDown = '';
    this.#emit({ type: 'near-tracking', state: 'up', reason: 'tracking on' });
  }

  /** @internal The tracker this near cache reads through. */
  get tracker(): NearTracker | undefined {
    return this.#tracker;
  }

  /** @internal Closes the tracker. */
  async close(): Promise<void> {
    this.down('closed');
    await this.#tracker?.close();
  }
}

/**
 * Creates a near cache for `createCacheClient({ near })`. Async for compatibility (it once loaded
 * lru-cache, an optional peer; the near cache now has its own store and needs no package).
 */
export async function createNearCache(options: NearCacheOptions = {}): Promise<NearCache> {
  return new NearCache(options);
}

/**
 * The FillLeaseStore seam: what the cache client needs from a cache, implemented once per backend
 * (core/targets/<backend>/*-fill-lease-store.ts: embedded engine, engine over RESP, Valkey) and
 * served by each target as its `fillLeases()` capability. Small on purpose; the client holds all the policy
 * (single-flight, waiting, stale serving), stores only do atomic steps.
 *
 * Contract:
 * - `acquireLease` is SET-NX-PX-like: one live lease per key across every process.
 * - `fill` succeeds only under the live lease; an invalidation, a versioned refresh or `remove`
 *   cancels the lease first, so a fill racing a change is rejected; with a version, the fill is
 *   also fenced by the key's version (a tombstone included).
 * - Versions are source versions (decimal components); stores encode them with `versionSortKey`.
 * - A soft invalidation marks an entry stale (`read` says so); a fill or write clears the mark.
 * - Tags (docs/soft-invalidation-and-tags.md): `joinTags` before the load (or the write to the source
 *   of truth), then `fill`/`write` with the epochs it answered: fenced when one of the tags was
 *   invalidated for the key since. `invalidateTag` is the rules' tag invalidation, from the app.
 */

import type { NearTracker } from './near-cache/tracker.ts';

/** Options of a backend's fill-lease store (CacheTarget `fillLeases(options)`). */
export interface FillLeaseStoreOptions {
  /**
   * Tombstone lifetime of versioned invalidations, ms (Valkey; the engine keeps its own tombstones).
   * @default TARGET_DEFAULTS.tombstoneTtlMs
   */
  tombstoneTtlMs?: number;
}
/** Tag → the tag's epoch (an opaque version string, '' = never invalidated) that `joinTags` answered. */
export type TagEpochs = readonly (readonly [tag: string, epoch: string])[];

/** Options of an app-side tag invalidation ({@link FillLeaseStore.invalidateTag}). */
export interface TagInvalidateOptions {
  /**
   * The source version of the change (fenced like a rule's: a tag that saw a change as new removes
   * nothing). Absent: the invalidation takes a version of its own just above the tag's epoch, so it
   * always applies and a later change from the source still does.
   */
  version?: string;
  /** Mark the entries stale instead of removing them (stale-while-revalidate serves them). @default false */
  soft?: boolean;
}

/** What an app-side tag invalidation did. */
export interface TagInvalidateResult {
  /** `fenced`: the tag saw a change as new and nothing was pending. */
  outcome: 'applied' | 'fenced';
  /** The keys removed (or, soft, marked stale): a near cache drops them. */
  keys: readonly string[];
}

/** What a fill under lease did. */
export type FillOutcome = 'filled' | 'rejected' | 'fenced';

/** A stored value and its remaining TTL in ms (-1: no expiry). */
export interface StoredEntry {
  value: Buffer;
  ttlMs: number;
  /** True when a soft invalidation marked the value stale (served only with stale-while-revalidate). */
  stale?: boolean;
}

/** The atomic cache steps the client builds on. */
export interface FillLeaseStore {
  /** Backend kind, e.g. `engine`, `engine-remote`, `valkey`, `valkey-cluster`. */
  readonly kind: string;
  /** True when `waitForFill` ends as soon as the key is filled or its lease ends; false: it only sleeps. */
  readonly wakes: boolean;
  /** The value and its remaining TTL, or null (absent, expired, tombstoned). */
  read(key: string): Promise<StoredEntry | null>;
  /** Takes the key's fill lease for `ttlMs`; its token, or null while another lease is live. */
  acquireLease(key: string, ttlMs: number): Promise<string | null>;
  /** Stores `value` (TTL `ttlMs`, 0 = none) under lease `token`. */
  fill(
    key: string,
    token: string,
    value: string | Buffer,
    ttlMs: number,
    version?: string,
    tags?: TagEpochs,
  ): Promise<FillOutcome>;
  /**
   * Adds `key` to each tag's members (for `memberTtlMs`, 0 = no expiry) and answers the tags'
   * epochs; called before the load, its answer passed to `fill`/`write`. One call per tag's slot.
   */
  joinTags(key: string, tags: readonly string[], memberTtlMs: number): Promise<TagEpochs>;
  /** Gives the lease up without filling (loader failed). */
  releaseLease(key: string, token: string): Promise<void>;
  /** Waits up to `timeoutMs` for the key to be filled or its lease to end (or just sleeps). */
  waitForFill(key: string, timeoutMs: number): Promise<void>;
  /** Writes a value (write-through); with a version it is fenced like a refresh. Cancels the lease. */
  write(
    key: string,
    value: string | Buffer,
    ttlMs: number,
    version?: string,
    tags?: TagEpochs,
  ): Promise<'applied' | 'fenced'>;
  /** Removes the value and cancels the lease; with a version, leaves a fenced tombstone. */
  invalidate(key: string, version?: string): Promise<void>;
  /**
   * Invalidates every entry tagged `tag` by the rules' protocol (docs/soft-invalidation-and-tags.md:
   * fenced, cluster-safe, a bounded page at a time, finished by a retry after a crash); rejects with a
   * retriable error when a step fails.
   */
  invalidateTag(tag: string, options?: TagInvalidateOptions): Promise<TagInvalidateResult>;
  /** Releases what the store itself opened (not the target's connection). */
  close(): Promise<void>;
  /**
   * A tracked reader for a near cache (core/client/near-cache): CLIENT TRACKING on Valkey and the
   * engine server, listeners on the in-process engine. Absent: this backend cannot keep one true.
   */
  nearTracker?(): NearTracker;
}

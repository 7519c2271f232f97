/**
 * The cache client's options and its public interface (cache-client.ts builds it): per-call load
 * options, client options with their defaults, and the bounds every option is checked against.
 */
import { TargetError } from '../errors.ts';
import type { Codec } from './codec.ts';
import type { CacheClientListener } from './events.ts';
import type { FillLeaseStore, TagInvalidateOptions, TagInvalidateResult } from './fill-lease-store.ts';
import type { NearCache, NearCacheStats } from './near-cache/near-cache.ts';

/** Per-call options of getOrLoad / writeThrough (defaults come from the client). */
export interface LoadOptions<T> {
  /** Time to live of a stored value, ms; 0 = no expiry. @default 60000 */
  ttlMs?: number;
  /** Serve a value this long past its TTL while one caller refreshes it, ms. @default 0 */
  staleWhileRevalidateMs?: number;
  /** Serve a value this long past its TTL when its reload fails, ms. @default 0 */
  staleIfErrorMs?: number;
  /** Shortens each TTL by a random share in [0, jitter), against synchronized expiry. @default 0 */
  jitter?: number;
  /** XFetch β: refresh early with probability rising as expiry nears; 0 = off (1 is typical). @default 0 */
  earlyRefreshBeta?: number;
  /** How long a loader may hold the key's lease, ms. @default 10000 */
  leaseTtlMs?: number;
  /** Longest wait for another process's load before loading without filling, ms. @default 5000 */
  lockWaitTimeoutMs?: number;
  /** The source version of a loaded value: the fill is then fenced by it. */
  version?: (value: T) => string | undefined;
  /** Codec of this call. @default the client's */
  codec?: Codec<T>;
  /**
   * Serve an entry a soft invalidation marked stale while one caller (across all processes: the one
   * holding the key's fill lease) reloads it in the background; false: a stale entry is a miss.
   * @default false
   */
  staleWhileRevalidate?: boolean;
  /**
   * Tags this entry depends on (`customer:42`): a rule's `tags` (or `invalidateTag`) naming one of
   * them removes the entry. Names as the rules render them (with the config's and rule's prefixes).
   */
  tags?: readonly string[];
}

/** Options of {@link createCacheClient}. */
export interface CacheClientOptions extends Omit<LoadOptions<unknown>, 'version' | 'codec' | 'tags'> {
  /** Where values live (see `leaseStoreFor(target)`). */
  store: FillLeaseStore;
  /** @default jsonCodec */
  codec?: Codec<unknown>;
  /** Event listener (metrics, logs). @default no-op */
  onEvent?: CacheClientListener;
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /** Random source in [0, 1). @default Math.random */
  random?: () => number;
  /** Sleep for the Valkey backoff. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** First and longest poll interval while waiting on a store that cannot wake, ms. @default [2, 50] */
  pollBackoffMs?: [number, number];
  /**
   * TEST/DIAGNOSTIC ONLY: `false` switches leases off (plain GET → load → SET, fills never rejected;
   * unguarded-store.ts), to show what leases prevent. @default true
   */
  leases?: boolean;
  /**
   * An in-process near cache in front of the store (`await createNearCache({...})`), kept true by the
   * store's server (CLIENT TRACKING) or engine listeners. Fresh values read from the store are kept
   * there; writeThrough and invalidate drop them locally. @default none
   */
  near?: NearCache;
}

/** Client defaults. */
export const CACHE_CLIENT_DEFAULTS = {
  ttlMs: 60_000,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  jitter: 0,
  earlyRefreshBeta: 0,
  leaseTtlMs: 10_000,
  lockWaitTimeoutMs: 5_000,
  staleWhileRevalidate: false,
  pollBackoffMs: [2, 50] as [number, number],
  /** Longest single wait on a store that wakes, so a lost wake-up costs at most this. */
  wakeSliceMs: 100,
} as const;

/** A write-through writer: persists `value`, optionally returning its source version. */
// biome-ignore lint/suspicious/noConfusingVoidType: a writer that returns nothing (`async (u) => db.update(u)`, Promise<void>) is the common case.
export type Writer<T> = (value: T) => Promise<void | { version?: string }>;

/** The app-side cache client. */
export interface CacheClient {
  /** The cached value of `key`, or `loader(key)` (stored under a lease). */
  getOrLoad<T>(key: string, loader: (key: string) => Promise<T>, options?: LoadOptions<T>): Promise<T>;
  /** The cached value (fresh or stale), or undefined; never loads. */
  get<T>(key: string, options?: Pick<LoadOptions<T>, 'codec'>): Promise<T | undefined>;
  /** Runs `writer` (the source of truth) and then stores `value`; a failed writer leaves the cache alone. */
  writeThrough<T>(key: string, value: T, writer: Writer<T>, options?: LoadOptions<T>): Promise<void>;
  /** Removes keys and cancels their fill leases; with a version, leaves fenced tombstones. */
  invalidate(keys: string | readonly string[], options?: { version?: string }): Promise<void>;
  /**
   * Removes every entry tagged `tag` (`soft`: marks them stale, so stale-while-revalidate callers keep
   * serving them while one reloads), by the rules' protocol: fenced by the tag's epoch (with a
   * `version`, a tag that saw a change as new removes nothing; without one it always applies),
   * cluster-safe, a bounded page at a time, and finished by a retry after a failure (it rejects with
   * a retriable error then). This process's near cache drops the keys before it resolves.
   */
  invalidateTag(tag: string, options?: TagInvalidateOptions): Promise<TagInvalidateResult>;
  /** {@link CacheClient.invalidateTag} for each of `tags` (one after another); one result per tag. */
  invalidateTags(tags: readonly string[], options?: TagInvalidateOptions): Promise<TagInvalidateResult[]>;
  /** `invalidateTag(tag, { ...options, soft: true })`. */
  softInvalidateTag(tag: string, options?: Omit<TagInvalidateOptions, 'soft'>): Promise<TagInvalidateResult>;
  /** Waits for background refreshes and closes the store's own resources. */
  close(): Promise<void>;
  /** The near cache's counters (hits, misses, invalidations received, …), or undefined without one. */
  nearStats(): NearCacheStats | undefined;
}

/** Load options with every default filled in. */
export type Resolved = Required<Omit<LoadOptions<unknown>, 'version' | 'codec' | 'tags'>>;

/** Rejects out-of-range options with the fix in the message (`where`: options or call options). */
export function checkOptions(o: Resolved, where: string): void {
  const bad = (m: string) => new TargetError(`cache client: ${where}: ${m}`, { retriable: false });
  for (const name of ['ttlMs', 'staleWhileRevalidateMs', 'staleIfErrorMs', 'earlyRefreshBeta'] as const) {
    if (!(o[name] >= 0)) throw bad(`${name} must be >= 0`);
  }
  if (!(o.jitter >= 0 && o.jitter < 1)) throw bad('jitter must be in [0, 1)');
  if (!(o.leaseTtlMs > 0) || !(o.lockWaitTimeoutMs >= 0))
    throw bad('leaseTtlMs must be > 0, lockWaitTimeoutMs >= 0');
}

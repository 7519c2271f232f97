/**
 * Events of the cache client, for metrics and logs. Emitted synchronously to one listener
 * (`onEvent`), which defaults to a no-op, so an unobserved client pays one function call.
 */

/** Why a stale value was served. */
export type StaleReason = 'revalidate' | 'lease-held' | 'load-error' | 'soft-invalidated';

/** One client event. */
export type CacheClientEvent =
  /** A fresh value was found. */
  | { type: 'hit'; key: string }
  /** No value: this call will load or wait for another loader. */
  | { type: 'miss'; key: string; softInvalidated?: true }
  /**
   * A stale value was served (`revalidate`: a refresh runs in the background; `soft-invalidated`: a
   * soft invalidation marked it, and one caller reloads it).
   */
  | { type: 'stale'; key: string; reason: StaleReason }
  /** XFetch decided to refresh a fresh value early. */
  | { type: 'early-refresh'; key: string }
  /** The loader ran and returned. */
  | { type: 'load'; key: string; durationMs: number }
  /** The loader threw. */
  | { type: 'load-error'; key: string; error: unknown }
  /** This call waited for another loader's lease; `outcome` says how the wait ended. */
  | { type: 'lock-wait'; key: string; waitedMs: number; outcome: 'value' | 'lease' | 'timeout' }
  /** A fill under lease was refused: the lease was cancelled (`rejected`) or a newer version exists (`fenced`). */
  | { type: 'lease-rejected'; key: string; outcome: 'rejected' | 'fenced' }
  /** A loaded value was stored under its lease. */
  | { type: 'fill'; key: string }
  /** The cache failed and the client carried on without it (read → loader; fill → skipped). */
  | { type: 'cache-error'; key: string; error: unknown }
  /** Near cache: a read served locally (emitted only to an `onEvent` listener; counted in `nearStats()`). */
  | { type: 'near-hit'; key: string }
  /** Near cache: nothing local while tracking was up (emitted only to an `onEvent` listener). */
  | { type: 'near-miss'; key: string }
  /** Near cache: the server invalidated `keys` keys (`all`: a flush). */
  | { type: 'near-invalidate'; keys: number | 'all' }
  /** Near cache: tracking went down (near cache emptied, bypassed) or came back up. */
  | { type: 'near-tracking'; state: 'up' | 'down'; reason: string };

/** Listener of client events. */
export type CacheClientListener = (event: CacheClientEvent) => void;

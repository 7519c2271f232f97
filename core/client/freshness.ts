/**
 * The cache client's time policy: how long a value is stored, how long a key stays a tag's member,
 * and how fresh a read entry is (fresh, due an early XFetch refresh, stale-while-revalidate, or in
 * the stale-if-error grace). Pure arithmetic over the resolved call options, so cache-client.ts keeps
 * only the protocol (single-flight, leases, fills) and these rules read in one place.
 *
 * A value is stored with a physical TTL of `ttl + grace`, grace = `max(staleWhileRevalidate,
 * staleIfError)` (0 without a TTL); in the last `grace` ms of its life it is stale.
 */
import type { StoredEntry } from './fill-lease-store.ts';

/** The resolved TTL options these rules read (the client's resolved LoadOptions satisfy it). */
export interface TtlPolicy {
  ttlMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  jitter: number;
  earlyRefreshBeta: number;
  leaseTtlMs: number;
}

/** How a read entry is served: as is, as is plus an early or stale refresh, or reloaded (grace). */
export type Freshness = 'fresh' | 'early' | 'revalidate' | 'grace';

/** The stale tail of a stored value's life, ms (0 without a TTL). */
function graceMs(o: TtlPolicy): number {
  return o.ttlMs === 0 ? 0 : Math.max(o.staleWhileRevalidateMs, o.staleIfErrorMs);
}

/** The TTL a value is stored with, ms: the jittered TTL plus the grace; 0 = no expiry. */
export function physicalTtl(o: TtlPolicy, random: () => number): number {
  if (o.ttlMs === 0) return 0;
  const ttl = Math.max(1, Math.round(o.ttlMs * (1 - o.jitter * random())));
  return ttl + Math.max(o.staleWhileRevalidateMs, o.staleIfErrorMs);
}

/** How long a key stays a tag's member: as long as its fill could live, plus the lease. */
export function memberTtl(o: TtlPolicy): number {
  return o.ttlMs === 0 ? 0 : o.ttlMs + Math.max(o.staleWhileRevalidateMs, o.staleIfErrorMs) + o.leaseTtlMs;
}

/**
 * How fresh `entry` is. `loadMs` is the client's moving average load time (XFetch's Δ); `random`
 * draws XFetch's early-refresh lottery.
 */
export function freshness(entry: StoredEntry, o: TtlPolicy, loadMs: number, random: () => number): Freshness {
  const grace = graceMs(o);
  if (entry.ttlMs < 0 || (grace === 0 && o.earlyRefreshBeta === 0)) return 'fresh';
  const fresh = entry.ttlMs - grace;
  if (fresh > 0) {
    if (o.earlyRefreshBeta > 0 && loadMs > 0 && fresh <= -loadMs * o.earlyRefreshBeta * Math.log(random())) {
      return 'early';
    }
    return 'fresh';
  }
  return -fresh <= o.staleWhileRevalidateMs ? 'revalidate' : 'grace';
}

/** How long `entry` stays fresh (the near cache keeps it no longer), ms. */
export function freshMs(entry: StoredEntry, o: TtlPolicy): number {
  if (entry.ttlMs < 0) return Number.POSITIVE_INFINITY;
  return entry.ttlMs - graceMs(o);
}

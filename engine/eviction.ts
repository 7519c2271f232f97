/**
 * maxmemory eviction, sampled as in Valkey: pick `samples` random candidates (only keys with a TTL
 * for the volatile-* policies), evict the best one by the policy's measure, repeat until the
 * keyspace is under the limit. Cost per eviction is bounded whatever the key count; the result is an
 * approximation of true LRU/LFU, like Valkey's.
 */
import { AccessTracking, type Keyspace, Kind, lfuMinutes } from './keyspace.ts';

/** The supported `maxmemory-policy` values. */
export const EvictionPolicy = {
  NoEviction: 'noeviction',
  AllKeysLru: 'allkeys-lru',
  VolatileLru: 'volatile-lru',
  AllKeysLfu: 'allkeys-lfu',
  VolatileLfu: 'volatile-lfu',
  AllKeysRandom: 'allkeys-random',
  VolatileRandom: 'volatile-random',
  VolatileTtl: 'volatile-ttl',
} as const;

/** One of the {@link EvictionPolicy} values. */
export type EvictionPolicyValue = (typeof EvictionPolicy)[keyof typeof EvictionPolicy];

/** True when `s` names a supported policy. */
export function isEvictionPolicy(s: string): s is EvictionPolicyValue {
  return (Object.values(EvictionPolicy) as string[]).includes(s);
}

/** The access tracking a policy needs. */
export function trackingFor(policy: EvictionPolicyValue): number {
  if (policy.endsWith('-lru')) return AccessTracking.Lru;
  if (policy.endsWith('-lfu')) return AccessTracking.Lfu;
  return AccessTracking.None;
}

/** How many candidates each eviction samples (Valkey's maxmemory-samples). @default 5 */
export const DEFAULT_EVICTION_SAMPLES = 5;

/**
 * Evicts keys until `ks.usedBytes <= maxmemory`. Returns false when the policy forbids eviction or
 * no candidate could be found (the caller then refuses the write with OOM).
 */
export function evictUntilUnder(
  ks: Keyspace,
  maxmemory: number,
  policy: EvictionPolicyValue,
  samples = DEFAULT_EVICTION_SAMPLES,
): boolean {
  if (policy === EvictionPolicy.NoEviction) return ks.usedBytes <= maxmemory;
  const volatileOnly = policy.startsWith('volatile-');
  while (ks.usedBytes > maxmemory) {
    const slot = pickVictim(ks, policy, volatileOnly, samples);
    if (slot < 0) return false;
    ks.remove(slot, 'evict');
  }
  return true;
}

function pickVictim(
  ks: Keyspace,
  policy: EvictionPolicyValue,
  volatileOnly: boolean,
  samples: number,
): number {
  if (ks.count === 0 || (volatileOnly && ks.volatileCount === 0)) return -1;
  let best = -1;
  let bestScore = Number.POSITIVE_INFINITY;
  let found = 0;
  const top = ks.top;
  const minutes = lfuMinutes(ks.clock.now());
  for (let probe = 0; probe < samples * 16 && found < samples; probe++) {
    const slot = (ks.random() * top) | 0;
    const kind = ks.kinds[slot]!;
    if (kind === Kind.Free) continue;
    if (volatileOnly && ks.expireAt(slot) === 0) continue;
    found++;
    // Lower score = better victim. Tombstones go first: they are only metadata.
    let score: number;
    if (kind === Kind.Tombstone) score = Number.NEGATIVE_INFINITY;
    else if (policy === EvictionPolicy.VolatileTtl) score = ks.expireAt(slot);
    else if (policy.endsWith('-random')) score = 0;
    else if (policy.endsWith('-lfu')) score = ks.lfuCounter(slot, minutes);
    else score = ks.access[slot]!;
    if (score < bestScore) {
      bestScore = score;
      best = slot;
    }
  }
  return best;
}

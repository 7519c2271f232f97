/**
 * The active expiry cycle, sampled like Valkey's: lazy expiry alone would keep keys nobody reads
 * again, so the engine's timer (and `Engine.activeExpireCycle`) samples keys with a TTL and removes
 * the expired ones. Cost stays bounded however many keys there are: a fixed sample per round, and
 * a wall-time budget.
 */
import type { Keyspace } from './keyspace.ts';

/** Keys with a TTL tested per round (Valkey's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
const SAMPLE_PER_ROUND = 20;

/**
 * One active-expiry cycle over `ks`: test 20 keys with a TTL, remove the expired ones, and go again
 * while more than a quarter of the sample was expired, within `budgetMs` of wall time. Returns the
 * number removed.
 */
export function activeExpireCycle(ks: Keyspace, now: number, budgetMs: number): number {
  if (ks.volatileCount === 0) return 0;
  const started = performance.now();
  let removed = 0;
  for (let round = 0; ; round++) {
    let sampled = 0;
    let expired = 0;
    for (let probe = 0; probe < SAMPLE_PER_ROUND * 8 && sampled < SAMPLE_PER_ROUND; probe++) {
      const slot = (ks.random() * ks.top) | 0;
      const at = ks.expireAt(slot);
      if (at === 0) continue;
      sampled++;
      if (now > at) {
        ks.remove(slot, 'expire');
        expired++;
      }
    }
    removed += expired;
    if (sampled === 0 || expired * 4 <= sampled || ks.volatileCount === 0) break;
    if ((round & 7) === 7 && performance.now() - started > budgetMs) break;
  }
  return removed;
}

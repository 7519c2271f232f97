/**
 * Balanced shard leases, in the manner of the Kinesis Client Library, as one pure planning step the
 * poller runs every scan against any {@link ShardLeaseStore}:
 *
 * - **Fair share.** With `n` shards ready to read and `w` live workers (heartbeats in the lease
 *   store), every worker should hold `floor(n / w)` or `ceil(n / w)` leases.
 * - **Take** free (or expired) leases up to `floor`, and one more (up to `ceil`) only when no live
 *   worker is below `floor` — so a newcomer is never starved by a worker taking its extra one.
 * - **Shed** leases above `ceil`: the poller stops those readers at a page boundary (checkpointed)
 *   and releases the leases, so the others take them without waiting for an expiry. This is what
 *   makes a join balance within a lease period: the loaded worker gives its excess away at once.
 * - **Steal** one lease from the most loaded worker when this worker is below `floor`, no lease is
 *   free and the victim holds at least two more than this worker (stealing from a worker one lease
 *   ahead would only swap the imbalance). At most one steal per lease period (the caller enforces
 *   it). A steal is the fallback for a worker that does not shed (an older version, a stale view).
 *
 * Invariants: a plan never takes more than `maxShards` in all, never sheds below `ceil`, and never
 * steals a shard this worker is already reading.
 */

/** What one worker knows when it plans. */
export interface BalanceInput {
  /** This worker's id. */
  self: string;
  /** Live workers (heartbeats); `self` counts even when its own heartbeat is missing. */
  workers: readonly string[];
  /** Shards that need a reader now (unfinished, parents finished), in lineage order. */
  ready: readonly string[];
  /** Holder of each ready shard whose lease has not expired. */
  holders: ReadonlyMap<string, string>;
  /** Shards this worker reads now (and is not already giving away). */
  mine: ReadonlySet<string>;
  /** Shards this worker is giving away (reader stopping): neither free nor counted as ours. */
  leaving?: ReadonlySet<string>;
  /** Cap on shards per worker. */
  maxShards: number;
  /** False while the last steal is less than a lease period old. */
  maySteal: boolean;
}

/** What to do this scan. */
export interface BalancePlan {
  /** Free shards to try to acquire, in order (stop at the first `want` successes). */
  take: string[];
  /** How many of `take` to acquire at most. */
  want: number;
  /** Shards of ours to stop reading and release. */
  shed: string[];
  /** One lease to take from a worker that holds too many. */
  steal?: { shardId: string; from: string };
}

/** `floor` and `ceil` of the fair share of `shards` among `workers` (at least one worker). */
export function fairShare(shards: number, workers: number): { floor: number; ceil: number } {
  const w = Math.max(1, workers);
  return { floor: Math.floor(shards / w), ceil: Math.ceil(shards / w) };
}

/** Plans this scan's takes, sheds and steal. */
export function planBalance(i: BalanceInput): BalancePlan {
  const workers = new Set(i.workers);
  workers.add(i.self);
  const share = fairShare(i.ready.length, workers.size);
  const floor = Math.min(share.floor, i.maxShards);
  const ceil = Math.min(share.ceil, i.maxShards);

  const load = new Map<string, string[]>();
  for (const w of workers) load.set(w, []);
  const free: string[] = [];
  for (const shardId of i.ready) {
    if (i.leaving?.has(shardId)) continue;
    const held = i.holders.get(shardId);
    // A lease of ours without a reader (a restart under the same worker id) is as good as free.
    const owner = i.mine.has(shardId) ? i.self : held === i.self ? undefined : held;
    if (owner === undefined) free.push(shardId);
    else {
      const list = load.get(owner) ?? [];
      list.push(shardId);
      load.set(owner, list);
    }
  }
  const mine = load.get(i.self)!.length;
  const plan: BalancePlan = { take: [], want: 0, shed: [] };

  if (mine > ceil) {
    // Give away the newest first (the end of the lineage order); keep the rest reading.
    plan.shed = load.get(i.self)!.slice(ceil);
    return plan;
  }
  if (free.length > 0) {
    const someoneStarved = [...workers].some((w) => w !== i.self && load.get(w)!.length < floor);
    plan.want = Math.max(0, (someoneStarved ? floor : ceil) - mine);
    plan.take = free;
    if (plan.want > 0) return plan;
  }
  if (i.maySteal && mine < floor && free.length === 0) {
    let victim: string | undefined;
    let most = -1;
    for (const [w, shards] of load)
      if (w !== i.self && shards.length > most) {
        victim = w;
        most = shards.length;
      }
    if (victim !== undefined && most >= mine + 2) {
      const shardId = load.get(victim)!.at(-1)!;
      plan.steal = { shardId, from: victim };
    }
  }
  return plan;
}

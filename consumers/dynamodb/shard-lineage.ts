/**
 * Shard lineage: DynamoDB splits a shard into children; a child's records are newer than its
 * parent's, so a child may be read only once its parent is finished (read to its end and
 * checkpointed). A parent no longer listed (trimmed after 24 h) counts as finished.
 */
import type { StreamShard } from './streams-port.ts';

/** Shards that may be read now: not finished, and their parent finished or gone. Parents first. */
export function readyShards(shards: readonly StreamShard[], finished: ReadonlySet<string>): StreamShard[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return orderByLineage(shards).filter(
    (s) =>
      !finished.has(s.shardId) &&
      (s.parentShardId === undefined || !listed.has(s.parentShardId) || finished.has(s.parentShardId)),
  );
}

/** Orders shards so every parent comes before its children (stable otherwise). */
export function orderByLineage(shards: readonly StreamShard[]): StreamShard[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const depth = (s: StreamShard): number => {
    let d = 0;
    let p = s.parentShardId;
    const seen = new Set<string>();
    while (p !== undefined && byId.has(p) && !seen.has(p)) {
      seen.add(p);
      d++;
      p = byId.get(p)!.parentShardId;
    }
    return d;
  };
  return shards
    .map((s, i) => ({ s, i, d: depth(s) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.s);
}

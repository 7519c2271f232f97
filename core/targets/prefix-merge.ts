/**
 * Merging a batch's prefix invalidations of one prefix into one run. A prefix invalidation scans
 * the whole keyspace on Valkey (SCAN over every master), so a batch holding N changes that each
 * invalidate one prefix (a truncate replayed, a rule's `onPartialImage: { invalidatePrefix }` hit
 * by every row of a bulk update) must not scan N times.
 *
 * Rule: a prefix invalidation at j joins an earlier one of the same prefix at i (the group's
 * leader) when every op between them leaves the prefix's keys alone: a prefix invalidation (any
 * prefix), or a key op (refresh, invalidate, soft invalidation) of a key that does not start with
 * the prefix. A tag invalidation ends every group (its members are not known here). The leader runs
 * once, at i, with the newest version of its group; every member gets the leader's result.
 *
 * Why that is the same as running each one in order: the ops between touch no key under the prefix,
 * so moving j's run to i changes neither what its scan finds nor what it writes (prefix
 * invalidations only tombstone keys that exist, and tombstones of one key keep the newest version
 * whatever the order). Each key under the prefix ends with the newest version of the group as its
 * tombstone, its value and any fill lease gone, exactly as after the last of the group. An op whose
 * version is not a version is never merged (it fails on its own, with its own error).
 */
import { compareVersions, isVersion } from '../event/version.ts';
import type { CacheOp } from './cache-op.ts';

/** How a batch's prefix invalidations are grouped; indexes are the ops' indexes in the batch. */
export interface PrefixGroups {
  /** A member → its group's leader (members are not run; they take the leader's result). */
  leaderOf: Map<number, number>;
  /** A leader whose group holds a newer version than its own → that version. */
  versionOf: Map<number, string>;
}

/** Groups the prefix invalidations of `ops[from..to)` (see the module comment). */
export function groupPrefixInvalidations(ops: readonly CacheOp[], from = 0, to = ops.length): PrefixGroups {
  const leaderOf = new Map<number, number>();
  const versionOf = new Map<number, string>();
  // Open groups: prefix → leader; how many open prefixes have each length (to test a key cheaply).
  const open = new Map<string, number>();
  const lengths = new Map<number, number>();
  const close = (prefix: string) => {
    open.delete(prefix);
    const n = lengths.get(prefix.length)! - 1;
    if (n === 0) lengths.delete(prefix.length);
    else lengths.set(prefix.length, n);
  };
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    switch (op.kind) {
      case 'invalidatePrefix': {
        if (!isVersion(op.version)) break;
        const leader = open.get(op.prefix);
        if (leader === undefined) {
          open.set(op.prefix, i);
          lengths.set(op.prefix.length, (lengths.get(op.prefix.length) ?? 0) + 1);
          break;
        }
        leaderOf.set(i, leader);
        const newest = versionOf.get(leader) ?? (ops[leader] as { version: string }).version;
        if (compareVersions(op.version, newest) > 0) versionOf.set(leader, op.version);
        break;
      }
      case 'refresh':
      case 'invalidate':
      case 'softInvalidate': {
        if (open.size === 0) break;
        for (const length of lengths.keys()) {
          if (op.key.length < length) continue;
          const prefix = op.key.slice(0, length);
          if (open.has(prefix)) close(prefix);
        }
        break;
      }
      default:
        open.clear();
        lengths.clear();
    }
  }
  return { leaderOf, versionOf };
}

/** How many ops of `ops[from..to)` are prefix invalidations (grouping only pays from two on). */
export function countPrefixInvalidations(ops: readonly CacheOp[], from = 0, to = ops.length): number {
  let n = 0;
  for (let i = from; i < to; i++) if (ops[i]!.kind === 'invalidatePrefix') n++;
  return n;
}

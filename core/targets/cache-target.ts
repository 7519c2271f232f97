/**
 * The CacheTarget seam: the one interface every cache backend implements (embedded engine, engine
 * over RESP, Valkey standalone or cluster). Small on purpose; each backend lives in its own folder
 * (core/targets/<backend>/) with its target, its fill-lease store and its shard-lease store.
 *
 * Contract:
 * - `apply(ops)` returns one result per op, in order. An op counts as applied only when the backend
 *   confirmed it. A failed op carries an error whose `retriable` says whether to retry.
 * - Ops are idempotent and fenced by version: re-applying an op, or applying an older one after a
 *   newer one, leaves the newer state (`outcome: 'fenced'`).
 * - `invalidate` leaves a tombstone with its version for `tombstoneTtlMs`, so a late older refresh
 *   (or a racing app fill) cannot resurrect stale data, and cancels outstanding fill leases.
 *
 * Capabilities: what callers need beyond `apply` (the app-side client's fill leases, the DynamoDB
 * poller's shard leases) is a method of the target, not a `kind` switch and a cast. A backend that
 * serves one declares it; a wrapper (metrics, deadlines) passes it through with
 * {@link targetCapabilities}, so callers never need the unwrapped target. This package's backends
 * load their stores' modules on first use (lazy-lease-stores.ts): the CDC path never takes a lease,
 * so a process or a Lambda bundle that only applies ops never loads them.
 */
import type { FillLeaseStore, FillLeaseStoreOptions } from '../client/fill-lease-store.ts';
import type { CacheOp } from './cache-op.ts';
import type { ShardLeaseStore } from './shard-lease-store.ts';

/** What happened to one op. */
export type OpOutcome = 'applied' | 'fenced';

/** The result of one op: confirmed by the target, or failed. */
export type OpResult =
  | { ok: true; outcome: OpOutcome }
  | { ok: false; error: Error & { retriable?: boolean } };

/** A cache backend that applies CacheOps, and the capabilities it serves (absent when it lacks them). */
export interface CacheTarget {
  /** Adapter kind, e.g. `engine`, `engine-remote`, `valkey`, `valkey-cluster`. */
  readonly kind: string;
  /** Applies ops (order preserved per key); resolves with one result per op. Never rejects for per-op failures. */
  apply(ops: readonly CacheOp[]): Promise<OpResult[]>;
  /** Reads the plain value under `key` (null when absent, expired or tombstoned). */
  get(key: string): Promise<string | null>;
  /** The whole visible keyspace as `{ key: value }` (tombstones and metadata excluded). For tests and `--dump`. */
  dump(): Promise<Record<string, string>>;
  /** Releases connections and timers. */
  close(): Promise<void>;
  /**
   * Capability: the fill-lease store over this target's connection (the app-side cache client's
   * `store`), so the client and the CDC pipeline share one target and cooperate: invalidations
   * cancel fill leases.
   */
  fillLeases?(options?: FillLeaseStoreOptions): FillLeaseStore;
  /** Capability: shard leases and checkpoints of stream (or table) `scope`, kept in this target (`--lease-store target`). */
  shardLeases?(scope: string): ShardLeaseStore;
}

/** A CacheTarget that serves every capability, as each backend of this package does. */
export interface CapableCacheTarget extends CacheTarget {
  fillLeases(options?: FillLeaseStoreOptions): FillLeaseStore;
  shardLeases(scope: string): ShardLeaseStore;
}

/** The capabilities of `target`, for a wrapper to spread into itself (absent ones stay absent). */
export function targetCapabilities(target: CacheTarget): Pick<CacheTarget, 'fillLeases' | 'shardLeases'> {
  const out: Pick<CacheTarget, 'fillLeases' | 'shardLeases'> = {};
  const { fillLeases, shardLeases } = target;
  if (fillLeases !== undefined) out.fillLeases = (options) => fillLeases.call(target, options);
  if (shardLeases !== undefined) out.shardLeases = (scope) => shardLeases.call(target, scope);
  return out;
}

/** Defaults shared by the target adapters. */
export const TARGET_DEFAULTS = {
  /** How long a tombstone outlives its invalidation, in milliseconds. @default 300000 */
  tombstoneTtlMs: 300_000,
} as const;

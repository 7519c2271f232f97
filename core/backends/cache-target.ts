/**
 * The CacheTarget seam: the one interface every cache backend implements (embedded engine, engine
 * over RESP, Valkey standalone or cluster). Small on purpose; adapters live one per file.
 *
 * Contract:
 * - `apply(ops)` returns one result per op, in order. An op counts as applied only when the backend
 *   confirmed it. A failed op carries an error whose `retriable` says whether to retry.
 * - Ops are idempotent and fenced by version: re-applying an op, or applying an older one after a
 *   newer one, leaves the newer state (`outcome: 'fenced'`).
 * - `invalidate` leaves a tombstone with its version for `tombstoneTtlMs`, so a late older refresh
 *   (or a racing app fill) cannot resurrect stale data, and cancels outstanding fill leases.
 */
import type { CacheOp } from './cache-op.ts';

/** What happened to one op. */
export type OpOutcome = 'applied' | 'fenced';

/** The result of one op: confirmed by the target, or failed. */
export type OpResult =
  | { ok: true; outcome: OpOutcome }
  | { ok: false; error: Error & { retriable?: boolean } };

/** A cache backend that applies CacheOps. */
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
}

/** Defaults shared by the target adapters. */
export const TARGET_DEFAULTS = {
  /** How long a tombstone outlives its invalidation, in milliseconds. @default 300000 */
  tombstoneTtlMs: 300_000,
} as const;

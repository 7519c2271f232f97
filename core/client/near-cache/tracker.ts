/**
 * The NearTracker seam: how a near cache learns that the shared cache changed. One per backend,
 * offered by its FillLeaseStore (`nearTracker()`): Valkey and the engine server through server-assisted
 * client-side caching (CLIENT TRACKING, RESP2 with REDIRECT to a connection subscribed to
 * `__redis__:invalidate`, per cluster node), the in-process engine through its listeners. Each
 * tracker lives with its backend (core/targets/resp/resp-tracker.ts for a RESP server,
 * core/targets/valkey/valkey-cluster-tracker.ts, core/targets/engine/engine-listener-tracker.ts);
 * the client knows only this seam.
 *
 * Contract:
 * - Only values read with `read` may be kept near: the server tracks that reader, so a later change
 *   of the key is pushed to the sink. A value written or filled through another connection is not
 *   tracked and must not be installed.
 * - `down` comes whenever a tracked connection (reader or invalidation channel) is lost or replaced,
 *   before any reply that connection's replacement delivers; `up` only once tracking is on again.
 *   Between the two the near cache is empty and bypassed.
 */
import type { StoredEntry } from '../fill-lease-store.ts';

/** Where a tracker delivers what it learns (the near cache). */
export interface TrackingSink {
  /** These keys changed; `null`: every key (FLUSHALL/FLUSHDB). */
  invalidate(keys: readonly string[] | null): void;
  /** Tracking is lost: empty everything and bypass until {@link up}. `reason` is for logs. */
  down(reason: string): void;
  /** Tracking is (re-)established: values read from now on are kept true. */
  up(): void;
}

/** A tracked reader of one backend. */
export interface NearTracker {
  /** Backend kind, as the store's. */
  readonly kind: string;
  /** The value and remaining TTL of `key`, read so that the server tracks it for this tracker. */
  read(key: string): Promise<StoredEntry | null>;
  /** Starts delivering to `sink` (calls `up` once tracking is on; may call it synchronously). */
  start(sink: TrackingSink): void;
  /** Closes the tracker's own connections. */
  close(): Promise<void>;
}

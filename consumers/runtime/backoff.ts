/**
 * Backoff for outages (the delay itself is core/pipeline/backoff.ts, shared with every retry loop),
 * and a sleep that wakes early when the consumer stops or a partition is revoked, running a
 * keep-alive (Kafka heartbeat, lease renewal) in between so a long outage does not cost the group
 * membership or the lease.
 */

export { BACKOFF_DEFAULTS, type BackoffOptions, backoffDelay } from '../../core/pipeline/backoff.ts';

/** Sleeps `ms` in slices of at most `sliceMs`, calling `keepAlive` between slices; stops early when `cancelled()`. */
export async function sleepWithKeepAlive(
  ms: number,
  cancelled: () => boolean,
  keepAlive: () => Promise<void>,
  sliceMs = 1000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!cancelled()) {
    const left = until - Date.now();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, sliceMs)));
    if (!cancelled()) await keepAlive();
  }
}

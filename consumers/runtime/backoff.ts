/**
 * Backoff for outages: exponential with full jitter, capped, and a sleep that wakes early when the
 * consumer stops or a partition is revoked, running a keep-alive (Kafka heartbeat, lease renewal)
 * in between so a long outage does not cost the group membership or the lease.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay, ms. @default 200 */
  baseDelayMs?: number;
  /** Ceiling, ms. @default 10000 */
  maxDelayMs?: number;
}

/** Backoff defaults. */
export const BACKOFF_DEFAULTS = { baseDelayMs: 200, maxDelayMs: 10_000 } as const;

/** Delay before retry number `attempt` (1-based): half fixed, half random. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, random = Math.random): number {
  const base = o.baseDelayMs ?? BACKOFF_DEFAULTS.baseDelayMs;
  const max = o.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs;
  const d = Math.min(max, base * 2 ** Math.min(30, attempt - 1));
  return d / 2 + random() * (d / 2);
}

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

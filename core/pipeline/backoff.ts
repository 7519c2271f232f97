/**
 * The one backoff every retry loop uses (target retries in `applyWithRetry`, the consumers' outage
 * loops, reconnects): exponential, capped, with **equal jitter** — half the delay fixed, half
 * random. Equal rather than full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * full jitter may draw a delay near zero, which during a target outage turns into a burst of
 * immediate retries from every partition at once; equal jitter still spreads retries across
 * workers but guarantees each waits at least half the step.
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

/** Delay before retry number `attempt` (1-based): `d/2 + random·d/2`, `d = min(max, base·2^(attempt−1))`. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}, random = Math.random): number {
  const base = o.baseDelayMs ?? BACKOFF_DEFAULTS.baseDelayMs;
  const max = o.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs;
  const d = Math.min(max, base * 2 ** Math.min(30, attempt - 1));
  return d / 2 + random() * (d / 2);
}

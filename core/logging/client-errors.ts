/**
 * Client libraries' error events (iovalkey's `error`, emitted on every failed reconnect during an
 * outage) routed into the process's logger: the first of a kind at `warn`, repeats of the same
 * message at most once per interval with the count suppressed meanwhile, so an outage is visible
 * without flooding the log. Never raw stderr.
 */

/** The part of a logger this needs (both the container and the Lambda logger fit). */
export interface WarnLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** A handler for client `error` events that logs `message` with the error, throttled per error text. */
export function clientErrorLogger(
  log: WarnLogger,
  message = 'target client error',
  intervalMs = 30_000,
  now: () => number = Date.now,
): (error: Error) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (error) => {
    const key = `${error.name}:${error.message}`;
    const seen = last.get(key);
    const t = now();
    if (seen !== undefined && t - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    if (last.size > 100) last.clear();
    last.set(key, { at: t, suppressed: 0 });
    // A warning the client printed itself (core/targets/resp/client-console.ts) is no error event.
    const what = 'severity' in error && error.severity === 'warning' ? 'target client warning' : message;
    log.warn(what, { error, ...(seen === undefined ? {} : { repeated: seen.suppressed + 1 }) });
  };
}

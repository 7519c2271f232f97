/**
 * iovalkey writes a few warnings itself with `console.warn` (a password given to a server that needs
 * none; AUTH refused by a server older than Redis 6; the ready check skipped because INFO is not
 * permitted): raw `[WARN] …` lines on stderr, outside every logger, which break a consumer's
 * one-JSON-object-per-line log. While a connection opened with an `onClientError` hook is open,
 * {@link routeClientConsole} hands exactly those lines to the hook as a {@link ValkeyClientWarning}
 * (the consumers and Lambda handlers log it, core/logging/client-errors.ts) and writes nothing to
 * stderr. Any other console output passes through untouched, and without a hook iovalkey's
 * behaviour is unchanged.
 */

/** The texts iovalkey (built/redis/event_handler.js, built/Redis.js) prints with console.warn. */
const CLIENT_WARNINGS = [
  /^\[WARN\] (Redis server|This Redis server's `default` user) does not require a password/,
  /^\[ERROR\] The server returned "wrong number of arguments for 'auth' command"/,
  /^Skipping the ready check because INFO command fails/,
];

/** A warning the Valkey client library printed, routed to the process's log instead. */
export class ValkeyClientWarning extends Error {
  override readonly name = 'ValkeyClientWarning';
  /** Logged at warn as `target client warning` (not an error event). */
  readonly severity = 'warning';
}

const sinks = new Set<(warning: ValkeyClientWarning) => void>();
let original: typeof console.warn | undefined;
let installed: typeof console.warn | undefined;

/** True for the lines {@link routeClientConsole} takes. */
export function isClientWarning(first: unknown): first is string {
  return typeof first === 'string' && CLIENT_WARNINGS.some((p) => p.test(first));
}

/**
 * Routes iovalkey's console warnings to `sink` until the returned function is called (once per
 * connection; several connections share one wrapper of `console.warn`, each sink gets every line).
 */
export function routeClientConsole(sink: (warning: ValkeyClientWarning) => void): () => void {
  sinks.add(sink);
  // Also when someone replaced console.warn since (a test's spy restored): wrap what is there now.
  if (installed === undefined || console.warn !== installed) {
    const through = console.warn;
    original = through;
    installed = (...args: unknown[]) => {
      if (sinks.size > 0 && isClientWarning(args[0])) {
        const warning = new ValkeyClientWarning(`iovalkey: ${args[0].replace(/^\[(WARN|ERROR)\] /, '')}`);
        for (const s of sinks) s(warning);
        return;
      }
      through.apply(console, args);
    };
    console.warn = installed;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    sinks.delete(sink);
    // Put console.warn back only if nobody wrapped it after us (theirs would be lost); otherwise
    // the wrapper stays and passes everything through while no sink is left.
    if (sinks.size === 0 && console.warn === installed && original !== undefined) {
      console.warn = original;
      installed = undefined;
      original = undefined;
    }
  };
}

/**
 * iovalkey's own console warnings (a password the server does not need, …) go to `onClientError`
 * while `client` is open (above); without a hook they stay as they are.
 */
export function routeWarningsUntilEnd(
  client: { once(event: 'end', listener: () => void): unknown },
  onClientError: ((error: Error) => void) | undefined,
): void {
  if (onClientError === undefined) return;
  client.once('end', routeClientConsole(onClientError));
}

/**
 * CLI plumbing: usage errors and the one-line error format (`cdc-cache VERB: where: what`).
 * Exit codes: 0 ok, 1 bad input or failed work, 2 usage error.
 */
import { CdcCacheError, ErrorCode } from '../core/errors.ts';
import { redactText } from '../core/logging/log-contract.ts';

/** A command-line usage error (exit code 2). */
export class UsageError extends CdcCacheError {
  constructor(message: string) {
    super(ErrorCode.Usage, message);
  }
}

/** The verbs with a `--help` of their own (bin/cdc-cache.ts); others point at `cdc-cache help`. */
const KNOWN_VERBS: ReadonlySet<string> = new Set([
  'decode',
  'replay',
  'engine',
  'consume',
  'lambda',
  'record',
  'verify',
  'dead-letters',
]);

/**
 * Prints an error as one line on stderr and returns the exit code for it. Credentials in the
 * message (a URL's password, `password=…`) are replaced by `***`, as in every log line.
 */
export function reportError(verb: string, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cdc-cache ${verb}: ${redactText(message.split('\n')[0] ?? '')}\n`);
  if (error instanceof UsageError) {
    process.stderr.write(
      KNOWN_VERBS.has(verb)
        ? `Run "cdc-cache ${verb} --help" for its options.\n`
        : `Run "cdc-cache help" for usage.\n`,
    );
    return 2;
  }
  if (!(error instanceof CdcCacheError) && process.env.CDC_CACHE_DEBUG)
    process.stderr.write(`${redactText(String((error as Error).stack))}\n`);
  return 1;
}

/** Writes to stdout, respecting backpressure (large outputs piped to `head` stay correct). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve).once('error', reject);
  });
}

/**
 * A reader that closed our stdout early (`| head`) wants no more output: end quietly with exit 0
 * instead of failing with `write EPIPE`.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

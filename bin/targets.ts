/**
 * Opens a cache target from its CLI/config spelling: `engine` (embedded), `engine://host:port`
 * (the engine over RESP), `valkey://…` / `valkeys://…` (external Valkey). AUTH and TLS come from the
 * same environment variables the consumers and Lambda handlers read (core/settings/shared-settings.ts:
 * CDC_CACHE_TARGET_USERNAME/PASSWORD, CDC_CACHE_TLS_*). Adapters are imported lazily so a command
 * only loads the client it uses.
 */
import { redactTargetSpec, targetSpecProblem } from '../core/config/target-spec.ts';
import { openTargetWithSettings, readSharedSettings } from '../core/settings/shared-settings.ts';
import type { CacheTarget } from '../core/targets/cache-target.ts';
import { ValkeyClientWarning } from '../core/targets/resp/client-console.ts';
import { UsageError } from './cli-error.ts';

/** Creates the CacheTarget named by `spec` (`--target`), with AUTH/TLS from `env` (a user:password in `spec` wins). */
export async function openTarget(
  spec: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CacheTarget> {
  const problem = targetSpecProblem(spec);
  if (problem !== undefined) throw new UsageError(`--target=${redactTargetSpec(spec)}: ${problem}`);
  const settings = readSharedSettings(env);
  // Credentials typed into --target win over the environment's (flags before environment).
  if (/^[a-z]+:\/\/[^/@]*@/i.test(spec)) {
    settings.username = undefined;
    settings.password = undefined;
  }
  return openTargetWithSettings(spec, settings, '--target', { onClientError: printClientWarning });
}

const printed = new Set<string>();

/**
 * The client library's own warnings (a password the server does not need, …), once each as a
 * `warning:` line (core/targets/resp/client-console.ts) instead of its raw `[WARN]` line. Its error
 * events are not printed: a command that fails for them says why.
 */
function printClientWarning(error: Error): void {
  if (!(error instanceof ValkeyClientWarning) || printed.has(error.message)) return;
  printed.add(error.message);
  process.stderr.write(`warning: target client: ${error.message}\n`);
}

/** The target spec with any password in its URL replaced by `***`, for logs and summaries. */
export const redactTarget = redactTargetSpec;

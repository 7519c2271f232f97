/**
 * Opens the cache target named by CDC_CACHE_TARGET, once per execution environment. Adapters are
 * imported lazily, so a function only initialises the client it uses.
 *
 * - `engine`: the embedded engine, in-process (one per execution environment: for local runs and
 *   tests; in AWS each environment would hold its own cache).
 * - `engine://host:port`: the co-deployed engine served over RESP (`cdc-cache engine`).
 * - `valkey://…` / `valkeys://…`: external Valkey, standalone or cluster (`?cluster=true` or several hosts).
 *
 * AUTH (username/password) and TLS come from the settings, never from code.
 */
import { clientErrorLogger, type WarnLogger } from '../../core/logging/client-errors.ts';
import { openTargetWithSettings } from '../../core/settings/shared-settings.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import type { FunctionSettings } from './settings.ts';

export { engineUrl, valkeyAuthAndTls } from '../../core/settings/shared-settings.ts';

/** Opens the target named by `spec` (core/settings/shared-settings.ts, shared with the consumers). */
export function openFunctionTarget(
  spec: string,
  settings: FunctionSettings,
  log?: WarnLogger,
): Promise<CacheTarget> {
  return openTargetWithSettings(
    spec,
    settings,
    'CDC_CACHE_TARGET',
    log === undefined ? {} : { onClientError: clientErrorLogger(log) },
  );
}

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
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../core/errors.ts';
import type { CacheTarget } from '../../core/target/cache-target.ts';
import type { FunctionSettings } from './settings.ts';

/** Builds the RESP URL of an `engine://` spec with AUTH from the settings. */
export function engineUrl(spec: string, settings: FunctionSettings): string {
  const u = new URL(spec.replace(/^engine(s?):/, 'valkey$1:'));
  if (settings.username !== undefined) u.username = encodeURIComponent(settings.username);
  if (settings.password !== undefined) u.password = encodeURIComponent(settings.password);
  return u.toString();
}

/** AUTH and TLS options for the Valkey target from the settings (URL values lose to them). */
export function valkeyAuthAndTls(
  spec: string,
  settings: FunctionSettings,
): { username?: string; password?: string; tls?: ConnectionOptions } {
  const out: { username?: string; password?: string; tls?: ConnectionOptions } = {};
  if (settings.username !== undefined) out.username = settings.username;
  if (settings.password !== undefined) out.password = settings.password;
  const custom =
    settings.tlsCaFile !== undefined ||
    settings.tlsServername !== undefined ||
    !settings.tlsRejectUnauthorized;
  if (spec.startsWith('valkeys://') || custom) {
    const tls: ConnectionOptions = { rejectUnauthorized: settings.tlsRejectUnauthorized };
    if (settings.tlsCaFile !== undefined) {
      try {
        tls.ca = readFileSync(settings.tlsCaFile);
      } catch (cause) {
        throw new ConfigError(
          `CDC_CACHE_TLS_CA_FILE=${settings.tlsCaFile}: cannot read it: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
    }
    if (settings.tlsServername !== undefined) tls.servername = settings.tlsServername;
    out.tls = tls;
  }
  return out;
}

/** Opens the target named by `spec`. */
export async function openFunctionTarget(spec: string, settings: FunctionSettings): Promise<CacheTarget> {
  if (spec === 'engine') {
    const { createEngineTarget } = await import('../../core/target/engine-target.ts');
    return createEngineTarget();
  }
  if (/^engines?:\/\//.test(spec)) {
    const { createEngineRemoteTarget } = await import('../../core/target/engine-remote-target.ts');
    return createEngineRemoteTarget({ url: engineUrl(spec, settings) });
  }
  if (/^valkeys?:\/\//.test(spec)) {
    const { createValkeyTarget } = await import('../../core/target/valkey-target.ts');
    return createValkeyTarget({ url: spec, ...valkeyAuthAndTls(spec, settings) });
  }
  throw new ConfigError(
    `CDC_CACHE_TARGET=${spec}: unknown target; use engine, engine://host:port, valkey://host:port or valkeys://host:port`,
  );
}

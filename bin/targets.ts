/**
 * Opens a cache target from its CLI/config spelling: `engine` (embedded), `engine://host:port`
 * (the engine over RESP), `valkey://…` / `valkeys://…` (external Valkey). Adapters are imported
 * lazily so a command only loads the client it uses.
 */
import type { CacheTarget } from '../core/target/cache-target.ts';
import { UsageError } from './cli-error.ts';

/** Creates the CacheTarget named by `spec`. */
export async function openTarget(spec: string): Promise<CacheTarget> {
  if (spec === 'engine') {
    const { createEngineTarget } = await import('../core/target/engine-target.ts');
    return createEngineTarget({});
  }
  const remote = /^engine:\/\/([^/?#]+)$/.exec(spec);
  if (remote) {
    const { createEngineRemoteTarget } = await import('../core/target/engine-remote-target.ts');
    return createEngineRemoteTarget({ url: `valkey://${remote[1]}` });
  }
  if (/^(valkeys?|rediss?):\/\//.test(spec)) {
    const { createValkeyTarget } = await import('../core/target/valkey-target.ts');
    return createValkeyTarget({ url: spec });
  }
  throw new UsageError(
    `unknown target "${spec}": use engine, engine://host:port, valkey://[user:password@]host:port or valkeys://…`,
  );
}

/** The target spec with any password in its URL replaced by `***`, for logs and summaries. */
export function redactTarget(spec: string): string {
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

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
  throw new UsageError(`unknown or unsupported target "${spec}": this build supports --target engine`);
}

/**
 * Picks the FillLeaseStore for a CacheTarget, so the app-side client and the CDC pipeline can share one
 * target (and so cooperate: the pipeline's invalidations cancel the client's fill leases).
 */
import type { Valkey } from 'iovalkey';
import type { CacheTarget } from '../backends/cache-target.ts';
import { type EngineLike, engineLeaseStore } from '../backends/engine/engine-fill-lease-store.ts';
import { engineRemoteLeaseStore } from '../backends/engine-remote/engine-remote-fill-lease-store.ts';
import {
  type ValkeyLeaseStoreOptions,
  valkeyLeaseStore,
} from '../backends/valkey/valkey-fill-lease-store.ts';
import type { ValkeyTarget } from '../backends/valkey/valkey-target.ts';
import { TargetError } from '../errors.ts';
import type { FillLeaseStore } from './fill-lease-store.ts';

/** The FillLeaseStore for `target` (kinds `engine`, `engine-remote`, `valkey`, `valkey-cluster`). */
export function leaseStoreFor(target: CacheTarget, options: ValkeyLeaseStoreOptions = {}): FillLeaseStore {
  switch (target.kind) {
    case 'engine':
      return engineLeaseStore((target as CacheTarget & { engine: EngineLike }).engine);
    case 'engine-remote':
      return engineRemoteLeaseStore((target as CacheTarget & { client: Valkey }).client);
    case 'valkey':
    case 'valkey-cluster':
      return valkeyLeaseStore(target as ValkeyTarget, options);
    default:
      throw new TargetError(`cache client: no lease store for target kind "${target.kind}"`, {
        retriable: false,
      });
  }
}

/**
 * The FillLeaseStore of a CacheTarget, so the app-side client and the CDC pipeline can share one
 * target (and so cooperate: the pipeline's invalidations cancel the client's fill leases). Each
 * backend serves its store as the target's `fillLeases()` capability; wrapped targets pass it on.
 */

import { TargetError } from '../errors.ts';
import type { CacheTarget } from '../targets/cache-target.ts';
import type { FillLeaseStore, FillLeaseStoreOptions } from './fill-lease-store.ts';

/** The FillLeaseStore for `target` (every backend of this package: engine, engine-remote, valkey, valkey-cluster). */
export function leaseStoreFor(target: CacheTarget, options: FillLeaseStoreOptions = {}): FillLeaseStore {
  if (target.fillLeases === undefined) {
    throw new TargetError(`cache client: no lease store for target kind "${target.kind}"`, {
      retriable: false,
    });
  }
  return target.fillLeases(options);
}

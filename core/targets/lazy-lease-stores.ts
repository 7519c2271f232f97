/**
 * Lease stores loaded on first use. Each backend's `fillLeases()` and `shardLeases(scope)`
 * capabilities return one of these over a dynamic `import()` of the backend's store module, so a
 * process that never takes a lease never loads that code, and a bundler splitting on dynamic imports
 * (the Lambda bundles, functions/build.ts) leaves it in a chunk the handlers never load.
 *
 * Invariants: the wrappers are the same stores as the ones they load (every call is forwarded once
 * the module is in; a failed load rejects the call that needed it and is retried by the next);
 * `close()` before any use loads nothing; a bad argument (an empty shard scope) throws at the call. What callers read synchronously — `kind`, `wakes`, whether
 * a near tracker is offered — is given up front by the backend, which knows it without the module.
 */
import type { FillLeaseStore } from '../client/fill-lease-store.ts';
import type { NearTracker, TrackingSink } from '../client/near-cache/tracker.ts';
import { checkShardScope } from './shard-lease-keys.ts';
import type { ShardLeaseStore } from './shard-lease-store.ts';

/** Loads `load()` once; a rejected load is forgotten, so the next call tries again. */
function once<T>(load: () => Promise<T>): { get(): Promise<T>; loaded(): T | undefined } {
  let pending: Promise<T> | undefined;
  let value: T | undefined;
  return {
    get() {
      pending ??= load().then(
        (v) => {
          value = v;
          return v;
        },
        (error: unknown) => {
          pending = undefined;
          throw error;
        },
      );
      return pending;
    },
    loaded: () => value,
  };
}

/** Names of `T`'s methods that return a promise: the ones a lazy wrapper can forward as they are. */
type AsyncMethodName<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/**
 * Methods `names` of `T`, each waiting for `get()` and then calling the same method of what it
 * resolves to, with the same arguments. The result's type is `Pick<T, K>`, so a wrapper built from
 * it that leaves a method of the interface out does not compile.
 */
function forwarding<T, K extends AsyncMethodName<T>>(get: () => Promise<T>, names: readonly K[]): Pick<T, K> {
  const out: Partial<Record<K, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const name of names) {
    out[name] = async (...args) => {
      const target = await get();
      // K names a promise-returning method of T (AsyncMethodName), which the type cannot carry here.
      const method = target[name] as (...args: unknown[]) => Promise<unknown>;
      return method.apply(target, args);
    };
  }
  return out as Pick<T, K>;
}

/** What a backend's fill-lease store says synchronously, before its module is loaded. */
export interface FillLeaseStoreShape {
  /** The store's `kind`. */
  kind: string;
  /** The store's `wakes`. */
  wakes: boolean;
  /** True when the store offers `nearTracker()`. */
  tracks: boolean;
}

/** A {@link FillLeaseStore} of the given shape that loads the real one (`load`) on first use. */
export function lazyFillLeaseStore(
  shape: FillLeaseStoreShape,
  load: () => Promise<FillLeaseStore>,
): FillLeaseStore {
  const store = once(load);
  const lazy: FillLeaseStore = {
    kind: shape.kind,
    wakes: shape.wakes,
    ...forwarding(store.get, [
      'read',
      'acquireLease',
      'fill',
      'joinTags',
      'releaseLease',
      'waitForFill',
      'write',
      'invalidate',
      'invalidateTag',
    ]),
    close: async () => store.loaded()?.close(),
  };
  if (shape.tracks) lazy.nearTracker = () => lazyNearTracker(shape.kind, store.get);
  return lazy;
}

/**
 * The store's near tracker once the store is loaded. `start` is synchronous: the sink hears `up`
 * (or `down` with the load's error, leaving the near cache bypassed) when the tracker is in.
 */
function lazyNearTracker(kind: string, loadStore: () => Promise<FillLeaseStore>): NearTracker {
  const tracker = once(async () => {
    const store = await loadStore();
    if (store.nearTracker === undefined)
      throw new Error(`${kind}: the fill-lease store offers no near tracker`);
    return store.nearTracker();
  });
  return {
    kind,
    ...forwarding(tracker.get, ['read']),
    start(sink: TrackingSink) {
      void tracker.get().then(
        (t) => t.start(sink),
        (error: unknown) => sink.down(`near tracker not loaded: ${(error as Error).message}`),
      );
    },
    close: async () => tracker.loaded()?.close(),
  };
}

/**
 * A {@link ShardLeaseStore} of stream (or table) `scope` that loads the real one (`load`) on first
 * use; an empty scope is refused at once, as the real stores do.
 */
export function lazyShardLeaseStore(scope: string, load: () => Promise<ShardLeaseStore>): ShardLeaseStore {
  checkShardScope(scope);
  const store = once(load);
  return forwarding(store.get, [
    'acquire',
    'renew',
    'release',
    'checkpoint',
    'setCheckpoint',
    'finished',
    'heartbeat',
    'leave',
    'liveWorkers',
    'holders',
    'steal',
  ]);
}

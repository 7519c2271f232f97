/**
 * One app process of bench/client/near-invalidation.ts: a cache client with a near cache over the
 * server at argv[2] (`engine://…` or `valkey://…`). On `{ prime: key }` it reads the key until it is
 * served near and answers `{ primed: key }`; whenever the server invalidates a key in its near cache
 * it sends `{ key, at }`, `at` being `process.hrtime.bigint()` (CLOCK_MONOTONIC, the same clock in
 * every process on the machine) as a string.
 */

import type { FillLeaseStore } from '../../core/client/fill-lease-store.ts';
import { createCacheClient, createNearCache, leaseStoreFor } from '../../core/client/index.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { createEngineRemoteTarget } from '../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';

const url = process.argv[2]!;
const target: CacheTarget = url.startsWith('engine://')
  ? createEngineRemoteTarget({ url: `valkey://${url.slice('engine://'.length)}` })
  : await createValkeyTarget({ url });
const base = leaseStoreFor(target);
// The tracker's sink, observed: every invalidation is timed as it reaches the near cache.
const store: FillLeaseStore = {
  ...base,
  nearTracker: () => {
    const t = base.nearTracker!();
    return {
      kind: t.kind,
      read: (k) => t.read(k),
      close: () => t.close(),
      start: (sink) =>
        t.start({
          invalidate(keys) {
            sink.invalidate(keys);
            const at = String(process.hrtime.bigint());
            for (const key of keys ?? ['*']) process.send!({ key, at });
          },
          down: (reason) => sink.down(reason),
          up: () => sink.up(),
        }),
    };
  },
};
const near = await createNearCache({ maxEntries: 1000, ttlMs: 600_000 });
const client = createCacheClient({ store, near, ttlMs: 0 });
while (client.nearStats()?.tracking !== 'up') await new Promise((r) => setTimeout(r, 5));

process.on('message', async (m: { prime?: string; stop?: true }) => {
  if (m.stop) {
    await client.close();
    await target.close();
    process.exit(0);
  }
  const key = m.prime!;
  const hits = client.nearStats()!.hits;
  for (let i = 0; client.nearStats()!.hits === hits; i++) {
    if (i > 200) throw new Error(`${key} never served near`);
    await client.getOrLoad(key, async () => 'loaded');
  }
  process.send!({ primed: key });
});
process.send!({ ready: true });

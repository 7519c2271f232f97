/**
 * The near cache's hit path vs `lru-cache` get, same run, rounds interleaved (issue 18: ≥ 1×).
 * Both hold the same decoded values under the same bounds (entries, bytes, a TTL).
 *
 * - `sync`: the near cache's lookup (`NearCache.get`: its own store's lookup with the deadline
 *   check, CLOCK mark and counters) vs a bare `LRUCache.get`.
 * - `getOrLoad`: `await client.getOrLoad(key, loader)` served near (the entry's shared resolved
 *   promise) vs `await` of the usual L1 wrapper over lru-cache (`async (k) => lru.get(k) ?? loader(k)`),
 *   the shape an app would write.
 *
 *   node bench/client/near-hit.ts [--keys 1000] [--ops 2000000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';
import { createCacheClient, createNearCache, leaseStoreFor } from '../../core/client/index.ts';
import { createEngineTarget } from '../../core/targets/engine/engine-target.ts';
import { emitResult, median } from '../suite.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000' },
    ops: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '5' },
  },
});
const KEYS = Number(values.keys);
const OPS = Number(values.ops);
const ROUNDS = Number(values.rounds);
const TTL = 3_600_000;
const MAX_BYTES = 64 * 1024 * 1024;
const command = `node bench/client/near-hit.ts --keys ${KEYS} --ops ${OPS} --rounds ${ROUNDS}`;

const target = createEngineTarget();
const near = await createNearCache({ maxEntries: 2 * KEYS, maxBytes: MAX_BYTES, ttlMs: TTL });
const client = createCacheClient({ store: leaseStoreFor(target), near, ttlMs: 0 });
const lru = new LRUCache<string, NonNullable<unknown>>({ max: 2 * KEYS, maxSize: MAX_BYTES, ttl: TTL });
const keys = Array.from({ length: KEYS }, (_, i) => `near-bench:${i}`);
const loader = async (key: string) => ({ key, name: `customer ${key}`, tier: 'gold' });
for (const key of keys) {
  await client.getOrLoad(key, loader); // miss → load → fill
  await client.getOrLoad(key, loader); // store read through the tracker → installed
  const value = await client.getOrLoad(key, loader); // near hit
  lru.set(key, value, { size: JSON.stringify(value).length + key.length });
}
const primed = client.nearStats()!;
if (primed.entries !== KEYS) throw new Error(`near cache holds ${primed.entries} of ${KEYS} keys`);

// Keys in a fixed pseudo-random order, the same for both sides.
const order = Array.from({ length: 65536 }, (_, i) => keys[(i * 7919) % KEYS]!);
const MASK = order.length - 1;

function syncNear(): number {
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) if (near.get(order[i & MASK]!) !== undefined) found++;
  const ms = performance.now() - t0;
  if (found !== OPS) throw new Error(`near: ${found} of ${OPS} hits`);
  return OPS / (ms / 1000);
}
function syncLru(): number {
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) if (lru.get(order[i & MASK]!) !== undefined) found++;
  const ms = performance.now() - t0;
  if (found !== OPS) throw new Error(`lru: ${found} of ${OPS} hits`);
  return OPS / (ms / 1000);
}
const lruGetOrLoad = async (key: string) => lru.get(key) ?? loader(key);
async function asyncNear(): Promise<number> {
  const n = OPS / 4;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.getOrLoad(order[i & MASK]!, loader);
  return n / ((performance.now() - t0) / 1000);
}
async function asyncLru(): Promise<number> {
  const n = OPS / 4;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await lruGetOrLoad(order[i & MASK]!);
  return n / ((performance.now() - t0) / 1000);
}

const rows = { sync: { ours: [] as number[], peer: [] as number[], ratio: [] as number[] } };
const arows = { ours: [] as number[], peer: [] as number[], ratio: [] as number[] };
syncNear();
syncLru(); // warm-up (JIT)
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which side goes first, so a drift in load or GC does not favour one side.
  let a: number;
  let b: number;
  if (r % 2 === 0) {
    a = syncNear();
    b = syncLru();
  } else {
    b = syncLru();
    a = syncNear();
  }
  rows.sync.ours.push(a);
  rows.sync.peer.push(b);
  rows.sync.ratio.push(a / b);
  if (r % 2 === 0) {
    a = await asyncNear();
    b = await asyncLru();
  } else {
    b = await asyncLru();
    a = await asyncNear();
  }
  arows.ours.push(a);
  arows.peer.push(b);
  arows.ratio.push(a / b);
}
const hits = client.nearStats()!.hits - primed.hits;
const round = (x: number) => Math.round(x);
const out = [
  {
    bench: 'near-cache',
    metric: 'hit path, sync lookup (NearCache.get), ops/s',
    value: round(median(rows.sync.ours)),
    unit: 'ops/s',
    peer: 'lru-cache 11 get, same bounds and TTL',
    peerValue: round(median(rows.sync.peer)),
    ratio: Number(median(rows.sync.ratio).toFixed(3)),
    better: 'higher' as const,
    targetRatio: 1,
    samples: ROUNDS,
    command,
  },
  {
    bench: 'near-cache',
    metric: 'hit path, await client.getOrLoad, ops/s',
    value: round(median(arows.ours)),
    unit: 'ops/s',
    peer: 'await (async k => lru.get(k) ?? loader(k))',
    peerValue: round(median(arows.peer)),
    ratio: Number(median(arows.ratio).toFixed(3)),
    better: 'higher' as const,
    targetRatio: 1,
    samples: ROUNDS,
    command,
  },
];
for (const r of out) {
  emitResult(r);
  console.log(JSON.stringify(r));
}
console.log(JSON.stringify({ nearHitsCounted: hits }));
await client.close();
await target.close();

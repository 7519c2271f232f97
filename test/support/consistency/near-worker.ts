/**
 * An app process of the consistency test that reads through a near cache (a worker thread): the
 * project's cache client with `createNearCache`, over Valkey (`valkey://…`) or the engine server
 * (`engine://…`), loading rows and order lists from PostgreSQL like app-worker.ts. `tracking: false`
 * is the near cache's test-only switch (values kept with no invalidation), to show the check can fail.
 *
 * Phases: reads random keys for `durationMs` (yielding to the event loop between reads, so
 * invalidations are handled), posts `{ phase: 'ran', … }`, then on the parent's `'check'` message
 * (sent after the CDC pipeline drained and writes stopped) reads every key of the run twice more
 * through the client and compares what it served with PostgreSQL; posts `{ phase: 'checked', … }`.
 * `workerData`: { targetUrl, pgUrl, prefix, ids, durationMs, tracking, seed }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { createCacheClient, createNearCache, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { CUSTOMER_ORDERS_SQL, customerProjection } from './scenario.ts';

const d = workerData as {
  targetUrl: string;
  pgUrl: string;
  prefix: string;
  ids: number[];
  durationMs: number;
  tracking: boolean;
  seed: number;
};
let seed = d.seed >>> 0 || 1;
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 0x100000000;
};
const pool = new pg.Pool({ connectionString: d.pgUrl, max: 2 });
const target: CacheTarget = d.targetUrl.startsWith('engine://')
  ? createEngineRemoteTarget({ url: `valkey://${d.targetUrl.slice('engine://'.length)}` })
  : await createValkeyTarget({ url: d.targetUrl });
const near = await createNearCache({ maxEntries: 1000, ttlMs: 300_000, tracking: d.tracking });
const client = createCacheClient({
  store: leaseStoreFor(target),
  near,
  ttlMs: 0,
  lockWaitTimeoutMs: 2000,
  codec: textCodec,
});
while (client.nearStats()?.tracking !== 'up') await new Promise((r) => setTimeout(r, 5));

/** What PostgreSQL says `kind:id` should hold (undefined: the row is gone). */
async function truth(kind: string, id: number): Promise<string | undefined> {
  if (kind === 'co') return (await pool.query(CUSTOMER_ORDERS_SQL, [id])).rows[0].j as string;
  const { rows } = await pool.query(
    'SELECT row_to_json(t)::text AS j FROM public.customers t WHERE id = $1',
    [id],
  );
  const text = rows[0]?.j as string | undefined;
  return text === undefined ? undefined : customerProjection(JSON.parse(text));
}

class NotFound extends Error {}

async function load(kind: string, id: number): Promise<string> {
  const text = await truth(kind, id);
  await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
  if (text === undefined) throw new NotFound(`row ${id}`);
  return text;
}

async function serve(kind: string, id: number): Promise<string | undefined> {
  try {
    return await client.getOrLoad(`${d.prefix}${kind}:${id}`, () => load(kind, id), { codec: textCodec });
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

const KINDS = ['ca', 'cr', 'co'] as const;
let reads = 0;
const until = Date.now() + d.durationMs;
while (Date.now() < until) {
  const id = d.ids[Math.floor(random() * d.ids.length)]!;
  const kind = KINDS[Math.floor(random() * KINDS.length)]!;
  await serve(kind, id);
  reads++;
  // Near hits resolve without I/O: yield so invalidation messages are handled between reads.
  await new Promise((r) => setTimeout(r, 5));
}
parentPort!.postMessage({ phase: 'ran', reads, stats: client.nearStats() });

parentPort!.once('message', async () => {
  const stale: string[] = [];
  let checked = 0;
  let nearServed = 0;
  // Two passes: the first serves what the near cache kept from the run (or reads the shared cache,
  // which keeps it near), the second is then mostly served near.
  for (const _pass of [1, 2]) {
    for (const id of d.ids) {
      for (const kind of KINDS) {
        const hits = client.nearStats()!.hits;
        const served = await serve(kind, id);
        const fromNear = client.nearStats()!.hits > hits;
        if (fromNear) nearServed++;
        const expected = await truth(kind, id);
        checked++;
        if (served !== expected) {
          stale.push(`${kind}:${id}${fromNear ? ' (near)' : ''}: served ${served}, database ${expected}`);
        }
      }
    }
  }
  const stats = client.nearStats();
  await client.close();
  await target.close();
  await pool.end();
  parentPort!.postMessage({ phase: 'checked', checked, stale, nearServed, stats });
});

/**
 * An app process of the consistency tests (a worker thread): lease-guarded cache-aside reads through
 * the project's cache client (`getOrLoad`) against Valkey, loading rows from PostgreSQL (`pgUrl`; also
 * customers' order lists, the dependent key `co:{id}`) or
 * DynamoDB (`ddb`: { endpoint, table }, GetItem ConsistentRead) with a slow loader (so loads race the
 * CDC pipeline's invalidations). `workerData`: { valkeyUrl, pgUrl | ddb, prefix, ids, durationMs,
 * leases, seed }. Posts { reads, loads, fills, rejected, notFound } when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { createCacheClient, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { CUSTOMER_ORDERS_SQL, customerProjection, itemProjection } from './scenario.ts';

const d = workerData as {
  valkeyUrl: string;
  pgUrl?: string;
  ddb?: { endpoint: string; table: string };
  prefix: string;
  ids: number[];
  durationMs: number;
  leases: boolean;
  seed: number;
};
let seed = d.seed >>> 0 || 1;
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 0x100000000;
};
const pool = d.pgUrl === undefined ? undefined : new pg.Pool({ connectionString: d.pgUrl, max: 2 });
const ddb =
  d.ddb === undefined
    ? undefined
    : new DynamoDBClient({
        endpoint: d.ddb.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
const target = await createValkeyTarget({ url: d.valkeyUrl });
const counts = { reads: 0, loads: 0, fills: 0, rejected: 0, notFound: 0 };
const client = createCacheClient({
  store: leaseStoreFor(target),
  leases: d.leases,
  ttlMs: 0,
  lockWaitTimeoutMs: 2000,
  codec: textCodec,
  onEvent: (e) => {
    if (e.type === 'load') counts.loads++;
    else if (e.type === 'fill') counts.fills++;
    else if (e.type === 'lease-rejected') counts.rejected++;
  },
});

class NotFound extends Error {}

async function read(id: number): Promise<string | undefined> {
  if (pool !== undefined) {
    const { rows } = await pool.query(
      'SELECT row_to_json(t)::text AS j FROM public.customers t WHERE id = $1',
      [id],
    );
    const text = rows[0]?.j as string | undefined;
    return text === undefined ? undefined : customerProjection(JSON.parse(text));
  }
  const { Item } = await ddb!.send(
    new GetItemCommand({ TableName: d.ddb!.table, Key: { Id: { N: String(id) } }, ConsistentRead: true }),
  );
  return Item === undefined ? undefined : itemProjection(Item);
}

async function load(id: number): Promise<string> {
  const text = await read(id);
  // Slow loader: the row is read, then the app "works" a little before filling the cache.
  await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
  if (text === undefined) throw new NotFound(`row ${id}`);
  return text;
}

/** A customer's order list (PostgreSQL runs): the dependent key `co:{id}`, slow like `load`. */
async function loadOrders(id: number): Promise<string> {
  const { rows } = await pool!.query(CUSTOMER_ORDERS_SQL, [id]);
  await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
  return rows[0].j as string;
}

const until = Date.now() + d.durationMs;
while (Date.now() < until) {
  const id = d.ids[Math.floor(random() * d.ids.length)]!;
  const pick = random();
  const kind =
    pool === undefined ? (pick < 0.5 ? 'ca' : 'cr') : pick < 0.3 ? 'co' : pick < 0.65 ? 'ca' : 'cr';
  const orders = kind === 'co';
  const key = `${d.prefix}${kind}:${id}`;
  counts.reads++;
  try {
    await client.getOrLoad(key, () => (orders ? loadOrders(id) : load(id)), { codec: textCodec });
  } catch (error) {
    if (error instanceof NotFound) counts.notFound++;
    else throw error;
  }
}
await client.close();
await target.close();
await pool?.end();
ddb?.destroy();
parentPort!.postMessage(counts);

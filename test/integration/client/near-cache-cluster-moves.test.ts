/**
 * The cluster tracker when a slot moves, on a private 2-master cluster (the shared cluster is never
 * resharded): the key's old owner invalidates it as MIGRATE removes it, the next tracked read gets
 * MOVED, tracking goes down (near cache emptied) while the slot table is reloaded, and afterwards
 * the key's new owner tracks it — a later write on it is never served stale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCacheClient, createNearCache, leaseStoreFor } from '../../../core/client/index.ts';
import { keySlot } from '../../../core/targets/valkey/slots.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const dir = mkdtempSync(join(tmpdir(), 'near-cluster-'));
const clusterArgs = (port: number) => [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  join(dir, `nodes-${port}.conf`),
  '--dir',
  dir,
];
let servers: OwnValkey[] = [];
let admin: Valkey[] = [];

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  servers = [await startOwnValkey(clusterArgs), await startOwnValkey(clusterArgs)];
  admin = servers.map((s) => new Valkey(s.port, '127.0.0.1'));
  await admin[0]!.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await admin[1]!.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await admin[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(servers[1]!.port));
  for (const a of admin) {
    await until('cluster_state:ok', async () =>
      /cluster_state:ok/.test(String(await a.call('CLUSTER', 'INFO'))),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const a of admin) a.disconnect();
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('a moved slot empties the near cache, and the new owner keeps the key true', async () => {
  const key = 'near:moved:k';
  const slot = keySlot(key);
  const [from, to] = slot < 8192 ? [0, 1] : [1, 0];
  const target: ValkeyTarget = await createValkeyTarget({
    url: `valkey://127.0.0.1:${servers[0]!.port},127.0.0.1:${servers[1]!.port}`,
  });
  expect(target.kind).toBe('valkey-cluster');
  const near = await createNearCache();
  const client = createCacheClient({ store: leaseStoreFor(target), near, ttlMs: 0 });
  try {
    await until('tracking up', () => client.nearStats()?.tracking === 'up');
    await admin[from]!.set(key, JSON.stringify('v1'));
    const read = () => client.getOrLoad(key, async () => 'loaded');
    expect(await read()).toBe('v1');
    expect(await read()).toBe('v1');
    expect(client.nearStats()!.hits).toBe(1);

    // Move the slot with its key: MIGRATE deletes it on the old owner (which invalidates it).
    const ids = await Promise.all(admin.map(async (a) => String(await a.call('CLUSTER', 'MYID'))));
    await admin[to]!.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]!);
    await admin[from]!.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]!);
    await admin[from]!.call('MIGRATE', '127.0.0.1', String(servers[to]!.port), key, '0', '5000');
    for (const a of admin) await a.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!);
    await until('the old owner invalidated the key', () => client.nearStats()!.entries === 0);

    const resets = client.nearStats()!.resets;
    expect(await read()).toBe('v1'); // MOVED: answered through the cluster client, not installed
    expect(client.nearStats()!.resets).toBe(resets + 1);
    await until('tracking up on the new table', () => client.nearStats()?.tracking === 'up');
    for (let i = 0; client.nearStats()!.entries === 0; i++) {
      if (i > 50) throw new Error('never installed from the new owner');
      expect(await read()).toBe('v1');
    }
    const seen = client.nearStats()!.invalidations;
    await admin[to]!.set(key, JSON.stringify('v2'));
    await until('the new owner invalidated the key', () => client.nearStats()!.invalidations > seen);
    expect(await read()).toBe('v2');
  } finally {
    await client.close();
    await target.close();
  }
});

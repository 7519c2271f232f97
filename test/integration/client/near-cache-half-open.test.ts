/**
 * A half-open invalidation channel: the connection stays open but nothing passes (a dropped NAT
 * entry, a frozen peer), so invalidations are lost without a close. A real server cannot produce
 * this, so a TCP proxy in front of the shared Valkey freezes the near cache's subscriber connection
 * (protocol-level fake for this fault only). The heartbeat must notice, drop the connection, empty
 * the near cache and re-establish tracking: the change made meanwhile is then never served stale.
 */
import net from 'node:net';
import { Valkey } from 'iovalkey';
import { afterAll, expect, it } from 'vitest';
import { createCacheClient, createNearCache, leaseStoreFor } from '../../../core/client/index.ts';
import { TRACKING_HEARTBEAT } from '../../../core/targets/resp/tracked-node.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import { uniqueKey } from '../../support/near-cache-backends.ts';

interface Piped {
  subscriber: boolean;
  frozen: boolean;
}

/** A TCP proxy that can freeze (stop forwarding, keep open) the connections that subscribed. */
async function freezingProxy(host: string, port: number) {
  const conns = new Set<Piped>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, host);
    const state: Piped = { subscriber: false, frozen: false };
    conns.add(state);
    sockets.add(down).add(up);
    down.on('data', (d: Buffer) => {
      if (/subscribe/i.test(d.toString('latin1'))) state.subscriber = true;
      if (!state.frozen) up.write(d);
    });
    up.on('data', (d: Buffer) => {
      if (!state.frozen) down.write(d);
    });
    const end = () => {
      down.destroy();
      up.destroy();
      conns.delete(state);
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freezeSubscribers(): number {
      let n = 0;
      for (const c of conns) {
        if (!c.subscriber || c.frozen) continue;
        c.frozen = true;
        n++;
      }
      return n;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

it('the heartbeat notices a frozen invalidation channel and empties the near cache', async () => {
  requireServices('valkey');
  const url = new URL(valkeyServices().standaloneUrl);
  const proxy = await freezingProxy(url.hostname, Number(url.port));
  cleanup.push(() => proxy.close());
  const target = await createValkeyTarget({ url: `valkey://127.0.0.1:${proxy.port}` });
  cleanup.push(() => target.close());
  const other = new Valkey(Number(url.port), url.hostname);
  cleanup.push(async () => other.disconnect());
  const near = await createNearCache();
  const client = createCacheClient({ store: leaseStoreFor(target), near, ttlMs: 0 });
  cleanup.push(() => client.close());
  await until('tracking up', () => client.nearStats()?.tracking === 'up', 5000);

  const key = uniqueKey('half-open');
  await other.set(key, JSON.stringify('before'));
  const read = () => client.getOrLoad(key, async () => 'never');
  for (let i = 0; client.nearStats()!.hits === 0; i++) {
    if (i > 50) throw new Error('never served near');
    expect(await read()).toBe('before');
  }
  expect(proxy.freezeSubscribers()).toBe(1);
  const resets = client.nearStats()!.resets;
  await other.set(key, JSON.stringify('after')); // its invalidation is stuck in the frozen proxy
  await new Promise((r) => setTimeout(r, 100));
  expect(await read()).toBe('before'); // not yet noticed: the near copy is still served
  const bound = TRACKING_HEARTBEAT.intervalMs + TRACKING_HEARTBEAT.timeoutMs + 3000;
  await until('the heartbeat to drop the frozen channel', () => client.nearStats()!.resets > resets, bound);
  expect(client.nearStats()!.entries).toBe(0);
  await until('tracking up again', () => client.nearStats()?.tracking === 'up', 10_000);
  expect(await read()).toBe('after');
}, 60_000);

/**
 * Server pushes on the engine alone, where a side-by-side run cannot show it: real iovalkey
 * subscribers, clients leaving while subscribed, a subscriber that stops reading (pubsub
 * output-buffer class), fan-out to many subscribers, and invalidations / keyspace events from
 * changes Valkey has no counterpart for (the in-process API, CACHE.*, the tracking-table limit).
 */
import net from 'node:net';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { RawClient } from '../../support/resp-harness.ts';

let server: EngineServer;

beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await server?.close();
});

const push = (...parts: string[]): string =>
  `>${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
const invalidate = (...keys: string[]): string =>
  `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function resp3(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.call('HELLO', '3');
  return c;
}

describe('Pub/Sub on the engine server', () => {
  it('iovalkey subscribers receive messages and pattern messages', async () => {
    const sub = new Valkey({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    const pub = new Valkey({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    await sub.connect();
    await pub.connect();
    try {
      const got: string[] = [];
      sub.on('message', (ch: string, msg: string) => got.push(`${ch}=${msg}`));
      sub.on('pmessage', (pat: string, ch: string, msg: string) => got.push(`${pat}:${ch}=${msg}`));
      expect(await sub.subscribe('news', 'sport')).toBe(2);
      expect(await sub.psubscribe('n*')).toBe(3);
      expect(await pub.publish('news', 'héllo')).toBe(2);
      expect(await pub.publish('sport', 'a\r\nb')).toBe(1);
      expect(await pub.publish('weather', 'x')).toBe(0);
      await until(() => got.length === 3);
      expect(got).toEqual(['news=héllo', 'n*:news=héllo', 'sport=a\r\nb']);
      expect(await pub.pubsub('NUMSUB', 'news', 'weather')).toEqual(['news', 1, 'weather', 0]);
      await sub.unsubscribe('news');
      expect(await pub.publish('news', 'again')).toBe(1);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });

  it('a client that disconnects while subscribed is unsubscribed everywhere', async () => {
    const sub = await RawClient.connect(server.port);
    const pub = await RawClient.connect(server.port);
    await sub.call('SUBSCRIBE', 'gone-ch');
    await sub.call('PSUBSCRIBE', 'gone-*');
    expect(await pub.call('PUBLISH', 'gone-ch', 'x')).toBe(':2\r\n');
    sub.close();
    await until(
      async () => (await pub.call('PUBSUB', 'NUMSUB', 'gone-ch')) === '*2\r\n$7\r\ngone-ch\r\n:0\r\n',
    );
    expect(await pub.call('PUBSUB', 'NUMPAT')).toBe(':0\r\n');
    expect(await pub.call('PUBLISH', 'gone-ch', 'x')).toBe(':0\r\n');
    pub.close();
  });

  it('PUBLISH fans out to 300 subscribers, each gets the message once', async () => {
    const subs = await Promise.all(Array.from({ length: 300 }, () => RawClient.connect(server.port)));
    for (const s of subs) await s.call('SUBSCRIBE', 'fan');
    const pub = await RawClient.connect(server.port);
    expect(await pub.call('PUBLISH', 'fan', 'payload')).toBe(':300\r\n');
    const msg = '*3\r\n$7\r\nmessage\r\n$3\r\nfan\r\n$7\r\npayload\r\n';
    const got = await Promise.all(subs.map((s) => s.read()));
    expect(got.every((g) => g === msg)).toBe(true);
    for (const s of subs) s.close();
    await until(async () => (await pub.call('PUBSUB', 'NUMSUB', 'fan')) === '*2\r\n$3\r\nfan\r\n:0\r\n');
    pub.close();
  });

  it('a subscriber that stops reading is disconnected at the pubsub hard limit and released', async () => {
    const own = await startEngineServer({
      port: 0,
      clientOutputBufferLimit: { pubsub: { hard: 2 * 1024 * 1024, soft: 0, seconds: 0 } },
    });
    try {
      const slow = net.connect(own.port, '127.0.0.1');
      await new Promise<void>((r) => slow.once('connect', () => r()));
      slow.on('error', () => {});
      slow.write('*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n');
      await new Promise<void>((r) => slow.once('data', () => r()));
      slow.pause(); // never reads again (so it does not see the close either)
      const pub = await RawClient.connect(own.port);
      const big = 'x'.repeat(256 * 1024);
      let receivers = ':1\r\n';
      let published = 0;
      for (; receivers === ':1\r\n' && published < 2000; published++)
        receivers = (await pub.call('PUBLISH', 'slow', big))!;
      // Gone once its unread output passed 2 MiB (plus what the kernel's socket buffers took).
      expect(receivers).toBe(':0\r\n');
      expect(published).toBeLessThan(2000);
      const info = (await pub.call('INFO', 'stats'))!;
      expect(info).toMatch(/client_output_buffer_limit_disconnections:1\r\n/);
      expect(await pub.call('PUBSUB', 'NUMSUB', 'slow')).toBe('*2\r\n$4\r\nslow\r\n:0\r\n');
      expect(await pub.call('PUBLISH', 'slow', 'x')).toBe(':0\r\n');
      expect(own.connections).toBe(1);
      pub.close();
    } finally {
      await own.close();
    }
  });
});

describe('pubsub client class over time', () => {
  it('the pubsub soft limit closes a subscriber above it for its seconds; timeout spares idle subscribers', async () => {
    const own = await startEngineServer({
      port: 0,
      timeout: 1,
      clientOutputBufferLimit: { pubsub: { hard: 0, soft: 512 * 1024, seconds: 1 } },
    });
    try {
      const idle = await RawClient.connect(own.port);
      await idle.call('SUBSCRIBE', 'quiet');
      const slow = net.connect(own.port, '127.0.0.1');
      await new Promise<void>((r) => slow.once('connect', () => r()));
      slow.on('error', () => {});
      slow.write('*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n');
      await new Promise<void>((r) => slow.once('data', () => r()));
      slow.pause();
      const pub = await RawClient.connect(own.port);
      const big = 'x'.repeat(256 * 1024);
      // Enough unread output to stay above the soft limit whatever the kernel buffers take.
      for (let i = 0; i < 80; i++) await pub.call('PUBLISH', 'slow', big);
      await until(async () => (await pub.call('PUBLISH', 'slow', 'x')) === ':0\r\n', 5000);
      expect(await pub.call('INFO', 'stats')).toMatch(/client_output_buffer_limit_disconnections:1\r\n/);
      // Over a second idle, but subscribed: still connected and receiving.
      await new Promise((r) => setTimeout(r, 1200));
      expect(await pub.waitClosed(2000)).toBe(true); // an idle non-subscriber is closed
      const pub2 = await RawClient.connect(own.port);
      expect(await pub2.call('PUBLISH', 'quiet', 'still-here')).toBe(':1\r\n');
      pub2.close();
      expect(await idle.read()).toBe('*3\r\n$7\r\nmessage\r\n$5\r\nquiet\r\n$10\r\nstill-here\r\n');
      idle.close();
      pub.close();
      slow.destroy();
    } finally {
      await own.close();
    }
  });
});

describe('client tracking and keyspace events on engine-only write paths', () => {
  it('invalidates on the in-process API and CACHE.* ops; BCAST sees prefix invalidations', async () => {
    const c = await resp3(server.port);
    const bcast = await resp3(server.port);
    const other = await RawClient.connect(server.port);
    const engine = server.engine;
    expect(await c.call('CLIENT', 'TRACKING', 'on')).toBe('+OK\r\n');
    expect(await bcast.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'cust:')).toBe('+OK\r\n');
    await c.call('GET', 'cust:1');
    engine.set('cust:1', 'in-process');
    expect(await c.read()).toBe(invalidate('cust:1'));
    expect(await bcast.read()).toBe(invalidate('cust:1'));
    await c.call('GET', 'cust:1');
    engine.invalidate('cust:1', 'v2');
    expect(await c.read()).toBe(invalidate('cust:1'));
    expect(await bcast.read()).toBe(invalidate('cust:1'));
    await c.call('GET', 'cust:1');
    expect(await other.call('CACHE.REFRESH', 'cust:1', 'fresh', '0', 'v3')).toBe('+applied\r\n');
    expect(await c.read()).toBe(invalidate('cust:1'));
    expect(await bcast.read()).toBe(invalidate('cust:1'));
    await c.call('GET', 'cust:1');
    expect(await other.call('CACHE.INVALIDATE', 'cust:1', 'v4')).toBe('+applied\r\n');
    expect(await c.read()).toBe(invalidate('cust:1'));
    expect(await bcast.read()).toBe(invalidate('cust:1'));
    engine.set('cust:2', 'a');
    engine.set('cust:3', 'b');
    await bcast.read(); // the two in-process sets of one turn arrive as one batch
    await c.call('GET', 'cust:2');
    // cust:1 holds a tombstone (v4), so the prefix tombstones three keys.
    expect(await other.call('CACHE.INVALIDATEPREFIX', 'cust:', 'v5')).toBe(':3\r\n');
    expect(await c.read()).toBe(invalidate('cust:2'));
    expect(await bcast.read()).toBe(invalidate('cust:1', 'cust:2', 'cust:3'));
    for (const x of [c, bcast, other]) x.close();
  });

  it('tracking-table-max-keys bounds the table: the oldest key is invalidated to make room', async () => {
    const c = await resp3(server.port);
    const admin = await RawClient.connect(server.port);
    expect(await admin.call('CONFIG', 'SET', 'tracking-table-max-keys', '2')).toBe('+OK\r\n');
    try {
      await c.call('CLIENT', 'TRACKING', 'on');
      await c.call('GET', 'tt:a');
      await c.call('GET', 'tt:b');
      expect(await c.call('GET', 'tt:c')).toBe('_\r\n');
      expect(await c.read()).toBe(invalidate('tt:a'));
    } finally {
      await admin.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
      c.close();
      admin.close();
    }
  });

  it('eviction invalidates the tracked key and publishes `evicted`; CDC ops publish `invalidate`', async () => {
    const own = await startEngineServer({
      port: 0,
      engineOptions: { maxmemory: 4 * 1024 * 1024, maxmemoryPolicy: 'volatile-ttl' },
    });
    try {
      const c = await resp3(own.port);
      const sub = await RawClient.connect(own.port);
      const admin = await RawClient.connect(own.port);
      expect(await admin.call('CONFIG', 'SET', 'notify-keyspace-events', 'Exeg')).toBe('+OK\r\n');
      await sub.call('SUBSCRIBE', '__keyevent@0__:evicted', '__keyevent@0__:invalidate');
      await sub.read();
      await admin.call('SET', 'victim', 'v', 'EX', '3600');
      await c.call('CLIENT', 'TRACKING', 'on');
      await c.call('GET', 'victim');
      const engine = own.engine;
      for (let i = 0; engine.get('victim') !== null && i < 100_000; i++) {
        try {
          engine.set(`fill:${i}`, 'y'.repeat(1000));
        } catch {
          // OOM once the only key with a TTL is gone (volatile-ttl): the victim was evicted.
        }
      }
      expect(engine.get('victim')).toBeNull();
      expect(await c.read()).toBe(invalidate('victim'));
      expect(await sub.read()).toBe(
        '*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$6\r\nvictim\r\n',
      );
      expect(await admin.call('CONFIG', 'SET', 'maxmemory', '64mb')).toBe('+OK\r\n');
      engine.invalidate('fill:1', 'v1');
      expect(await sub.read()).toBe(
        '*3\r\n$7\r\nmessage\r\n$25\r\n__keyevent@0__:invalidate\r\n$6\r\nfill:1\r\n',
      );
      expect(await admin.call('CACHE.INVALIDATE', 'fill:2', 'v1')).toBe('+applied\r\n');
      expect(await sub.read()).toBe(
        '*3\r\n$7\r\nmessage\r\n$25\r\n__keyevent@0__:invalidate\r\n$6\r\nfill:2\r\n',
      );
      for (const x of [c, sub, admin]) x.close();
    } finally {
      await own.close();
    }
  });

  it('a RESP3 client whose redirect target left is told once per invalidation', async () => {
    const c = await resp3(server.port);
    const target = await resp3(server.port);
    const id = (await target.call('CLIENT', 'ID'))!.slice(1, -2);
    await c.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id);
    await c.call('GET', 'redir:k');
    const before = server.connections;
    target.close();
    await until(() => server.connections < before);
    server.engine.set('redir:k', 'x');
    expect(await c.read()).toBe(`>2\r\n$21\r\ntracking-redir-broken\r\n:${id}\r\n`);
    expect(await c.call('CLIENT', 'TRACKINGINFO')).toContain('broken_redirect');
    void push;
    c.close();
  });

  it('INFO and CLIENT LIST report subscribers, tracking clients and the tracking table', async () => {
    const own = await startEngineServer({ port: 0 });
    try {
      const sub = await RawClient.connect(own.port);
      const t = await resp3(own.port);
      const admin = await RawClient.connect(own.port);
      await sub.call('SUBSCRIBE', 'i1');
      await sub.call('PSUBSCRIBE', 'i*');
      await t.call('CLIENT', 'TRACKING', 'on');
      await t.call('MGET', 'k1', 'k2');
      const clients = (await admin.call('INFO', 'clients'))!;
      expect(clients).toContain('tracking_clients:1\r\n');
      expect(clients).toContain('pubsub_clients:1\r\n');
      const stats = (await admin.call('INFO', 'stats'))!;
      for (const line of [
        'pubsub_channels:1',
        'pubsub_patterns:1',
        'tracking_total_keys:2',
        'tracking_total_items:2',
      ])
        expect(stats).toContain(`${line}\r\n`);
      const list = (await admin.call('CLIENT', 'LIST'))!;
      expect(list).toMatch(/flags=P db=0 sub=1 psub=1 /);
      expect(list).toMatch(/flags=t db=0 sub=0 psub=0 .* redir=0 resp=3/);
      for (const x of [sub, t, admin]) x.close();
    } finally {
      await own.close();
    }
  });

  it('an engine passed in keeps no tracking or keyspace-event listener after the server closes', async () => {
    const engine = createEngine({ maxmemory: 64 * 1024 * 1024 });
    const own = await startEngineServer({ port: 0, engine });
    const c = await resp3(own.port);
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    await c.call('CLIENT', 'TRACKING', 'on');
    expect(engine.core.listeners.active).toBe(true);
    await own.close();
    await until(() => !engine.core.listeners.active);
    engine.set('after', 'close');
    expect(engine.get('after')).toBe('close');
    engine.close();
  });
});

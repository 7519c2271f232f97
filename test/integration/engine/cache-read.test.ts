/**
 * CACHE.READ on the engine server (engine/server/commands/cache.ts): value, PTTL and soft mark in
 * one reply, nil for a missing key or a tombstone, WRONGTYPE for a non-string; tracked like GET (a
 * RESP2 client with CLIENT TRACKING … REDIRECT hears of the key's next change); and the cache
 * client's reads through it (engine-remote store, stale flag), falling back to the CACHE.STALE
 * pipeline on a server that does not know the command.
 */
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineRemoteLeaseStore } from '../../../core/targets/engine-remote/engine-remote-fill-lease-store.ts';
import { probedRead, type ScriptReader } from '../../../core/targets/resp/stale-probe.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';

let server: EngineServer;
let c: Valkey;
beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
  c = new Valkey({ port: server.port, host: '127.0.0.1' });
});
afterAll(async () => {
  c?.disconnect();
  await server?.close();
});

const read = (key: string) => c.callBuffer('CACHE.READ', key) as Promise<[Buffer, number, number] | null>;

describe('CACHE.READ', () => {
  it('answers value, PTTL and the soft mark, or nil', async () => {
    expect(await read('cr:none')).toBeNull();
    await c.set('cr:plain', 'v1');
    expect(await read('cr:plain')).toEqual([Buffer.from('v1'), -1, 0]);
    await c.set('cr:ttl', Buffer.from([0, 255, 13, 10]), 'PX', 5000);
    const [value, ttl, stale] = (await read('cr:ttl'))!;
    expect([value, stale]).toEqual([Buffer.from([0, 255, 13, 10]), 0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('reports a soft invalidation as CACHE.STALE does, and a tombstone as nil', async () => {
    await c.call('CACHE.REFRESH', 'cr:soft', 'v', '60000', '0005');
    expect((await read('cr:soft'))![2]).toBe(0);
    expect(await c.call('CACHE.SOFTINVALIDATE', 'cr:soft', '0006')).toBe('applied');
    expect(await c.call('CACHE.STALE', 'cr:soft')).toBe(1);
    expect((await read('cr:soft'))![2]).toBe(1);
    expect(await c.call('CACHE.INVALIDATE', 'cr:soft', '0007')).toBe('applied');
    expect(await read('cr:soft')).toBeNull();
  });

  it('refuses a non-string value and a wrong argument count', async () => {
    await c.hset('cr:hash', 'f', 'v');
    await expect(read('cr:hash')).rejects.toThrow(/^WRONGTYPE/);
    await expect(c.call('CACHE.READ')).rejects.toThrow(/wrong number of arguments/);
    await expect(c.call('CACHE.READ', 'a', 'b')).rejects.toThrow(/wrong number of arguments/);
  });

  it('is tracked like GET: the reader hears of the next change through its redirect', async () => {
    const inv = new Valkey({ port: server.port, host: '127.0.0.1' });
    const reader = new Valkey({ port: server.port, host: '127.0.0.1' });
    try {
      const id = (await inv.client('ID')) as number;
      const heard: string[] = [];
      inv.on('message', (_channel: string, keys: string | string[]) => heard.push(...[keys].flat()));
      await inv.subscribe('__redis__:invalidate');
      await reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id));
      await c.set('cr:tracked', 'a');
      expect((await reader.callBuffer('CACHE.READ', 'cr:tracked')) as unknown[]).toHaveLength(3);
      await c.set('cr:tracked', 'b');
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toContain('cr:tracked');
    } finally {
      inv.disconnect();
      reader.disconnect();
    }
  });

  it('counts one access under LFU as GET does, and none for a CLIENT NO-TOUCH client', async () => {
    // Its own server: the policy is server-wide. lfu-log-factor 0 makes every access count one.
    const own = await startEngineServer({ port: 0 });
    const o = new Valkey({ port: own.port, host: '127.0.0.1' });
    try {
      await o.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
      await o.call('CONFIG', 'SET', 'lfu-log-factor', '0');
      await o.set('lfu:k', 'v');
      const freq = async () => Number(await o.call('OBJECT', 'FREQ', 'lfu:k'));
      const start = await freq();
      await o.get('lfu:k');
      const afterGet = await freq();
      await o.call('CACHE.READ', 'lfu:k');
      const afterRead = await freq();
      await o.call('CLIENT', 'NO-TOUCH', 'on');
      await o.call('CACHE.READ', 'lfu:k');
      await o.get('lfu:k');
      expect([afterGet - start, afterRead - afterGet, (await freq()) - afterRead]).toEqual([1, 1, 0]);
    } finally {
      o.disconnect();
      await own.close();
    }
  });
});

describe("the cache client's reads", () => {
  it('the engine-remote store reads value, TTL and the stale flag in one command', async () => {
    const store = engineRemoteLeaseStore(c);
    await c.call('CACHE.REFRESH', 'cr:store', 'v', '60000', '0005');
    const fresh = (await store.read('cr:store'))!;
    expect([fresh.value.toString(), fresh.stale]).toEqual(['v', undefined]);
    expect(fresh.ttlMs).toBeGreaterThan(0);
    await c.call('CACHE.SOFTINVALIDATE', 'cr:store', '0006');
    expect((await store.read('cr:store'))!.stale).toBe(true);
    expect(await store.read('cr:absent')).toBeNull();
  });

  it('falls back to the CACHE.STALE pipeline on a server without CACHE.READ, and stays there', async () => {
    await c.call('CACHE.REFRESH', 'cr:old', 'v', '60000', '0005');
    await c.call('CACHE.SOFTINVALIDATE', 'cr:old', '0006');
    let asked = 0;
    // An older server (one that answers CACHE.READ as unknown) cannot be started from this checkout.
    const older: ScriptReader = {
      callBuffer: async (command: string) => {
        asked++;
        throw new Error(`ERR unknown command '${command}', with args beginning with: `);
      },
      pipeline: () => c.pipeline(),
    };
    const probe = {
      commands: (key: string) => [['CACHE.STALE', key] as const],
      stale: ([s]: readonly unknown[]) => s === 1,
      command: 'CACHE.READ',
    };
    const first = (await probedRead(older, 'cr:old', probe))!;
    expect([first.value.toString(), first.stale]).toEqual(['v', true]);
    expect(await probedRead(older, 'cr:none', probe)).toBeNull();
    expect(asked).toBe(1);
  });

  it('falls back the same way for a user whose ACL names the commands it had before CACHE.READ', async () => {
    // A user set up for the pipeline (+get +pttl +cache.stale) before the upgrade: CACHE.READ is NOPERM
    // for it, which must not turn every read into an error.
    await c.call(
      'ACL',
      'SETUSER',
      'cr-reader',
      'on',
      '>pw',
      '~*',
      '+get',
      '+pttl',
      '+cache.stale',
      '+ping',
      '+info',
    );
    const reader = new Valkey({
      port: server.port,
      host: '127.0.0.1',
      username: 'cr-reader',
      password: 'pw',
    });
    try {
      await c.call('CACHE.REFRESH', 'cr:acl', 'v', '60000', '0005');
      await expect(reader.call('CACHE.READ', 'cr:acl')).rejects.toThrow(/^NOPERM/);
      const store = engineRemoteLeaseStore(reader);
      const entry = (await store.read('cr:acl'))!;
      expect([entry.value.toString(), entry.stale]).toEqual(['v', undefined]);
      await c.call('CACHE.SOFTINVALIDATE', 'cr:acl', '0006');
      expect((await store.read('cr:acl'))!.stale).toBe(true);
    } finally {
      reader.disconnect();
    }
  });
});

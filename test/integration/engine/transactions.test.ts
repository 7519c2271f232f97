/**
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH: byte-identical to a real valkey-server (queued and runtime
 * errors, WATCH on writes, TTL changes, expiry and FLUSHALL from other clients), plus what only the
 * engine has (WATCH seeing eviction, CACHE.* ops and the in-process API; disconnect before EXEC)
 * and iovalkey's multi()/watch() against both.
 */
import { Valkey } from 'iovalkey';
import { describe, expect, it } from 'vitest';
import { startEngineServer } from '../../../engine/index.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

describe('transactions match Valkey 8 byte for byte', () => {
  it('queues, runs, discards; queued errors abort; runtime errors are per command', async () => {
    await compare([
      'EXEC',
      'DISCARD',
      'EXEC extra',
      'MULTI',
      'MULTI',
      'SET a 1',
      'INCR a',
      'EXPIRE a 100',
      'GET a',
      'EXEC',
      'TTL a',
      'MULTI',
      'SET s x',
      'INCR s',
      'SET s y',
      'SET q 1 EX abc',
      'HSET s f v',
      'EXEC',
      'GET s',
      'MULTI',
      'SET b',
      'SET b 1',
      'EXEC',
      'GET b',
      'MULTI',
      'NOSUCHCMD x y',
      'SET b 1',
      'EXEC',
      'GET b',
      'MULTI',
      'SET b 1',
      'DISCARD',
      'GET b',
      'MULTI',
      'EXEC',
      'MULTI',
      'WATCH a',
      'PING',
      'EXEC',
      'MULTI',
      'UNWATCH',
      'EXEC',
      'WATCH',
      'MULTI extra',
      'MULTI',
      'SET z 1',
      'EXEC extra',
      'GET z',
      'EXEC',
      'MULTI',
      'DISCARD extra',
      'EXEC',
    ]);
  });

  it('WATCH fails EXEC on writes, deletes, TTL changes, expiry and FLUSHALL from anywhere', async () => {
    await compare([
      'SET k 1',
      'WATCH k',
      '@1 SET k 2',
      'MULTI',
      'INCR k',
      'EXEC',
      'GET k',
      'WATCH k',
      'MULTI',
      'INCR k',
      'EXEC',
      'WATCH k',
      'SET k 10',
      'MULTI',
      'INCR k',
      'EXEC',
      'WATCH k',
      '@1 EXPIRE k 100',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH k',
      '@1 PERSIST k',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH k',
      '@1 PERSIST k',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH k other',
      '@1 DEL k',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH nokey',
      '@1 SET elsewhere 1',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH nokey',
      '@1 SET nokey 1',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH nokey',
      'UNWATCH',
      '@1 SET nokey 2',
      'MULTI',
      'PING',
      'EXEC',
      'HSET h f 1',
      'WATCH h',
      '@1 HINCRBY h f 1',
      'MULTI',
      'HGET h f',
      'EXEC',
      'SET t 1 PX 40',
      'WATCH t',
      '!sleep 120',
      'MULTI',
      'PING',
      'EXEC',
      'SET f 1',
      'WATCH f',
      '@1 FLUSHALL',
      'MULTI',
      'PING',
      'EXEC',
      'WATCH absent',
      '@1 FLUSHALL',
      'MULTI',
      'PING',
      'EXEC',
      'SET d 1',
      'WATCH d',
      'MULTI',
      'SET d 2',
      'DISCARD',
      '@1 SET d 3',
      'MULTI',
      'GET d',
      'EXEC',
      'WATCH d',
      '@1 SET d 4',
      'MULTI',
      'GET d',
      'EXEC',
    ]);
  });
});

describe('WATCH sees every engine write path', () => {
  async function watchedExec(key: string, change: () => Promise<unknown> | unknown): Promise<string | null> {
    const c = await RawClient.connect(servers.engine.port);
    try {
      await c.call('WATCH', key);
      await change();
      await c.call('MULTI');
      await c.call('PING');
      return await c.call('EXEC');
    } finally {
      c.close();
    }
  }

  it('in-process API writes, deletes and TTL changes', async () => {
    const e = servers.engine.engine;
    e.set('api:k', 'v');
    expect(await watchedExec('api:k', () => e.set('api:k', 'w'))).toBe('*-1\r\n');
    expect(await watchedExec('api:k', () => e.expire('api:k', 60_000))).toBe('*-1\r\n');
    expect(await watchedExec('api:k', () => e.persist('api:k'))).toBe('*-1\r\n');
    expect(await watchedExec('api:k', () => e.delete('api:k'))).toBe('*-1\r\n');
    expect(await watchedExec('api:k', () => e.get('api:k'))).toBe('*1\r\n+PONG\r\n');
  });

  it('CACHE.* invalidations and refreshes', async () => {
    const other = await RawClient.connect(servers.engine.port);
    try {
      await other.call('SET', 'cdc:k', 'v');
      expect(await watchedExec('cdc:k', () => other.call('CACHE.INVALIDATE', 'cdc:k', '0002', '1000'))).toBe(
        '*-1\r\n',
      );
      expect(
        await watchedExec('cdc:k', () => other.call('CACHE.REFRESH', 'cdc:k', 'v2', '60000', '0003')),
      ).toBe('*-1\r\n');
      expect(await other.call('GET', 'cdc:k')).toBe('$2\r\nv2\r\n');
    } finally {
      other.close();
    }
  });

  it('eviction of a watched key', async () => {
    // The victim is the only key with a TTL, so under volatile-lru it is the only key eviction may
    // take: the first write past maxmemory evicts it. (Under allkeys-lru the sampled eviction took
    // it only by chance, since its one-second LRU stamp ties with the fill keys written in the same
    // second: in 30 runs it went after 20 to 640 evictions, and now and then it outlived the loop's
    // 2,000 writes and the test failed.)
    const server = await startEngineServer({
      port: 0,
      engineOptions: { maxmemory: 4 * 1024 * 1024, maxmemoryPolicy: 'volatile-lru' },
    });
    const c = await RawClient.connect(server.port);
    try {
      await c.call('SET', 'victim', 'x', 'EX', '100000');
      await c.call('WATCH', 'victim');
      const filler = await RawClient.connect(server.port);
      const big = 'y'.repeat(10_000);
      for (let i = 0; i < 2000 && (await filler.call('EXISTS', 'victim')) === ':1\r\n'; i++)
        await filler.call('SET', `fill:${i}`, big);
      filler.close();
      expect(await c.call('EXISTS', 'victim')).toBe(':0\r\n');
      expect(server.engine.core.evictedKeys).toBe(1); // evicted (its TTL is a day away), and alone
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toBe('*-1\r\n');
    } finally {
      c.close();
      await server.close();
    }
  });

  it('a client that disconnects before EXEC applies nothing and leaves no watch behind', async () => {
    const a = await RawClient.connect(servers.engine.port);
    await a.call('WATCH', 'gone:k');
    await a.call('MULTI');
    expect(await a.call('SET', 'gone:k', '1')).toBe('+QUEUED\r\n');
    a.close();
    const b = await RawClient.connect(servers.engine.port);
    try {
      for (let i = 0; i < 100 && servers.engine.connections > 1; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await b.call('GET', 'gone:k')).toBe('$-1\r\n');
      expect(servers.engine.engine.core.listeners.active).toBe(false);
    } finally {
      b.close();
    }
  });
});

describe('iovalkey multi() and watch() on the engine and on Valkey', () => {
  for (const target of ['valkey', 'engine'] as const) {
    it(`${target}: multi().incr().expire().exec() applies at EXEC; a queued error applies nothing`, async () => {
      const port = target === 'valkey' ? servers.valkey.port : servers.engine.port;
      const c = new Valkey({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
      const d = new Valkey({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await c.connect();
        await d.connect();
        await c.del('io:c', 'io:w');
        expect(await c.multi().incr('io:c').expire('io:c', 100).exec()).toEqual([
          [null, 1],
          [null, 1],
        ]);
        expect(await c.ttl('io:c')).toBe(100);
        const failing = c.multi().incr('io:c').call('set', 'io:c');
        await expect(failing.exec()).rejects.toThrow(/EXECABORT/);
        expect(await c.get('io:c')).toBe('1');
        const results = await c.multi().set('io:s', 'x').incr('io:s').exec();
        expect(results?.[0]).toEqual([null, 'OK']);
        expect(String(results?.[1]?.[0])).toMatch(/not an integer/);
        await c.set('io:w', '1');
        await c.watch('io:w');
        await d.set('io:w', '2');
        expect(await c.multi().set('io:w', '3').exec()).toBeNull();
        expect(await c.get('io:w')).toBe('2');
      } finally {
        c.disconnect();
        d.disconnect();
      }
    });
  }
});

/**
 * Collections and the engine's memory model: MEMORY USAGE and used_memory follow sets, sorted sets
 * and lists as they grow and shrink; maxmemory evicts them (allkeys-lru) or refuses writes
 * (noeviction) like strings; TTLs expire them. Plus encodings past Valkey's compact limits, compared
 * with a real valkey-server.
 */
import { describe, expect, it } from 'vitest';
import { startEngineServer } from '../../../engine/index.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const int = (reply: string | null): number => Number(/^:(-?\d+)/.exec(reply ?? '')?.[1] ?? Number.NaN);

describe('collections in the memory model', () => {
  it('MEMORY USAGE and used_memory grow and shrink with members', async () => {
    const c = await RawClient.connect(servers.engine.port);
    try {
      for (const [key, add, del] of [
        ['mem:set', 'SADD', 'SREM'],
        ['mem:zset', 'ZADD', 'ZREM'],
        ['mem:list', 'RPUSH', 'LREM'],
      ] as const) {
        const base = servers.engine.engine.usedMemory;
        const args: string[] = [];
        for (let i = 0; i < 1000; i++) {
          if (add === 'ZADD') args.push(String(i));
          args.push(`member-${i}-${'x'.repeat(40)}`);
        }
        await c.call(add, key, ...args);
        const usage = int(await c.call('MEMORY', 'USAGE', key));
        expect(usage).toBeGreaterThan(1000 * 60);
        expect(servers.engine.engine.usedMemory - base).toBeGreaterThan(1000 * 60);
        const half = args.filter((_, i) => (add === 'ZADD' ? i % 2 === 1 && i < 1000 : i < 500));
        for (const m of half) {
          if (del === 'LREM') await c.call('LREM', key, '0', m);
          else await c.call(del, key, m);
        }
        const after = int(await c.call('MEMORY', 'USAGE', key));
        expect(after).toBeLessThan(usage * 0.75);
        await c.call('DEL', key);
        expect(Math.abs(servers.engine.engine.usedMemory - base)).toBeLessThan(64);
      }
    } finally {
      c.close();
    }
  });

  it('small sets, sorted sets and hashes are packed: MEMORY USAGE is their string, and grows on conversion', async () => {
    const c = await RawClient.connect(servers.engine.port);
    try {
      const members = [1, 2, 3, 4, 5].map((i) => `member:${i}`);
      await c.call('SADD', 'pk:s', ...members);
      await c.call('ZADD', 'pk:z', ...members.flatMap((m, i) => [String(i + 1), m]));
      await c.call('HSET', 'pk:h', ...members.flatMap((m, i) => [m, `value:0${i + 1}`]));
      // Entry overhead (8), slot arrays (21), the key (24) and one packed string of ~50-100 bytes.
      const small: Record<string, number> = {};
      for (const key of ['pk:s', 'pk:z', 'pk:h']) {
        small[key] = int(await c.call('MEMORY', 'USAGE', key));
        expect(small[key]).toBeGreaterThan(100);
        expect(small[key]).toBeLessThan(180);
      }
      const base = servers.engine.engine.usedMemory;
      await c.call('SADD', 'pk:s', ...Array.from({ length: 200 }, (_, i) => `more-${i}`));
      await c.call('ZADD', 'pk:z', ...Array.from({ length: 200 }, (_, i) => [String(i), `more-${i}`]).flat());
      await c.call('HSET', 'pk:h', 'f', 'x'.repeat(65));
      for (const [key, enc] of [
        ['pk:s', 'hashtable'],
        ['pk:z', 'skiplist'],
        ['pk:h', 'hashtable'],
      ] as const) {
        expect(await c.call('OBJECT', 'ENCODING', key)).toBe(`$${enc.length}\r\n${enc}\r\n`);
        expect(int(await c.call('MEMORY', 'USAGE', key))).toBeGreaterThan(small[key]! + 200);
      }
      expect(servers.engine.engine.usedMemory).toBeGreaterThan(base + 2 * 200 * 40);
      await c.call('DEL', 'pk:s', 'pk:z', 'pk:h');
    } finally {
      c.close();
    }
  });

  it('allkeys-lru evicts collections; noeviction refuses collection writes with OOM', async () => {
    const server = await startEngineServer({ port: 0, engineOptions: { maxmemory: 2 * 1024 * 1024 } });
    const c = await RawClient.connect(server.port);
    try {
      const members = Array.from({ length: 200 }, (_, i) => `m${i}-${'y'.repeat(30)}`);
      for (let i = 0; i < 200; i++) expect(await c.call('SADD', `ev:${i}`, ...members)).toBe(':200\r\n');
      expect(server.engine.core.evictedKeys).toBeGreaterThan(0);
      expect(server.engine.usedMemory).toBeLessThan(2 * 1024 * 1024 + 64 * 1024);
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      let refused = '';
      for (let i = 0; i < 200 && refused === ''; i++) {
        const r = await c.call('RPUSH', `oom:${i}`, ...members);
        if (r?.startsWith('-')) refused = r;
      }
      expect(refused).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    } finally {
      c.close();
      await server.close();
    }
  });

  it('a TTL expires a list, a set and a sorted set', async () => {
    const c = await RawClient.connect(servers.engine.port);
    try {
      await c.call('RPUSH', 'ttl:l', 'a');
      await c.call('SADD', 'ttl:s', 'a');
      await c.call('ZADD', 'ttl:z', '1', 'a');
      for (const k of ['ttl:l', 'ttl:s', 'ttl:z']) expect(await c.call('PEXPIRE', k, '30')).toBe(':1\r\n');
      await new Promise((r) => setTimeout(r, 80));
      expect(await c.call('EXISTS', 'ttl:l', 'ttl:s', 'ttl:z')).toBe(':0\r\n');
      expect(await c.call('LLEN', 'ttl:l')).toBe(':0\r\n');
    } finally {
      c.close();
    }
  });
});

describe('encodings past the compact limits match Valkey', () => {
  it('intset, listpack, hashtable, skiplist, quicklist', async () => {
    const ints = Array.from({ length: 600 }, (_, i) => String(i)).join(' ');
    const words = Array.from({ length: 130 }, (_, i) => `w${i}`).join(' ');
    const scored = Array.from({ length: 130 }, (_, i) => `${i} w${i}`).join(' ');
    const long = 'z'.repeat(70);
    await compareSteps(servers.valkey.port, servers.engine.port, [
      `SADD i ${ints.split(' ').slice(0, 500).join(' ')}`,
      'OBJECT ENCODING i',
      `SADD i ${ints}`,
      'OBJECT ENCODING i',
      `SADD w ${words}`,
      'OBJECT ENCODING w',
      `SADD lw a ${long}`,
      'OBJECT ENCODING lw',
      `ZADD z ${scored}`,
      'OBJECT ENCODING z',
      'ZREMRANGEBYRANK z 0 100',
      'OBJECT ENCODING z',
      `ZADD lz 1 ${long}`,
      'OBJECT ENCODING lz',
      'ZADD sz 1 a',
      'OBJECT ENCODING sz',
      `RPUSH l ${words}`,
      'OBJECT ENCODING l',
      `RPUSH bl ${Array.from({ length: 200 }, () => 'x'.repeat(60)).join(' ')}`,
      'OBJECT ENCODING bl',
      'ZRANGE z 0 4 WITHSCORES',
      'ZRANK z w120',
      'SCARD i',
    ]);
  });
});

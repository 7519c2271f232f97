/**
 * OBJECT FREQ under the LFU policies, against a real valkey-server: with `lfu-log-factor 0` every
 * access raises Valkey's logarithmic counter by exactly one, so which commands count as an access,
 * where a new key starts (LFU_INIT_VAL 5), the cap at 255, RESTORE … FREQ and CLIENT NO-TOUCH must
 * all give byte-identical replies. (Decay per `lfu-decay-time` minutes is in the unit tests, on a
 * fake clock.)
 */
import { describe, expect, it } from 'vitest';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

const LFU = ['CONFIG SET maxmemory-policy allkeys-lfu', 'CONFIG SET lfu-log-factor 0'];

describe('OBJECT FREQ counts accesses as Valkey 8 does', () => {
  it('strings: new keys start at 5, reads and writes count, metadata reads do not', async () => {
    await compare([
      ...LFU,
      'CONFIG GET lfu-log-factor',
      'SET k v',
      'OBJECT FREQ k',
      'SET k v2',
      'OBJECT FREQ k',
      'GET k',
      'OBJECT FREQ k',
      'SET k 12',
      'INCR k',
      'INCRBY k 3',
      'APPEND k x',
      'STRLEN k',
      'GETRANGE k 0 1',
      'OBJECT FREQ k',
      'EXISTS k',
      'TYPE k',
      'TTL k',
      'PTTL k',
      'OBJECT FREQ k',
      'TOUCH k',
      'OBJECT FREQ k',
      'EXPIRE k 100',
      'PERSIST k',
      'OBJECT FREQ k',
      'MGET k k nokey',
      'OBJECT FREQ k',
      'DEL k',
      'SET k v',
      'OBJECT FREQ k',
      'GETSET k w',
      'GETDEL k',
      'SETNX k a',
      'OBJECT FREQ k',
      'SET k b NX',
      'SET k c XX',
      'SET k d GET',
      'OBJECT FREQ k',
      'MSET k e other f',
      'OBJECT FREQ k',
      'OBJECT FREQ other',
      'COPY k k2',
      'OBJECT FREQ k',
      'OBJECT FREQ k2',
      'RENAME k k3',
      'OBJECT FREQ k3',
      'OBJECT FREQ nokey',
      'CLIENT NO-TOUCH on',
      'GET k3',
      'OBJECT FREQ k3',
      'TOUCH k3',
      'OBJECT FREQ k3',
      'CLIENT NO-TOUCH off',
      'GET k3',
      'OBJECT FREQ k3',
    ]);
  });

  it('collections count their reads and writes', async () => {
    await compare([
      ...LFU,
      'HSET h f v',
      'OBJECT FREQ h',
      'HGET h f',
      'HSET h g w',
      'HGETALL h',
      'HLEN h',
      'OBJECT FREQ h',
      'SADD s a',
      'SADD s b',
      'SISMEMBER s a',
      'SCARD s',
      'OBJECT FREQ s',
      'ZADD z 1 a',
      'ZADD z 2 b',
      'ZSCORE z a',
      'ZRANGE z 0 -1',
      'OBJECT FREQ z',
      'RPUSH l a',
      'LPUSH l b',
      'LRANGE l 0 -1',
      'LLEN l',
      'OBJECT FREQ l',
    ]);
  });

  it('the counter stops at 255 and lfu-log-factor is a CONFIG parameter', async () => {
    await compare([...LFU, 'SET hot v', ...Array.from({ length: 260 }, () => 'GET hot'), 'OBJECT FREQ hot']);
    await compare([
      'CONFIG SET maxmemory-policy volatile-lfu',
      'CONFIG SET lfu-log-factor 0',
      'SET v x EX 100',
      'GET v',
      'OBJECT FREQ v',
      'CONFIG SET lfu-log-factor 100',
      'CONFIG GET lfu-log-factor',
      'CONFIG SET lfu-decay-time 0',
      'CONFIG GET lfu-decay-time',
      'CONFIG SET lfu-log-factor -1',
      'CONFIG SET maxmemory-policy allkeys-lru',
      'OBJECT FREQ v',
    ]);
  });

  it('RESTORE … FREQ sets the counter, RESTORE … IDLETIME the LRU idle time', async () => {
    for (const port of [servers.valkey.port, servers.engine.port]) {
      const c = await RawClient.connect(port);
      try {
        await c.call('FLUSHALL');
        await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu', 'lfu-log-factor', '0');
        await c.call('SET', 'src', 'value');
        const payload = bulkPayload(await c.call('DUMP', 'src'));
        expect(await c.call('RESTORE', 'r1', '0', payload, 'FREQ', '100')).toBe('+OK\r\n');
        expect(await c.call('OBJECT', 'FREQ', 'r1')).toBe(':100\r\n');
        expect(await c.call('RESTORE', 'r2', '0', payload)).toBe('+OK\r\n');
        expect(await c.call('OBJECT', 'FREQ', 'r2')).toBe(':5\r\n');
        expect(await c.call('RESTORE', 'r1', '0', payload, 'REPLACE', 'FREQ', '0')).toBe('+OK\r\n');
        expect(await c.call('OBJECT', 'FREQ', 'r1')).toBe(':0\r\n');
        expect(await c.call('GET', 'r1')).toBe('$5\r\nvalue\r\n');
        expect(await c.call('OBJECT', 'FREQ', 'r1')).toBe(':1\r\n');
        await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
        expect(await c.call('RESTORE', 'r3', '0', payload, 'IDLETIME', '1000')).toBe('+OK\r\n');
        expect(await c.call('OBJECT', 'IDLETIME', 'r3')).toMatch(/^:100[01]\r\n$/);
      } finally {
        await c.call('CONFIG', 'SET', 'lfu-log-factor', '10', 'maxmemory-policy', 'noeviction');
        c.close();
      }
    }
  });
});

/** The payload of a RESP bulk-string reply. */
function bulkPayload(reply: string | null): Buffer {
  if (reply === null || !reply.startsWith('$')) throw new Error(`DUMP replied ${JSON.stringify(reply)}`);
  return Buffer.from(reply.slice(reply.indexOf('\r\n') + 2, -2), 'latin1');
}

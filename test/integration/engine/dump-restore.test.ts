/**
 * DUMP and RESTORE against a real valkey-server 8: short strings dump byte for byte as Valkey's;
 * every type moves Valkey → engine and engine → Valkey through DUMP/RESTORE with its contents and
 * TTL intact (Valkey's payloads include LZF-compressed strings, intsets, listpacks and quicklists);
 * corrupt, foreign-version and unreadable payloads and the option errors answer as Valkey does.
 */
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../engine/server/dump/crc64.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

/** The bytes of a bulk-string reply (null for a nil reply). */
function bulkBytes(reply: string | null): Buffer | null {
  if (reply === null || reply.startsWith('$-1')) return null;
  const raw = Buffer.from(reply, 'latin1');
  const nl = raw.indexOf('\r\n');
  if (raw[0] !== 0x24) throw new Error(`not a bulk reply: ${reply}`);
  return raw.subarray(nl + 2, nl + 2 + Number(raw.toString('latin1', 1, nl)));
}

async function both<T>(fn: (v: RawClient, e: RawClient) => Promise<T>): Promise<T> {
  const v = await RawClient.connect(servers.valkey.port);
  const e = await RawClient.connect(servers.engine.port);
  try {
    return await fn(v, e);
  } finally {
    v.close();
    e.close();
  }
}

/** Commands that show a key's whole value, order-independent where Valkey's order is a hash's. */
function contentsOf(type: string, key: string): string[][] {
  switch (type) {
    case 'string':
      return [['GET', key]];
    case 'hash':
      return [
        ['HLEN', key],
        ['HMGET', key, 'f1', 'f77', 'f199', 'nope'],
      ];
    case 'set':
      return [
        ['SCARD', key],
        ['SMISMEMBER', key, '1', 'm77', '199', 'nope'],
      ];
    case 'zset':
      return [['ZRANGE', key, '0', '-1', 'WITHSCORES']];
    default:
      return [['LRANGE', key, '0', '-1']];
  }
}

/**
 * Values Valkey stores in each of its encodings, built the same way on both servers, with the RDB
 * type Valkey's DUMP writes for them (0 string, 2 set, 4 hash, 5 zset, 11 intset, 16/17/20 hash,
 * zset and set listpacks, 18 quicklist).
 */
const FIXTURES: [string, string, string[][], number][] = [
  ['str:short', 'string', [['SET', 'str:short', 'hello']], 0],
  ['str:int', 'string', [['SET', 'str:int', '-40000']], 0],
  ['str:bigint', 'string', [['SET', 'str:bigint', '12345678901234']], 0],
  ['str:long', 'string', [['SET', 'str:long', 'abc'.repeat(400)]], 0],
  ['str:bin', 'string', [['SET', 'str:bin', '\u0000\u00ff\r\n\u0080x']], 0],
  ['hash:small', 'hash', [['HSET', 'hash:small', 'f1', 'v1', 'f77', '77']], 16],
  [
    'hash:big',
    'hash',
    [['HSET', 'hash:big', ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()]],
    4,
  ],
  ['set:intset', 'set', [['SADD', 'set:intset', '1', '199', '-5', '70000', '5000000000']], 11],
  ['set:listpack', 'set', [['SADD', 'set:listpack', 'm77', 'a', '1']], 20],
  ['set:big', 'set', [['SADD', 'set:big', ...Array.from({ length: 300 }, (_, i) => `m${i}`), '1', '199']], 2],
  ['zset:small', 'zset', [['ZADD', 'zset:small', '1.5', 'a', '-2', 'b', '3', 'c']], 17],
  [
    'zset:big',
    'zset',
    [['ZADD', 'zset:big', ...Array.from({ length: 200 }, (_, i) => [String(i / 3), `m${i}`]).flat()]],
    5,
  ],
  ['list:small', 'list', [['RPUSH', 'list:small', 'a', '12', '-300', 'x'.repeat(70)]], 18],
  [
    'list:big',
    'list',
    [['RPUSH', 'list:big', ...Array.from({ length: 3000 }, (_, i) => `element-${i}`)]],
    18,
  ],
];

describe('DUMP and RESTORE, as Valkey 8', () => {
  it('short strings dump byte for byte as Valkey; errors of RESTORE options alike', async () => {
    await compareSteps(servers.valkey.port, servers.engine.port, [
      'SET s hello',
      'DUMP s',
      'SET n 123',
      'DUMP n',
      'SET n2 -40000',
      'DUMP n2',
      'SET n3 2147483648',
      'DUMP n3',
      'SET z 007',
      'DUMP z',
      'SET e ',
      'DUMP e',
      'SET twenty 01234567890123456789',
      'DUMP twenty',
      'DUMP nokey',
      'DUMP',
      'RESTORE s 0 x',
      'RESTORE k 0 x',
      'RESTORE k -1 x',
      'RESTORE k x x',
      'RESTORE k 0 x FOO',
      'RESTORE k 0 x IDLETIME -1',
      'RESTORE k 0 x IDLETIME x',
      'RESTORE k 0 x FREQ 256',
      'RESTORE k 0 x IDLETIME 1 FREQ 1',
      'RESTORE k 0 x IDLETIME',
      'RESTORE k 0 x REPLACE ABSTTL',
      'RESTORE k 0',
      'EXISTS k',
    ]);
  });

  it('every type moves Valkey → engine and engine → Valkey with its contents', async () => {
    await both(async (v, e) => {
      await v.call('FLUSHALL');
      await e.call('FLUSHALL');
      for (const [key, type, build, rdbType] of FIXTURES) {
        for (const cmd of build) {
          await v.call(...cmd);
          await e.call(...cmd);
        }
        const want = [];
        for (const cmd of contentsOf(type, key)) want.push(await v.call(...cmd));
        // Valkey → engine.
        const fromValkey = bulkBytes(await v.call('DUMP', key));
        expect(fromValkey?.[0], key).toBe(rdbType);
        expect(await e.call('RESTORE', `${key}:v`, '0', fromValkey!), key).toBe('+OK\r\n');
        const got = [];
        for (const cmd of contentsOf(type, `${key}:v`)) got.push(await e.call(...cmd));
        expect(got, `${key} restored into the engine`).toEqual(want);
        expect(await e.call('TYPE', `${key}:v`)).toBe(`+${type}\r\n`);
        // engine → Valkey.
        const fromEngine = bulkBytes(await e.call('DUMP', key));
        expect(await v.call('RESTORE', `${key}:e`, '0', fromEngine!), key).toBe('+OK\r\n');
        const back = [];
        for (const cmd of contentsOf(type, `${key}:e`)) back.push(await v.call(...cmd));
        expect(back, `${key} restored into Valkey`).toEqual(want);
      }
    });
  });

  it('TTL, ABSTTL, REPLACE and BUSYKEY', async () => {
    await both(async (v, e) => {
      await v.call('SET', 'ttl:src', 'value');
      const payload = bulkBytes(await v.call('DUMP', 'ttl:src'))!;
      for (const c of [v, e]) await c.call('DEL', 'ttl:a', 'ttl:b', 'ttl:c');
      const steps: (string | Buffer)[][] = [
        ['RESTORE', 'ttl:a', '100000', payload],
        ['RESTORE', 'ttl:a', '0', payload],
        ['RESTORE', 'ttl:a', '0', payload, 'REPLACE'],
        ['TTL', 'ttl:a'],
        ['RESTORE', 'ttl:b', '1', payload, 'ABSTTL'],
        ['EXISTS', 'ttl:b'],
        ['SET', 'ttl:c', 'old'],
        ['RESTORE', 'ttl:c', '1000', payload, 'REPLACE', 'ABSTTL'],
        ['EXISTS', 'ttl:c'],
        ['RESTORE', 'ttl:b', String(Date.now() + 100_000), payload, 'ABSTTL', 'IDLETIME', '10'],
        ['GET', 'ttl:b'],
      ];
      for (const s of steps) expect(await e.call(...s), s.join(' ')).toBe(await v.call(...s));
      const pttl = Number((await e.call('PTTL', 'ttl:b'))!.slice(1));
      expect(pttl).toBeGreaterThan(90_000);
    });
  });

  it('a corrupt, foreign-version or unreadable payload is refused as Valkey refuses it', async () => {
    await both(async (v, e) => {
      await v.call('HSET', 'bad:src', 'f', 'v');
      const good = bulkBytes(await v.call('DUMP', 'bad:src'))!;
      const flipped = Buffer.from(good);
      flipped[1] = flipped[1]! ^ 0x01;
      const seal = (body: Buffer) => Buffer.concat([body, crc64(body)]);
      const newer = seal(Buffer.concat([good.subarray(0, good.length - 10), Buffer.from([12, 0])]));
      const unknownType = seal(Buffer.from([99, 1, 2, 3, 11, 0]));
      const truncated = seal(Buffer.concat([good.subarray(0, 3), Buffer.from([11, 0])]));
      const emptySet = seal(Buffer.from([2, 0, 11, 0]));
      const dupSet = seal(Buffer.from([2, 2, 1, 0x61, 1, 0x61, 11, 0]));
      for (const payload of [flipped, newer, unknownType, truncated, emptySet, dupSet, Buffer.alloc(9)]) {
        const want = await v.call('RESTORE', 'bad:dst', '0', payload);
        expect(want).toMatch(/^-ERR /);
        expect(await e.call('RESTORE', 'bad:dst', '0', payload)).toBe(want);
      }
    });
  });

  it('RESTORE notifies `restore` (generic class); REPLACE of a live key adds no `del`', async () => {
    await both(async (v, e) => {
      await v.call('SET', 'ev:src', 'x');
      const payload = bulkBytes(await v.call('DUMP', 'ev:src'))!;
      const events: Record<string, (string | null)[]> = {};
      for (const [name, c, port] of [
        ['valkey', v, servers.valkey.port],
        ['engine', e, servers.engine.port],
      ] as const) {
        await c.call('DEL', 'ev:k');
        await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'Eg$');
        const sub = await RawClient.connect(port);
        await sub.call('PSUBSCRIBE', '__keyevent@0__:*');
        await c.call('RESTORE', 'ev:k', '0', payload);
        await c.call('RESTORE', 'ev:k', '0', payload, 'REPLACE');
        await c.call('RESTORE', 'ev:k', '1', payload, 'REPLACE', 'ABSTTL');
        await c.call('SET', 'ev:end', '1');
        const got: (string | null)[] = [];
        for (let i = 0; i < 4; i++) got.push(await sub.read());
        events[name] = got;
        sub.close();
        await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
      }
      expect(events.engine).toEqual(events.valkey);
      expect(events.valkey!.join()).toContain('restore');
    });
  });

  it('crc64 is Valkey’s CRC-64/Jones', () => {
    expect(crc64(Buffer.from('123456789')).readBigUInt64LE(0)).toBe(0xe9c6d914c4b8d9can);
  });
});

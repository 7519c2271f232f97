/**
 * Bad input for the collection, bit, bloom, transaction and blocking commands: thousands of seeded
 * random argument lists (huge, negative and malformed numbers, stray options, keys of every type,
 * offsets at the 512 MB / 2^32 limits) sent to the engine server. Every reply must be one
 * well-formed RESP reply, the server must keep answering, and memory must stay under maxmemory
 * (writes that would grow a value past it are refused, not allocated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { rng } from '../../support/fuzz-frames.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

let engine: EngineServer;

beforeAll(async () => {
  engine = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await engine?.close();
});

const COMMANDS = [
  'SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SSCAN SINTER SUNION SDIFF',
  'SINTERSTORE SUNIONSTORE SDIFFSTORE SINTERCARD',
  'ZADD ZINCRBY ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE',
  'ZRANGEBYLEX ZREVRANGEBYLEX ZCOUNT ZLEXCOUNT ZREM ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZCARD',
  'ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD',
  'LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH',
  'SETRANGE GETRANGE SUBSTR SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO LCS',
  'BF.RESERVE BF.ADD BF.MADD BF.EXISTS BF.MEXISTS BF.INSERT BF.INFO BF.CARD',
  'COPY TOUCH OBJECT TYPE WATCH UNWATCH MULTI EXEC DISCARD BLPOP BRPOP BLMOVE BZPOPMIN BZPOPMAX',
]
  .join(' ')
  .split(' ');

const KEYS = ['k1', 'k2', 's', 'z', 'l', 'h', 'str', 'bf', 'nokey'];
const VALUES = [
  ...KEYS,
  ...'0 1 -1 2 3 100 -100 9223372036854775807 -9223372036854775808 99999999999999999999 1.5 inf -inf nan'.split(
    ' ',
  ),
  ...'(1 [a (z - + x abc 0.01 536870911 536870912 4294967295 4294967296 #1 #-1 i8 u63 i64 u64'.split(' '),
  ...'WITHSCORES LIMIT BYSCORE BYLEX REV NX XX GT LT CH INCR LEFT RIGHT BEFORE AFTER RANK COUNT MAXLEN'.split(
    ' ',
  ),
  ...'MATCH TYPE WEIGHTS AGGREGATE SUM MIN MAX IDX LEN MINMATCHLEN WITHMATCHLEN BIT BYTE AND OR XOR NOT'.split(
    ' ',
  ),
  ...'GET SET INCRBY OVERFLOW WRAP SAT FAIL ITEMS CAPACITY ERROR EXPANSION NONSCALING NOCREATE ENCODING'.split(
    ' ',
  ),
  '',
];

describe('random arguments to the new commands never break the server', () => {
  it('6000 commands over three seeds: one well-formed reply each, server alive, memory bounded', async () => {
    const c = await RawClient.connect(engine.port);
    try {
      await c.call('CONFIG', 'SET', 'maxmemory', '64mb');
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      for (const setup of [
        ['SADD', 's', '1', '2', 'a'],
        ['ZADD', 'z', '1', 'a', '2', 'b'],
        ['RPUSH', 'l', 'a', 'b', 'c'],
        ['HSET', 'h', 'f', 'v'],
        ['SET', 'str', 'hello'],
        ['BF.ADD', 'bf', 'x'],
      ])
        await c.call(...setup);
      let r = rng(17);
      const pick = <T>(list: T[]): T => list[Math.floor(r() * list.length)]!;
      const errors = new Map<string, number>();
      const internal: string[] = [];
      for (let batch = 0; batch < 60; batch++) {
        if (batch % 20 === 0) r = rng([17, 4242, 99991][batch / 20]!);
        const frames: Buffer[] = [];
        for (let i = 0; i < 100; i++) {
          const name = pick(COMMANDS);
          const args = [name];
          const n = Math.floor(r() * 7);
          if (n > 0) args.push(pick(KEYS));
          for (let j = 1; j < n; j++) args.push(pick(VALUES));
          // Blocking commands get a short timeout so none waits on the fuzzer forever.
          if (name.startsWith('B') && !name.startsWith('BF.') && !name.startsWith('BIT')) args.push('0.01');
          frames.push(encodeCommand(args));
        }
        c.write(Buffer.concat(frames));
        for (let i = 0; i < frames.length; i++) {
          const reply = await c.read(10_000);
          expect(reply).not.toBeNull();
          if (reply!.startsWith('-')) {
            const code = reply!.slice(1, reply!.indexOf(' ') > 0 ? reply!.indexOf(' ') : undefined).trim();
            errors.set(code, (errors.get(code) ?? 0) + 1);
            if (
              /is not a function|is not iterable|Cannot read|Cannot set|of undefined|RangeError|TypeError|Invalid array length|Invalid typed array|Maximum call/.test(
                reply!,
              )
            )
              internal.push(reply!);
          }
        }
        await c.call('DISCARD');
      }
      expect(await c.call('PING')).toBe('+PONG\r\n');
      expect(engine.engine.usedMemory).toBeLessThan(64 * 1024 * 1024);
      // Only Valkey's error classes come back (no internal errors surfacing as ERR <js message>).
      for (const code of errors.keys()) expect(['ERR', 'WRONGTYPE', 'EXECABORT', 'OOM']).toContain(code);
      expect(internal).toEqual([]);
    } finally {
      c.close();
    }
  });
});

/**
 * Differential fuzz: seeded random argument lists (bad numbers, stray options, keys of every type)
 * for the collection and bit commands whose replies are deterministic, sent to a real valkey-server
 * and to the engine; every reply, error texts and the order of argument checks included, must be
 * byte-identical. Random-output commands (SPOP, SRANDMEMBER, ZRANDMEMBER) and hash-ordered replies
 * (SMEMBERS, SUNION, …) are left to collections-parity.test.ts.
 */
import { expect, it } from 'vitest';
import { rng } from '../../support/fuzz-frames.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const COMMANDS = (
  'SADD SREM SISMEMBER SMISMEMBER SCARD SMOVE SINTERCARD ' +
  'ZADD ZINCRBY ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ' +
  'ZCOUNT ZREM ZREMRANGEBYRANK ZREMRANGEBYSCORE ZCARD ZPOPMIN ZPOPMAX ZSCAN ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ' +
  'LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH ' +
  'SETRANGE GETRANGE SUBSTR SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO LCS COPY TOUCH TYPE'
).split(' ');
const KEYS = ['k1', 'k2', 's', 'z', 'l', 'h', 'str', 'nokey'];
const VALUES = [
  ...KEYS,
  ...'0 1 -1 2 3 100 -100 9223372036854775807 -9223372036854775808 99999999999999999999 1.5 inf -inf nan'.split(
    ' ',
  ),
  ...'(1 [a (z - + x abc 0.01 #1 i8 u63 i64 u64 2 5 -2 10'.split(' '),
  ...'WITHSCORES LIMIT BYSCORE BYLEX REV NX XX GT LT CH INCR LEFT RIGHT BEFORE AFTER RANK COUNT MAXLEN'.split(
    ' ',
  ),
  ...'MATCH WEIGHTS AGGREGATE SUM MIN MAX IDX LEN MINMATCHLEN WITHMATCHLEN BIT BYTE AND OR XOR NOT'.split(
    ' ',
  ),
  ...'GET SET INCRBY OVERFLOW WRAP SAT FAIL REPLACE DB'.split(' '),
];
it.each([5, 6, 7])('seed %i: 1500 random commands reply as Valkey does', async (seed) => {
  const a = await RawClient.connect(servers.valkey.port);
  const b = await RawClient.connect(servers.engine.port);
  for (const c of [a, b]) {
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'SET', 'maxmemory', '100mb');
  }
  const r = rng(seed);
  const pick = <T>(l: T[]): T => l[Math.floor(r() * l.length)]!;
  const out: string[] = [];
  for (let i = 0; i < 1500 && out.length < 25; i++) {
    const args = [pick(COMMANDS)];
    const n = 1 + Math.floor(r() * 6);
    args.push(pick(KEYS));
    for (let j = 1; j < n; j++) args.push(pick(VALUES));
    const want = await a.call(...args);
    const got = await b.call(...args);
    if (want !== got)
      out.push(`${args.join(' ')}\n  v: ${JSON.stringify(want)}\n  e: ${JSON.stringify(got)}`);
  }
  a.close();
  b.close();
  expect(out.join('\n')).toBe('');
});

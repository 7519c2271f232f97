/**
 * The compact encodings (intset, listpack) of small sets, sorted sets and hashes against a real
 * valkey-server: collections grown to each threshold and one past it, by count and by member
 * length, one member at a time and in one command (Valkey's size hints); OBJECT ENCODING after each
 * step, the conversion kept when the collection shrinks again (Valkey never converts back), and the
 * commands' replies (order included while compact) on both sides of the boundary.
 */
import { describe, expect, it } from 'vitest';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
const x = (n: number): string => 'x'.repeat(n);

describe('compact encodings cross Valkey 8 thresholds as Valkey does', () => {
  it('sets: listpack up to 128 members of up to 64 bytes, then hashtable', async () => {
    const steps: string[] = [];
    // One member at a time: 128 stays listpack, the 129th converts.
    for (let i = 0; i < 128; i++) steps.push(`SADD lp m${i}`);
    steps.push('OBJECT ENCODING lp', 'SMEMBERS lp', 'SCARD lp', 'SISMEMBER lp m127', 'SADD lp m0');
    steps.push('SADD lp m128', 'OBJECT ENCODING lp', 'SCARD lp', '~SMEMBERS lp');
    // Shrinking back does not convert back.
    steps.push(
      `SREM lp ${range(128, (i) => `m${i}`).join(' ')}`,
      'SCARD lp',
      'OBJECT ENCODING lp',
      'SMEMBERS lp',
    );
    // Member length: 64 bytes stays listpack, 65 converts.
    steps.push(`SADD len a ${x(64)}`, 'OBJECT ENCODING len', 'SMEMBERS len');
    steps.push(`SADD len ${x(65)}`, 'OBJECT ENCODING len', '~SMEMBERS len');
    // In one command (setTypeCreate's size hint).
    steps.push(`SADD one ${range(128, (i) => `m${i}`).join(' ')}`, 'OBJECT ENCODING one', 'SMEMBERS one');
    steps.push(`SADD two ${range(129, (i) => `m${i}`).join(' ')}`, 'OBJECT ENCODING two', 'SCARD two');
    steps.push(`SADD three a ${x(65)}`, 'OBJECT ENCODING three');
    // Random members and pops while compact (counts that take every member are deterministic).
    steps.push('SPOP one 0', '~SRANDMEMBER one 200', 'SCARD one', 'OBJECT ENCODING one');
    steps.push('~SPOP one 200', 'EXISTS one', 'SCARD len', 'OBJECT ENCODING len');
    steps.push('SSCAN lp 0', 'SSCAN len 0 MATCH a', 'TYPE lp', 'TYPE len');
    await compare(steps);
  });

  it('sets: intset up to 512 integers, listpack or hashtable past it', async () => {
    const steps: string[] = [];
    steps.push(
      `SADD is ${range(512, (i) => String(511 - i)).join(' ')}`,
      'OBJECT ENCODING is',
      'SMEMBERS is',
    );
    steps.push('SADD is 512', 'OBJECT ENCODING is', 'SCARD is');
    steps.push(`SADD big ${range(513, (i) => String(i * 7 - 1000)).join(' ')}`, 'OBJECT ENCODING big');
    // A non-integer into a small intset: listpack, the integers kept in ascending order.
    steps.push('SADD small 30 -5 9223372036854775807 -9223372036854775808 0 7', 'OBJECT ENCODING small');
    steps.push('SMEMBERS small', 'SADD small abc', 'OBJECT ENCODING small', 'SMEMBERS small', 'SADD small 1');
    steps.push('SMEMBERS small', 'SREM small abc', 'OBJECT ENCODING small');
    // Not integers in intset form: leading zero, plus sign, beyond 64 bits.
    steps.push('SADD odd 01', 'OBJECT ENCODING odd', 'SADD odd2 +1', 'OBJECT ENCODING odd2');
    steps.push(
      'SADD odd3 9223372036854775808',
      'OBJECT ENCODING odd3',
      'SADD odd4 -0',
      'OBJECT ENCODING odd4',
    );
    // 128 integers then a string: the intset is too big for a listpack, so hashtable.
    steps.push(`SADD i128 ${range(128, String).join(' ')}`, 'SADD i128 s', 'OBJECT ENCODING i128');
    steps.push(
      `SADD i127 ${range(127, String).join(' ')}`,
      'SADD i127 s',
      'OBJECT ENCODING i127',
      'SMEMBERS i127',
    );
    // STORE results are built from an intset, converting as members arrive.
    steps.push(
      'SADD ints 3 1 2',
      'SADD strs b a',
      'SUNIONSTORE u ints strs',
      'OBJECT ENCODING u',
      'SMEMBERS u',
    );
    steps.push('SINTERSTORE n ints is', 'OBJECT ENCODING n', 'SMEMBERS n', 'SDIFFSTORE d small ints');
    steps.push('OBJECT ENCODING d', 'SMEMBERS d', 'SUNIONSTORE u2 lp small', 'OBJECT ENCODING u2');
    steps.push(
      `SADD lp ${range(100, (i) => `m${i}`).join(' ')}`,
      'SUNIONSTORE u3 lp i127',
      'OBJECT ENCODING u3',
    );
    steps.push('SINTERCARD 2 is small', 'SMOVE small ints abc', 'OBJECT ENCODING ints', 'SMEMBERS ints');
    // SMOVE from a missing source answers 0 before looking at the destination's type.
    steps.push(
      'HSET hx f v',
      'SMOVE nosrc hx m',
      'SMOVE ints hx 1',
      'SMOVE hx ints 1',
      'SMOVE ints hx nomember',
    );
    await compare(steps);
  });

  it('hashes: listpack up to 512 fields of up to 64 bytes, then hashtable', async () => {
    const steps: string[] = [];
    for (let i = 0; i < 512; i++) steps.push(`HSET lp f${i} v${i}`);
    steps.push('OBJECT ENCODING lp', 'HLEN lp', 'HGET lp f511', 'HSET lp f3 new', 'HGETALL lp');
    steps.push('HSET lp f512 v', 'OBJECT ENCODING lp', 'HLEN lp', 'HGET lp f3');
    steps.push(`HDEL lp ${range(512, (i) => `f${i}`).join(' ')}`, 'OBJECT ENCODING lp', 'HGETALL lp');
    // Field and value lengths.
    steps.push(`HSET fl ${x(64)} ${x(64)}`, 'OBJECT ENCODING fl', `HSET fl a ${x(65)}`, 'OBJECT ENCODING fl');
    steps.push(`HSET fk ${x(65)} 1`, 'OBJECT ENCODING fk', `HINCRBY fi ${x(65)} 1`, 'OBJECT ENCODING fi');
    // In one command: more pairs than the limit converts up front, even when fields repeat.
    steps.push(`HSET one ${range(512, (i) => `f${i} v`).join(' ')}`, 'OBJECT ENCODING one');
    steps.push(`HSET rep ${range(513, () => 'f v').join(' ')}`, 'OBJECT ENCODING rep', 'HGETALL rep');
    steps.push(`HMSET rep2 ${range(513, () => 'f v').join(' ')}`, 'OBJECT ENCODING rep2');
    // Order while compact: insertion order, an update keeps its place; repeated fields in one HSET.
    steps.push('HSET o b 1 a 2 c 3', 'HSET o a 9 d 4 b 8 d 5', 'HGETALL o', 'HKEYS o', 'HVALS o');
    steps.push(
      'HINCRBY o n 5',
      'HINCRBY o n -7',
      'HMGET o a n zz',
      'HEXISTS o d',
      'HDEL o b zz',
      'HGETALL o',
    );
    steps.push('HSCAN o 0', 'HSCAN o 0 MATCH a', 'HSCAN o 0 NOVALUES', 'HLEN o', 'TYPE o');
    steps.push('HSET e f v', 'HDEL e f', 'EXISTS e', 'HSET s x', 'HGET nokey f', 'HGETALL nokey');
    await compare(steps);
  });

  it('sorted sets: listpack up to 128 members of up to 64 bytes, then skiplist', async () => {
    const steps: string[] = [];
    for (let i = 0; i < 128; i++) steps.push(`ZADD lp ${i % 7} m${i}`);
    steps.push('OBJECT ENCODING lp', 'ZRANGE lp 0 -1 WITHSCORES', 'ZCARD lp', 'ZADD lp 3 m0');
    steps.push('ZADD lp 1 m128', 'OBJECT ENCODING lp', 'ZRANGE lp 0 -1 WITHSCORES');
    steps.push(`ZREM lp ${range(128, (i) => `m${i}`).join(' ')}`, 'OBJECT ENCODING lp', 'ZRANGE lp 0 -1');
    steps.push(`ZADD len 1 ${x(64)}`, 'OBJECT ENCODING len', `ZADD len 2 ${x(65)}`, 'OBJECT ENCODING len');
    // In one command: zsetTypeCreate's hints (count and longest member).
    steps.push(`ZADD one ${range(128, (i) => `${i} m${i}`).join(' ')}`, 'OBJECT ENCODING one');
    steps.push(`ZADD two ${range(129, (i) => `${i} m${i}`).join(' ')}`, 'OBJECT ENCODING two');
    steps.push(`ZADD three 1 a 2 ${x(65)}`, 'OBJECT ENCODING three', 'ZREM three a');
    // Scores of every packed form: small integers at the edges, -0, fractions, large, infinities.
    steps.push(
      'ZADD s -120 a -121 b 127 c 128 d 0 e -0 f 1.5 g -2.25 h 1e300 i -1e-300 j inf k -inf l 3000000000 m',
      'OBJECT ENCODING s',
      'ZRANGE s 0 -1 WITHSCORES',
      'ZSCORE s f',
      'ZMSCORE s a b nokey d',
      'ZRANK s e WITHSCORE',
      'ZREVRANK s g',
      'ZRANGEBYSCORE s (-121 128 WITHSCORES',
      'ZCOUNT s -inf +inf',
      'ZINCRBY s 1 a',
      'ZINCRBY s 0.5 c',
      'ZADD s GT CH 1 e 200 c',
      'ZADD s INCR -1 new',
      'ZRANGE s 0 -1 WITHSCORES',
    );
    // Lex ranges and same-score order by member bytes.
    steps.push(
      'ZADD lex 0 b 0 a 0 c 0 ab 0 B',
      'ZRANGE lex 0 -1',
      'ZRANGEBYLEX lex [a (c',
      'ZLEXCOUNT lex - +',
    );
    steps.push(
      'ZREVRANGEBYLEX lex + [b LIMIT 1 2',
      'ZREMRANGEBYLEX lex [a [ab',
      'ZRANGE lex 0 -1',
      'OBJECT ENCODING lex',
    );
    // Pops, removals by rank/score, random members, scan.
    steps.push('ZPOPMIN s 2', 'ZPOPMAX s', 'ZREMRANGEBYRANK s 0 1', 'ZREMRANGEBYSCORE s 1 2', 'ZCARD s');
    steps.push('~ZRANDMEMBER s 100 WITHSCORES', 'ZSCAN s 0', 'ZSCAN s 0 MATCH m', 'OBJECT ENCODING s');
    steps.push('ZMPOP 1 s MIN COUNT 2', 'ZRANGE s 0 -1 WITHSCORES', 'ZREM s nokey', 'TYPE s');
    // Results: listpack when within both limits.
    steps.push('ZUNIONSTORE u 2 s lex', 'OBJECT ENCODING u', 'ZRANGE u 0 -1 WITHSCORES');
    steps.push(
      'ZUNIONSTORE u2 2 two one',
      'OBJECT ENCODING u2',
      'ZINTERSTORE i2 2 two one',
      'OBJECT ENCODING i2',
    );
    steps.push(
      'ZRANGESTORE r two 0 9',
      'OBJECT ENCODING r',
      'ZRANGESTORE r2 two 0 200',
      'OBJECT ENCODING r2',
    );
    steps.push('ZDIFFSTORE d 2 two one', 'OBJECT ENCODING d', 'ZRANGE d 0 -1 WITHSCORES');
    steps.push('SADD st 1 2 x', 'ZUNION 2 st s WITHSCORES', 'ZINTERCARD 2 st one');
    await compare(steps);
  });

  it('COPY, TTL and WATCH on compact values', async () => {
    await compare([
      'SADD s a b',
      'HSET h f v',
      'ZADD z 1 a',
      'COPY s s2',
      'COPY h h2',
      'COPY z z2',
      'SADD s2 c',
      'HSET h2 g w',
      'ZADD z2 2 b',
      'SMEMBERS s',
      'SMEMBERS s2',
      'HGETALL h',
      'HGETALL h2',
      'ZRANGE z 0 -1',
      'ZRANGE z2 0 -1',
      'OBJECT ENCODING s2',
      'OBJECT ENCODING h2',
      'OBJECT ENCODING z2',
      'EXPIRE s 100',
      'TTL s',
      'SADD s d',
      'TTL s',
      'PEXPIRE h 1',
      'PEXPIRE z 1',
      '!sleep 20',
      'EXISTS h z',
      '@1 WATCH s2',
      'SADD s2 e',
      '@1 MULTI',
      '@1 SCARD s2',
      '@1 EXEC',
      '@1 WATCH h2',
      'HSET h2 f v2',
      '@1 MULTI',
      '@1 HLEN h2',
      '@1 EXEC',
      'RENAME z2 z3',
      'ZRANGE z3 0 -1 WITHSCORES',
      'OBJECT ENCODING z3',
    ]);
  });

  it("a write's size hint converts an existing compact set or sorted set, even when nothing is added", async () => {
    // Valkey's setTypeMaybeConvert/zsetTypeMaybeConvert run on an existing key before any member
    // is added: more members (or a longer one) in the command than the limit converts at once.
    const steps: string[] = [];
    steps.push('SADD lp a b', `SADD lp ${range(129, () => 'a').join(' ')}`, 'OBJECT ENCODING lp', 'SCARD lp');
    steps.push('SADD lp2 a b', `SADD lp2 ${range(128, () => 'a').join(' ')}`, 'OBJECT ENCODING lp2');
    steps.push('SADD is 1 2', `SADD is ${range(513, () => '1').join(' ')}`, 'OBJECT ENCODING is', 'SCARD is');
    steps.push('SADD is2 1 2', `SADD is2 ${range(512, () => '1').join(' ')}`, 'OBJECT ENCODING is2');
    steps.push('SADD is3 1 2', `SADD is3 ${range(129, () => '1').join(' ')}`, 'OBJECT ENCODING is3');
    steps.push('ZADD z 1 a', `ZADD z XX 1 ${x(65)}`, 'OBJECT ENCODING z', 'ZRANGE z 0 -1 WITHSCORES');
    steps.push(
      'ZADD z2 1 a',
      `ZADD z2 ${range(129, () => '2 a').join(' ')}`,
      'OBJECT ENCODING z2',
      'ZSCORE z2 a',
    );
    steps.push(
      'ZADD z3 1 a',
      `ZINCRBY z3 1 ${x(65)}`,
      'OBJECT ENCODING z3',
      `ZADD z4 XX 1 ${x(65)}`,
      'EXISTS z4',
    );
    steps.push('ZADD z5 1 a', `ZADD z5 NX 1 a 2 ${x(64)}`, 'OBJECT ENCODING z5');
    await compare(steps);
  });

  it('SPOP with a count that leaves few members rebuilds a hashtable set compact, as Valkey does', async () => {
    // Valkey's spopWithCountCommand, case 3 (remaining × 5 ≤ count): the members that stay are
    // copied into a new listpack set (converted again only past the limits). Which members pop is
    // random, so the pops run in a script that replies 1 (no spaces: steps split on them).
    const pop = (key: string, n: number) => `EVAL redis.call('SPOP',KEYS[1],ARGV[1]);return(1) 1 ${key} ${n}`;
    const steps: string[] = [];
    steps.push(
      `SADD a ${range(200, (i) => `m${i}`).join(' ')}`,
      pop('a', 167),
      'OBJECT ENCODING a',
      'SCARD a',
    );
    steps.push(
      `SADD b ${range(200, (i) => `m${i}`).join(' ')}`,
      pop('b', 166),
      'OBJECT ENCODING b',
      'SCARD b',
    );
    steps.push(`SADD c ${range(600, String).join(' ')}`, pop('c', 590), 'OBJECT ENCODING c', 'SCARD c');
    steps.push(
      `SADD d ${range(1000, (i) => `m${i}`).join(' ')}`,
      pop('d', 850),
      'OBJECT ENCODING d',
      'SCARD d',
    );
    steps.push(`SADD e ${range(200, (i) => `${x(62)}${i}`).join(' ')}`, pop('e', 190), 'OBJECT ENCODING e');
    steps.push(`SADD f ${range(200, (i) => `m${i}`).join(' ')}`, pop('f', 200), 'EXISTS f', pop('f', 0));
    await compare(steps);
  });

  it("RESTORE of Valkey's listpack payloads keeps them listpack, as Valkey's RDB loading does", async () => {
    // Valkey loads a listpack-encoded set, sorted set or hash as it is (converting only past the
    // entry-count limit): a listpack set of integers stays listpack (insertion order, not intset's
    // ascending order), and members longer than the limit in force stay too.
    const v = await RawClient.connect(servers.valkey.port);
    const e = await RawClient.connect(servers.engine.port);
    const lines: string[] = [];
    try {
      const cases: string[][][] = [
        [
          ['SADD', 'k', '30', 'a', '1', '-7'],
          ['SREM', 'k', 'a'],
        ],
        [
          ['SADD', 'k', ...range(129, String)],
          ['SPOP', 'k', '0'],
        ],
        [['HSET', 'k', 'b', '2', 'a', '1']],
        [['ZADD', 'k', '2', 'b', '1', 'a']],
        // An entry of 16383 bytes (5-byte header + 16378): a 3-byte back-length in Valkey's listpack.
        [
          ['CONFIG', 'SET', 'hash-max-listpack-value', '20000'],
          ['HSET', 'k', 'f', x(16378), 'g', 'v'],
          ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
        ],
        ...(['set', 'zset', 'hash'] as const).map((t) => [
          ['CONFIG', 'SET', `${t}-max-listpack-value`, '100'],
          t === 'set'
            ? ['SADD', 'k', x(80), 'b']
            : t === 'zset'
              ? ['ZADD', 'k', '1', x(80)]
              : ['HSET', 'k', 'f', x(80)],
          ['CONFIG', 'SET', `${t}-max-listpack-value`, '64'],
        ]),
      ];
      for (const steps of cases) {
        for (const c of [v, e]) await c.call('DEL', 'k', 'k2');
        for (const step of steps) await v.call(...step);
        const dump = (await v.call('DUMP', 'k'))!;
        const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1');
        const seen: string[] = [];
        for (const c of [v, e]) {
          const replies = [
            await c.call('RESTORE', 'k2', '0', payload),
            await c.call('OBJECT', 'ENCODING', 'k2'),
          ];
          const type = await c.call('TYPE', 'k2');
          if (type === '+set\r\n') replies.push(await c.call('SMEMBERS', 'k2'));
          if (type === '+zset\r\n') replies.push(await c.call('ZRANGE', 'k2', '0', '-1', 'WITHSCORES'));
          if (type === '+hash\r\n') replies.push(await c.call('HGETALL', 'k2'));
          seen.push(JSON.stringify(replies));
        }
        if (seen[0] !== seen[1])
          lines.push(`${JSON.stringify(steps[0]!.slice(0, 4))}\n  valkey: ${seen[0]}\n  engine: ${seen[1]}`);
      }
    } finally {
      for (const c of [v, e]) {
        await c.call('DEL', 'k', 'k2');
        c.close();
      }
    }
    expect(lines.join('\n')).toBe('');
  });

  it('DUMP then RESTORE on the same server keeps a compact encoding and its order, as in Valkey', async () => {
    // Each server restores its own payload: Valkey's DUMP writes listpack/intset payloads, so a
    // listpack set of integers comes back listpack (insertion order), not intset (ascending).
    const v = await RawClient.connect(servers.valkey.port);
    const e = await RawClient.connect(servers.engine.port);
    const seen: string[][] = [[], []];
    try {
      const build = [
        ['SADD', 'dk:s', '30', 'a', '1', '-7', '70000', '-9223372036854775808'],
        ['SREM', 'dk:s', 'a'],
        ['SADD', 'dk:i', '5', '-300', '2147483648'],
        ['SADD', 'dk:l', 'b', '', 'a', '\u00ff'],
        ['HSET', 'dk:h', 'b', '2', 'a', '1', '', x(64)],
        ['ZADD', 'dk:z', '2.5', 'b', '1', 'a', 'inf', 'c', '-1e300', 'd', '7', ''],
        ['CONFIG', 'SET', 'zset-max-listpack-value', '100'],
        ['ZADD', 'dk:zl', '1', x(80)],
        ['CONFIG', 'SET', 'zset-max-listpack-value', '64'],
      ];
      for (const [n, c] of [v, e].entries()) {
        for (const cmd of build) await c.call(...cmd);
        for (const key of ['dk:s', 'dk:i', 'dk:l', 'dk:h', 'dk:z', 'dk:zl']) {
          const dump = (await c.call('DUMP', key))!;
          const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1');
          seen[n]!.push(key, String(await c.call('RESTORE', `${key}:2`, '0', payload)));
          seen[n]!.push(String(await c.call('OBJECT', 'ENCODING', `${key}:2`)));
          const type = await c.call('TYPE', key);
          if (type === '+set\r\n') seen[n]!.push(String(await c.call('SMEMBERS', `${key}:2`)));
          if (type === '+zset\r\n')
            seen[n]!.push(String(await c.call('ZRANGE', `${key}:2`, '0', '-1', 'WITHSCORES')));
          if (type === '+hash\r\n') seen[n]!.push(String(await c.call('HGETALL', `${key}:2`)));
        }
      }
      // And the engine's payloads load into Valkey as Valkey's own do.
      const intoValkey: string[] = [];
      for (const key of ['dk:s', 'dk:i', 'dk:l', 'dk:h', 'dk:z', 'dk:zl']) {
        const dump = (await e.call('DUMP', key))!;
        const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1');
        intoValkey.push(key, String(await v.call('RESTORE', `${key}:3`, '0', payload)));
        intoValkey.push(String(await v.call('OBJECT', 'ENCODING', `${key}:3`)));
        const type = await v.call('TYPE', key);
        if (type === '+set\r\n') intoValkey.push(String(await v.call('SMEMBERS', `${key}:3`)));
        if (type === '+zset\r\n')
          intoValkey.push(String(await v.call('ZRANGE', `${key}:3`, '0', '-1', 'WITHSCORES')));
        if (type === '+hash\r\n') intoValkey.push(String(await v.call('HGETALL', `${key}:3`)));
      }
      expect(intoValkey).toEqual(seen[0]);
    } finally {
      for (const c of [v, e]) c.close();
    }
    expect(seen[1]).toEqual(seen[0]);
  });

  it('CONFIG SET of the thresholds applies to later writes', async () => {
    await compare([
      'CONFIG GET set-max-listpack-entries',
      'CONFIG GET hash-max-listpack-entries',
      'SADD before a b c d e',
      'CONFIG SET set-max-listpack-entries 4 set-max-intset-entries 3 zset-max-ziplist-entries 2',
      'CONFIG SET hash-max-listpack-value 3 zset-max-listpack-value 5',
      'OBJECT ENCODING before',
      'SADD c a b c d',
      'OBJECT ENCODING c',
      'SADD c e',
      'OBJECT ENCODING c',
      'SADD i 1 2 3',
      'OBJECT ENCODING i',
      'SADD i 4',
      'OBJECT ENCODING i',
      'ZADD z 1 a 2 b',
      'OBJECT ENCODING z',
      'ZADD z 3 c',
      'OBJECT ENCODING z',
      'ZADD y 1 abcde',
      'OBJECT ENCODING y',
      'ZADD y 1 abcdef',
      'OBJECT ENCODING y',
      'HSET h abc def',
      'OBJECT ENCODING h',
      'HSET h k abcd',
      'OBJECT ENCODING h',
      'CONFIG SET set-max-listpack-entries 128 set-max-intset-entries 512 zset-max-listpack-entries 128',
      'CONFIG SET hash-max-listpack-value 64 zset-max-listpack-value 64',
    ]);
  });
});

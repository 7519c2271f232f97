/**
 * Sets, lists and sorted sets against a real valkey-server: every reply byte-identical (errors,
 * WRONGTYPE, out-of-range, RESP3 shapes), plus TYPE, SCAN TYPE, OBJECT ENCODING, TTL and COPY for
 * each type. Replies whose order Valkey leaves to its hash table are compared as sorted multisets.
 */
import { describe, it } from 'vitest';
import { compareSteps } from '../../support/parity-steps.ts';
import { seededInts } from '../../support/seeded-random.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

describe('collections match Valkey 8 byte for byte', () => {
  it('sets', async () => {
    await compare([
      'SADD s 3 1 2 2',
      'SMEMBERS s',
      'OBJECT ENCODING s',
      'SADD s a',
      'OBJECT ENCODING s',
      'SMEMBERS s',
      'SCARD s',
      'SISMEMBER s a',
      'SISMEMBER s z',
      'SMISMEMBER s a z 1',
      'SREM s a z',
      'SREM nokey a',
      'SCARD nokey',
      'SMEMBERS nokey',
      'TYPE s',
      'SADD',
      'SADD s',
      'SET str x',
      'SADD str a',
      'SMEMBERS str',
      'SCARD str',
      'SADD t 2 3 4',
      'SINTER s t',
      '~SUNION s t',
      'SDIFF s t',
      'SDIFF t s nokey',
      'SINTER s nokey',
      'SINTER s str',
      'SINTERSTORE dst s t',
      'SMEMBERS dst',
      'SUNIONSTORE dst s t',
      'SMEMBERS dst',
      'SDIFFSTORE dst s s',
      'EXISTS dst',
      'SINTERCARD 2 s t',
      'SINTERCARD 2 s t LIMIT 1',
      'SINTERCARD 0 s',
      'SINTERCARD 3 s t',
      'SINTERCARD 2 s t LIMIT -1',
      'SINTERCARD 2 s t FOO',
      'SINTERCARD x s',
      'SINTERCARD 1 s LIMIT x',
      'SADD n3 1 a 2',
      'SMEMBERS n3',
      'OBJECT ENCODING n3',
      'SADD n2 a 1 2',
      'SMEMBERS n2',
      'SMOVE s t 1',
      'SMOVE s t 9',
      'SMOVE s str 2',
      'SMOVE s s 2',
      'SMEMBERS t',
      'SPOP nokey',
      'SPOP nokey 3',
      'SPOP s -1',
      'SPOP s 0',
      'SPOP s x',
      'SRANDMEMBER nokey',
      'SRANDMEMBER nokey 5',
      'SRANDMEMBER s 0',
      'SRANDMEMBER s x',
      'SRANDMEMBER s 1 2',
      '~SRANDMEMBER t 100',
      '~SPOP t 100',
      'EXISTS t',
      'SADD big x1 x2 x3',
      'SSCAN big 0',
      'SSCAN big 0 MATCH x1',
      'SSCAN big abc',
      'SSCAN big 0 COUNT 0',
      'SADD one only',
      'SPOP one',
      'EXISTS one',
      'SADD e 1',
      'EXPIRE e 100',
      'TTL e',
      'COPY e e2',
      'TTL e2',
      'SMEMBERS e2',
      'COPY e e2',
      'COPY e e2 REPLACE',
      '~SCAN 0 TYPE set COUNT 1000',
    ]);
  });

  it('lists', async () => {
    await compare([
      'RPUSH l a b c',
      'LPUSH l z',
      'LRANGE l 0 -1',
      'LRANGE l -100 100',
      'LRANGE l 2 1',
      'LRANGE l x 1',
      'LLEN l',
      'LLEN nokey',
      'LINDEX l 0',
      'LINDEX l -1',
      'LINDEX l 99',
      'LINDEX l x',
      'LSET l 1 A',
      'LSET l 99 A',
      'LSET nokey 0 A',
      'LINSERT l BEFORE A before',
      'LINSERT l AFTER c after',
      'LINSERT l AFTER nope x',
      'LINSERT l SIDEWAYS c x',
      'LINSERT nokey AFTER c x',
      'LRANGE l 0 -1',
      'RPUSH l a a b a',
      'LREM l 2 a',
      'LREM l -1 a',
      'LREM l 0 b',
      'LREM l x b',
      'LRANGE l 0 -1',
      'LPOS l a',
      'LPOS l z RANK 1',
      'LPOS l c COUNT 0',
      'LPOS l c RANK -1',
      'LPOS l c RANK 0',
      'LPOS l c COUNT -1',
      'LPOS l c MAXLEN -1',
      'LPOS l c MAXLEN 1',
      'LPOS l c FOO 1',
      'LPOS l c RANK',
      'LPOS nokey c',
      'LPOS nokey c COUNT 2',
      'LPOP l',
      'RPOP l',
      'LPOP l 2',
      'LPOP l 0',
      'LPOP l -1',
      'LPOP nokey',
      'LPOP nokey 2',
      'LPOP l 1 2',
      'LRANGE l 0 -1',
      'RPUSH m 1 2 3 4 5 6',
      'LTRIM m 1 -2',
      'LRANGE m 0 -1',
      'LTRIM m 5 1',
      'EXISTS m',
      'LTRIM nokey 0 1',
      'RPUSH m 1 2 3',
      'LMOVE m n LEFT RIGHT',
      'LMOVE m n RIGHT LEFT',
      'LMOVE m n UP LEFT',
      'LMOVE nokey n LEFT LEFT',
      'RPOPLPUSH m n',
      'RPOPLPUSH m n',
      'EXISTS m',
      'LRANGE n 0 -1',
      'LMOVE n n LEFT RIGHT',
      'LRANGE n 0 -1',
      'SET str x',
      'LPUSH str a',
      'LRANGE str 0 1',
      'LMOVE n str LEFT LEFT',
      'RPOPLPUSH str n',
      'LPUSHX nokey a',
      'RPUSHX n last',
      'LPUSHX n first',
      'LRANGE n 0 -1',
      'OBJECT ENCODING n',
      'TYPE n',
      'LPUSH',
      'LPUSH k',
      'COPY n n2',
      'LRANGE n2 0 -1',
    ]);
  });

  it('long lists: pushes and pops at both ends, indexes and encoding changes (the deque)', async () => {
    // Deterministic mixed workload over a list that grows past one listpack (quicklist) and
    // shrinks back: every reply, including OBJECT ENCODING, must match Valkey.
    const rand = seededInts(17);
    const value = (): string => `v${rand(1000)}${'x'.repeat(rand(3) === 0 ? 40 : 2)}`;
    const steps: string[] = [];
    for (let i = 0; i < 700; i++) {
      const r = rand(100);
      const side = rand(2) === 0 ? 'L' : 'R';
      if (r < 40) steps.push(`${side}PUSH l ${Array.from({ length: 1 + rand(8) }, value).join(' ')}`);
      else if (r < 55) steps.push(`${side}POP l${rand(2) === 0 ? '' : ` ${rand(12)}`}`);
      else if (r < 65) steps.push(`LINDEX l ${rand(400) - 200}`);
      else if (r < 73) steps.push(`LRANGE l ${rand(300) - 150} ${rand(300) - 150}`);
      else if (r < 78) steps.push(`LSET l ${rand(100) - 50} s${i}`);
      else if (r < 82) steps.push(`LINSERT l ${rand(2) === 0 ? 'BEFORE' : 'AFTER'} ${value()} i${i}`);
      else if (r < 85) steps.push(`LREM l ${rand(5) - 2} ${value()}`);
      else if (r < 87) steps.push(`LTRIM l ${rand(50)} -${1 + rand(50)}`);
      else if (r < 90)
        steps.push(`LMOVE l l ${side === 'L' ? 'LEFT' : 'RIGHT'} ${rand(2) === 0 ? 'LEFT' : 'RIGHT'}`);
      else steps.push(rand(2) === 0 ? 'LLEN l' : 'OBJECT ENCODING l');
    }
    steps.push('LRANGE l 0 -1', 'MEMORY USAGE nokey');
    await compare(steps);
  });

  it('large sorted sets: ranks, ranges and removals across blocks', async () => {
    // Grows a sorted set to ~1,500 members (several internal blocks), edits scores, removes by
    // member, rank, score and lex range, pops both ends, and checks every reply against Valkey.
    const rand = seededInts(29);
    const member = (): string => `m${String(rand(3000)).padStart(4, '0')}`;
    const steps: string[] = [];
    for (let i = 0; i < 60; i++) {
      const pairs = Array.from({ length: 40 }, () => `${rand(500)} ${member()}`).join(' ');
      steps.push(`ZADD z ${pairs}`, `ZADD lex ${pairs.replace(/\d+ m/g, '0 m')}`);
    }
    steps.push('ZCARD z', 'OBJECT ENCODING z');
    for (let i = 0; i < 400; i++) {
      const r = rand(100);
      if (r < 20)
        steps.push(`ZADD z ${rand(2) === 0 ? 'CH ' : ''}${rand(500)} ${member()} ${rand(500)} ${member()}`);
      else if (r < 30) steps.push(`ZREM z ${member()} ${member()}`);
      else if (r < 40) steps.push(`ZRANK z ${member()}`, `ZREVRANK z ${member()} WITHSCORE`);
      else if (r < 50) steps.push(`ZRANGE z ${rand(1600) - 100} ${rand(1600) - 100} WITHSCORES`);
      else if (r < 60) steps.push(`ZRANGEBYSCORE z ${rand(500)} +inf LIMIT ${rand(5)} ${rand(20)}`);
      else if (r < 65) steps.push(`ZREVRANGEBYSCORE z (${rand(500)} -inf LIMIT 0 ${rand(15)} WITHSCORES`);
      else if (r < 70) steps.push(`ZCOUNT z ${rand(500)} (${rand(500)}`);
      else if (r < 74)
        // Lex ranges are defined only when all scores are equal: a second set, scores 0.
        steps.push(
          `ZADD lex 0 ${member()} 0 ${member()} 0 ${member()}`,
          `ZRANGE lex [${member()} (${member()} BYLEX LIMIT 0 10`,
        );
      else if (r < 77) steps.push(`ZREMRANGEBYRANK z ${rand(1500)} ${rand(1500)}`);
      else if (r < 80) steps.push(`ZREMRANGEBYSCORE z ${rand(500)} (${rand(500)}`);
      else if (r < 85) steps.push(`${rand(2) === 0 ? 'ZPOPMIN' : 'ZPOPMAX'} z ${rand(4)}`);
      else if (r < 90) steps.push(`ZINCRBY z ${rand(50) - 25} ${member()}`);
      else if (r < 95) steps.push(`ZSCORE z ${member()}`, `ZMSCORE z ${member()} ${member()}`);
      else steps.push('ZCARD z');
    }
    steps.push('ZRANGE z 0 -1 WITHSCORES', 'ZRANGESTORE dst z 100 200', 'ZRANGE dst 0 -1 WITHSCORES');
    await compare(steps);
  });

  it('sorted sets', async () => {
    await compare([
      'ZADD z 1 a 2 b 3 c',
      'ZADD z 1.5 a',
      'ZADD z CH 1 a 4 d',
      'ZADD z NX 10 a 5 e',
      'ZADD z XX 11 a 6 f',
      'ZADD z GT 1 a',
      'ZADD z GT CH 20 a',
      'ZADD z LT CH 30 a',
      'ZADD z INCR 5 b',
      'ZADD z NX INCR 5 b',
      'ZADD z XX INCR 1 nob',
      'ZADD z XX NX 1 a',
      'ZADD z GT LT 1 a',
      'ZADD z NX GT 1 a',
      'ZADD z INCR 1 a 2 b',
      'ZADD z 1 a 2',
      'ZADD z x a',
      'ZADD z nan a',
      'ZADD nokey XX 1 a',
      'ZADD z 1e20 big 1.5e-7 small 0.1 tenth -0 zero inf top -inf bottom',
      'ZRANGE z 0 -1 WITHSCORES',
      'ZSCORE z big',
      'ZSCORE z nope',
      'ZMSCORE z a nope small',
      'ZINCRBY z 2.5 a',
      'ZINCRBY z x a',
      'ZINCRBY z -inf top',
      'ZINCRBY z 1 new',
      'ZRANK z a',
      'ZREVRANK z a',
      'ZRANK z nope',
      'ZRANK z a WITHSCORE',
      'ZRANK z nope WITHSCORE',
      'ZRANK z a FOO',
      'ZCARD z',
      'ZCARD nokey',
      'ZRANGE z 0 2',
      'ZRANGE z -3 -1 WITHSCORES',
      'ZRANGE z 0 -1 REV',
      'ZRANGE z (1 5 BYSCORE WITHSCORES',
      'ZRANGE z 5 (1 BYSCORE REV WITHSCORES',
      'ZRANGE z -inf +inf BYSCORE LIMIT 1 2',
      'ZRANGE z -inf +inf BYSCORE LIMIT -1 2',
      'ZRANGE z -inf +inf BYSCORE LIMIT 1 -1',
      'ZRANGE z 0 -1 LIMIT 1 2',
      'ZRANGE z x 1 BYSCORE',
      'ZRANGE z x 1',
      'ZRANGE z - + BYLEX WITHSCORES',
      'ZRANGE z 0 -1 FOO',
      'ZREVRANGE z 0 1 WITHSCORES',
      'ZRANGEBYSCORE z 1 10 WITHSCORES LIMIT 0 3',
      'ZREVRANGEBYSCORE z 10 1',
      'ZRANGEBYSCORE z 1 x',
      'ZCOUNT z 1 10',
      'ZCOUNT z (1 (10',
      'ZCOUNT z a b',
      'ZADD lex 0 a 0 b 0 c 0 d 0 e',
      'ZRANGEBYLEX lex - +',
      'ZRANGEBYLEX lex [b (d',
      'ZREVRANGEBYLEX lex (d [b',
      'ZRANGEBYLEX lex [b + LIMIT 1 1',
      'ZRANGEBYLEX lex b d',
      'ZLEXCOUNT lex - +',
      'ZLEXCOUNT lex (a [c',
      'ZRANGESTORE dst z 0 2',
      'ZRANGE dst 0 -1 WITHSCORES',
      'ZRANGESTORE dst z 100 200',
      'EXISTS dst',
      'ZRANGESTORE dst lex [b [c BYLEX',
      'ZRANGESTORE dst z 0 1 WITHSCORES',
      'ZREM z a nope',
      'ZREM nokey a',
      'ZREMRANGEBYRANK z 0 0',
      'ZREMRANGEBYSCORE z (1 3',
      'ZREMRANGEBYLEX lex [a [b',
      'ZRANGE z 0 -1 WITHSCORES',
      'ZPOPMIN z',
      'ZPOPMAX z 2',
      'ZPOPMIN z 0',
      'ZPOPMIN z -1',
      'ZPOPMIN nokey',
      'ZPOPMIN nokey 2',
      'ZRANDMEMBER nokey',
      'ZRANDMEMBER nokey 3',
      'ZRANDMEMBER z x',
      '~ZRANDMEMBER lex 100',
      'ZSCAN lex 0',
      'ZSCAN lex 0 MATCH c*',
      'ZADD u1 1 a 2 b',
      'ZADD u2 10 b 20 c',
      'SADD sset b d',
      'ZUNION 2 u1 u2 WITHSCORES',
      'ZUNION 2 u1 u2 WEIGHTS 2 3 AGGREGATE MAX WITHSCORES',
      'ZINTER 2 u1 u2 WITHSCORES',
      'ZINTER 2 u1 u2 AGGREGATE MIN WITHSCORES',
      'ZDIFF 2 u1 u2 WITHSCORES',
      'ZUNION 3 u1 u2 sset WITHSCORES',
      'ZINTER 2 u1 nokey',
      'ZUNION 0 u1',
      'ZUNION 3 u1 u2',
      'ZUNION 2 u1 u2 WEIGHTS 1 x',
      'ZUNION 2 u1 u2 AGGREGATE AVG',
      'ZDIFF 2 u1 u2 WEIGHTS 1 2',
      'ZUNIONSTORE out 2 u1 u2',
      'ZRANGE out 0 -1 WITHSCORES',
      'ZINTERSTORE out 2 u1 u2 WEIGHTS 1 0.5',
      'ZRANGE out 0 -1 WITHSCORES',
      'ZDIFFSTORE out 2 u1 u1',
      'EXISTS out',
      'ZUNIONSTORE out 0 u1',
      'ZUNIONSTORE out 1 u1 WITHSCORES',
      'ZINTERCARD 2 u1 u2',
      'ZINTERCARD 2 u1 u2 LIMIT 1',
      'ZINTERCARD 0 u1',
      'ZINTERCARD x u1',
      'ZINTERCARD 5 u1',
      'ZINTERCARD 1 u1 LIMIT x',
      'SET str x',
      'ZADD str 1 a',
      'ZRANGE str 0 1',
      'ZUNION 2 u1 str',
      'ZSCORE str a',
      'OBJECT ENCODING u1',
      'TYPE u1',
      'ZADD',
      'ZADD k 1',
      'ZRANGE k 0',
      'COPY u1 u3',
      'ZRANGE u3 0 -1 WITHSCORES',
      '!resp3',
      'ZRANGE u1 0 -1 WITHSCORES',
      'ZPOPMIN u3',
      'ZPOPMAX u3 1',
      'ZSCORE u1 a',
      'ZRANK u1 b WITHSCORE',
      'ZUNION 2 u1 u2 WITHSCORES',
    ]);
  });

  it('TYPE, SCAN TYPE, OBJECT ENCODING and WRONGTYPE across types', async () => {
    await compare([
      'SET s 1',
      'SET e abcdefghij',
      'SET r aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'HSET h f v',
      'SADD st a',
      'ZADD zs 1 a',
      'RPUSH ls a',
      'TYPE s',
      'TYPE h',
      'TYPE st',
      'TYPE zs',
      'TYPE ls',
      'TYPE nokey',
      'OBJECT ENCODING s',
      'OBJECT ENCODING e',
      'OBJECT ENCODING r',
      'OBJECT ENCODING h',
      'OBJECT ENCODING st',
      'OBJECT ENCODING zs',
      'OBJECT ENCODING ls',
      'OBJECT ENCODING nokey',
      'OBJECT FOO s',
      'OBJECT ENCODING',
      'OBJECT ENCODING a b',
      'OBJECT FREQ s',
      'OBJECT REFCOUNT ls',
      'SCAN 0 TYPE zset COUNT 100',
      'SCAN 0 TYPE list COUNT 100',
      'SCAN 0 TYPE hash COUNT 100',
      'GET st',
      'GET zs',
      'APPEND ls x',
      'INCR zs',
      'HGET st a',
      'SADD ls a',
      'LPUSH zs a',
      'ZADD st 1 a',
      'SCARD zs',
      'LLEN st',
      'ZCARD ls',
      'MGET s st zs ls',
      'RENAME zs zs2',
      'TYPE zs2',
      'ZSCORE zs2 a',
      'DEL st zs2 ls',
      'EXISTS st zs2 ls',
    ]);
  });
});

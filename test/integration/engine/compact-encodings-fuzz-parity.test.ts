/**
 * Seeded random writes on small sets, sorted sets and hashes against a real valkey-server: after
 * every command, each key's OBJECT ENCODING and contents must match (hashtable replies compared as
 * multisets), so conversions at the limits (count, member length, size hints, STORE results, pops,
 * COPY) happen at the same step as in Valkey. Random commands (SPOP, SRANDMEMBER) are left out, and
 * ZREMRANGEBYLEX too (its result over mixed scores is unspecified).
 */
import { describe, expect, it } from 'vitest';
import { RawClient } from '../../support/resp-harness.ts';
import { mulberry32 } from '../../support/seeded-random.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

/** A flat array reply's elements sorted (hashtable order is Valkey's hash table's); others as they are. */
function sorted(reply: string | null): string | null {
  if (reply === null || !/^[*~%]/.test(reply)) return reply;
  const parts = reply.split('\r\n');
  const out: string[] = [];
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i]!.startsWith('$')) out.push(parts[++i]!);
    else out.push(parts[i]!);
  }
  return `${parts[0]} ${out.sort().join(',')}`;
}

describe('compact encodings under random writes, against Valkey', () => {
  it('every key has the same encoding and contents after each of 600 commands', async () => {
    const v = await RawClient.connect(servers.valkey.port);
    const e = await RawClient.connect(servers.engine.port);
    const keys = ['cf:s1', 'cf:s2', 'cf:h1', 'cf:h2', 'cf:z1', 'cf:z2'];
    try {
      for (const c of [v, e]) await c.call('DEL', ...keys);
      const rand = mulberry32(7);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      // Members around the limits: short, integers (intset), 62–65 bytes, single bytes.
      const member = (): string => {
        const r = rand();
        if (r < 0.4) return `m${Math.floor(rand() * 150)}`;
        if (r < 0.75) return String(Math.floor(rand() * 600) - 50);
        if (r < 0.85) return 'x'.repeat(62 + Math.floor(rand() * 4));
        return String.fromCharCode(Math.floor(rand() * 256));
      };
      const many = (n: number): string[] => Array.from({ length: n }, member);
      const count = (): number =>
        rand() < 0.1 ? 100 + Math.floor(rand() * 450) : 1 + Math.floor(rand() * 8);
      const sk = () => pick(['cf:s1', 'cf:s2']);
      const hk = () => pick(['cf:h1', 'cf:h2']);
      const zk = () => pick(['cf:z1', 'cf:z2']);
      const score = () => String(Math.floor(rand() * 20) - 10) + (rand() < 0.3 ? '.5' : '');
      const ops: (() => string[])[] = [
        () => ['SADD', sk(), ...many(count())],
        () => ['SREM', sk(), ...many(count())],
        () => ['SMOVE', sk(), sk(), member()],
        () => [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), sk(), sk(), sk()],
        () => ['HSET', hk(), ...many(count() * 2)],
        () => ['HDEL', hk(), ...many(count())],
        () => ['HINCRBY', hk(), member(), '2'],
        () => ['ZADD', zk(), ...many(count()).flatMap((m) => [score(), m])],
        () => ['ZINCRBY', zk(), '1.5', member()],
        () => ['ZREM', zk(), ...many(count())],
        () => ['ZPOPMIN', zk(), String(Math.floor(rand() * 40))],
        () => ['ZPOPMAX', zk(), String(Math.floor(rand() * 40))],
        () => ['ZREMRANGEBYRANK', zk(), '0', String(Math.floor(rand() * 40))],
        () => ['ZREMRANGEBYSCORE', zk(), '-inf', String(Math.floor(rand() * 20) - 10)],
        () => [pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), zk(), '2', zk(), zk()],
        () => ['ZRANGESTORE', zk(), zk(), '0', String(Math.floor(rand() * 200))],
        () => ['ZUNIONSTORE', zk(), '2', sk(), zk()],
        () => ['COPY', pick(['cf:s1', 'cf:h1', 'cf:z1']), pick(['cf:s2', 'cf:h2', 'cf:z2']), 'REPLACE'],
      ];
      const state = async (c: RawClient, args: string[]): Promise<(string | null)[]> => {
        const out = [sorted(await c.call(...args))];
        for (const k of keys) {
          out.push(await c.call('OBJECT', 'ENCODING', k));
          const type = await c.call('TYPE', k);
          if (type === '+set\r\n') out.push(sorted(await c.call('SMEMBERS', k)));
          if (type === '+hash\r\n') out.push(sorted(await c.call('HGETALL', k)));
          if (type === '+zset\r\n') out.push(await c.call('ZRANGE', k, '0', '-1', 'WITHSCORES'));
        }
        return out;
      };
      let converted = 0;
      for (let i = 0; i < 600; i++) {
        const args = pick(ops)();
        const want = await state(v, args);
        const got = await state(e, args);
        if (want.some((r) => r === '$9\r\nhashtable\r\n' || r === '$8\r\nskiplist\r\n')) converted++;
        expect(got, `step ${i}: ${args.slice(0, 4).join(' ')} (${args.length} args)`).toEqual(want);
      }
      // The stream crossed the limits (not only small compact values).
      expect(converted).toBeGreaterThan(50);
    } finally {
      for (const c of [v, e]) {
        await c.call('DEL', ...keys);
        c.close();
      }
    }
  });
});

/**
 * The keyspace's accounted bytes stay exact while small sets, sorted sets and hashes move between
 * their packed-string form and their full objects: a seeded stream of mixed writes (adds that pass
 * the compact limits, removals, pops, range removals, STORE results, COPY, RENAME, RESTORE, string
 * overwrites, deletes, expiries) runs against the engine server, and after every command
 * `usedBytes` must equal a recomputation from the slots themselves (each packed string sized from
 * its text, each object from its current `bytes`), with a size-table entry for exactly the
 * object-valued slots. A drift here would make maxmemory eviction wrong.
 */
import { describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { Kind, valueBytes } from '../../../engine/keyspace.ts';
import { ENTRY_OVERHEAD_BYTES, SLOT_ARRAY_BYTES, stringBytes } from '../../../engine/memory.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { mulberry32 } from '../../support/seeded-random.ts';

/** Differences between the keyspace's running totals and a recomputation from its slots. */
function accountingDrift(server: EngineServer, seen: Set<string>): string[] {
  const ks = server.engine.core.keyspace;
  let expected = (ks.kv.length / 2) * (SLOT_ARRAY_BYTES + (ks.access.length > 0 ? 4 : 0));
  let objects = 0;
  const out: string[] = [];
  for (let slot = 0; slot < ks.top; slot++) {
    const kind = ks.kinds[slot]!;
    if (kind === Kind.Free) continue;
    const v = ks.valueAt(slot)!;
    seen.add(`${kind}:${typeof v}`);
    const value = kind === Kind.Tombstone ? 0 : typeof v === 'string' ? stringBytes(v) : valueBytes(kind, v);
    if (typeof v !== 'string') {
      objects++;
      if (ks.hashBytes.get(slot) !== value)
        out.push(`${ks.keyAt(slot)}: size table ${ks.hashBytes.get(slot)}, value ${value}`);
    }
    expected += ENTRY_OVERHEAD_BYTES + stringBytes(ks.keyAt(slot)) + value;
  }
  if (objects !== ks.hashBytes.size)
    out.push(`size table has ${ks.hashBytes.size} entries, ${objects} objects`);
  if (expected !== ks.usedBytes) out.push(`usedBytes ${ks.usedBytes}, recomputed ${expected}`);
  return out;
}

describe('accounted bytes of packed and converted collections', () => {
  it('stay equal to a recomputation through 3000 random mixed writes', async () => {
    const server = await startEngineServer({ port: 0 });
    const c = await RawClient.connect(server.port);
    try {
      const rand = mulberry32(20261207);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const keys = ['s1', 's2', 'h1', 'h2', 'z1', 'z2', 'x'];
      // Mostly the keys of the command's type, sometimes any key (WRONGTYPE, SET over a collection).
      const of = (prefix: string) => (): string =>
        rand() < 0.85 ? pick([`${prefix}1`, `${prefix}2`, 'x']) : pick(keys);
      const sk = of('s');
      const hk = of('h');
      const zk = of('z');
      // Members around the limits: short, 64/65 bytes, integers (intset), binary bytes.
      const member = (): string => {
        const r = rand();
        if (r < 0.4) return `m${Math.floor(rand() * 160)}`;
        if (r < 0.7) return String(Math.floor(rand() * 700) - 100);
        if (r < 0.8) return 'x'.repeat(63 + Math.floor(rand() * 3));
        return String.fromCharCode(Math.floor(rand() * 256), Math.floor(rand() * 256));
      };
      const many = (n: number): string[] => Array.from({ length: n }, member);
      const count = (): number =>
        rand() < 0.1 ? 130 + Math.floor(rand() * 400) : 1 + Math.floor(rand() * 6);
      const ops: (() => string[])[] = [
        () => ['SADD', sk(), ...many(count())],
        () => ['SREM', sk(), ...many(count())],
        () => ['SPOP', sk(), String(Math.floor(rand() * 200))],
        () => ['SMOVE', sk(), sk(), member()],
        () => [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), sk(), sk(), sk()],
        () => ['HSET', hk(), ...many(count() * 2)],
        () => ['HDEL', hk(), ...many(count())],
        () => ['HINCRBY', hk(), member(), '3'],
        () => [
          'ZADD',
          zk(),
          ...many(count()).flatMap((m) => [
            String(Math.floor(rand() * 300) - 150) + (rand() < 0.3 ? '.5' : ''),
            m,
          ]),
        ],
        () => ['ZINCRBY', zk(), '1.25', member()],
        () => ['ZREM', zk(), ...many(count())],
        () => ['ZPOPMIN', zk(), String(Math.floor(rand() * 150))],
        () => ['ZREMRANGEBYRANK', zk(), '0', String(Math.floor(rand() * 150))],
        () => ['ZREMRANGEBYSCORE', zk(), '-inf', String(Math.floor(rand() * 300) - 150)],
        () => [pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), zk(), '2', zk(), zk()],
        () => ['ZRANGESTORE', zk(), zk(), '0', String(Math.floor(rand() * 200))],
        () => ['COPY', pick(keys), pick(keys), 'REPLACE'],
        () => ['RENAME', pick(keys), pick(keys)],
        () => ['SET', pick(keys), member()],
        () => ['APPEND', pick(keys), member()],
        () => ['DEL', pick(keys)],
        () => ['PEXPIRE', pick(keys), '1'],
      ];
      let replies = 0;
      const seen = new Set<string>();
      for (let i = 0; i < 3000; i++) {
        const args = pick(ops)();
        if (rand() < 0.05) {
          const k = pick(keys);
          const dump = await c.call('DUMP', k);
          if (dump?.startsWith('$') && !dump.startsWith('$-1')) {
            const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1');
            await c.call('RESTORE', pick(keys), '0', payload, 'REPLACE');
          }
        }
        const reply = await c.call(...args);
        if (reply !== null && !reply.startsWith('-')) replies++;
        const drift = accountingDrift(server, seen);
        if (drift.length > 0)
          expect.fail(`after step ${i} ${args.slice(0, 3).join(' ')}…:\n${drift.join('\n')}`);
      }
      // Most commands ran (not just WRONGTYPE errors), and every type was seen in both forms.
      expect(replies).toBeGreaterThan(1200);
      for (const kind of [Kind.Set, Kind.ZSet, Kind.Hash])
        for (const form of ['string', 'object']) expect(seen).toContain(`${kind}:${form}`);
    } finally {
      c.close();
      await server.close();
    }
  });
});

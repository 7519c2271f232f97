/**
 * The application patterns in examples/patterns/, run with the same code against the engine server
 * and a real valkey-server (the blocklist against the engine only: Valkey 8.0.1 here has no bloom
 * module), through iovalkey.
 */
import { describe, expect, it } from 'vitest';
import { block, createBlocklist, isBlocked } from '../../../examples/patterns/blocklist.ts';
import { addPoints, placeOf, top } from '../../../examples/patterns/leaderboard.ts';
import { hit } from '../../../examples/patterns/rate-limiter.ts';
import { loadSession, saveSession } from '../../../examples/patterns/session-store.ts';
import { withClient, withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

describe.each(['valkey', 'engine'] as const)('patterns on %s', (target) => {
  const port = () => (target === 'valkey' ? servers.valkey.port : servers.engine.port);

  it('sliding-window rate limiter: 3 per second, the window slides', async () => {
    await withClient(port(), async (c) => {
      await c.del('rl:user1');
      const t0 = 1_000_000;
      const verdicts = [];
      for (let i = 0; i < 5; i++) verdicts.push(await hit(c, 'rl:user1', 3, 1000, t0 + i * 100, `r${i}`));
      expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false, false]);
      // 1.05 s later the first request left the window (the rejected ones were recorded too).
      const later = await hit(c, 'rl:user1', 3, 1000, t0 + 1050, 'r5');
      expect(later).toEqual({ allowed: false, count: 5 });
      const muchLater = await hit(c, 'rl:user1', 3, 1000, t0 + 5000, 'r6');
      expect(muchLater).toEqual({ allowed: true, count: 1 });
      expect(await c.pttl('rl:user1')).toBeGreaterThan(0);
    });
  });

  it('leaderboard: ZINCRBY and ZREVRANGE WITHSCORES', async () => {
    await withClient(port(), async (c) => {
      await c.del('lb:game');
      await addPoints(c, 'lb:game', 'ada', 10);
      await addPoints(c, 'lb:game', 'bob', 25);
      await addPoints(c, 'lb:game', 'cy', 7.5);
      expect(await addPoints(c, 'lb:game', 'ada', 20)).toBe(30);
      expect(await top(c, 'lb:game', 2)).toEqual([
        { player: 'ada', score: 30 },
        { player: 'bob', score: 25 },
      ]);
      expect(await placeOf(c, 'lb:game', 'cy')).toBe(3);
      expect(await placeOf(c, 'lb:game', 'nobody')).toBeNull();
    });
  });

  it('session store: HSET + EXPIRE atomically, sliding TTL, gone after expiry', async () => {
    await withClient(port(), async (c) => {
      await saveSession(c, 's1', { user: 'ada', role: 'admin' }, 100);
      expect(await c.ttl('session:s1')).toBe(100);
      expect(await loadSession(c, 's1', 200)).toEqual({ user: 'ada', role: 'admin' });
      expect(await c.ttl('session:s1')).toBe(200);
      await saveSession(c, 's2', { user: 'bob' }, 1);
      await c.pexpire('session:s2', 30);
      await new Promise((r) => setTimeout(r, 80));
      expect(await loadSession(c, 's2', 100)).toBeNull();
      expect(await c.exists('session:s2')).toBe(0);
    });
  });
});

describe('blocklist on the engine (bloom filter + exact set)', () => {
  it('blocks listed addresses, passes others, confirms filter hits', async () => {
    await withClient(servers.engine.port, async (c) => {
      await c.del('deny:bf', 'deny:exact');
      await createBlocklist(c, 'deny', 10_000, 0.001);
      const bad = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
      await block(c, 'deny', bad);
      for (const ip of bad.slice(0, 50)) expect(await isBlocked(c, 'deny', ip)).toBe(true);
      let passed = 0;
      for (let i = 0; i < 200; i++)
        if (!(await isBlocked(c, 'deny', `192.168.${i >> 8}.${i & 255}`))) passed++;
      expect(passed).toBe(200);
    });
  });
});

/**
 * The embedded and remote engine targets behave exactly alike: one specification, run against
 * `createEngineTarget` (in-process) and `createEngineRemoteTarget` (CACHE.* over RESP with iovalkey
 * against a real engine server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';

let server: EngineServer;
beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await server?.close();
});

const factories: [string, () => CacheTarget][] = [
  ['engine (embedded)', () => createEngineTarget({ tombstoneTtlMs: 60_000 })],
  [
    'engine-remote (RESP)',
    () => {
      server.engine.flush();
      return createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}`, tombstoneTtlMs: 60_000 });
    },
  ],
];

for (const [name, make] of factories) {
  describe(`CacheTarget conformance: ${name}`, () => {
    it('fences by version, leaves tombstones, and dumps visible values only', async () => {
      const t = make();
      try {
        const results = await t.apply([
          { kind: 'refresh', key: 'u:1', value: '{"v":10}', ttlMs: 0, version: '10' },
          { kind: 'refresh', key: 'u:1', value: '{"v":9}', ttlMs: 0, version: '9' },
          { kind: 'refresh', key: 'u:1', value: '{"v":10}', ttlMs: 0, version: '10' },
          { kind: 'refresh', key: 'u:2', value: 'ünïcode ✓', ttlMs: 60_000, version: '3.154.0' },
          { kind: 'invalidate', key: 'u:3', version: '7' },
          { kind: 'refresh', key: 'u:3', value: 'stale', ttlMs: 0, version: '6' },
          { kind: 'invalidate', key: 'u:1', version: '11' },
          { kind: 'invalidate', key: 'u:1', version: '11' },
          { kind: 'refresh', key: 'o:1', value: 'x', ttlMs: 0, version: '1' },
          { kind: 'invalidatePrefix', prefix: 'o:', version: '2' },
          { kind: 'refresh', key: 'o:2', value: 'late', ttlMs: 0, version: '1' },
          { kind: 'invalidate', key: 'bad', version: 'not-a-version' },
        ]);
        expect(results.map((r) => (r.ok ? r.outcome : `error:${String(r.error.retriable)}`))).toEqual([
          'applied',
          'fenced',
          'fenced',
          'applied',
          'applied',
          'fenced',
          'applied',
          'fenced',
          'applied',
          'applied',
          'fenced',
          'error:false',
        ]);
        expect(await t.get('u:1')).toBeNull();
        expect(await t.get('u:2')).toBe('ünïcode ✓');
        expect(await t.dump()).toEqual({ 'u:2': 'ünïcode ✓' });
      } finally {
        await t.close();
      }
    });
  });
}

describe('engine-remote target AUTH', () => {
  it('logs in as the ACL user of the URL (user:password@), not as the default user', async () => {
    server.engine.flush();
    const admin = createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` });
    const user = `app${process.pid}`;
    await admin.client.call('ACL', 'SETUSER', user, 'on', '>app-pw', '~*', '+@all');
    const t = createEngineRemoteTarget({ url: `valkey://${user}:app-pw@127.0.0.1:${server.port}` });
    try {
      expect(await t.client.call('ACL', 'WHOAMI')).toBe(user);
      const [r] = await t.apply([{ kind: 'invalidate', key: 'auth:k', version: '1' }]);
      expect(r?.ok).toBe(true);
    } finally {
      await admin.client.call('ACL', 'DELUSER', user);
      await t.close();
      await admin.close();
    }
  });
});

describe('engine-remote target failures', () => {
  it('a connection failure fails the batch as retriable', async () => {
    const t = createEngineRemoteTarget({ url: 'valkey://127.0.0.1:1', commandTimeoutMs: 500 });
    t.client.on('error', () => {});
    const [r] = await t.apply([{ kind: 'invalidate', key: 'k', version: '1' }]);
    expect(r?.ok).toBe(false);
    if (r && !r.ok) expect(r.error.retriable).toBe(true);
    t.client.disconnect();
  });
});

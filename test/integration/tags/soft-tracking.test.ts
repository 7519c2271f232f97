/**
 * A soft invalidation reaches clients that track the key (CLIENT TRACKING, what near caches build
 * on): the value stays, but every tracking connection gets an invalidation push for the key, so no
 * local copy keeps serving it as fresh. On a real Valkey and on the engine server, RESP3 default mode.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import { RawClient } from '../../support/resp-harness.ts';

let server: EngineServer | undefined;
afterAll(async () => {
  await server?.close();
});

const SERVERS: { name: string; open(): Promise<{ port: number; target: CacheTarget }> }[] = [
  {
    name: 'Valkey standalone',
    async open() {
      requireServices('valkey');
      const url = valkeyServices().standaloneUrl;
      return { port: Number(new URL(url).port), target: await createValkeyTarget({ url }) };
    },
  },
  {
    name: 'engine server',
    async open() {
      server = await startEngineServer({ port: 0 });
      return {
        port: server.port,
        target: createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` }),
      };
    },
  },
];

describe.each(SERVERS)('soft invalidation and client tracking: $name', (s) => {
  it('pushes an invalidation for the key to a tracking client; the value stays', async () => {
    const { port, target } = await s.open();
    const key = `st${process.pid}-${randomBytes(3).toString('hex')}:user:1`;
    const tracker = await RawClient.connect(port);
    try {
      expect(
        await target.apply([{ kind: 'refresh', key, value: '"v1"', ttlMs: 60_000, version: '1' }]),
      ).toEqual([{ ok: true, outcome: 'applied' }]);
      await tracker.call('HELLO', '3');
      expect(await tracker.call('CLIENT', 'TRACKING', 'ON')).toBe('+OK\r\n');
      expect(await tracker.call('GET', key)).toBe('$4\r\n"v1"\r\n');
      expect(await target.apply([{ kind: 'softInvalidate', key, version: '2' }])).toEqual([
        { ok: true, outcome: 'applied' },
      ]);
      const push = await tracker.read(3000);
      expect(push).toBe(`>2\r\n$10\r\ninvalidate\r\n*1\r\n$${key.length}\r\n${key}\r\n`);
      expect(await target.get(key)).toBe('"v1"');
      await target.apply([{ kind: 'invalidate', key, version: '3' }]);
    } finally {
      tracker.close();
      await target.close();
    }
  });
});

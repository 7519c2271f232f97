/**
 * Tags end to end (issue 18): a real order change — the captured Debezium record of
 * `UPDATE public.orders SET status = 'paid' WHERE id = 5001` (customer 1001), from
 * test/fixtures/captured/debezium-postgres-plain.jsonl — replayed through the pipeline invalidates
 * the customer's cached order list, an invoice page and a dashboard tile, each tagged with the
 * customer by the app, and nothing else. On the 3-master Valkey cluster (the entries and the tag's
 * state sit in different slots) and on the engine (in-process and over RESP). The pipeline runs on
 * its own target instance: tag state lives in the target, not in the app's process.
 *
 * Fencing: after the app reloaded the list, a late redelivery of that change and the order's older
 * insert change nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheClient } from '../../../core/client/cache-client.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { replayChangeLogs } from '../../../core/pipeline/replay.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget, type EngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { keySlot } from '../../../core/targets/valkey/slots.ts';
import { tagStateKeys } from '../../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import { fixtureText } from '../../support/fixtures.ts';

// The captured orders records: line 3 the insert (LSN 26687336), line 4 the update (LSN 26687688).
const lines = fixtureText('captured/debezium-postgres-plain.jsonl').split('\n');
const INSERT = lines.find((l) => l.includes('"table":"orders"') && l.includes('"op":"c"'))!;
const UPDATE = lines.find((l) => l.includes('"table":"orders"') && l.includes('"op":"u"'))!;
const dir = mkdtempSync(join(tmpdir(), 'order-tags-'));
const changeLog = (name: string, line: string) => {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, `${line}\n`);
  return file;
};

interface Opened {
  app: CacheTarget;
  pipeline: () => Promise<CacheTarget>;
  close(): Promise<void>;
}

const TARGETS: { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'Valkey 3-master cluster',
    async open() {
      requireServices('valkey-cluster');
      const url = `valkey://${valkeyServices().clusterNodes.join(',')}`;
      const app = await createValkeyTarget({ url });
      return { app, pipeline: () => createValkeyTarget({ url }), close: () => app.close() };
    },
  },
  {
    name: 'engine in-process',
    async open() {
      const app = createEngineTarget();
      return {
        app,
        pipeline: async () => createEngineTarget({ engine: (app as EngineTarget).engine }),
        close: () => app.close(),
      };
    },
  },
  {
    name: 'engine over RESP',
    async open() {
      const server: EngineServer = await startEngineServer({ port: 0 });
      const url = `valkey://127.0.0.1:${server.port}`;
      const app = createEngineRemoteTarget({ url });
      return {
        app,
        pipeline: async () => createEngineRemoteTarget({ url }),
        async close() {
          await app.close();
          await server.close();
        },
      };
    },
  },
];

for (const t of TARGETS) {
  describe(`an order change invalidates the customer's tagged entries: ${t.name}`, () => {
    const ns = `ot${process.pid}-${randomBytes(3).toString('hex')}:`;
    const config = compileConfig({
      keyPrefix: ns,
      rules: [
        {
          table: 'public.orders',
          keys: ['order:{id}'],
          tags: ['customer:{customer_id}'],
          // public.orders has REPLICA IDENTITY DEFAULT: an update carries no old image, so the
          // customer an order moved away from cannot be named (see README "Partial images").
          onPartialImage: 'ignore',
        },
      ],
    });
    let opened: Opened;

    beforeAll(async () => {
      opened = await t.open();
    });
    afterAll(async () => {
      if (opened !== undefined && t.name !== 'engine in-process') {
        await opened.app.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(30) }]);
      }
      await opened?.close();
    });

    const replay = async (file: string) => {
      const target = await opened.pipeline();
      try {
        return await replayChangeLogs([file], { config, target });
      } finally {
        if (t.name !== 'engine in-process') await target.close();
      }
    };

    it('removes the order list, the invoice page and the dashboard tile of customer 1001, and only those', async () => {
      const cache = createCacheClient({ store: leaseStoreFor(opened.app), ttlMs: 600_000 });
      const customer = `${ns}customer:1001`;
      const entries = {
        orders: `${ns}customer:1001:orders`,
        invoice: `${ns}invoice:1001:page:1`,
        tile: `${ns}dashboard:1001:tile:revenue`,
      };
      const untouched = {
        otherTile: `${ns}dashboard:1002:tile:revenue`,
        profile: `${ns}customer:1001:profile`,
      };
      let listLoads = 0;
      const loadList = async () => {
        listLoads++;
        return [{ id: 5001, status: listLoads === 1 ? 'new' : 'paid' }];
      };
      await cache.getOrLoad(entries.orders, loadList, { tags: [customer] });
      await cache.getOrLoad(entries.invoice, async () => ({ page: 1, total_cents: 2599 }), {
        tags: [customer],
      });
      await cache.getOrLoad(entries.tile, async () => ({ revenue: 2599 }), {
        tags: [customer, `${ns}tiles`],
      });
      await cache.getOrLoad(untouched.otherTile, async () => ({ revenue: 0 }), {
        tags: [`${ns}customer:1002`, `${ns}tiles`],
      });
      await cache.getOrLoad(untouched.profile, async () => ({ name: 'Sally' })); // untagged
      if (t.name.startsWith('Valkey')) {
        // Cluster-safe by construction: the tag's state and the entries live in different slots.
        const slots = new Set([
          ...Object.values(entries).map(keySlot),
          keySlot(tagStateKeys(customer).epoch),
        ]);
        expect(slots.size).toBeGreaterThan(2);
      }

      const summary = await replay(changeLog('update', UPDATE));
      expect(summary.ops).toMatchObject({ invalidate: 1, invalidateTag: 1 });
      expect(summary.applied).toBe(2);
      expect(summary.deadLetters).toBe(0);
      for (const key of Object.values(entries)) expect(await opened.app.get(key), key).toBeNull();
      expect(await opened.app.get(untouched.otherTile)).toBe('{"revenue":0}');
      expect(await opened.app.get(untouched.profile)).toBe('{"name":"Sally"}');

      // The app reloads the list after the change: it sees the new status and stays cached …
      expect(await cache.getOrLoad(entries.orders, loadList, { tags: [customer] })).toEqual([
        { id: 5001, status: 'paid' },
      ]);
      expect(listLoads).toBe(2);
      // … through a redelivery of the change and a late replay of the older insert (both fenced).
      const again = await replay(changeLog('update-again', UPDATE));
      const older = await replay(changeLog('insert', INSERT));
      // order:5001's own invalidation is fenced by the update's tombstone, the tag's by its epoch.
      expect([again.fenced, older.fenced, again.applied + older.applied]).toEqual([2, 2, 0]);
      expect(await opened.app.get(entries.orders)).toBe('[{"id":5001,"status":"paid"}]');
      await cache.close();
    });
  });
}

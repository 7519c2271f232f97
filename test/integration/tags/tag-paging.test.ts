/**
 * A tag with very many entries (100,000) is invalidated a bounded page at a time, never in one
 * command or one reply (docs/soft-invalidation-and-tags.md, "Paging"), and a caller that dies after
 * some pages leaves the rest pending for the redelivered change to finish: on Valkey (standalone;
 * a private namespace on the shared server), on the engine server (CACHE.TAGPAGE) and in-process.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionSortKey } from '../../../core/event/version.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { tagStateKeys } from '../../../core/targets/valkey/valkey-keys.ts';
import type { ScriptCall } from '../../../core/targets/valkey/valkey-runner.ts';
import { TAG_KEYS } from '../../../core/targets/valkey/valkey-tag-scripts.ts';
import {
  invalidateTagOnValkey,
  TAG_PAGE_SIZE,
  type TagStateReader,
} from '../../../core/targets/valkey/valkey-tags.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';

const ENTRIES = 100_000;
/** Pages the first (dying) attempt gets through. */
const PAGES_BEFORE_CRASH = 30;

describe('a tag with 100,000 entries on Valkey', () => {
  const ns = `tp${process.pid}-${randomBytes(3).toString('hex')}:`;
  const tag = `${ns}tenant:1`;
  const keys = Array.from({ length: ENTRIES }, (_, i) => `${ns}e:${i}`);
  let target: ValkeyTarget;

  beforeAll(async () => {
    requireServices('valkey');
    target = await createValkeyTarget({ url: valkeyServices().standaloneUrl });
    // The state a hundred thousand tagged fills leave (values, and the tag's members), seeded directly.
    const members = tagStateKeys(tag).members;
    for (let at = 0; at < ENTRIES; at += 10_000) {
      const chunk = keys.slice(at, at + 10_000);
      const p = target.client.pipeline();
      for (const k of chunk) p.set(k, 'v', 'PX', 600_000);
      p.sadd(members, ...chunk);
      p.pexpire(members, 600_000);
      await p.exec();
    }
  }, 120_000);
  afterAll(async () => {
    await target?.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(30) }]);
    await target?.close();
  }, 120_000);

  it('pages it in bounded replies; a redelivery finishes what a dying first attempt left', async () => {
    const state = tagStateKeys(tag);
    const v = versionSortKey('70');
    // The first attempt reads its pages through a recorder and dies after PAGES_BEFORE_CRASH of them.
    const replySizes: number[] = [];
    let pages = 0;
    const reader: TagStateReader = {
      call: async (name, ...args) => {
        const reply = await target.client.call(name, ...args);
        if (Array.isArray(reply)) replySizes.push(reply.length);
        return reply;
      },
    };
    const dying = {
      run: async (calls: readonly ScriptCall[]) => {
        if (calls[0]?.script === TAG_KEYS && ++pages > PAGES_BEFORE_CRASH) throw new Error('consumer killed');
        return target.run(calls);
      },
    };
    await expect(invalidateTagOnValkey(dying, reader, tag, v, 60_000, { clustered: false })).rejects.toThrow(
      'consumer killed',
    );
    expect(Math.max(...replySizes)).toBeLessThanOrEqual(TAG_PAGE_SIZE);
    const left = await target.client.scard(state.batch(v));
    expect(left).toBe(ENTRIES - PAGES_BEFORE_CRASH * TAG_PAGE_SIZE);
    expect(await target.client.exists(keys[0]!, keys[ENTRIES - 1]!)).toBeGreaterThan(0);
    // The change is delivered again (its checkpoint never advanced): fenced by the epoch, it drains.
    const [result] = await target.apply([{ kind: 'invalidateTag', tag, version: '70' }]);
    expect(result).toEqual({ ok: true, outcome: 'applied' });
    expect(await target.client.exists(state.batch(v), state.queue, state.members)).toBe(0);
    let present = 0;
    for (let at = 0; at < ENTRIES; at += 10_000)
      present += await target.client.exists(...keys.slice(at, at + 10_000));
    expect(present).toBe(0);
  }, 300_000);
});

describe('a tag with 100,000 entries on the engine', () => {
  const tag = 'tenant:1';
  const keys = Array.from({ length: ENTRIES }, (_, i) => `e:${i}`);

  it('in-process: pages of at most the page size; the redelivered change finishes the rest', async () => {
    const target = createEngineTarget();
    const { engine } = target;
    for (const k of keys) {
      engine.set(k, 'v');
      engine.joinTags(k, [tag], 600_000);
    }
    const v = versionSortKey('70');
    let page = engine.invalidateTagPage(tag, v);
    expect(page.applied).toBe(true);
    for (let n = 1; n < PAGES_BEFORE_CRASH; n++) {
      expect(page.keys.length).toBeLessThanOrEqual(1000);
      expect(page.more).toBe(true);
      page = engine.invalidateTagPage(tag, v);
    }
    expect(keys.filter((k) => engine.get(k) !== null).length).toBe(ENTRIES - PAGES_BEFORE_CRASH * 1000);
    // The caller died here; the change comes again.
    expect(await target.apply([{ kind: 'invalidateTag', tag, version: '70' }])).toEqual([
      { ok: true, outcome: 'applied' },
    ]);
    expect(keys.filter((k) => engine.get(k) !== null)).toEqual([]);
    expect(await target.apply([{ kind: 'invalidateTag', tag, version: '70' }])).toEqual([
      { ok: true, outcome: 'fenced' },
    ]);
    await target.close();
  }, 120_000);

  describe('engine server', () => {
    let server: EngineServer;
    beforeAll(async () => {
      server = await startEngineServer({ port: 0 });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('CACHE.TAGPAGE answers at most COUNT keys; the redelivered change finishes the rest', async () => {
      const target = createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` });
      for (let at = 0; at < ENTRIES; at += 10_000) {
        const p = target.client.pipeline();
        for (const k of keys.slice(at, at + 10_000)) {
          p.set(k, 'v');
          p.call('CACHE.TAGJOIN', k, '600000', tag);
        }
        await p.exec();
      }
      const v = versionSortKey('70');
      for (let n = 0; n < PAGES_BEFORE_CRASH; n++) {
        const reply = (await target.client.call('CACHE.TAGPAGE', tag, v, '60000', '1000')) as unknown[];
        expect(reply.length).toBe(3 + 1000);
        expect(reply[1]).toBe(1); // more
      }
      expect(await target.client.dbsize()).toBe(ENTRIES - PAGES_BEFORE_CRASH * 1000);
      expect(await target.apply([{ kind: 'invalidateTag', tag, version: '70' }])).toEqual([
        { ok: true, outcome: 'applied' },
      ]);
      expect(await target.client.dbsize()).toBe(0);
      await target.close();
    }, 120_000);
  });
});

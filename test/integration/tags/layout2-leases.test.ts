/**
 * Soft invalidation and tags over fence layout 2 (issue 20): the fill lease lives in the fence
 * `__cdc:v:{K}` beside the version (`version token expiresAtMs`). The tagged scripts must read the
 * version out of it, honour and cancel a lease there as FILL/WRITE/INVALIDATE do, and the soft mark
 * must count against the fence's version, not its raw value. On a private Valkey (no shared state).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheClient } from '../../../core/client/cache-client.ts';
import type { FillLeaseStore } from '../../../core/client/fill-lease-store.ts';
import { versionSortKey } from '../../../core/event/version.ts';
import { valkeyLeaseStore } from '../../../core/targets/valkey/valkey-fill-lease-store.ts';
import { leaseKey, staleKey, versionKey } from '../../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const TOMB = 300_000;
const held = /^(\S*) ([0-9a-f]+) (\d+)$/;

describe('soft invalidation and tags over fence layout 2 (lease in the version sibling)', () => {
  let server: OwnValkey;
  let target: ValkeyTarget;
  let store: FillLeaseStore;
  beforeAll(async () => {
    server = await startOwnValkey();
    target = await createValkeyTarget({ url: server.url, tombstoneTtlMs: TOMB });
    store = valkeyLeaseStore(target, { tombstoneTtlMs: TOMB });
  });
  afterAll(async () => {
    await store?.close();
    await target?.close();
    await server?.stop();
  });
  const fence = (k: string) => target.client.get(versionKey(k));

  it('a tagged fill under another holder’s lease is rejected and leaves that lease in place', async () => {
    const k = 'l2:1';
    expect(
      await target.apply([{ kind: 'refresh', key: k, value: '"v3"', ttlMs: 60_000, version: '3' }]),
    ).toEqual([{ ok: true, outcome: 'applied' }]);
    const theirs = await store.acquireLease(k, 30_000);
    expect(theirs).not.toBeNull();
    expect(await store.acquireLease(k, 30_000)).toBeNull(); // one holder
    const epochs = await store.joinTags(k, ['l2-tag:a'], 60_000);
    expect(await store.fill(k, 'not-the-holder', Buffer.from('"mine"'), 60_000, '4', epochs)).toBe(
      'rejected',
    );
    expect(await target.client.get(k)).toBe('"v3"');
    expect(await fence(k)).toMatch(held);
    expect((await fence(k))!.split(' ')[0]).toBe(versionSortKey('3'));
    // The holder's tagged fill goes through, uses the lease up and moves the version on.
    expect(await store.fill(k, theirs!, Buffer.from('"v4"'), 60_000, '4', epochs)).toBe('filled');
    expect(await target.client.get(k)).toBe('"v4"');
    expect(await fence(k)).toBe(versionSortKey('4'));
  });

  it('a tagged fill whose lease a tag invalidation cancelled is rejected; the version survives', async () => {
    const k = 'l2:2';
    await target.apply([{ kind: 'refresh', key: k, value: '"v1"', ttlMs: 60_000, version: '1' }]);
    const token = await store.acquireLease(k, 30_000);
    const epochs = await store.joinTags(k, ['l2-tag:b'], 60_000);
    expect(await target.apply([{ kind: 'invalidateTag', tag: 'l2-tag:b', version: '9' }])).toEqual([
      { ok: true, outcome: 'applied' },
    ]);
    expect(await target.client.exists(k)).toBe(0);
    expect(await fence(k)).toBe(versionSortKey('1')); // the lease given up, the version kept
    expect(await store.fill(k, token!, Buffer.from('"old"'), 60_000, undefined, epochs)).toBe('rejected');
    expect(await target.client.exists(k)).toBe(0);
  });

  it('a tagged fill is fenced by a newer version in a fence that also holds its own lease', async () => {
    const k = 'l2:3';
    await target.apply([{ kind: 'refresh', key: k, value: '"v7"', ttlMs: 60_000, version: '7' }]);
    const token = await store.acquireLease(k, 30_000);
    expect(await fence(k)).toMatch(held);
    const epochs = await store.joinTags(k, ['l2-tag:c'], 60_000);
    expect(await store.fill(k, token!, Buffer.from('"v6"'), 60_000, '6', epochs)).toBe('fenced');
    expect(await target.client.get(k)).toBe('"v7"');
    expect(await fence(k)).toBe(versionSortKey('7')); // lease used up, version kept
  });

  it('soft invalidation while a lease is held marks stale at its version and cancels the lease', async () => {
    const k = 'l2:4';
    await target.apply([{ kind: 'refresh', key: k, value: '"v2"', ttlMs: 60_000, version: '2' }]);
    const token = await store.acquireLease(k, 30_000);
    // An older change is fenced by the version in the leased fence (not by the raw string).
    expect(await target.apply([{ kind: 'softInvalidate', key: k, version: '2' }])).toEqual([
      { ok: true, outcome: 'fenced' },
    ]);
    expect(await fence(k)).toMatch(held);
    expect((await store.read(k))?.stale).toBeUndefined();
    expect(await target.apply([{ kind: 'softInvalidate', key: k, version: '5' }])).toEqual([
      { ok: true, outcome: 'applied' },
    ]);
    expect(await fence(k)).toBe(versionSortKey('5'));
    expect(await target.client.get(staleKey(k))).toBe(versionSortKey('5'));
    expect(await store.read(k)).toMatchObject({ stale: true });
    expect(await store.fill(k, token!, Buffer.from('"late"'), 60_000, undefined, [])).toBe('rejected');
    expect(await target.client.get(k)).toBe('"v2"');
  });

  it('a stale entry stays stale while a reloader holds the lease in the fence, and a fill clears it', async () => {
    const k = 'l2:5';
    await target.apply([{ kind: 'refresh', key: k, value: '"v2"', ttlMs: 60_000, version: '2' }]);
    await target.apply([{ kind: 'softInvalidate', key: k, version: '3' }]);
    const token = await store.acquireLease(k, 30_000);
    expect(await fence(k)).toMatch(held); // `version token expiresAtMs`: raw ≠ mark
    expect(await store.read(k)).toMatchObject({ stale: true });
    // A fill carrying the mark's version is fenced (the fence's version is as new), as FILL does;
    // it used the lease up and the entry stays stale.
    expect(await store.fill(k, token!, Buffer.from('"v3"'), 60_000, '3', [])).toBe('fenced');
    expect(await store.read(k)).toMatchObject({ stale: true });
    expect(await target.client.get(k)).toBe('"v2"');
    const again = await store.acquireLease(k, 30_000);
    expect(await store.fill(k, again!, Buffer.from('"fresh"'), 60_000, undefined, [])).toBe('filled');
    expect(await store.read(k)).toMatchObject({ value: Buffer.from('"fresh"') });
    expect((await store.read(k))?.stale).toBeUndefined();
    expect(await target.client.exists(staleKey(k))).toBe(0);
  });

  it('a tagged write cancels a lease held in the fence and a layout-1 lease, keeping the version', async () => {
    const k = 'l2:6';
    await target.apply([{ kind: 'refresh', key: k, value: '"v1"', ttlMs: 60_000, version: '1' }]);
    const token = await store.acquireLease(k, 30_000);
    await target.client.set(leaseKey(k), 'layout-1 token', 'PX', 30_000);
    const epochs = await store.joinTags(k, ['l2-tag:d'], 60_000);
    expect(await store.write(k, Buffer.from('"w"'), 60_000, undefined, epochs)).toBe('applied');
    expect(await fence(k)).toBe(versionSortKey('1'));
    expect(await target.client.exists(leaseKey(k))).toBe(0);
    expect(await store.fill(k, token!, Buffer.from('"late"'), 60_000, undefined, epochs)).toBe('rejected');
    expect(await target.client.get(k)).toBe('"w"');
  });

  it('getOrLoad without stale-while-revalidate reloads a soft-invalidated entry through the new lease', async () => {
    const k = 'l2:7';
    const client = createCacheClient({ store, ttlMs: 60_000 });
    await target.apply([{ kind: 'refresh', key: k, value: '"v1"', ttlMs: 60_000, version: '1' }]);
    await target.apply([{ kind: 'softInvalidate', key: k, version: '2' }]);
    expect(await client.getOrLoad(k, async () => 'loaded')).toBe('loaded');
    expect(await target.client.get(k)).toBe('"loaded"');
    expect((await store.read(k))?.stale).toBeUndefined();
  });
});

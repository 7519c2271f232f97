/**
 * The APPLY script's shape (issue 20): the version sibling is read and written by one `SET … GET`,
 * so a fenced op has to put the newer version back. These pin what that must keep: the newer
 * version, a fence lasting at least as long as before, the value untouched — and that state written
 * by the previous shape (APPLY_V1, what a deployed cluster holds) works unchanged with this one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionSortKey } from '../../../core/event/version.ts';
import type { OpResult } from '../../../core/targets/cache-target.ts';
import { leaseKey, versionKey } from '../../../core/targets/valkey/valkey-keys.ts';
import { APPLY_V1 } from '../../../core/targets/valkey/valkey-scripts.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const APPLIED: OpResult = { ok: true, outcome: 'applied' };
const FENCED: OpResult = { ok: true, outcome: 'fenced' };
const TOMB = 300_000;

describe('APPLY shape: fenced ops and data from the previous shape', () => {
  let server: OwnValkey;
  let target: ValkeyTarget;
  let noTomb: ValkeyTarget;
  beforeAll(async () => {
    server = await startOwnValkey();
    target = await createValkeyTarget({ url: server.url, tombstoneTtlMs: TOMB });
    noTomb = await createValkeyTarget({ url: server.url, tombstoneTtlMs: 0 });
  });
  afterAll(async () => {
    await target?.close();
    await noTomb?.close();
    await server?.stop();
  });
  const pttl = (k: string) => target.client.pttl(k);

  it('a stale refresh against a tombstone keeps the tombstone version for at least its TTL', async () => {
    expect(await target.apply([{ kind: 'invalidate', key: 'f:1', version: '9' }])).toEqual([APPLIED]);
    const before = await pttl(versionKey('f:1'));
    expect(
      await target.apply([{ kind: 'refresh', key: 'f:1', value: 'stale', ttlMs: 1_000, version: '8' }]),
    ).toEqual([FENCED]);
    expect(await target.client.get('f:1')).toBeNull();
    expect(await target.client.get(versionKey('f:1'))).toBe(versionSortKey('9'));
    expect(await pttl(versionKey('f:1'))).toBeGreaterThanOrEqual(before - 1_000);
  });

  it('a stale invalidation leaves the value and keeps its fence at least as long as the value lives', async () => {
    const ops = [{ kind: 'refresh' as const, key: 'f:2', value: 'new', ttlMs: 900_000, version: '5' }];
    expect(await target.apply(ops)).toEqual([APPLIED]);
    expect(await target.apply([{ kind: 'invalidate', key: 'f:2', version: '4' }])).toEqual([FENCED]);
    expect(await target.client.get('f:2')).toBe('new');
    expect(await target.client.get(versionKey('f:2'))).toBe(versionSortKey('5'));
    expect(await pttl(versionKey('f:2'))).toBeGreaterThanOrEqual((await pttl('f:2')) - 1_000);
    // The same with tombstones off (GETDEL path): the fence must survive, not be deleted.
    expect(await noTomb.apply([{ kind: 'invalidate', key: 'f:2', version: '3' }])).toEqual([FENCED]);
    expect(await target.client.get(versionKey('f:2'))).toBe(versionSortKey('5'));
    expect(await target.client.get('f:2')).toBe('new');
  });

  it('a stale op against a persistent value keeps the fence persistent; an equal version is fenced', async () => {
    expect(await target.apply([{ kind: 'refresh', key: 'f:3', value: 'p', ttlMs: 0, version: '7' }])).toEqual(
      [APPLIED],
    );
    expect(
      await target.apply([{ kind: 'refresh', key: 'f:3', value: 'x', ttlMs: 5_000, version: '7' }]),
    ).toEqual([FENCED]);
    expect(await pttl(versionKey('f:3'))).toBe(-1);
    expect(await target.client.get('f:3')).toBe('p');
  });

  it('a fenced op does not cancel a fill lease; an applied one does', async () => {
    await target.apply([{ kind: 'refresh', key: 'f:4', value: 'a', ttlMs: 60_000, version: '2' }]);
    await target.client.set(leaseKey('f:4'), 'tok', 'PX', 60_000);
    expect(await target.apply([{ kind: 'invalidate', key: 'f:4', version: '1' }])).toEqual([FENCED]);
    expect(await target.client.get(leaseKey('f:4'))).toBe('tok');
    expect(await target.apply([{ kind: 'invalidate', key: 'f:4', version: '3' }])).toEqual([APPLIED]);
    expect(await target.client.exists(leaseKey('f:4'), 'f:4')).toBe(0);
  });

  it('state written by the previous shape (APPLY_V1) fences and is replaced by the current one', async () => {
    // What a deployed cluster holds: the same keys, written by the old script.
    const k = 'old:1';
    const t = 'old:2';
    await target.client.call('SCRIPT', 'LOAD', APPLY_V1.lua);
    const v5 = versionSortKey('5');
    await target.client.evalsha(APPLY_V1.sha, 2, k, t, 'ri', String(TOMB), v5, '60000', 'old', v5);
    expect(await target.client.get(k)).toBe('old');
    expect(await target.client.get(versionKey(t))).toBe(v5);
    await target.client.set(leaseKey(k), 'tok', 'PX', 60_000);
    expect(
      await target.apply([
        { kind: 'refresh', key: k, value: 'stale', ttlMs: 60_000, version: '4' },
        { kind: 'refresh', key: t, value: 'stale', ttlMs: 60_000, version: '5' },
        { kind: 'refresh', key: k, value: 'new', ttlMs: 60_000, version: '6' },
        { kind: 'refresh', key: t, value: 'new', ttlMs: 60_000, version: '6' },
      ]),
    ).toEqual([FENCED, FENCED, APPLIED, APPLIED]);
    expect(await target.client.mget(k, t)).toEqual(['new', 'new']);
    expect(await target.client.exists(leaseKey(k))).toBe(0);
  });
});

/**
 * The APPLY script's shape (issue 20): the fence sibling V (version, and the fill lease in layout 2)
 * is read and written by one `SET … GET`, so a fenced op has to put V back. These pin what that must
 * keep: the newer version, a fence lasting at least as long as before, the value untouched, a lease
 * in V kept by a fenced op and cancelled by an applied one. And upgrades, both ways: state and
 * leases written by layout-1 scripts (test/support/apply-shapes.ts, what a deployed cluster and
 * older app processes hold) fence and cancel under layout 2, and layout-1 scripts still running
 * (an older consumer) fence and cancel layout-2 leases; the first layout-2 APPLY (PX expiries) and
 * today's (PXAT) run side by side on one server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionSortKey } from '../../../core/event/version.ts';
import type { OpResult } from '../../../core/targets/cache-target.ts';
import { valkeyLeaseStore } from '../../../core/targets/valkey/valkey-fill-lease-store.ts';
import { leaseKey, versionKey } from '../../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { APPLY_L1, APPLY_L2_PX, APPLY_V1, FILL_L1 } from '../../support/apply-shapes.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const APPLIED: OpResult = { ok: true, outcome: 'applied' };
const FENCED: OpResult = { ok: true, outcome: 'fenced' };
const TOMB = 300_000;

describe('APPLY shape: fenced ops and data from the previous shape', () => {
  let server: OwnValkey;
  let target: ValkeyTarget;
  let noTomb: ValkeyTarget;
  let legacy: ValkeyTarget;
  beforeAll(async () => {
    server = await startOwnValkey();
    target = await createValkeyTarget({ url: server.url, tombstoneTtlMs: TOMB });
    noTomb = await createValkeyTarget({ url: server.url, tombstoneTtlMs: 0 });
    legacy = await createValkeyTarget({ url: `${server.url}?legacyLeases=true`, tombstoneTtlMs: TOMB });
    for (const s of [APPLY_L1, APPLY_L2_PX, APPLY_V1, FILL_L1])
      await target.client.call('SCRIPT', 'LOAD', s.lua);
  });
  afterAll(async () => {
    await target?.close();
    await noTomb?.close();
    await legacy?.close();
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

  it('a fenced op keeps the fill lease held in V; an applied one cancels it', async () => {
    const store = valkeyLeaseStore(target);
    await target.apply([{ kind: 'refresh', key: 'f:4', value: 'a', ttlMs: 60_000, version: '2' }]);
    const tok = await store.acquireLease('f:4', 60_000);
    expect(tok).not.toBeNull();
    expect(await target.client.get(versionKey('f:4'))).toMatch(
      new RegExp(`^${versionSortKey('2')} ${tok} \\d+$`),
    );
    expect(await store.acquireLease('f:4', 60_000)).toBeNull(); // held
    expect(await target.apply([{ kind: 'invalidate', key: 'f:4', version: '1' }])).toEqual([FENCED]);
    expect(await store.fill('f:4', tok!, 'filled', 60_000)).toBe('filled'); // the lease survived
    expect(await target.client.get(versionKey('f:4'))).toBe(versionSortKey('2')); // lease used up, version kept
    const tok2 = await store.acquireLease('f:4', 60_000);
    expect(await noTomb.apply([{ kind: 'invalidate', key: 'f:4', version: '3' }])).toEqual([APPLIED]);
    expect(await store.fill('f:4', tok2!, 'stale', 60_000)).toBe('rejected');
    expect(await target.client.exists(versionKey('f:4'), 'f:4')).toBe(0);
  });

  it('a lease ends at the time stored in V: a later taker gets it, the first fill is rejected', async () => {
    const store = valkeyLeaseStore(target);
    const first = await store.acquireLease('f:5', 40);
    expect(first).not.toBeNull();
    await new Promise((r) => setTimeout(r, 80));
    const second = await store.acquireLease('f:5', 60_000);
    expect(second).not.toBeNull();
    expect(await store.fill('f:5', first!, 'late', 60_000)).toBe('rejected');
    expect(await store.fill('f:5', second!, 'ok', 60_000)).toBe('filled');
    expect(await target.client.get('f:5')).toBe('ok');
    expect(await target.client.exists(versionKey('f:5'))).toBe(0); // no version, no lease: nothing kept
  });

  it('state written by the v1 shape fences and is replaced by the current one', async () => {
    // What a deployed cluster holds: the same keys, written by the old script.
    const k = 'old:1';
    const t = 'old:2';
    const v5 = versionSortKey('5');
    await target.client.evalsha(APPLY_V1.sha, 2, k, t, 'ri', String(TOMB), v5, '60000', 'old', v5);
    expect(await target.client.get(k)).toBe('old');
    expect(await target.client.get(versionKey(t))).toBe(v5);
    expect(
      await target.apply([
        { kind: 'refresh', key: k, value: 'stale', ttlMs: 60_000, version: '4' },
        { kind: 'refresh', key: t, value: 'stale', ttlMs: 60_000, version: '5' },
        { kind: 'refresh', key: k, value: 'new', ttlMs: 60_000, version: '6' },
        { kind: 'refresh', key: t, value: 'new', ttlMs: 60_000, version: '6' },
      ]),
    ).toEqual([FENCED, FENCED, APPLIED, APPLIED]);
    expect(await target.client.mget(k, t)).toEqual(['new', 'new']);
  });

  it('the first layout-2 consumer (PX expiries) and the current one (PXAT) run side by side on the same keys', async () => {
    // A rolling deploy: an older consumer still applies with its script while the new one applies.
    const leases = valkeyLeaseStore(target);
    const token = await leases.acquireLease('px:2', 60_000);
    expect(token).toBeTruthy();
    const v = (n: string) => versionSortKey(n);
    const old = (kinds: string, ...args: string[]) =>
      target.client.evalsha(
        APPLY_L2_PX.sha,
        kinds.length,
        ...args.slice(0, kinds.length),
        kinds,
        String(TOMB),
        '0',
        ...args.slice(kinds.length),
      );
    // The older consumer: px:1 refreshed at 5, px:2 invalidated at 5 (its lease cancelled).
    expect(await old('ri', 'px:1', 'px:2', v('5'), '60000', 'old', v('5'))).toEqual(['11']);
    expect(await leases.fill('px:2', token!, 'late', 0, undefined)).toBe('rejected');
    // The new one fences by that state and replaces it…
    expect(
      await target.apply([
        { kind: 'refresh', key: 'px:1', value: 'stale', ttlMs: 60_000, version: '4' },
        { kind: 'refresh', key: 'px:2', value: 'stale', ttlMs: 60_000, version: '5' },
        { kind: 'refresh', key: 'px:1', value: 'new', ttlMs: 60_000, version: '6' },
      ]),
    ).toEqual([FENCED, FENCED, APPLIED]);
    // …and the older one fences by the new one's state, both with the same TTLs.
    expect(await old('rr', 'px:1', 'px:2', v('6'), '60000', 'older', v('4'), '60000', 'older')).toEqual([
      '00',
    ]);
    expect(await target.client.mget('px:1', 'px:2')).toEqual(['new', null]);
    for (const k of ['px:1', versionKey('px:1')]) expect(await pttl(k)).toBeGreaterThan(50_000);
    expect(await pttl(versionKey('px:2'))).toBeGreaterThan(TOMB - 10_000);
  });

  it('a layout-1 lease (an older app process) blocks new leases, and legacyLeases cancels it', async () => {
    const store = valkeyLeaseStore(target);
    const k = 'old:3';
    await target.apply([{ kind: 'refresh', key: k, value: 'a', ttlMs: 60_000, version: '2' }]);
    const fillL1 = (tok: string, value: string) =>
      target.client.evalsha(FILL_L1.sha, 3, k, versionKey(k), leaseKey(k), tok, value, '60000', '');
    await target.client.set(leaseKey(k), 'old-tok', 'PX', 60_000, 'NX');
    expect(await store.acquireLease(k, 60_000)).toBeNull();
    // Without legacyLeases an applied op leaves the old lease (why the upgrade order matters) …
    expect(await target.apply([{ kind: 'invalidate', key: k, version: '3' }])).toEqual([APPLIED]);
    expect(await target.client.get(leaseKey(k))).toBe('old-tok');
    // … with it, applied ops (refresh and invalidate) cancel the old lease: the old fill is rejected.
    expect(
      await legacy.apply([{ kind: 'refresh', key: k, value: 'b', ttlMs: 60_000, version: '4' }]),
    ).toEqual([APPLIED]);
    expect(await fillL1('old-tok', 'stale')).toBe(0);
    await target.client.set(leaseKey(k), 'old-tok2', 'PX', 60_000, 'NX');
    expect(await legacy.apply([{ kind: 'invalidate', key: k, version: '5' }])).toEqual([APPLIED]);
    expect(await fillL1('old-tok2', 'stale')).toBe(0);
    // A fenced op leaves it, as a fenced op leaves any lease.
    await target.client.set(leaseKey(k), 'old-tok3', 'PX', 60_000, 'NX');
    expect(await legacy.apply([{ kind: 'invalidate', key: k, version: '4' }])).toEqual([FENCED]);
    expect(await target.client.get(leaseKey(k))).toBe('old-tok3');
    // The app side's own writes and invalidations cancel layout-1 leases whatever the consumer does.
    await store.write(k, 'w', 60_000);
    expect(await target.client.exists(leaseKey(k))).toBe(0);
    await target.client.set(leaseKey(k), 'old-tok4', 'PX', 60_000, 'NX');
    await store.invalidate(k);
    expect(await target.client.exists(leaseKey(k), k)).toBe(0);
    expect(await target.client.get(versionKey(k))).toBe(versionSortKey('5'));
  });

  it('layout-1 consumers (v1 and the first SET…GET shape) fence by the version in a layout-2 V and cancel its lease', async () => {
    const store = valkeyLeaseStore(target);
    for (const [n, s] of [APPLY_V1, APPLY_L1].entries()) {
      const k = `mix:${n}`;
      const old = (kind: 'r' | 'i', version: string, ...rest: string[]) =>
        target.client.evalsha(s.sha, 1, k, kind, String(TOMB), versionSortKey(version), ...rest);
      await target.apply([{ kind: 'refresh', key: k, value: 'v7', ttlMs: 60_000, version: '7' }]);
      const tok = await store.acquireLease(k, 60_000);
      // The lease after the version in V must not change the order: 6 and 7 fenced, 70 and 8 not.
      expect(await old('r', '6', '60000', 'stale')).toEqual(['0']);
      expect(await old('i', '7')).toEqual(['0']);
      expect(await store.fill(k, tok!, 'filled', 60_000)).toBe('filled');
      const tok2 = await store.acquireLease(k, 60_000);
      expect(await old('r', '8', '60000', 'v8')).toEqual(['1']);
      expect(await store.fill(k, tok2!, 'stale', 60_000)).toBe('rejected');
      expect(await target.client.get(k)).toBe('v8');
      const tok3 = await store.acquireLease(k, 60_000);
      expect(await old('i', '70')).toEqual(['1']);
      expect(await store.fill(k, tok3!, 'stale', 60_000)).toBe('rejected');
      expect(await target.client.get(versionKey(k))).toBe(versionSortKey('70'));
      // And the consumer of this release fences against what the old one wrote.
      expect(
        await target.apply([{ kind: 'refresh', key: k, value: 'x', ttlMs: 60_000, version: '69' }]),
      ).toEqual([FENCED]);
    }
  });
});

/**
 * The verifier's rules against the embedded cache engine (a real CacheTarget) and an in-memory source
 * of truth, under a fake clock: expected states, windows, following a row to its newest change,
 * bounded memory, rate limiting and the full (after-drain) mode.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Row } from '../../../../core/event/change-event.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import {
  createVerifier,
  expectationsFor,
  judge,
  type TruthSource,
  type Verifier,
  type VerifierOptions,
  verifyFull,
} from '../../../../core/verify/index.ts';

const config = compileConfig({
  rules: [
    {
      table: 'public.users',
      keys: ['user:{id}', { template: 'user:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'name'] },
      dependents: ['team:{team}:members'],
    },
    { table: 'public.orders', keys: ['order:{id}'] },
  ],
});

function ev(
  op: ChangeEvent['op'],
  before: Row | null,
  after: Row | null,
  version: string,
  ts: number,
  table = 'users',
): ChangeEvent {
  const id = (after ?? before)!.id!;
  return { source: 'debezium', table, namespace: 'public', op, key: { id }, before, after, version, ts };
}

/** An in-memory source of truth: the rows as they are now. */
function memoryTruth(rows: Map<string, Row>): TruthSource & { reads: number } {
  const t = {
    kind: 'memory',
    reads: 0,
    async read(e: ChangeEvent) {
      t.reads++;
      return rows.get(`${e.table}:${String(e.key!.id)}`) ?? null;
    },
    async close() {},
  };
  return t;
}

function fakeClock(start = 0) {
  const c = {
    t: start,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

/** A verifier of `config` on the fake `clock`. */
function verifierOn(
  clock: ReturnType<typeof fakeClock>,
  options: Omit<VerifierOptions, 'config' | 'now' | 'sleep'>,
): Verifier {
  return createVerifier({ config, now: clock.now, sleep: clock.sleep, ...options });
}

describe('expected state', () => {
  it('refresh keys expect the planner bytes; invalidate keys are unchecked unless --expect; deletes expect absence', () => {
    const u = ev(
      'update',
      { id: 1, name: 'a', email: 'old@x', team: 't' },
      { id: 1, name: 'b', email: 'new@x', team: 't' },
      '5',
      0,
    );
    const planned = planBatch(config, [u]).ops.find((o) => o.kind === 'refresh' && o.key === 'user:1');
    const e = expectationsFor(config, u);
    expect(e.get('user:1')).toEqual({ kind: 'value', value: (planned as { value: string }).value });
    expect(e.get('user:1')).toEqual({ kind: 'value', value: '{"id":1,"name":"b"}' });
    expect(e.get('user:email:new@x')).toEqual({ kind: 'unchecked' });
    expect(e.get('user:email:old@x')).toEqual({ kind: 'absent' }); // no longer this row's key
    expect(e.has('team:t:members')).toBe(false); // dependents are not checked
    const withExpect = expectationsFor(config, u, { fields: ['id', 'email'] });
    expect(withExpect.get('user:email:new@x')).toEqual({ kind: 'value', value: '{"id":1,"email":"new@x"}' });
    const whole = expectationsFor(config, u, { row: true });
    expect(whole.get('user:email:new@x')).toEqual({
      kind: 'value',
      value: '{"id":1,"name":"b","email":"new@x","team":"t"}',
    });
    const d = expectationsFor(
      config,
      ev('delete', { id: 1, name: 'b', email: 'new@x', team: 't' }, null, '6', 0),
      {
        row: true,
      },
    );
    expect([...d.values()]).toEqual([{ kind: 'absent' }, { kind: 'absent' }]);
  });

  it('judges: absent is always consistent; a value must match; unknowable stays unchecked', () => {
    expect(judge({ kind: 'absent' }, null)).toBe('consistent');
    expect(judge({ kind: 'absent' }, 'x')).toBe('inconsistent');
    expect(judge({ kind: 'value', value: 'x' }, 'x')).toBe('consistent');
    expect(judge({ kind: 'value', value: 'x' }, 'y')).toBe('inconsistent');
    expect(judge({ kind: 'value', value: 'x' }, null)).toBe('consistent');
    expect(judge({ kind: 'unchecked' }, 'y')).toBe('unchecked');
  });
});

describe('live verifier (fake clock)', () => {
  it('reports per window: stale at 1 s, consistent at 5 s, and the staleness of the change', async () => {
    const clock = fakeClock(10_000);
    const target = createEngineTarget({});
    const rows = new Map<string, Row>();
    const truth = memoryTruth(rows);
    const v1 = ev('create', null, { id: 1, name: 'a', email: 'a@x', team: 't' }, '10', 10_000);
    await target.apply(planBatch(config, [v1]).ops);
    const v2 = ev('update', v1.after, { id: 1, name: 'b', email: 'a@x', team: 't' }, '20', 10_100);
    rows.set('users:1', v2.after!);
    const verifier = verifierOn(clock, {
      target,
      truth,
      windowsMs: [1000, 5000],
    });
    verifier.observe(v2);
    clock.t = 11_100; // window 1 s: the cache still holds v1
    await verifier.runDue();
    await target.apply(planBatch(config, [v2]).ops); // the pipeline catches up
    await verifier.drain();
    const r = verifier.report();
    expect(r.windows.map((w) => [w.checked, w.consistent, w.inconsistent])).toEqual([
      [1, 0, 1],
      [1, 1, 0],
    ]);
    expect(r.windows[0]!.nines).toBe(0);
    expect(r.windows[1]!.nines).toBe(Number.POSITIVE_INFINITY);
    expect(r.staleness).toMatchObject({ p50Ms: 5000, p99Ms: 5000, samples: 1 });
    expect(r.staleKeys).toBe(0);
    expect(r.changes).toMatchObject({ seen: 1, sampled: 1, pending: 0 });
  });

  it('counts windows from when the verifier saw a change, and reports the stream lag', async () => {
    const clock = fakeClock(60_000);
    const target = createEngineTarget({});
    const v1 = ev('create', null, { id: 9, name: 'a', email: 'a@x', team: 't' }, '10', 57_000); // seen 3 s late
    const verifier = verifierOn(clock, {
      target,
      windowsMs: [1000],
    });
    verifier.observe(v1);
    await verifier.runDue();
    expect(verifier.report().windows[0]!.checked).toBe(0); // due at 61 s, not at 58 s
    await verifier.drain();
    const r = verifier.report();
    expect(clock.t).toBe(61_000);
    expect(r.windows[0]!.checked).toBe(1);
    expect(r.streamLag).toMatchObject({ p50Ms: 3000, maxMs: 3000 });
    expect(r.lateness.maxMs).toBe(0);
  });

  it('follows a row to its newest change: a newer value is not a stale one', async () => {
    const clock = fakeClock(0);
    const target = createEngineTarget({});
    const rows = new Map<string, Row>();
    const v1 = ev('create', null, { id: 2, name: 'a', email: 'a@x', team: 't' }, '10', 0);
    const v2 = ev('update', v1.after, { id: 2, name: 'b', email: 'a@x', team: 't' }, '20', 50);
    const v3 = ev('update', v2.after, { id: 2, name: 'c', email: 'a@x', team: 't' }, '30', 60);
    rows.set('users:2', v3.after!);
    const truth = memoryTruth(rows);
    const verifier = verifierOn(clock, {
      target,
      truth,
      windowsMs: [1000],
    });
    verifier.observe(v1);
    verifier.observe(v2);
    verifier.observe(v1); // a duplicate delivery: ignored
    // The cache reflects v2; v3 committed in the source but the verifier has not seen it yet.
    await target.apply(planBatch(config, [v2]).ops);
    await verifier.drain();
    const r = verifier.report();
    // v1: the cache holds a newer state (v2) → consistent. v2: holds v2 → consistent.
    expect(r.windows[0]).toMatchObject({ checked: 2, consistent: 2, inconsistent: 0 });
    expect(r.changes.duplicates).toBe(1);
    expect(truth.reads).toBe(0); // no database read was needed
  });

  it('a value older than the sampled change, while the source agrees with the newest change, is inconsistent', async () => {
    const clock = fakeClock(0);
    const target = createEngineTarget({});
    const rows = new Map<string, Row>();
    const v1 = ev('create', null, { id: 3, name: 'a', email: 'a@x', team: 't' }, '10', 0);
    const v2 = ev('update', v1.after, { id: 3, name: 'b', email: 'a@x', team: 't' }, '20', 10);
    rows.set('users:3', v2.after!);
    await target.apply(planBatch(config, [v1]).ops); // v2 never applied: stale
    const verifier = verifierOn(clock, {
      target,
      truth: memoryTruth(rows),
      windowsMs: [1000],
    });
    verifier.observe(v2);
    await verifier.drain();
    const r = verifier.report();
    expect(r.staleKeys).toBe(1);
    expect(r.inconsistencies[0]).toMatchObject({
      key: 'user:3',
      expected: '{"id":3,"name":"b"}',
      actual: '{"id":3,"name":"a"}',
      version: '20',
      windowMs: 1000,
    });
    expect(r.staleness.p50Ms).toBe(Number.POSITIVE_INFINITY);
  });

  it('when the source is ahead of what the verifier saw, a mismatch is unverified, not inconsistent', async () => {
    const clock = fakeClock(0);
    const target = createEngineTarget({});
    const rows = new Map<string, Row>();
    const v1 = ev('create', null, { id: 4, name: 'a', email: 'a@x', team: 't' }, '10', 0);
    const v2 = ev('update', v1.after, { id: 4, name: 'b', email: 'a@x', team: 't' }, '20', 10);
    await target.apply(planBatch(config, [v1]).ops);
    rows.set('users:4', { id: 4, name: 'z', email: 'a@x', team: 't' }); // a change the stream has not shown yet
    const verifier = verifierOn(clock, {
      target,
      truth: memoryTruth(rows),
      windowsMs: [1000],
    });
    verifier.observe(v2);
    await verifier.drain();
    expect(verifier.report().windows[0]).toMatchObject({ checked: 1, inconsistent: 0, unverified: 1 });
  });

  it('bounds memory: beyond maxPending the oldest pending change is dropped and counted', async () => {
    const clock = fakeClock(0);
    const target = createEngineTarget({});
    const verifier = verifierOn(clock, {
      target,
      windowsMs: [1000],
      maxPending: 3,
    });
    for (let i = 1; i <= 5; i++)
      verifier.observe(ev('create', null, { id: 100 + i, name: 'n', email: `${i}@x`, team: 't' }, `${i}`, i));
    expect(verifier.report().changes).toMatchObject({ sampled: 5, dropped: 2, pending: 3 });
    await verifier.drain();
    expect(verifier.report().windows[0]!.checked).toBe(3);
  });

  it('rate-limits reads: 20 key reads at 10/s take about 2 s of (fake) time', async () => {
    const clock = fakeClock(0);
    const target = createEngineTarget({});
    const verifier = verifierOn(clock, {
      target,
      windowsMs: [1],
      ratePerSec: 10,
      concurrency: 4,
    });
    for (let i = 1; i <= 10; i++)
      verifier.observe(ev('create', null, { id: 200 + i, name: 'n', email: `${i}@x`, team: 't' }, `${i}`, 0));
    await verifier.drain();
    const r = verifier.report();
    expect(r.reads.cache).toBe(20); // two own keys per change
    // A burst of 1 token, then 10 per second: at least 1.9 s of waiting.
    expect(r.reads.rateLimitedMs).toBeGreaterThanOrEqual(1900);
    expect(clock.t).toBeGreaterThanOrEqual(1900);
  });

  it('samples by row: with sample 0 nothing is followed', () => {
    const verifier = createVerifier({ config, target: createEngineTarget({}), sample: 0 });
    verifier.observe(ev('create', null, { id: 1, name: 'n', email: 'e', team: 't' }, '1', 0));
    expect(verifier.report().changes).toMatchObject({ seen: 1, sampled: 0 });
  });
});

describe('full mode', () => {
  it('checks every touched row against its newest change and the source; deleted rows must be absent', async () => {
    const target = createEngineTarget({});
    const rows = new Map<string, Row>();
    const a1 = ev('create', null, { id: 1, name: 'a', email: 'a@x', team: 't' }, '10', 0);
    const a2 = ev('update', a1.after, { id: 1, name: 'b', email: 'a@x', team: 't' }, '30', 0);
    const b1 = ev('create', null, { id: 2, name: 'x', email: 'x@x', team: 't' }, '20', 0);
    const b2 = ev('delete', b1.after, null, '40', 0);
    rows.set('users:1', a2.after!);
    // Out of order and duplicated, as a shuffled change log would be.
    const events = [a2, b2, a1, b1, a1];
    await target.apply(planBatch(config, [a1, a2, b1, b2]).ops);
    let r = await verifyFull(events, { config, target, truth: memoryTruth(rows) });
    expect(r.windows[0]).toMatchObject({ checked: 2, consistent: 2, inconsistent: 0, unverified: 0 });
    expect(r.staleKeys).toBe(0);
    // An unfenced late replay of b1 resurrects the deleted row; a stale fill of a1 follows.
    await target.apply([{ kind: 'invalidate', key: 'user:2', version: '1' }]); // fenced: no-op
    const engine = target.engine;
    engine.set('user:2', '{"id":2,"name":"x"}');
    engine.set('user:1', '{"id":1,"name":"a"}');
    r = await verifyFull(events, { config, target, truth: memoryTruth(rows) });
    expect(r.staleKeys).toBe(2);
    expect(r.inconsistencies.map((i) => [i.key, i.expected])).toEqual([
      ['user:1', '{"id":1,"name":"b"}'],
      ['user:2', null],
    ]);
  });
});

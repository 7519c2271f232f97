/**
 * The batch planner against a reference: the straightforward algorithm its invariants describe (one
 * Map of op slots, a fresh dependency list per record), written here without any of the hot path's
 * reuse. Mixed batches (nulls, failures, a key twice, records with one, two and more ops, a truncate
 * barrier, unicode and escaped characters in keys, tags) must plan to the same ops, in the same
 * order, with the same per-record dependencies, versions and key strings.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, Row } from '../../../../core/event/change-event.ts';
import { compareVersions } from '../../../../core/event/version.ts';
import { checkOp } from '../../../../core/plan/check-op.ts';
import { opsForEvent, type Plan, planBatch } from '../../../../core/plan/planner.ts';
import { type CompiledConfig, compileConfig } from '../../../../core/rules/compile.ts';
import { type CacheOp, opSlotName } from '../../../../core/targets/cache-op.ts';

const STRENGTH: Record<CacheOp['kind'], number> = {
  refresh: 0,
  softInvalidate: 1,
  invalidate: 2,
  invalidatePrefix: 2,
  invalidateTag: 2,
};

/** The planner's invariants, spelled out without reuse (the pre-optimisation algorithm). */
function referencePlan(config: CompiledConfig, events: readonly (ChangeEvent | null)[]): Plan {
  const ops: CacheOp[] = [];
  const recordOps: number[][] = [];
  const failures: Plan['failures'] = [];
  let slots = new Map<string, number>();
  let unmatched = 0;
  events.forEach((event, index) => {
    const deps: number[] = [];
    recordOps.push(deps);
    if (event === null) return;
    let produced: CacheOp[];
    try {
      const r = opsForEvent(config, event);
      if (!r.matched) unmatched++;
      produced = r.ops;
      for (const op of produced) checkOp(op);
    } catch (error) {
      failures.push({ index, error: error as Error });
      return;
    }
    for (const op of produced) {
      if (op.kind === 'invalidatePrefix') {
        slots = new Map();
        deps.push(ops.push(op) - 1);
        continue;
      }
      const slot = slots.get(opSlotName(op));
      if (slot === undefined) {
        slots.set(opSlotName(op), ops.push(op) - 1);
        deps.push(ops.length - 1);
        continue;
      }
      const prev = ops[slot]!;
      const c = compareVersions(op.version, prev.version);
      if (c > 0 || (c === 0 && STRENGTH[op.kind] >= STRENGTH[prev.kind])) ops[slot] = op;
      if (!deps.includes(slot)) deps.push(slot);
    }
  });
  return { ops, recordOps, failures, unmatched };
}

const config = compileConfig({
  rules: [
    {
      table: 'users',
      keys: ['user:{id}', { template: 'user:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'email', 'name'], ttl: 60, jitter: 0.1 },
      dependents: ['team:{team}:members'],
      tags: ['org:{org}'],
      truncate: { prefixes: ['user:'] },
    },
    { table: 'audit', keys: ['audit:{id}'], refresh: { ttl: 0 } },
    { table: 'pair', keys: ['pair:{id}', { template: 'pair:{id}:v', action: 'invalidate' }] },
  ],
});

let ts = 0;
function ev(
  op: ChangeEvent['op'],
  table: string,
  version: string,
  after: Row | null,
  before: Row | null = null,
) {
  const row = after ?? before;
  return {
    source: 'debezium',
    table,
    namespace: 'public',
    op,
    key: op === 'truncate' || row === null ? null : { id: row.id! },
    before,
    after,
    version,
    ts: ts++,
  } as ChangeEvent;
}
const user = (id: number | string, email: string, extra: Row = {}): Row => ({
  id,
  email,
  name: 'n',
  team: 't1',
  org: 'o1',
  ...extra,
});

/** Ops as text: key strings byte for byte, values, TTLs, versions, kinds, in order. */
const text = (p: Plan) =>
  JSON.stringify({
    ops: p.ops,
    recordOps: p.recordOps,
    failures: p.failures.map((f) => [f.index, f.error.message]),
    unmatched: p.unmatched,
  });

describe('planBatch against the reference planner', () => {
  const batch: (ChangeEvent | null)[] = [
    null, // not a row change: depends on nothing
    ev('create', 'users', '10', user(1, 'a@x')), // several ops: keys, a dependent, a tag
    ev('update', 'users', '12', user(1, 'b@x'), user(1, 'a@x')), // the same key again, email changed
    ev('update', 'users', '11', user(1, 'b@x'), user(1, 'b@x')), // older: superseded, depends on slot
    ev('create', 'audit', '13', { id: 7 }), // one op only
    ev('create', 'other', '14', { id: 8 }), // no rule: no deps, counted unmatched
    ev('create', 'users', '15', { id: 2 }), // a key field missing: a failure, no deps
    ev('create', 'users', '16', user('ü-☃-"q"\\\n', 'e\u2028@x')), // unicode and escapes in keys
    ev('create', 'users', '17', user('__x', 'c@x', { team: 't2' })),
    ev('truncate', 'users', '18', null), // a barrier
    ev('update', 'users', '19', user(1, 'b@x'), user(1, 'b@x')), // after it: a new slot for user:1
    null,
    ev('delete', 'users', '20', null, user(1, 'b@x')), // same key twice after the barrier
    ev('create', 'audit', '21', { id: 7 }),
    ev('create', 'pair', '22', { id: 1 }), // two ops
    ev('update', 'pair', '23', { id: 1 }, { id: 1 }), // two ops, both slots taken
  ];

  it('plans the same ops, order, dependencies, versions and key strings', () => {
    const got = planBatch(config, batch);
    const want = referencePlan(config, batch);
    expect(text(got)).toBe(text(want));
    // The edges are really in the batch.
    expect(got.recordOps[0]).toEqual([]);
    expect(got.recordOps[5]).toEqual([]);
    expect(got.failures.map((f) => f.index)).toEqual([6]);
    expect(got.recordOps[6]).toEqual([]);
    expect(got.recordOps[4]).toHaveLength(1);
    expect(got.recordOps[14]).toHaveLength(2);
    expect(got.recordOps[15]).toEqual(got.recordOps[14]);
    expect(got.recordOps[1]!.length).toBeGreaterThan(2);
    expect(got.ops.some((o) => o.kind === 'refresh' && o.key === 'user:ü-☃-"q"\\\n')).toBe(true);
    expect(got.ops.some((o) => o.kind === 'invalidate' && o.key === 'user:email:e\u2028@x')).toBe(true);
    const barrier = got.ops.findIndex((o) => o.kind === 'invalidatePrefix');
    expect(got.ops.filter((o, i) => i > barrier && 'key' in o && o.key === 'user:1')).toHaveLength(1);
  });

  it('gives every record its own dependency list (no shared scratch)', () => {
    const got = planBatch(config, batch);
    const lists = got.recordOps;
    expect(new Set(lists).size).toBe(lists.length);
    lists[0]!.push(99);
    expect(lists[11]).toEqual([]);
    expect(planBatch(config, batch).recordOps[0]).toEqual([]);
  });

  it('matches the reference on a longer random batch, with barriers and repeated keys', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const events: (ChangeEvent | null)[] = [];
    for (let i = 0; i < 600; i++) {
      const r = rnd(20);
      const v = String(100 + rnd(400));
      const id = rnd(15);
      if (r === 0) events.push(null);
      else if (r === 1) events.push(ev('truncate', 'users', v, null));
      else if (r < 5) events.push(ev('delete', 'users', v, null, user(id, `${rnd(3)}@x`)));
      else if (r < 7) events.push(ev('create', 'audit', v, { id }));
      else if (r < 9)
        events.push(ev(r === 7 ? 'create' : 'delete', 'pair', v, r === 7 ? { id } : null, { id }));
      else events.push(ev('update', 'users', v, user(id, `${rnd(3)}@x`), user(id, `${rnd(3)}@x`)));
    }
    expect(text(planBatch(config, events))).toBe(text(referencePlan(config, events)));
  });
});

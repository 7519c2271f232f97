/**
 * The planner as a specification: one op per key (highest version wins), truncate barriers, and
 * exactly which ops each record needs acknowledged before its position may be checkpointed.
 */
import { describe, expect, it } from 'vitest';
import { TargetError } from '../../../../core/errors.ts';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import { applyWithRetry } from '../../../../core/pipeline/apply.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { type CacheOp, opSubject } from '../../../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';

const config = compileConfig({
  rules: [
    {
      table: 'users',
      keys: ['user:{id}', 'user:email:{email}'],
      refresh: { fields: ['id', 'email'], ttl: 60 },
    },
  ],
});

let n = 0;
const ev = (
  op: ChangeEvent['op'],
  id: number,
  email: string | null,
  version: string,
  before?: { id: number; email: string },
): ChangeEvent => ({
  source: 'debezium',
  table: 'users',
  namespace: 'public',
  op,
  key: op === 'truncate' ? null : { id },
  before: before ?? (op === 'delete' || op === 'update' ? { id, email: email! } : null),
  after: op === 'delete' || op === 'truncate' ? null : { id, email },
  version,
  ts: n++,
});

describe('planBatch', () => {
  it('keeps one op per key: the highest version wins, wherever it sits in the batch', () => {
    const plan = planBatch(config, [
      ev('create', 1, 'a@x', '10'),
      ev('update', 1, 'a@x', '12'),
      ev('update', 1, 'a@x', '11'),
    ]);
    const user1 = plan.ops.filter((o) => 'key' in o && o.key === 'user:1');
    expect(user1).toHaveLength(1);
    expect(user1[0]).toMatchObject({ kind: 'refresh', version: '12' });
    // Every record depends on the slot that now holds the newest op for its key.
    expect(plan.recordOps[0]).toEqual(plan.recordOps[2]);
  });

  it('at equal versions an invalidate beats a refresh', () => {
    const rules = compileConfig({
      rules: [
        { table: 'users', keys: ['user:{id}'], refresh: {} },
        { table: 'users', keys: ['user:{id}'], action: 'invalidate' },
      ],
    });
    const plan = planBatch(rules, [ev('update', 1, 'a@x', '5')]);
    expect(plan.ops).toEqual([{ kind: 'invalidate', key: 'user:1', version: '5' }]);
  });

  it('a truncate is a barrier: ops after it never merge into slots before it', () => {
    const plan = planBatch(config, [
      ev('create', 1, 'a@x', '10'),
      ev('truncate', 0, null, '11'),
      ev('create', 1, 'a@x', '12'),
    ]);
    expect(plan.ops.map((o) => `${o.kind}:${opSubject(o)}@${o.version}`)).toEqual([
      'refresh:user:1@10',
      'refresh:user:email:a@x@10',
      'invalidatePrefix:user:@11',
      'invalidatePrefix:user:email:@11',
      'refresh:user:1@12',
      'refresh:user:email:a@x@12',
    ]);
    expect(plan.recordOps).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('reports planning failures per record and keeps the others', () => {
    const noEmail = ev('delete', 2, null, '9');
    noEmail.before = { id: 2 } as never;
    const plan = planBatch(config, [
      ev('create', 1, 'a@x', '8'),
      noEmail,
      null,
      ev('create', 3, 'c@x', '10'),
    ]);
    expect(plan.failures.map((f) => f.index)).toEqual([1]);
    expect(plan.failures[0]!.error.message).toMatch(/field "email" is missing/);
    expect(plan.recordOps[1]).toEqual([]);
    expect(plan.recordOps[2]).toEqual([]); // not a row change: nothing to wait for
    expect(plan.ops).toHaveLength(4);
  });

  it('counts events no rule matches', () => {
    const other = { ...ev('create', 1, 'a@x', '1'), table: 'orders' };
    expect(planBatch(config, [other]).unmatched).toBe(1);
  });
});

/** Wraps a real engine target and fails the first `failures` calls, as a target outage would. */
function flaky(inner: CacheTarget, failures: number): CacheTarget & { calls: number } {
  const t = {
    kind: 'flaky',
    calls: 0,
    async apply(ops: readonly CacheOp[]) {
      t.calls++;
      if (t.calls <= failures) throw new TargetError('connection refused');
      return inner.apply(ops);
    },
    get: (k: string) => inner.get(k),
    dump: () => inner.dump(),
    close: () => inner.close(),
  };
  return t;
}

describe('applyWithRetry', () => {
  it('retries retriable failures with backoff until the target confirms', async () => {
    const target = flaky(createEngineTarget(), 3);
    const sleeps: number[] = [];
    const results = await applyWithRetry(
      target,
      [{ kind: 'refresh', key: 'k', value: 'v', ttlMs: 0, version: '1' }],
      {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );
    expect(results).toEqual([{ ok: true, outcome: 'applied' }]);
    expect(target.calls).toBe(4);
    expect(sleeps).toHaveLength(3);
    expect(await target.get('k')).toBe('v');
  });

  it('gives up after the attempts and reports every op unapplied (caller must not advance)', async () => {
    const target = flaky(createEngineTarget(), 100);
    const results = await applyWithRetry(target, [{ kind: 'invalidate', key: 'k', version: '1' }], {
      attempts: 3,
      sleep: async () => {},
    });
    expect(results[0]!.ok).toBe(false);
    expect(target.calls).toBe(3);
  });
});

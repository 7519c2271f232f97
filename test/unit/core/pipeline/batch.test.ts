/**
 * processBatch: per-group checkpoints stop at the first record not applied; dead letters count as
 * done only once sent; groups are independent.
 */
import { describe, expect, it } from 'vitest';
import { splitDocument } from '../../../../core/decode/document.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { type BatchRecord, processBatch, retryCause } from '../../../../core/pipeline/batch.ts';
import type { DeadLetter } from '../../../../core/pipeline/replay.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { type CacheOp, opSubject } from '../../../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { failingFor as failingTarget } from '../../../support/lambda.ts';

const config = compileConfig({ rules: [{ table: 'users', keys: ['user:{id}'], refresh: {} }] });

function kafka(partition: number, offset: number, value: unknown): BatchRecord {
  const [record] = splitDocument({ topic: 'db.public.users', partition, offset, key: null, value });
  return { group: `db.public.users-${partition}`, record: record! };
}
const create = (id: number, lsn: number) => ({
  op: 'c',
  after: { id, n: id },
  source: { connector: 'postgresql', table: 'users', schema: 'public', lsn },
});

/** A real engine target that refuses ops for chosen keys (as a server error would; an outage when `retriable`). */
const failingFor = (keys: Set<string>, retriable = false): CacheTarget =>
  failingTarget(keys, createEngineTarget(), retriable);

describe('processBatch', () => {
  it('marks every group done when the target confirms every op', async () => {
    const target = createEngineTarget();
    const out = await processBatch(
      [kafka(0, 1, create(1, 10)), kafka(1, 1, create(2, 11)), kafka(0, 2, null)],
      {
        config,
        target,
        deadLetter: async () => {},
      },
    );
    expect([...out.firstUnfinished]).toEqual([
      ['db.public.users-0', -1],
      ['db.public.users-1', -1],
    ]);
    expect(out.skipped).toBe(1);
    expect(await target.get('user:2')).toBe('{"id":2,"n":2}');
  });

  it('stops a group at its first unapplied record; other groups go on', async () => {
    const out = await processBatch(
      [
        kafka(0, 1, create(1, 10)),
        kafka(0, 2, create(2, 11)),
        kafka(0, 3, create(3, 12)),
        kafka(1, 7, create(4, 13)),
      ],
      {
        config,
        target: failingFor(new Set(['user:2']), true),
        deadLetter: async () => {},
        retry: { attempts: 1 },
      },
    );
    expect(out.firstUnfinished.get('db.public.users-0')).toBe(1);
    expect(out.firstUnfinished.get('db.public.users-1')).toBe(-1);
    expect(out.targetError?.message).toMatch(/refused user:2/);
  });

  it('a permanent rejection (retriable: false) is a dead letter and the group moves on (issue 14, item 8)', async () => {
    const sent: DeadLetter[] = [];
    const out = await processBatch(
      [kafka(0, 1, create(1, 10)), kafka(0, 2, create(2, 11)), kafka(0, 3, create(3, 12))],
      {
        config,
        target: failingFor(new Set(['user:2'])),
        deadLetter: async (d) => void sent.push(d),
        retry: { attempts: 3 },
      },
    );
    expect(out.firstUnfinished.get('db.public.users-0')).toBe(-1);
    expect(out.targetError).toBeUndefined();
    expect(out.deadLetters).toBe(1);
    expect(sent).toEqual([
      expect.objectContaining({
        position: 'db.public.users/0@2',
        code: 'E_REJECTED',
        reason: 'the target refused it permanently: refused user:2',
      }),
    ]);
  });

  it("a dead letter after its group's first undone record is sent only once the group gets there (no duplicates)", async () => {
    const sent: DeadLetter[] = [];
    const records = [
      kafka(0, 1, create(2, 10)),
      kafka(0, 2, { op: 'zz', source: { lsn: 11, table: 'users' } }),
      kafka(1, 5, { op: 'zz', source: { lsn: 12, table: 'users' } }),
    ];
    const options = {
      config,
      deadLetter: async (d: DeadLetter) => void sent.push(d),
      retry: { attempts: 1 },
    };
    const down = await processBatch(records, { ...options, target: failingFor(new Set(['user:2']), true) });
    expect(down.firstUnfinished.get('db.public.users-0')).toBe(0);
    expect(down.firstUnfinished.get('db.public.users-1')).toBe(-1);
    expect(sent.map((d) => d.position)).toEqual(['db.public.users/1@5']); // the other group goes on
    const back = await processBatch(records.slice(0, 2), { ...options, target: createEngineTarget() });
    expect(back.firstUnfinished.get('db.public.users-0')).toBe(-1);
    expect(sent.map((d) => d.position)).toEqual(['db.public.users/1@5', 'db.public.users/0@2']);
  });

  it('a key rendering into __cdc:, an over-long version and an object key field are dead letters before any target sees them', async () => {
    const sent: DeadLetter[] = [];
    const applied: CacheOp[] = [];
    const inner = createEngineTarget();
    const spy: CacheTarget = {
      ...inner,
      apply: (ops) => {
        applied.push(...ops);
        return inner.apply(ops);
      },
    };
    const byName = compileConfig({ rules: [{ table: 'users', keys: ['{name}'], refresh: {} }] });
    const user = (id: number, name: unknown, lsn: string | number) => ({
      op: 'c',
      after: { id, name },
      source: { connector: 'postgresql', table: 'users', schema: 'public', lsn },
    });
    const [reserved, big, object, fine] = [
      kafka(0, 1, user(1, '__cdc:v:{user:9}', 10)),
      {
        group: 'db.public.users-0',
        record: splitDocument(
          parseExactJson(
            `{"topic":"db.public.users","partition":0,"offset":2,"key":null,"value":{"op":"c","after":{"id":2,"name":"b"},"source":{"connector":"postgresql","table":"users","schema":"public","lsn":${'9'.repeat(100)}}}}`,
          ),
        )[0]!,
      },
      kafka(0, 3, user(3, { x: 1 }, 12)),
      kafka(0, 4, user(4, 'd', 13)),
    ];
    const out = await processBatch([reserved, big, object, fine], {
      config: byName,
      target: spy,
      deadLetter: async (d) => void sent.push(d),
    });
    expect(out.firstUnfinished.get('db.public.users-0')).toBe(-1);
    expect(sent.map((d) => [d.position, d.code])).toEqual([
      ['db.public.users/0@1', 'E_RESERVED_KEY'],
      ['db.public.users/0@2', 'E_BAD_VERSION'],
      ['db.public.users/0@3', 'E_TEMPLATE_FIELD'],
    ]);
    expect(sent[0]!.reason).toMatch(/key "__cdc:v:\{user:9\}" starts with the reserved prefix __cdc:/);
    expect(sent[1]!.reason).toMatch(/has a component longer than 99 digits/);
    expect(sent[2]!.reason).toMatch(/field "name" is an object or array, not a scalar/);
    expect(applied.map((o) => opSubject(o))).toEqual(['d']);
  });

  it('dead-letters a poison record with its position and moves on; an unsent dead letter is not done', async () => {
    const sent: DeadLetter[] = [];
    const records = [
      kafka(0, 1, create(1, 10)),
      kafka(0, 2, { op: 'zz', source: { lsn: 1, table: 'users' } }),
      kafka(0, 3, create(3, 12)),
    ];
    const ok = await processBatch(records, {
      config,
      target: createEngineTarget(),
      deadLetter: async (d) => void sent.push(d),
    });
    expect(ok.firstUnfinished.get('db.public.users-0')).toBe(-1);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ position: 'db.public.users/0@2', code: 'E_UNKNOWN_OP' });
    const failing = await processBatch(records, {
      config,
      target: createEngineTarget(),
      deadLetter: async () => {
        throw new Error('DLQ down');
      },
    });
    expect(failing.firstUnfinished.get('db.public.users-0')).toBe(1);
    // The retry names the dead-letter destination and its error, not the target (which is fine).
    expect(failing.targetError).toBeUndefined();
    expect((failing.deadLetterError as Error).message).toBe('DLQ down');
    expect(retryCause(failing)).toEqual({
      message: 'dead-letter destination not storing; retrying',
      error: failing.deadLetterError,
    });
    expect(ok.deadLetterError).toBeUndefined();
    expect(retryCause(ok).message).toBe('target not acknowledging; retrying');
  });
});

describe('replayChangeLogs (on prepareBatch/settleBatch)', () => {
  const line = (offset: number, value: unknown) =>
    JSON.stringify({ topic: 'db.public.users', partition: 0, offset, key: null, value });

  async function changeLog(lines: string[]): Promise<string> {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(await mkdtemp(join(tmpdir(), 'cdc-replay-')), 'log.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('dead-letters bad lines, poison records and records the target refuses for good, in file order; the rest applies', async () => {
    const { replayChangeLogs } = await import('../../../../core/pipeline/replay.ts');
    const file = await changeLog([
      line(0, create(1, 10)),
      '{not json',
      line(2, { op: 'u', after: null, source: { connector: 'postgresql', table: 'users', lsn: 11 } }),
      line(3, create(2, 12)),
      line(4, create(3, 13)),
    ]);
    const target = failingFor(new Set(['user:2']));
    const dead: DeadLetter[] = [];
    const summary = await replayChangeLogs([file], {
      config,
      target,
      batchSize: 2,
      retry: { attempts: 1 },
      onDeadLetter: (d) => void dead.push(d),
    });
    expect(dead.map((d) => d.position.replace(/^.*log\.jsonl/, 'log'))).toEqual([
      'log:2',
      'db.public.users/0@2',
      'db.public.users/0@3',
    ]);
    expect(dead[2]).toMatchObject({
      code: 'E_REJECTED',
      reason: 'the target refused it permanently: refused user:2',
    });
    expect(summary).toMatchObject({ lines: 5, records: 4, events: 4, applied: 2, failed: 1, deadLetters: 3 });
    expect(await target.dump()).toEqual({ 'user:1': '{"id":1,"n":1}', 'user:3': '{"id":3,"n":3}' });
  });

  it('a target that stays down ends the replay with one target error, never dead letters (issue 14, item 7)', async () => {
    const { replayChangeLogs, TargetUnavailableError } = await import('../../../../core/pipeline/replay.ts');
    const file = await changeLog([line(0, create(1, 10)), line(1, create(2, 11))]);
    const dead: DeadLetter[] = [];
    const run = replayChangeLogs([file], {
      config,
      target: failingFor(new Set(['user:2']), true),
      retry: { attempts: 2, baseDelayMs: 1 },
      onDeadLetter: (d) => void dead.push(d),
    });
    await expect(run).rejects.toBeInstanceOf(TargetUnavailableError);
    await expect(run).rejects.toThrow('the target failed: refused user:2');
    expect(dead).toEqual([]);
  });

  it('without a target plans every batch and applies nothing (dry run)', async () => {
    const { replayChangeLogs } = await import('../../../../core/pipeline/replay.ts');
    const file = await changeLog([line(0, create(1, 10)), line(1, create(1, 11)), line(2, create(2, 12))]);
    const planned: string[] = [];
    const summary = await replayChangeLogs([file], {
      config,
      onPlan: (ops) => planned.push(...ops.map((o) => `${o.kind} ${opSubject(o)} ${o.version}`)),
    });
    expect(planned).toHaveLength(2);
    expect(planned[0]).toMatch(/^refresh user:1 /);
    expect(summary).toMatchObject({ events: 3, applied: 0, failed: 0, ops: { refresh: 2, invalidate: 0 } });
  });
});

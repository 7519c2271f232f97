/**
 * Balanced shard leases: three DynamoDB pollers over one stream of 18 open shards (DynamoDB Local
 * gives a table one shard and never splits it, so the stream is the in-memory StreamsPort of
 * test/support/shard-balance-harness.ts). Leases
 * live in the real in-process engine (the `target` lease store), records are applied to it too.
 * Time is vitest's fake clock (the engine reads it through a Date.now clock), so "within two lease
 * periods" is virtual time, never a wall-clock assertion.
 *
 * Checked: balanced (6/6/6, or 9/9 with two workers) within two lease periods of a join, a clean
 * leave (stop: leases released at once) and a crash (a frozen worker: its leases expire); every
 * record applied (nothing lost); and from the history of applies and lease grants, no shard applied
 * by two workers at once — each grant of a shard yields at most one contiguous run of applies.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fairShare, planBalance } from '../../../../consumers/dynamodb/lease-balancer.ts';
import { createTargetLeaseStore } from '../../../../consumers/dynamodb/target-lease-store.ts';
import { createEngineTarget, type EngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { createEngine } from '../../../../engine/engine.ts';
import { createBalanceHarness, HARNESS_ARN } from '../../../support/shard-balance-harness.ts';

const SHARDS = 18;
const TTL = 3000;
const RESCAN = 1000;

describe('balanced shard leases (3 workers, 18 shards, fake clock)', () => {
  let target: EngineTarget;
  let h: ReturnType<typeof createBalanceHarness>;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    // The engine reads the fake clock, so lease TTLs follow it.
    const engine = createEngine({
      clock: {
        now: () => Date.now(),
        setTimer(fn, ms) {
          const t = setTimeout(fn, ms);
          return () => clearTimeout(t);
        },
      },
    });
    target = createEngineTarget({ engine });
    h = createBalanceHarness({
      shards: SHARDS,
      leaseTtlMs: TTL,
      rescanMs: RESCAN,
      target,
      leasesFor: () => createTargetLeaseStore(target, HARNESS_ARN),
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const counts = () => h.counts(createTargetLeaseStore(target, HARNESS_ARN));

  /** Advances the fake clock by `ms` in small steps, writing a round of records every second. */
  async function run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 250) {
      if (t % 1000 === 0) h.writeRound();
      await vi.advanceTimersByTimeAsync(250);
    }
  }

  it('balances within two lease periods of a join, a clean leave and a crash, losing nothing', async () => {
    const a = await h.startWorker('a');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 18 });

    // Join: b and c start; a gives its excess away, the newcomers take it.
    const b = await h.startWorker('b');
    const c = await h.startWorker('c');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 6, b: 6, c: 6 });

    // Clean leave (SIGTERM): c checkpoints, releases its leases and its heartbeat at once.
    const stopped = c.poller.stop();
    await run(2 * TTL);
    await stopped;
    expect(await counts()).toEqual({ a: 9, b: 9 });
    expect(c.poller.state.leased).toBe(0);

    // A third worker joins again, then b crashes (frozen: no renewals, no releases).
    const d = await h.startWorker('d');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 6, b: 6, d: 6 });
    b.freeze();
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 9, d: 9 });

    // Drain: every record written is in the cache.
    await run(2 * TTL);
    expect(await h.missing()).toEqual([]);
    h.assertNoOverlap();
    // The progress line the Fargate construct's iterator-age metric filter reads.
    expect(h.progress.filter((p) => p.worker === 'a').at(-1)).toMatchObject({
      table: 't',
      shards: 9,
      workers: 2,
      iteratorAgeSeconds: expect.any(Number),
    });

    const stops = [a.poller.stop(), d.poller.stop()];
    await run(2 * TTL);
    await Promise.all(stops);
    expect(await counts()).toEqual({});
  });

  it('a worker that does not give its excess away loses one lease per lease period to steals', async () => {
    // "greedy" reads all 18 and never gives any away: it believes it is alone (a stale view).
    const greedy = await h.startWorker('greedy', true);
    await run(2 * TTL);
    expect(await counts()).toEqual({ greedy: 18 });
    const w = await h.startWorker('w');
    await run(TTL + RESCAN);
    const first = (await counts()).w ?? 0;
    await run(3 * TTL);
    const later = (await counts()).w ?? 0;
    // One steal per lease period: at least one, and never more than the periods that passed + 1.
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(2);
    expect(later).toBeGreaterThan(first);
    expect(later).toBeLessThanOrEqual(first + 4);
    expect(w.poller.state.stolen).toBe(later);
    await run(2 * TTL);
    expect(await h.missing()).toEqual([]);
    h.assertNoOverlap();
    const stops = [w.poller.stop(), greedy.poller.stop()];
    await run(2 * TTL);
    await Promise.all(stops);
  });
});

describe('planBalance', () => {
  const ready = Array.from({ length: 16 }, (_, i) => `s${i}`);
  const held = (owner: string, ids: string[]) => new Map(ids.map((id) => [id, owner]));

  it('fair share is floor/ceil of shards over workers', () => {
    expect(fairShare(16, 3)).toEqual({ floor: 5, ceil: 6 });
    expect(fairShare(2, 3)).toEqual({ floor: 0, ceil: 1 });
    expect(fairShare(5, 0)).toEqual({ floor: 5, ceil: 5 });
  });

  it('a worker above ceil sheds its excess; a newcomer takes up to floor while another is starved', () => {
    const shed = planBalance({
      self: 'a',
      workers: ['a', 'b', 'c'],
      ready,
      holders: held('a', ready),
      mine: new Set(ready),
      maxShards: 64,
      maySteal: true,
    });
    expect(shed.shed).toHaveLength(10);
    expect(shed.take).toEqual([]);
    const take = planBalance({
      self: 'b',
      workers: ['a', 'b', 'c'],
      ready,
      holders: held('a', ready.slice(0, 6)),
      mine: new Set(),
      maxShards: 64,
      maySteal: true,
    });
    expect(take.want).toBe(5);
    expect(take.take).toEqual(ready.slice(6));
  });

  it('steals from the most loaded only when nothing is free and it is two or more ahead', () => {
    const holders = new Map([
      ...held('a', ready.slice(0, 8)),
      ...held('b', ready.slice(8, 14)),
      ...held('c', ready.slice(14)),
    ]);
    const p = planBalance({
      self: 'c',
      workers: ['a', 'b', 'c'],
      ready,
      holders,
      mine: new Set(ready.slice(14)),
      maxShards: 64,
      maySteal: true,
    });
    expect(p.steal).toEqual({ shardId: 's7', from: 'a' });
    expect(
      planBalance({
        self: 'c',
        workers: ['a', 'b', 'c'],
        ready,
        holders,
        mine: new Set(ready.slice(14)),
        maxShards: 64,
        maySteal: false,
      }).steal,
    ).toBeUndefined();
    const even = new Map([
      ...held('a', ready.slice(0, 6)),
      ...held('b', ready.slice(6, 11)),
      ...held('c', ready.slice(11)),
    ]);
    expect(
      planBalance({
        self: 'c',
        workers: ['a', 'b', 'c'],
        ready,
        holders: even,
        mine: new Set(ready.slice(11)),
        maxShards: 64,
        maySteal: true,
      }),
    ).toEqual({ take: [], want: 0, shed: [] });
  });
});

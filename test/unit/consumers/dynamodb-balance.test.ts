/**
 * Balanced shard leases: three DynamoDB pollers over one stream of 18 open shards (DynamoDB Local
 * gives a table one shard and never splits it, so the stream is an in-memory StreamsPort whose
 * records have the GetRecords shape of test/fixtures/dynamodb/getrecords-response-cli.json). Leases
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
import { createDynamoDbPoller, type DynamoDbPoller } from '../../../consumers/dynamodb/dynamodb-poller.ts';
import { fairShare, planBalance } from '../../../consumers/dynamodb/lease-balancer.ts';
import type { LeaseStore } from '../../../consumers/dynamodb/lease-store.ts';
import {
  type IteratorStart,
  StreamsErrorKind,
  type StreamsPort,
} from '../../../consumers/dynamodb/streams-port.ts';
import { createTargetLeaseStore } from '../../../consumers/dynamodb/target-lease-store.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { type Logger, silentLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../core/target/cache-target.ts';
import { createEngineTarget, type EngineTarget } from '../../../core/target/engine-target.ts';
import { createEngine } from '../../../engine/engine.ts';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000';
const SHARDS = 18;
const TTL = 3000;
const RESCAN = 1000;
let seq = 1000;

function insert(pk: string): unknown {
  seq += 10;
  return {
    eventID: `e${seq}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: new Date(),
      Keys: { pk: { S: pk } },
      NewImage: { pk: { S: pk } },
      SequenceNumber: String(seq),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The history every worker appends to: applies (by shard) and lease grants. */
interface HistoryEvent {
  worker: string;
  shard: string;
  kind: 'apply' | 'grant';
}

/** An in-memory stream of open shards; iterators are `shardId@index`. */
function fakeStream(records: Map<string, unknown[]>, frozen: () => boolean): StreamsPort {
  const never = new Promise<never>(() => {});
  return {
    async describeStream() {
      if (frozen()) return never;
      return { status: 'ENABLED', shards: [...records.keys()].map((shardId) => ({ shardId })) };
    },
    async getShardIterator(_arn, shardId, start: IteratorStart) {
      if (frozen()) return never;
      const list = records.get(shardId)!;
      let at = 0;
      if (start.type === 'LATEST') at = list.length;
      else if (start.type === 'AFTER_SEQUENCE_NUMBER' || start.type === 'AT_SEQUENCE_NUMBER') {
        const i = list.findIndex(
          (r) =>
            (r as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber === start.sequenceNumber,
        );
        at = start.type === 'AFTER_SEQUENCE_NUMBER' ? i + 1 : i;
      }
      return `${shardId}@${at}`;
    },
    async getRecords(iterator, limit) {
      if (frozen()) return never;
      const [shardId, at] = iterator.split('@') as [string, string];
      const from = Number(at);
      const page = records.get(shardId)!.slice(from, from + limit);
      return { records: page, nextIterator: `${shardId}@${from + page.length}` };
    },
    async latestStreamArn() {
      return ARN;
    },
    kindOf() {
      return StreamsErrorKind.Other;
    },
  };
}

const config = compileConfig({
  defaults: { ttl: 0 },
  rules: [{ table: 't', source: 'dynamodb', keys: ['item:{pk}'], refresh: {} }],
});

interface TestWorker {
  id: string;
  poller: DynamoDbPoller;
  freeze(): void;
}

describe('balanced shard leases (3 workers, 18 shards, fake clock)', () => {
  let engine: ReturnType<typeof createEngine>;
  let target: EngineTarget;
  let records: Map<string, unknown[]>;
  let history: HistoryEvent[];
  let written: string[];
  /** `stream progress` lines logged by every worker. */
  let progress: Record<string, unknown>[];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    engine = createEngine({
      clock: {
        now: () => Date.now(),
        setTimer(fn, ms) {
          const t = setTimeout(fn, ms);
          return () => clearTimeout(t);
        },
      },
    });
    target = createEngineTarget({ engine });
    records = new Map();
    for (let i = 0; i < SHARDS; i++) records.set(`shard-${String(i).padStart(2, '0')}`, []);
    history = [];
    written = [];
    progress = [];
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Writes one record to every shard. */
  function writeRound(round: number): void {
    for (const [shardId, list] of records) {
      const pk = `${shardId}/${round}`;
      list.push(insert(pk));
      written.push(pk);
    }
  }

  /** `soloView`: the worker sees no other live worker (a stale view), so it never sheds. */
  function startWorker(id: string, soloView = false): TestWorker {
    let frozen = false;
    const never = new Promise<never>(() => {});
    const inner = createTargetLeaseStore(target, ARN);
    const leases: LeaseStore = {
      ...inner,
      acquire: async (shard, owner, ttl) => {
        if (frozen) return never;
        const ok = await inner.acquire(shard, owner, ttl);
        if (ok) history.push({ worker: id, shard, kind: 'grant' });
        return ok;
      },
      steal: async (shard, from, owner, ttl) => {
        if (frozen) return never;
        const ok = await inner.steal(shard, from, owner, ttl);
        if (ok) history.push({ worker: id, shard, kind: 'grant' });
        return ok;
      },
      renew: async (...a) => (frozen ? never : inner.renew(...a)),
      heartbeat: async (...a) => (frozen ? never : inner.heartbeat(...a)),
      liveWorkers: async () => (soloView ? [id] : inner.liveWorkers()),
      setCheckpoint: async (...a) => (frozen ? never : inner.setCheckpoint(...a)),
      release: async (...a) => (frozen ? never : inner.release(...a)),
    };
    const recording: CacheTarget = {
      kind: 'engine',
      async apply(ops) {
        if (frozen) return never;
        for (const op of ops) {
          const key = 'key' in op ? op.key : op.prefix;
          const shard = key.slice('item:'.length).split('/')[0]!;
          history.push({ worker: id, shard, kind: 'apply' });
        }
        return target.apply(ops);
      },
      get: (k) => target.get(k),
      close: async () => {},
    } as CacheTarget;
    const poller = createDynamoDbPoller({
      streams: fakeStream(records, () => frozen),
      streamArn: ARN,
      table: 't',
      startPosition: 'TRIM_HORIZON',
      leases,
      workerId: id,
      leaseTtlMs: TTL,
      rescanMs: RESCAN,
      config,
      target: recording,
      deadLetter: async (d) => {
        throw new Error(`unexpected dead letter: ${d.reason}`);
      },
      metrics: createConsumerMetrics(),
      logger: progressLogger(id),
      progressLogMs: 2 * TTL,
      polling: { minIdleMs: 100, maxIdleMs: 200 },
    });
    void poller.start();
    return {
      id,
      poller,
      freeze: () => {
        frozen = true;
      },
    };
  }

  function progressLogger(worker: string): Logger {
    return {
      ...silentLogger,
      info(msg, fields) {
        if (msg === 'stream progress') progress.push({ worker, ...fields });
      },
    };
  }

  async function counts(): Promise<Record<string, number>> {
    const holders = await createTargetLeaseStore(target, ARN).holders([...records.keys()]);
    const out: Record<string, number> = {};
    for (const owner of holders.values()) out[owner] = (out[owner] ?? 0) + 1;
    return out;
  }

  /** Advances the fake clock by `ms` in small steps, writing a round of records now and then. */
  let round = 0;
  async function run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 250) {
      if (t % 1000 === 0) writeRound(round++);
      await vi.advanceTimersByTimeAsync(250);
    }
  }

  /** Every shard's applies come in at most one contiguous run per lease grant of that shard. */
  function assertNoOverlap(): void {
    for (const shard of records.keys()) {
      const events = history.filter((e) => e.shard === shard);
      const grants = events.filter((e) => e.kind === 'grant').length;
      let runs = 0;
      let last: string | undefined;
      for (const e of events)
        if (e.kind === 'apply' && e.worker !== last) {
          runs++;
          last = e.worker;
        }
      expect(runs, `${shard}: ${runs} runs of applies for ${grants} grants`).toBeLessThanOrEqual(grants);
    }
  }

  async function assertAllApplied(): Promise<void> {
    const missing: string[] = [];
    for (const pk of written) if ((await target.get(`item:${pk}`)) === null) missing.push(pk);
    expect(missing).toEqual([]);
  }

  it('balances within two lease periods of a join, a clean leave and a crash, losing nothing', async () => {
    const a = startWorker('a');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 18 });

    // Join: b and c start; a gives its excess away, the newcomers take it.
    const b = startWorker('b');
    const c = startWorker('c');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 6, b: 6, c: 6 });

    // Clean leave (SIGTERM): c checkpoints, releases its leases and its heartbeat at once.
    const stopped = c.poller.stop();
    await run(2 * TTL);
    await stopped;
    expect(await counts()).toEqual({ a: 9, b: 9 });
    expect(c.poller.state.leased).toBe(0);

    // A third worker joins again, then b crashes (frozen: no renewals, no releases).
    const d = startWorker('d');
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 6, b: 6, d: 6 });
    b.freeze();
    await run(2 * TTL);
    expect(await counts()).toEqual({ a: 9, d: 9 });

    // Drain: every record written is in the cache.
    await run(2 * TTL);
    await assertAllApplied();
    assertNoOverlap();
    // The progress line the Fargate construct's iterator-age metric filter reads.
    expect(progress.filter((p) => p.worker === 'a').at(-1)).toMatchObject({
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
    const greedy = startWorker('greedy', true);
    await run(2 * TTL);
    expect(await counts()).toEqual({ greedy: 18 });
    const w = startWorker('w');
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
    await assertAllApplied();
    assertNoOverlap();
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

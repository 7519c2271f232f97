/**
 * A harness for balancing tests: an in-memory DynamoDB stream of many open shards (DynamoDB Local
 * gives a table one shard and never splits it), records in the GetRecords shape of
 * test/fixtures/dynamodb/getrecords-response-cli.json, and pollers whose lease store and target are
 * wrapped to record a shared history (lease grants, applies by shard) and to freeze (a SIGKILLed
 * process: no call of it ever completes again).
 */
import { expect } from 'vitest';
import { createDynamoDbPoller, type DynamoDbPoller } from '../../consumers/dynamodb/dynamodb-poller.ts';
import {
  type IteratorStart,
  StreamsErrorKind,
  type StreamsPort,
} from '../../consumers/dynamodb/streams-port.ts';
import { createConsumerMetrics } from '../../consumers/runtime/consumer-metrics.ts';
import { type Logger, silentLogger } from '../../consumers/runtime/logger.ts';
import { compileConfig } from '../../core/rules/compile.ts';
import { opSubject } from '../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';

/** The stream ARN the harness's shards belong to. */
export const HARNESS_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000';

let seq = 1000;

/** A GetRecords record (INSERT) of item `pk`. */
export function insertRecord(pk: string): unknown {
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

const never = new Promise<never>(() => {});

/** An in-memory stream of open shards; iterators are `shardId@index`. */
function fakeStream(records: Map<string, unknown[]>, frozen: () => boolean, arn: string): StreamsPort {
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
      return arn;
    },
    kindOf() {
      return StreamsErrorKind.Other;
    },
  };
}

/** One event of the shared history. */
export interface HistoryEvent {
  worker: string;
  shard: string;
  kind: 'apply' | 'grant';
}

/** A poller of the harness. */
export interface HarnessWorker {
  id: string;
  poller: DynamoDbPoller;
  /** From now on no call of this worker completes (a SIGKILLed process). */
  freeze(): void;
}

/** Options of {@link createBalanceHarness}. */
export interface BalanceHarnessOptions {
  shards: number;
  leaseTtlMs: number;
  rescanMs: number;
  /** Where every record is applied. */
  target: CacheTarget;
  /** A lease store view for worker `id` (one per worker, as in separate processes). */
  leasesFor(id: string): ShardLeaseStore | Promise<ShardLeaseStore>;
  /** @default HARNESS_ARN */
  streamArn?: string;
}

const config = compileConfig({
  defaults: { ttl: 0 },
  rules: [{ table: 't', source: 'dynamodb', keys: ['item:{pk}'], refresh: {} }],
});

/** Builds the stream, the history and a way to start workers. */
export function createBalanceHarness(o: BalanceHarnessOptions) {
  const records = new Map<string, unknown[]>();
  for (let i = 0; i < o.shards; i++) records.set(`shard-${String(i).padStart(2, '0')}`, []);
  const history: HistoryEvent[] = [];
  const written: string[] = [];
  const progress: Record<string, unknown>[] = [];
  let round = 0;

  return {
    records,
    history,
    progress,
    /** Writes one record to every shard. */
    writeRound(): void {
      const r = round++;
      for (const [shardId, list] of records) {
        const pk = `${shardId}/${r}`;
        list.push(insertRecord(pk));
        written.push(pk);
      }
    },

    /** `soloView`: the worker sees no other live worker (a stale view), so it never sheds. */
    async startWorker(id: string, soloView = false): Promise<HarnessWorker> {
      let frozen = false;
      const inner = await o.leasesFor(id);
      const leases: ShardLeaseStore = {
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
        liveWorkers: async () => (frozen ? never : soloView ? [id] : inner.liveWorkers()),
        holders: async (...a) => (frozen ? never : inner.holders(...a)),
        setCheckpoint: async (...a) => (frozen ? never : inner.setCheckpoint(...a)),
        release: async (...a) => (frozen ? never : inner.release(...a)),
      };
      const recording: CacheTarget = {
        ...o.target,
        kind: o.target.kind,
        async apply(ops) {
          if (frozen) return never;
          for (const op of ops) {
            const key = opSubject(op);
            history.push({ worker: id, shard: key.slice('item:'.length).split('/')[0]!, kind: 'apply' });
          }
          return o.target.apply(ops);
        },
      };
      const logger: Logger = {
        ...silentLogger,
        info(msg, fields) {
          if (msg === 'stream progress') progress.push({ worker: id, ...fields });
        },
      };
      const poller = createDynamoDbPoller({
        streams: fakeStream(records, () => frozen, o.streamArn ?? HARNESS_ARN),
        streamArn: o.streamArn ?? HARNESS_ARN,
        table: 't',
        startPosition: 'TRIM_HORIZON',
        leases,
        workerId: id,
        leaseTtlMs: o.leaseTtlMs,
        rescanMs: o.rescanMs,
        progressLogMs: 2 * o.leaseTtlMs,
        config,
        target: recording,
        deadLetter: async (d) => {
          throw new Error(`unexpected dead letter: ${d.reason}`);
        },
        metrics: createConsumerMetrics(),
        logger,
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
    },

    /** Leases held per worker, as `view` sees them. */
    async counts(view: ShardLeaseStore): Promise<Record<string, number>> {
      const holders = await view.holders([...records.keys()]);
      const out: Record<string, number> = {};
      for (const owner of holders.values()) out[owner] = (out[owner] ?? 0) + 1;
      return out;
    },

    /** Every shard's applies come in at most one contiguous run per lease grant of that shard. */
    assertNoOverlap(): void {
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
    },

    /** Keys of written records missing from `target`. */
    async missing(): Promise<string[]> {
      const out: string[] = [];
      for (const pk of written) if ((await o.target.get(`item:${pk}`)) === null) out.push(pk);
      return out;
    },
  };
}

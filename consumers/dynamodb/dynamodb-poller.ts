/**
 * The DynamoDB Streams poller: discovers shards (DescribeStream, paginated), and every `rescanMs`
 * beats its heartbeat, looks at the live workers and the leases of the ready shards (parents
 * finished), and balances (lease-balancer.ts): takes free and expired leases up to its fair share,
 * gives away leases above it (the reader stops at a page boundary, checkpointed, then the lease is
 * released), and steals one lease per lease period from the most loaded worker when below it.
 * Each leased shard is read by a shard reader. Several workers with the same lease store share a
 * stream; each shard is read by one worker at a time.
 *
 * A stolen shard's reader waits one lease TTL before reading (renewing meanwhile): the victim
 * renews every third of a TTL and checks its lease before applying each page, so by then it has
 * seen the loss and stopped, and the thief starts from the victim's last checkpoint. On stop the
 * readers end (checkpointed), their leases are released and the heartbeat removed at once.
 */
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';
import { planBalance } from './lease-balancer.ts';
import { readyShards } from './shard-lineage.ts';
import { readShard, type ShardPipelineOptions } from './shard-reader.ts';
import { describeAllShards, type StreamShard, type StreamsPort } from './streams-port.ts';

/** Options of {@link createDynamoDbPoller}. */
export interface DynamoDbPollerOptions extends ShardPipelineOptions {
  streams: StreamsPort;
  /** The stream, or a table whose newest stream to read. */
  streamArn?: string;
  table?: string;
  startPosition: 'TRIM_HORIZON' | 'LATEST';
  /**
   * The lease/checkpoint store, or a function building it once the stream ARN is known (a store in
   * the target scopes its keys by the ARN, which `table` alone only gives after a lookup).
   */
  leases: ShardLeaseStore | ((streamArn: string) => ShardLeaseStore | Promise<ShardLeaseStore>);
  workerId: string;
  /** @default 10000 */
  leaseTtlMs?: number;
  /** Shards this worker reads at once. @default 64 */
  maxShards?: number;
  /** @default 1000 */
  limit?: number;
  /** How often to look for new shards, free leases and balance, ms. @default min(5000, leaseTtlMs / 2) */
  rescanMs?: number;
  /**
   * How often to log `stream progress` (shards held, live workers, the largest iterator age of this
   * worker's shards): the line the Fargate construct's iterator-age metric filter reads. 0 = never.
   * @default 60000
   */
  progressLogMs?: number;
}

/** Counters for progress and readiness. */
export interface DynamoDbPollerState {
  records: number;
  deadLetters: number;
  /** Shards this worker reads now. */
  leased: number;
  /** Live workers seen at the last scan (this one included). */
  workers: number;
  /** Leases this worker took from others / gave away to balance. */
  stolen: number;
  shed: number;
  /** Set once the stream was found and described. */
  streamArn: string | null;
  lastScanError: Error | null;
}

/** A running poller. */
export interface DynamoDbPoller {
  readonly state: DynamoDbPollerState;
  start(): Promise<void>;
  /** Stops reading; every reader finishes its current page (checkpointing what was acknowledged). */
  stop(): Promise<void>;
}

/** Creates the poller (not started). */
export function createDynamoDbPoller(o: DynamoDbPollerOptions): DynamoDbPoller {
  const leaseTtlMs = o.leaseTtlMs ?? 10_000;
  const state: DynamoDbPollerState = {
    records: 0,
    deadLetters: 0,
    leased: 0,
    workers: 0,
    stolen: 0,
    shed: 0,
    streamArn: null,
    lastScanError: null,
  };
  const rescanMs = o.rescanMs ?? Math.min(5000, leaseTtlMs / 2);
  // A heartbeat outlives two scans, so a slow scan never makes a live worker look gone.
  const heartbeatTtlMs = Math.max(leaseTtlMs, 2 * rescanMs);
  const readers = new Map<string, Promise<void>>();
  /** Iterator age of each shard this worker reads, seconds. */
  const ages = new Map<string, number>();
  let lastProgressLog = Date.now();
  /** Shards whose reader stops to give the lease away (over the fair share). */
  const shedding = new Set<string>();
  let lastSteal = Number.NEGATIVE_INFINITY;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function resolveArn(): Promise<string> {
    if (o.streamArn !== undefined) return o.streamArn;
    if (o.table === undefined) throw new Error('dynamodb: give streamArn or table');
    const arn = await o.streams.latestStreamArn(o.table);
    if (arn === undefined) throw new Error(`dynamodb: table ${o.table} has no stream (enable Streams on it)`);
    return arn;
  }

  let store: ShardLeaseStore | undefined = typeof o.leases === 'function' ? undefined : o.leases;

  /**
   * Where a shard without a checkpoint starts: `--start` where this consumer first joins the lineage
   * (no parent, or a parent it never finished); TRIM_HORIZON for a child of a parent it read to the
   * end (the child's records were written after the parent closed, none may be skipped); LATEST for
   * a child of a parent skipped at LATEST (closed before the first start).
   */
  async function startPositionOf(
    shard: StreamShard,
    finished: ReadonlySet<string>,
    leases: ShardLeaseStore,
  ): Promise<'TRIM_HORIZON' | 'LATEST'> {
    if (o.startPosition === 'TRIM_HORIZON') return 'TRIM_HORIZON';
    const parent = shard.parentShardId;
    if (parent === undefined || !finished.has(parent)) return 'LATEST';
    return (await leases.checkpoint(parent)).skipped === true ? 'LATEST' : 'TRIM_HORIZON';
  }

  function startReader(
    arn: string,
    shard: StreamShard,
    leases: ShardLeaseStore,
    startPosition: 'TRIM_HORIZON' | 'LATEST',
    startDelayMs: number,
  ): void {
    const id = shard.shardId;
    const reader = readShard({
      streams: o.streams,
      streamArn: arn,
      shardId: id,
      ...(o.table === undefined ? {} : { table: o.table }),
      startPosition,
      closed: shard.endingSequenceNumber !== undefined,
      leases,
      owner: o.workerId,
      leaseTtlMs,
      startDelayMs,
      limit: o.limit ?? 1000,
      config: o.config,
      target: o.target,
      deadLetter: o.deadLetter,
      metrics: o.metrics,
      logger: o.logger,
      ...(o.rules === undefined ? {} : { rules: o.rules }),
      ...(o.polling === undefined ? {} : { polling: o.polling }),
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      stopping: () => stopping || shedding.has(id),
      onDone(records, deadLetters) {
        state.records += records;
        state.deadLetters += deadLetters;
      },
      onIteratorAge(seconds) {
        ages.set(id, seconds);
      },
    })
      .then(async (end) => {
        o.logger.info('shard reader ended', { shard: id, end });
        if (end !== 'lease-lost') await leases.release(id, o.workerId).catch(() => {});
        // A finished shard may unblock its children: rescan now.
        if (end === 'finished') wake?.();
      })
      .catch((error: unknown) => {
        o.logger.error('shard reader failed', { shard: id, error });
        return leases.release(id, o.workerId).catch(() => {});
      })
      .finally(() => {
        readers.delete(id);
        shedding.delete(id);
        ages.delete(id);
        state.leased = readers.size;
      });
    readers.set(id, reader);
    state.leased = readers.size;
  }

  async function scan(arn: string): Promise<void> {
    if (store === undefined)
      store = await (o.leases as (arn: string) => ShardLeaseStore | Promise<ShardLeaseStore>)(arn);
    const leases = store;
    await leases.heartbeat(o.workerId, heartbeatTtlMs);
    const shards = await describeAllShards(o.streams, arn);
    const finished = await leases.finished();
    const ready = readyShards(shards, finished);
    const byId = new Map(ready.map((s) => [s.shardId, s]));
    const ids = ready.map((s) => s.shardId);
    const [workers, holders] = await Promise.all([leases.liveWorkers(), leases.holders(ids)]);
    state.workers = new Set([...workers, o.workerId]).size;
    const plan = planBalance({
      self: o.workerId,
      workers,
      ready: ids,
      holders,
      mine: new Set([...readers.keys()].filter((id) => !shedding.has(id))),
      leaving: shedding,
      maxShards: o.maxShards ?? 64,
      maySteal: Date.now() - lastSteal >= leaseTtlMs,
    });
    for (const id of plan.shed) {
      shedding.add(id);
      state.shed++;
      o.logger.info('shard handed over (above the fair share)', { shard: id, workers: state.workers });
    }
    let taken = 0;
    for (const id of plan.take) {
      if (stopping || taken >= plan.want) break;
      if (readers.has(id)) continue;
      if (!(await leases.acquire(id, o.workerId, leaseTtlMs))) continue;
      taken++;
      const shard = byId.get(id)!;
      // After the acquire, so standby workers do not read parents' checkpoints every scan. Should
      // this throw, the lease stays ours and the next scan takes it again ("already ours").
      const startPosition = await startPositionOf(shard, finished, leases);
      o.logger.info('shard leased', { shard: id, parent: shard.parentShardId });
      startReader(arn, shard, leases, startPosition, 0);
    }
    if (plan.steal !== undefined && !stopping && !readers.has(plan.steal.shardId)) {
      const { shardId, from } = plan.steal;
      lastSteal = Date.now();
      if (await leases.steal(shardId, from, o.workerId, leaseTtlMs)) {
        state.stolen++;
        const shard = byId.get(shardId)!;
        const startPosition = await startPositionOf(shard, finished, leases);
        o.logger.info('shard lease stolen to balance; reading after one lease period', {
          shard: shardId,
          from,
          workers: state.workers,
        });
        startReader(arn, shard, leases, startPosition, leaseTtlMs);
      }
    }
  }

  function logProgressIfDue(): void {
    const every = o.progressLogMs ?? 60_000;
    if (every <= 0 || Date.now() - lastProgressLog < every) return;
    lastProgressLog = Date.now();
    o.logger.info('stream progress', {
      ...(o.table === undefined ? {} : { table: o.table }),
      shards: state.leased,
      workers: state.workers,
      iteratorAgeSeconds: Math.max(0, ...ages.values()),
      records: state.records,
      stolen: state.stolen,
      shed: state.shed,
    });
  }

  async function run(): Promise<void> {
    let arn: string | undefined;
    while (!stopping) {
      try {
        arn ??= await resolveArn();
        state.streamArn = arn;
        await scan(arn);
        state.lastScanError = null;
        logProgressIfDue();
      } catch (error) {
        state.lastScanError = error as Error;
        o.logger.warn('stream scan failed; retrying', { error });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, rescanMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    state,
    async start() {
      loop = run();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await Promise.all(readers.values());
      // Readers released their leases (checkpointed); now the others stop counting this worker.
      await store?.leave(o.workerId).catch((error: unknown) => {
        o.logger.warn('heartbeat not removed; it expires by itself', { error });
      });
    },
  };
}

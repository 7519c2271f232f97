/**
 * The DynamoDB Streams poller: discovers shards (DescribeStream, paginated), takes leases on the
 * shards that are ready (parents finished), reads each leased shard with a shard reader, and
 * rescans every `rescanMs` for new shards (splits) and expired leases of dead workers. Several
 * workers with the same lease store share a stream; each shard is read by one worker at a time.
 *
 * No balancing: a worker takes every ready shard it can (up to `maxShards`) and keeps it, and
 * leases are never stolen, so the first worker usually reads the whole stream and the others
 * stand by, taking shards over when a worker stops (at once) or dies (when its leases expire).
 */
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { CacheTarget } from '../../core/target/cache-target.ts';
import type { BackoffOptions } from '../runtime/backoff.ts';
import type { ConsumerMetrics } from '../runtime/consumer-metrics.ts';
import type { DeadLetterSink } from '../runtime/dead-letter-sink.ts';
import type { Logger } from '../runtime/logger.ts';
import type { RuleReporter } from '../runtime/rule-reporter.ts';
import type { LeaseStore } from './lease-store.ts';
import { readyShards } from './shard-lineage.ts';
import { type PollingOptions, readShard } from './shard-reader.ts';
import { describeAllShards, type StreamShard, type StreamsPort } from './streams-port.ts';

/** Options of {@link createDynamoDbPoller}. */
export interface DynamoDbPollerOptions {
  streams: StreamsPort;
  /** The stream, or a table whose newest stream to read. */
  streamArn?: string;
  table?: string;
  startPosition: 'TRIM_HORIZON' | 'LATEST';
  /**
   * The lease/checkpoint store, or a function building it once the stream ARN is known (a store in
   * the target scopes its keys by the ARN, which `table` alone only gives after a lookup).
   */
  leases: LeaseStore | ((streamArn: string) => LeaseStore | Promise<LeaseStore>);
  workerId: string;
  /** @default 10000 */
  leaseTtlMs?: number;
  /** Shards this worker reads at once. @default 64 */
  maxShards?: number;
  /** @default 1000 */
  limit?: number;
  /** How often to look for new shards and free leases, ms. @default 5000 */
  rescanMs?: number;
  config: CompiledConfig;
  target: CacheTarget;
  deadLetter: DeadLetterSink;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** Counts what each rule did (metrics and logs); see consumers/runtime/rule-reporter.ts. */
  rules?: RuleReporter;
  polling?: PollingOptions;
  backoff?: BackoffOptions;
}

/** Counters for progress and readiness. */
export interface DynamoDbPollerState {
  records: number;
  deadLetters: number;
  /** Shards this worker reads now. */
  leased: number;
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
    streamArn: null,
    lastScanError: null,
  };
  const readers = new Map<string, Promise<void>>();
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

  let store: LeaseStore | undefined = typeof o.leases === 'function' ? undefined : o.leases;

  /**
   * Where a shard without a checkpoint starts: `--start` where this consumer first joins the lineage
   * (no parent, or a parent it never finished); TRIM_HORIZON for a child of a parent it read to the
   * end (the child's records were written after the parent closed, none may be skipped); LATEST for
   * a child of a parent skipped at LATEST (closed before the first start).
   */
  async function startPositionOf(
    shard: StreamShard,
    finished: ReadonlySet<string>,
    leases: LeaseStore,
  ): Promise<'TRIM_HORIZON' | 'LATEST'> {
    if (o.startPosition === 'TRIM_HORIZON') return 'TRIM_HORIZON';
    const parent = shard.parentShardId;
    if (parent === undefined || !finished.has(parent)) return 'LATEST';
    return (await leases.checkpoint(parent)).skipped === true ? 'LATEST' : 'TRIM_HORIZON';
  }

  async function scan(arn: string): Promise<void> {
    if (store === undefined)
      store = await (o.leases as (arn: string) => LeaseStore | Promise<LeaseStore>)(arn);
    const leases = store;
    const shards = await describeAllShards(o.streams, arn);
    const finished = await leases.finished();
    for (const shard of readyShards(shards, finished)) {
      if (stopping || readers.size >= (o.maxShards ?? 64)) break;
      if (readers.has(shard.shardId)) continue;
      if (!(await leases.acquire(shard.shardId, o.workerId, leaseTtlMs))) continue;
      // After the acquire, so standby workers do not read parents' checkpoints every scan. Should
      // this throw, the lease stays ours and the next scan takes it again ("already ours").
      const startPosition = await startPositionOf(shard, finished, leases);
      o.logger.info('shard leased', { shard: shard.shardId, parent: shard.parentShardId });
      const reader = readShard({
        streams: o.streams,
        streamArn: arn,
        shardId: shard.shardId,
        ...(o.table === undefined ? {} : { table: o.table }),
        startPosition,
        closed: shard.endingSequenceNumber !== undefined,
        leases,
        owner: o.workerId,
        leaseTtlMs,
        limit: o.limit ?? 1000,
        config: o.config,
        target: o.target,
        deadLetter: o.deadLetter,
        metrics: o.metrics,
        logger: o.logger,
        ...(o.rules === undefined ? {} : { rules: o.rules }),
        ...(o.polling === undefined ? {} : { polling: o.polling }),
        ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
        stopping: () => stopping,
        onDone(records, deadLetters) {
          state.records += records;
          state.deadLetters += deadLetters;
        },
      })
        .then(async (end) => {
          o.logger.info('shard reader ended', { shard: shard.shardId, end });
          if (end !== 'lease-lost') await leases.release(shard.shardId, o.workerId).catch(() => {});
          // A finished shard may unblock its children: rescan now.
          if (end === 'finished') wake?.();
        })
        .catch((error: unknown) => {
          o.logger.error('shard reader failed', { shard: shard.shardId, error });
          return leases.release(shard.shardId, o.workerId).catch(() => {});
        })
        .finally(() => {
          readers.delete(shard.shardId);
          state.leased = readers.size;
        });
      readers.set(shard.shardId, reader);
      state.leased = readers.size;
    }
  }

  async function run(): Promise<void> {
    let arn: string | undefined;
    while (!stopping) {
      try {
        arn ??= await resolveArn();
        state.streamArn = arn;
        await scan(arn);
        state.lastScanError = null;
      } catch (error) {
        state.lastScanError = error as Error;
        o.logger.warn('stream scan failed; retrying', { error });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.rescanMs ?? 5000);
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
    },
  };
}

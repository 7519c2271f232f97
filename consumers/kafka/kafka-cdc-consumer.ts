/**
 * The Debezium-over-Kafka consumer: a consumer group whose batches go through `processBatch`.
 *
 * Invariants:
 * - Per partition, strictly in order; partitions run concurrently (`partitionsConsumedConcurrently`).
 * - An offset is resolved only after every record up to it is done (ops confirmed by the target, or
 *   the record stored in the dead-letter sink). Committing is kafkajs's job and covers only resolved
 *   offsets, so a crash or a rebalance replays from the first unfinished record (ops are idempotent
 *   and fenced by version).
 * - A target outage: resolve what is done, pause the partition, back off (heartbeating) and retry the
 *   rest until the target is back; stop early when the consumer stops or the partition is revoked.
 * - Large batches are cut into chunks; each chunk ends with a heartbeat and a commit check.
 */
import type { BatchRecord } from '../../core/pipeline/batch.ts';
import { processBatch, retryCause } from '../../core/pipeline/batch.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { type BackoffOptions, backoffDelay, sleepWithKeepAlive } from '../runtime/backoff.ts';
import { type ConsumerMetrics, observeEndToEnd } from '../runtime/consumer-metrics.ts';
import type { DeadLetterSink } from '../runtime/dead-letter-sink.ts';
import type { Logger } from '../runtime/logger.ts';
import type { RuleReporter } from '../runtime/rule-reporter.ts';
import type { KafkaAdminPort, KafkaBatch, KafkaBatchControls, KafkaConsumerPort } from './kafka-port.ts';
import { type KafkaDecodeOptions, kafkaSourceRecord } from './kafka-record.ts';
import { createPartitionWatchdog, type PartitionWatchdog } from './partition-watchdog.ts';

/** Options of {@link createKafkaCdcConsumer}. */
export interface KafkaCdcConsumerOptions {
  consumer: KafkaConsumerPort;
  /** Topic names and/or patterns. */
  topics: readonly (string | RegExp)[];
  /** Start from the earliest offset when the group has none. @default true */
  fromBeginning?: boolean;
  /** @default 4 */
  partitionsConsumedConcurrently?: number;
  /** Records per processBatch call. @default 2000 */
  chunkSize?: number;
  config: CompiledConfig;
  target: CacheTarget;
  deadLetter: DeadLetterSink;
  decode?: KafkaDecodeOptions;
  /** Backoff between retries of a partition during an outage. */
  backoff?: BackoffOptions;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** Counts what each rule did (metrics and logs); see consumers/runtime/rule-reporter.ts. */
  rules?: RuleReporter;
  /**
   * The stall watchdog (partition-watchdog.ts): reads the group's committed offsets through `admin`
   * every `sessionTimeoutMs` and reports a partition with lag and no committed progress for 3 ×
   * `sessionTimeoutMs`. The caller closes `admin`. Absent: no watchdog.
   */
  watchdog?: {
    admin: Pick<KafkaAdminPort, 'committedOffsets' | 'topicOffsets'>;
    groupId: string;
    sessionTimeoutMs: number;
  };
}

/** Counters for progress and readiness. */
export interface KafkaCdcConsumerState {
  records: number;
  deadLetters: number;
  /** Sum of the lag of every partition seen. */
  lag: number;
  /** Partitions assigned at the last group join; null before the first join. */
  assigned: number | null;
  /** Partitions currently waiting for the target. */
  retrying: number;
  crashed: Error | null;
}

/** A running consumer. */
export interface KafkaCdcConsumer {
  readonly state: KafkaCdcConsumerState;
  start(): Promise<void>;
  /** Drains in-flight batches, commits resolved offsets, disconnects. */
  stop(): Promise<void>;
  /**
   * Readiness (`/readyz`): null when ready, else why not, in this order: crashed, not joined yet,
   * partitions waiting for the target, partitions the stall watchdog found stalled. A stalled
   * partition makes the consumer not ready: it holds work it is not doing, as during an outage;
   * liveness stays up (a restart is the operator's call, see consumers/README.md).
   */
  notReadyReason(): string | null;
}

/** Defaults of the Kafka consumer. */
export const KAFKA_CONSUMER_DEFAULTS = { partitionsConsumedConcurrently: 4, chunkSize: 2000 } as const;

/** Creates the consumer (not started). */
export function createKafkaCdcConsumer(o: KafkaCdcConsumerOptions): KafkaCdcConsumer {
  const chunkSize = o.chunkSize ?? KAFKA_CONSUMER_DEFAULTS.chunkSize;
  const decode = o.decode ?? {};
  const state: KafkaCdcConsumerState = {
    records: 0,
    deadLetters: 0,
    lag: 0,
    assigned: null,
    retrying: 0,
    crashed: null,
  };
  const lagByPartition = new Map<string, number>();
  /** `topic/partition` of the partitions waiting for the target. */
  const retryingPartitions = new Set<string>();
  let assignment: Record<string, number[]> = {};
  let watchdog: PartitionWatchdog | undefined;
  const retry = { attempts: 3, baseDelayMs: 20, maxDelayMs: 500 };

  async function handleBatch(batch: KafkaBatch, c: KafkaBatchControls): Promise<void> {
    const group = `${batch.topic}/${batch.partition}`;
    const log = o.logger.child({ topic: batch.topic, partition: batch.partition });
    const gone = () => !c.isRunning() || c.isStale();
    const high = BigInt(batch.highWatermark);
    const labels = [batch.topic, String(batch.partition)];
    let newestCommit = 0;
    const onCommitTime = (ts: number) => {
      if (ts > newestCommit) newestCommit = ts;
    };
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (gone()) return;
      const chunk = batch.messages.slice(start, start + chunkSize);
      let pending: BatchRecord[] = chunk.map((m) => ({
        group,
        record: kafkaSourceRecord(batch.topic, batch.partition, m, decode, onCommitTime),
      }));
      o.metrics.events.inc(['kafka'], pending.length);
      const oldest = Number(chunk[0]?.timestamp ?? 0);
      if (oldest > 0) o.metrics.sourceLagSeconds.set(Math.max(0, Date.now() - oldest) / 1000, ['kafka']);
      let attempt = 0;
      let resume: (() => void) | undefined;
      try {
        while (pending.length > 0) {
          newestCommit = 0;
          const started = performance.now();
          const outcome = await processBatch(pending, {
            config: o.config,
            target: o.target,
            deadLetter: o.deadLetter,
            retry,
            ...(attempt === 0 && o.rules !== undefined ? { stats: o.rules.stats } : {}),
          });
          o.metrics.batchDurationSeconds.observe((performance.now() - started) / 1000, ['kafka']);
          if (attempt === 0) o.rules?.flush();
          const first = outcome.firstUnfinished.get(group) ?? -1;
          const done = first === -1 ? pending.length : first;
          state.deadLetters += outcome.deadLetters;
          if (done > 0) {
            const last = pending[done - 1]!.record.raw as { offset: string };
            c.resolveOffset(last.offset);
            state.records += done;
            o.metrics.checkpoints.inc(['kafka']);
            const lag = Number(high - BigInt(last.offset) - 1n);
            state.lag += lag - (lagByPartition.get(group) ?? 0);
            lagByPartition.set(group, lag);
            o.metrics.kafkaLag.set(lag, labels);
          }
          if (first === -1) {
            observeEndToEnd(o.metrics, newestCommit);
            break;
          }
          // Outage (or the dead-letter sink failed): keep the position, pause, back off, retry the rest.
          attempt++;
          if (resume === undefined) {
            resume = c.pause();
            state.retrying++;
            retryingPartitions.add(group);
          }
          o.metrics.retries.inc();
          const delay = backoffDelay(attempt, o.backoff);
          const cause = retryCause(outcome);
          if (cause.error === outcome.deadLetterError) o.metrics.deadLetterFailures.inc();
          log.warn(cause.message, {
            attempt,
            delayMs: Math.round(delay),
            firstUnfinished: (pending[first]!.record.raw as { offset: string }).offset,
            error: cause.error,
          });
          await sleepWithKeepAlive(delay, gone, () => c.heartbeat());
          if (gone()) return;
          pending = pending.slice(done);
        }
      } finally {
        if (resume !== undefined) {
          state.retrying--;
          retryingPartitions.delete(group);
          resume();
          if (attempt > 0 && !gone()) log.info('target back; partition resumed', { attempts: attempt });
        }
      }
      await c.heartbeat();
      await c.commitIfNecessary();
    }
  }

  return {
    state,
    async start() {
      o.consumer.onGroupJoin((assigned) => {
        state.assigned = Object.values(assigned).reduce((n, p) => n + p.length, 0);
        assignment = assigned;
        o.logger.info('group joined', { assigned });
        for (const key of lagByPartition.keys()) {
          const [topic, partition] = [
            key.slice(0, key.lastIndexOf('/')),
            key.slice(key.lastIndexOf('/') + 1),
          ];
          if (!assigned[topic]?.includes(Number(partition))) {
            state.lag -= lagByPartition.get(key) ?? 0;
            lagByPartition.delete(key);
            o.metrics.kafkaLag.remove([topic, partition]);
          }
        }
      });
      o.consumer.onCrash((error, restart) => {
        o.logger.error('consumer crashed', { error, restart });
        if (!restart) state.crashed = error;
      });
      if (o.watchdog !== undefined) {
        const w = o.watchdog;
        watchdog = createPartitionWatchdog({
          admin: w.admin,
          groupId: w.groupId,
          assigned: () => assignment,
          retrying: (topic, partition) => retryingPartitions.has(`${topic}/${partition}`),
          stallAfterMs: 3 * w.sessionTimeoutMs,
          metrics: o.metrics,
          logger: o.logger,
        });
        watchdog.start(w.sessionTimeoutMs);
      }
      await o.consumer.connect();
      await o.consumer.subscribe(o.topics, o.fromBeginning ?? true);
      await o.consumer.run({
        partitionsConsumedConcurrently:
          o.partitionsConsumedConcurrently ?? KAFKA_CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
        eachBatch: handleBatch,
      });
    },
    notReadyReason() {
      if (state.crashed !== null) return `consumer crashed: ${state.crashed.message}`;
      if (state.assigned === null) return 'not yet joined the consumer group';
      if (state.retrying > 0) return `${state.retrying} partition(s) waiting for the target`;
      return watchdog?.stallReason() ?? null;
    },
    async stop() {
      watchdog?.stop();
      await o.consumer.stop();
      await o.consumer.disconnect();
    },
  };
}

/**
 * What every mode of the Kafka consumer benchmark (bench/consumers/kafka-consumer.ts) shares: its
 * options, the client adapter under test, the consumer it builds, the topics it creates (deleted at
 * the end, even after a failed run: the broker is shared) and the results and report lines it
 * collects. A dead letter fails the run (every record of the load must plan), and so does a wait in
 * which nothing moves for {@link NO_PROGRESS_MS}.
 */
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaCdcConsumer, type KafkaCdcConsumer } from '../../consumers/kafka/kafka-cdc-consumer.ts';
import type {
  KafkaClientPort,
  KafkaConsumerPort,
  KafkaConsumerPortOptions,
} from '../../consumers/kafka/kafka-port.ts';
import { createKafkajsClient } from '../../consumers/kafka/kafkajs-client.ts';
import {
  createPlatformaticClient,
  type PlatformaticTuning,
} from '../../consumers/kafka/platformatic-client.ts';
import { createConsumerMetrics } from '../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../consumers/runtime/logger.ts';
import { type CompiledConfig, compileConfig } from '../../core/rules/compile.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import type { BenchResult } from '../suite.ts';
import { BENCH_RULES } from './load-records.ts';

/** The benchmark's command-line options, parsed. */
export interface BenchOptions {
  mode: string;
  client: 'kafkajs' | 'platformatic';
  events: number;
  partitions: number;
  keys: number;
  rate: number;
  seconds: number;
  /** Target URL (`engine`, `valkey://…`). */
  target: string;
  /** Broker list as given (passed on to the load process). */
  brokers: string;
  pgUrl: string;
  topicPrefix: string;
  chunkSize?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  maxWaitMs?: number;
  /** platformatic only: messages fetched ahead (PlatformaticTuning.maxBufferedMessages). */
  maxBufferedMessages?: number;
  /** platformatic only: messages per eachBatch call (PlatformaticTuning.maxBatchMessages). */
  maxBatchMessages?: number;
  peer: boolean;
}

/** One result of this run, before bench/suite.ts adds the bench name and the command. */
export type RunResult = Omit<BenchResult, 'bench' | 'command'>;

/** Fails the run after this long without a record resolved while records are still expected. */
export const NO_PROGRESS_MS = 60_000;

/** One benchmark run: options, clients, created topics, results. */
export class BenchRun {
  readonly options: BenchOptions;
  /** kafkajs admin for topics (the load's side; the consumer under test is `makeClient()`). */
  readonly kafka: Kafka;
  readonly config: CompiledConfig = compileConfig(BENCH_RULES);
  /** Results, emitted as JSON lines by the CLI (bench/suite.ts protocol). */
  readonly results: RunResult[] = [];
  /** Report lines, printed (and with --write appended to bench/results/consumers.md). */
  readonly lines: string[] = [];
  /** Topics this run created (deleted at the end). */
  readonly created: string[] = [];
  /** The first dead letter of this run (fails the run: every record of the load must plan). */
  deadLettered: Error | undefined;

  constructor(options: BenchOptions) {
    this.options = options;
    this.kafka = new Kafka({
      brokers: options.brokers.split(','),
      clientId: 'cdc-cache-bench',
      logLevel: logLevel.NOTHING,
    });
  }

  /** Suffix of metric names: none for kafkajs (the history), " (platformatic client)" otherwise. */
  get clientSuffix(): string {
    return this.options.client === 'kafkajs' ? '' : ` (${this.options.client} client)`;
  }

  /** The adapter under test. */
  makeClient(): KafkaClientPort {
    const brokers = this.options.brokers.split(',');
    if (this.options.client === 'kafkajs') return createKafkajsClient({ brokers });
    const tuning: PlatformaticTuning = {};
    if (this.options.maxBufferedMessages !== undefined)
      tuning.maxBufferedMessages = this.options.maxBufferedMessages;
    if (this.options.maxBatchMessages !== undefined) tuning.maxBatchMessages = this.options.maxBatchMessages;
    return createPlatformaticClient({ brokers }, tuning);
  }

  /** Consumer options with the tuning knobs given on the command line. */
  portOptions(groupId: string): KafkaConsumerPortOptions {
    const o: KafkaConsumerPortOptions = { groupId };
    const { maxBytesPerPartition, maxBytes, maxWaitMs } = this.options;
    if (maxBytesPerPartition !== undefined) o.maxBytesPerPartition = maxBytesPerPartition;
    if (maxBytes !== undefined) o.maxBytes = maxBytes;
    if (maxWaitMs !== undefined) o.maxWaitTimeMs = maxWaitMs;
    return o;
  }

  /** The consumer under test on `topic`; a dead letter fails the run. */
  consumerFor(port: KafkaConsumerPort, topic: string, target: CacheTarget): KafkaCdcConsumer {
    const o: Parameters<typeof createKafkaCdcConsumer>[0] = {
      consumer: port,
      topics: [topic],
      partitionsConsumedConcurrently: this.options.partitions,
      config: this.config,
      target,
      deadLetter: async (d) => {
        // Every record of the load plans: a dead letter is a broken benchmark. The consumer retries
        // a failing dead-letter sink forever (it never skips a record), so the run is failed here
        // instead of waiting on a partition that cannot move.
        this.deadLettered ??= new Error(`dead letter in benchmark at ${d.position} (${d.code}): ${d.reason}`);
        throw this.deadLettered;
      },
      metrics: createConsumerMetrics(),
      logger: silentLogger,
    };
    if (this.options.chunkSize !== undefined) o.chunkSize = this.options.chunkSize;
    return createKafkaCdcConsumer(o);
  }

  /** Creates a topic of `partitions` partitions (deleted at the end); `appendTime` stamps LogAppendTime. */
  async createTopic(appendTime: boolean): Promise<string> {
    const topic = `bench-consumer-${Date.now()}`;
    this.created.push(topic);
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: this.options.partitions,
          ...(appendTime
            ? { configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }
            : {}),
        },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    return topic;
  }

  /** Deletes the topics this run created (also after a failed run: the broker is shared). */
  async deleteCreatedTopics(): Promise<void> {
    if (this.created.length === 0) return;
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: this.created }).catch(() => {});
    await admin.disconnect();
  }

  /**
   * Waits until `done()`; throws on a dead letter, or when `progress()` has not moved for
   * {@link NO_PROGRESS_MS} (a stuck run fails with what it saw instead of hanging).
   */
  async waitFor(done: () => boolean, progress: () => number, what: string): Promise<void> {
    let seen = progress();
    let movedAt = Date.now();
    while (!done()) {
      if (this.deadLettered) throw this.deadLettered;
      if (progress() !== seen) {
        seen = progress();
        movedAt = Date.now();
      } else if (Date.now() - movedAt > NO_PROGRESS_MS) {
        throw new Error(`${what}: no progress for ${NO_PROGRESS_MS / 1000} s at ${seen}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Waits until the consumer has joined its group with at least one partition (60 s at most). */
export async function joined(consumer: KafkaCdcConsumer): Promise<void> {
  const until = Date.now() + 60_000;
  while (consumer.state.assigned === null || consumer.state.assigned === 0) {
    if (Date.now() > until) throw new Error('consumer did not join the group within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rounds to two decimals (result values). */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

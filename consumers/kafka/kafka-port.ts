/**
 * Our seam over the Kafka client library. kafkajs is in maintenance mode; everything else in
 * consumers/ talks to these few types, so switching to another client means writing one adapter file:
 * kafkajs-client.ts (kafkajs) and platformatic-client.ts (`@platformatic/kafka`) are the two there are.
 *
 * Semantics taken from kafkajs's `eachBatch`: offsets are resolved explicitly after the work they
 * stand for is done, `heartbeat()` keeps the group membership through long batches, `isStale()` says
 * the partition was revoked by a rebalance (stop touching it), `isRunning()` says the consumer is stopping.
 */

/** One message as our consumer sees it. */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** Offset as decimal text (Kafka offsets are int64). */
  offset: string;
  /** Append (or create) time, epoch ms as text. */
  timestamp: string;
}

/** Messages of one topic-partition, in offset order. */
export interface KafkaBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /** The partition's high watermark (next offset to be written), decimal text. */
  highWatermark: string;
}

/** Controls handed to a batch handler. */
export interface KafkaBatchControls {
  /** Marks `offset` (and everything before it in this partition) as processed; committed later. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** Commits resolved offsets if the commit policy says so. */
  commitIfNecessary(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once this partition was revoked (a rebalance): stop, resolve nothing more. */
  isStale(): boolean;
  /** Pauses fetching this partition; returns the function that resumes it. */
  pause(): () => void;
}

/** Options of {@link KafkaConsumerPort.run}. */
export interface KafkaRunOptions {
  /** Partitions processed at once (each strictly in order). */
  partitionsConsumedConcurrently: number;
  eachBatch(batch: KafkaBatch, controls: KafkaBatchControls): Promise<void>;
}

/** A group consumer. */
export interface KafkaConsumerPort {
  connect(): Promise<void>;
  subscribe(topics: readonly (string | RegExp)[], fromBeginning: boolean): Promise<void>;
  run(options: KafkaRunOptions): Promise<void>;
  /** Stops fetching, waits for in-flight batches, commits resolved offsets. */
  stop(): Promise<void>;
  disconnect(): Promise<void>;
  /** Called on every group join with the assigned partitions, and on a crash. */
  onGroupJoin(listener: (assigned: Record<string, number[]>) => void): void;
  onCrash(listener: (error: Error, restart: boolean) => void): void;
}

/** One message to produce. */
export interface KafkaOutgoingMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
}

/** A producer (dead-letter topic, tests). */
export interface KafkaProducerPort {
  connect(): Promise<void>;
  /** Sends and waits for the acks of all in-sync replicas. */
  send(topic: string, messages: readonly KafkaOutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Consumer options. */
export interface KafkaConsumerPortOptions {
  groupId: string;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
  /** Bytes fetched per partition per request. @default 1048576 */
  maxBytesPerPartition?: number;
  /** Bytes fetched per request, all partitions. @default 10485760 */
  maxBytes?: number;
  /** Longest time the broker holds a fetch waiting for data (it answers at once when there is some). @default 5000 */
  maxWaitTimeMs?: number;
}

/** A Kafka client: makes consumers and producers on one connection config. */
export interface KafkaClientPort {
  consumer(options: KafkaConsumerPortOptions): KafkaConsumerPort;
  producer(): KafkaProducerPort;
}

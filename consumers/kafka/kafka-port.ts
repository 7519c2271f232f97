/**
 * Our seam over the Kafka client library. kafkajs is in maintenance mode; everything else in
 * consumers/ talks to these few types, so switching to another client means writing one adapter file:
 * kafkajs-client.ts (kafkajs) and platformatic-client.ts (`@platformatic/kafka`) are the two there are.
 *
 * Semantics taken from kafkajs's `eachBatch`: offsets are resolved explicitly after the work they
 * stand for is done, `heartbeat()` keeps the group membership through long batches, `isStale()` says
 * the partition was revoked by a rebalance (stop touching it), `isRunning()` says the consumer is stopping.
 *
 * Every reader of a topic goes through this port: the consumers, and (read-only, `readOnly: true`,
 * through kafka-tail.ts) record, verify, the fixture capture and the dead-letter store.
 */

/** One message as our consumer sees it. */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** Offset as decimal text (Kafka offsets are int64). */
  offset: string;
  /** Append (or create) time, epoch ms as text. */
  timestamp: string;
  /** Record headers (kafkajs's shape); absent or empty when the record has none. */
  headers?: KafkaHeaders;
}

/** Record headers: name → value (a repeated name holds an array). */
export type KafkaHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

/** Per topic, per partition: an offset as decimal text. */
export type KafkaOffsets = Record<string, Record<number, string>>;

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
  /**
   * `fromBeginning` applies to partitions the group has no committed offset for. `startAt`
   * overrides both for the partitions it names: they start at that offset (a tail's start).
   */
  subscribe(
    topics: readonly (string | RegExp)[],
    fromBeginning: boolean,
    startAt?: KafkaOffsets,
  ): Promise<void>;
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
  /**
   * Read-only ("tail, never commit"): the consumer never commits an offset, whatever its handler
   * resolves; `stop()` commits nothing either. For tools that read a topic (record, verify, the
   * dead-letter store), see kafka-tail.ts. @default false
   */
  readOnly?: boolean;
}

/** One partition's offsets: `low` is the oldest offset kept, `high` the next to be written. */
export interface KafkaPartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** The cluster operations tools need beside a consumer (topic offsets, a group's committed offsets). */
export interface KafkaAdminPort {
  listTopics(): Promise<string[]>;
  /** Low and high offsets of each partition of `topic`. */
  topicOffsets(topic: string): Promise<KafkaPartitionOffsets[]>;
  /** The offsets `groupId` committed on `topic`'s partitions (partitions without one are absent). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  /** Sets `groupId`'s committed offsets (the group must have no active member). */
  setCommittedOffsets(
    groupId: string,
    topic: string,
    partitions: readonly { partition: number; offset: string }[],
  ): Promise<void>;
  /** Deletes empty groups (a tail's throw-away group). */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** A Kafka client: makes consumers, producers and admin clients on one connection config. */
export interface KafkaClientPort {
  consumer(options: KafkaConsumerPortOptions): KafkaConsumerPort;
  producer(): KafkaProducerPort;
  /** An admin client; connects on first use, `close()` it when done. */
  admin(): KafkaAdminPort;
}

/**
 * The kafkajs adapter behind {@link KafkaClientPort}. The only file that imports kafkajs.
 *
 * - `eachBatchAutoResolve: false` and `autoCommit: true`: kafkajs commits only offsets we resolved
 *   (after the target acknowledged), on its interval, on rebalance and on stop.
 * - MSK IAM: OAUTHBEARER with tokens from msk-iam-token.ts.
 * - `readOnly` consumers (tails) run with `autoCommit: false`: kafkajs then never commits.
 * - kafkajs heartbeats only when asked (no background thread): the adapter heartbeats on a timer
 *   while a batch runs ({@link batchKeepAlive}), and an idle partition's
 *   fetch is held by the broker for `maxWaitTimeInMs`, so the default long poll is at most a third
 *   of the session ({@link kafkajsMaxWaitMs}); a 5 s poll against a 6 s session got the member
 *   expelled every 10–12 s on a loaded machine (its commits refused, its batches re-read).
 */
import { createRequire } from 'node:module';
import { type ConsumerConfig, Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaConnectionOptions, KafkaSaslOptions } from './connection-options.ts';
import { tlsFromFiles, validateConnectionOptions } from './connection-options.ts';
import type {
  KafkaAdminPort,
  KafkaClientPort,
  KafkaConsumerPort,
  KafkaConsumerPortOptions,
  KafkaOffsets,
  KafkaProducerPort,
} from './kafka-port.ts';
import { mskIamToken } from './msk-iam-token.ts';

/** The part of kafkajs's internal RequestQueue that {@link patchKafkajsRequestQueue} replaces. */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/**
 * Fixes a timer bug of kafkajs 2.2.4 (network/requestQueue): after every response,
 * `scheduleCheckPendingRequests` arms `setTimeout(…, throttledUntil - Date.now())` even when nothing
 * is pending, and `throttledUntil` is -1 unless the broker throttled, so the delay is minus the epoch
 * time (Node 24: `TimeoutNegativeWarning: -1795385491386 is a negative number`, clamped to 1 ms) — a
 * useless 1 ms timer and queue check after each fetch. Here a check is scheduled only when requests
 * are pending: at the end of the throttle, or after 10 ms (kafkajs's CHECK_PENDING_REQUESTS_INTERVAL)
 * when the wait is for in-flight slots. A queue with nothing pending needs no timer: `push` schedules
 * one when it enqueues. Idempotent; returns false when kafkajs's internals are not as expected.
 */
export function patchKafkajsRequestQueue(): boolean {
  let RequestQueue: { prototype: RequestQueueInternals & { __cdcCachePatched?: boolean } };
  try {
    RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js');
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (typeof proto?.scheduleCheckPendingRequests !== 'function') return false;
  if (proto.__cdcCachePatched) return true;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttled > 0 ? throttled : 10,
    );
  };
  proto.__cdcCachePatched = true;
  return true;
}
patchKafkajsRequestQueue();

function saslFor(sasl: KafkaSaslOptions | undefined): SASLOptions | undefined {
  if (sasl === undefined) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
    case 'aws-msk-iam':
      return {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: await mskIamToken(sasl.region) }),
      };
    case 'oauthbearer': {
      const provider = sasl.provider ?? (async () => ({ value: sasl.token ?? '' }));
      return { mechanism: 'oauthbearer', oauthBearerProvider: provider };
    }
  }
}

/** The kafkajs config for our connection options (exported for tests). */
export function kafkajsConfig(options: KafkaConnectionOptions): KafkaConfig {
  validateConnectionOptions(options);
  const ssl =
    options.sasl?.mechanism === 'aws-msk-iam'
      ? (tlsFromFiles(options.ssl) ?? true)
      : tlsFromFiles(options.ssl);
  const config: KafkaConfig = {
    brokers: [...options.brokers],
    clientId: options.clientId ?? 'cdc-cache',
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    logLevel: logLevel.ERROR,
  };
  if (ssl !== undefined && ssl !== false) config.ssl = ssl as KafkaConfig['ssl'] & object;
  const sasl = saslFor(options.sasl);
  if (sasl !== undefined) config.sasl = sasl;
  return config;
}

/**
 * kafkajs's `maxWaitTimeInMs` for a session of `sessionTimeoutMs`: the given value, else kafkajs's
 * 5000 ms capped at a third of the session, so the heartbeat after an idle fetch comes well within
 * the session (kafkajs sends it only once the fetch returned).
 */
export function kafkajsMaxWaitMs(sessionTimeoutMs: number, maxWaitTimeMs?: number): number {
  return maxWaitTimeMs ?? Math.min(5000, Math.floor(sessionTimeoutMs / 3));
}

/** The background heartbeat of one running batch: see {@link batchKeepAlive}. */
export interface BatchKeepAlive {
  /** True once a heartbeat failed (expelled, rebalancing): the batch's partition may be gone. */
  lost(): boolean;
  stop(): void;
}

/**
 * Heartbeats every `intervalMs` while a batch handler runs. kafkajs sends a heartbeat only when
 * the handler calls `heartbeat()` or between fetches, so one chunk that took longer than the
 * session (a slow target: 400 records with prefix invalidations took 35 s at load 8) got the member
 * expelled mid-chunk, its commit refused, and the same records fetched again after the rejoin: the
 * committed offsets never moved (a livelock). kafkajs's `heartbeat()` is shared and throttled to its
 * interval, so concurrent batches send one heartbeat between them. A failed heartbeat is kept (kafkajs
 * logs it); `lost()` then lets the handler stop at its next check instead of doing work it can no
 * longer commit, and its own next `heartbeat()` throws, which makes kafkajs rejoin.
 */
export function batchKeepAlive(heartbeat: () => Promise<void>, intervalMs: number): BatchKeepAlive {
  let failed = false;
  const timer = setInterval(
    () => {
      heartbeat().catch(() => {
        failed = true;
      });
    },
    Math.max(50, intervalMs),
  );
  timer.unref?.();
  return {
    lost: () => failed,
    stop: () => clearInterval(timer),
  };
}

/** Our admin port over a kafkajs admin client (connected on first use). */
function kafkajsAdmin(kafka: Kafka): KafkaAdminPort {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  const ready = async () => {
    connected ??= admin.connect();
    await connected;
    return admin;
  };
  return {
    listTopics: async () => (await ready()).listTopics(),
    async topicOffsets(topic) {
      const list = await (await ready()).fetchTopicOffsets(topic);
      return list.map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
    },
    async committedOffsets(groupId, topic) {
      const got = await (await ready()).fetchOffsets({ groupId, topics: [topic] });
      const out = new Map<number, string>();
      for (const p of got[0]?.partitions ?? []) if (BigInt(p.offset) >= 0n) out.set(p.partition, p.offset);
      return out;
    },
    async setCommittedOffsets(groupId, topic, partitions) {
      await (await ready()).setOffsets({ groupId, topic, partitions: [...partitions] });
    },
    async deleteGroups(groupIds) {
      await (await ready()).deleteGroups([...groupIds]);
    },
    async close() {
      if (connected !== undefined) await admin.disconnect();
    },
  };
}

/** Creates our Kafka client over kafkajs. */
export function createKafkajsClient(options: KafkaConnectionOptions): KafkaClientPort {
  const kafka = new Kafka(kafkajsConfig(options));
  return {
    consumer(o: KafkaConsumerPortOptions): KafkaConsumerPort {
      const sessionTimeout = o.sessionTimeoutMs ?? 30_000;
      const heartbeatInterval = o.heartbeatIntervalMs ?? 3_000;
      const cfg: ConsumerConfig = {
        groupId: o.groupId,
        sessionTimeout,
        heartbeatInterval,
        maxBytesPerPartition: o.maxBytesPerPartition ?? 1_048_576,
        maxWaitTimeInMs: kafkajsMaxWaitMs(sessionTimeout, o.maxWaitTimeMs),
        allowAutoTopicCreation: false,
      };
      if (o.maxBytes !== undefined) cfg.maxBytes = o.maxBytes;
      const consumer = kafka.consumer(cfg);
      const readOnly = o.readOnly === true;
      let startAt: KafkaOffsets = {};
      return {
        connect: () => consumer.connect(),
        async subscribe(topics, fromBeginning, start) {
          startAt = start ?? {};
          await consumer.subscribe({ topics: [...topics], fromBeginning });
        },
        async run(run) {
          await consumer.run({
            autoCommit: !readOnly,
            autoCommitInterval: 1000,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: run.partitionsConsumedConcurrently,
            eachBatch: async (p) => {
              // kafkajs heartbeats only when asked: keep the membership while the handler works.
              const keepAlive = batchKeepAlive(p.heartbeat, heartbeatInterval);
              try {
                await run.eachBatch(
                  {
                    topic: p.batch.topic,
                    partition: p.batch.partition,
                    messages: p.batch.messages,
                    highWatermark: p.batch.highWatermark,
                  },
                  {
                    resolveOffset: p.resolveOffset,
                    heartbeat: p.heartbeat,
                    commitIfNecessary: readOnly ? async () => {} : () => p.commitOffsetsIfNecessary(),
                    isRunning: p.isRunning,
                    isStale: () => keepAlive.lost() || p.isStale(),
                    pause: p.pause,
                  },
                );
              } finally {
                keepAlive.stop();
              }
            },
          });
          // kafkajs takes seeks only once run() started; they apply on the partitions' next fetch.
          for (const [topic, partitions] of Object.entries(startAt))
            for (const [partition, offset] of Object.entries(partitions))
              consumer.seek({ topic, partition: Number(partition), offset });
        },
        stop: () => consumer.stop(),
        disconnect: () => consumer.disconnect(),
        onGroupJoin(listener) {
          consumer.on(consumer.events.GROUP_JOIN, (e) => listener(e.payload.memberAssignment));
        },
        onCrash(listener) {
          consumer.on(consumer.events.CRASH, (e) => listener(e.payload.error, e.payload.restart));
        },
      };
    },
    producer(): KafkaProducerPort {
      const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
      return {
        connect: () => producer.connect(),
        async send(topic, messages) {
          await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m })) });
        },
        disconnect: () => producer.disconnect(),
      };
    },
    admin: () => kafkajsAdmin(kafka),
  };
}

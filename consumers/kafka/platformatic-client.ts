/**
 * The `@platformatic/kafka` adapter behind {@link KafkaClientPort} (`--kafka-client platformatic`). The
 * only file that imports that package.
 *
 * Why: kafkajs fetches, waits until the whole batch is processed, then fetches again, so every batch
 * pays a fetch round trip. Here the library's `MessagesStream` keeps fetching while we process
 * (fetch-ahead, bounded by {@link PlatformaticTuning.maxBufferedMessages} and, counting the batches
 * in flight too, {@link PlatformaticTuning.maxBufferedBytes}); we dispatch its messages into
 * per-partition queues and run {@link KafkaRunOptions.eachBatch} on whatever is queued.
 *
 * Memory bound (issue 20): the messages this adapter holds — queued or in a handler's batch — are at
 * most `maxBufferedBytes` (key + value + a per-message allowance) plus what arrives while the
 * stream pauses: the fetch responses already in flight, each at most the consumer's `maxBytes`.
 * A count alone would not bound it: 20,000 messages of 1 MB are 20 GB.
 *
 * Semantics kept from the kafkajs adapter:
 * - `autocommit: false`: the library never commits. We commit (OffsetCommit with the current
 *   generation) only offsets our handler resolved after the target acknowledged: every second, on
 *   the group's "rebalance in progress" signal (before the rejoin), and on `stop()` after draining.
 * - Per partition, one batch at a time, in offset order; an offset lower than one already queued or
 *   handed out (the stream re-reads from the committed offset after a rejoin) is dropped, so a
 *   partition never goes backwards or skips what it already holds.
 * - Rebalance: on every group join, partitions no longer assigned become stale (`isStale()`), their
 *   queue is dropped and their resolved-but-uncommitted offsets are forgotten, never committed under
 *   the new generation. Partitions kept keep their queue and position.
 * - `pause()` stops dispatching that partition; the library fetches per broker, not per partition, so
 *   its messages keep arriving until the shared buffer is full, then the whole stream pauses
 *   (backpressure) until the partition resumes.
 * - `heartbeat()` is a no-op: the library heartbeats on its own timer, independent of processing.
 * - A stream error (e.g. brokers gone past the retries): crash listeners get `(error, true)`, in-flight
 *   batches are drained, resolved offsets committed, and the stream is opened again from the committed
 *   offsets (5 attempts with backoff, then `(error, false)`).
 *
 * Connection options: brokers, clientId, connectionTimeoutMs, TLS (`true`, or CA/cert/key files,
 * `rejectUnauthorized`, `servername`), SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 / OAUTHBEARER
 * (static token or provider) and AWS MSK IAM (OAUTHBEARER with tokens from
 * `aws-msk-iam-sasl-signer-js`, implies TLS) all map. Not mapped: kafkajs's `retry` and `logLevel`
 * (the library's own retries apply: 3, 250 ms apart).
 */

import { Admin, Consumer, type Message, type MessagesStream, Producer } from '@platformatic/kafka';
import { ConfigError } from '../../core/errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import { backoffDelay } from '../../core/pipeline/backoff.ts';
import type { KafkaConnectionOptions, KafkaSaslOptions } from './connection-options.ts';
import { tlsFromFiles, validateConnectionOptions } from './connection-options.ts';
import type {
  KafkaBatchControls,
  KafkaClientPort,
  KafkaConsumerPort,
  KafkaConsumerPortOptions,
  KafkaMessage,
  KafkaProducerPort,
  KafkaRunOptions,
} from './kafka-port.ts';

/** Adapter tuning beyond the port's options. */
export interface PlatformaticTuning {
  /** Messages fetched ahead and not yet handed to a handler, all partitions; above it the stream pauses. @default 20000 */
  maxBufferedMessages?: number;
  /**
   * Bytes (key + value + {@link MESSAGE_OVERHEAD_BYTES} each) of messages queued or in a handler's
   * batch, all partitions; above it the stream pauses until half of it is free. @default 67108864 (64 MiB)
   */
  maxBufferedBytes?: number;
  /** Messages handed to one eachBatch call at most. @default 10000 */
  maxBatchMessages?: number;
  /** Bytes handed to one eachBatch call at most (a bigger single message goes alone). @default 16777216 (16 MiB) */
  maxBatchBytes?: number;
  /** Interval of the commit of resolved offsets, ms. @default 1000 */
  commitIntervalMs?: number;
}

/** What one message costs beyond its key and value bytes (objects, offsets, headers), for the byte bound. */
export const MESSAGE_OVERHEAD_BYTES = 200;

/** The bytes one message counts for against `maxBufferedBytes`. */
function messageBytes(m: Message): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
}

type SaslConfig = NonNullable<ConstructorParameters<typeof Consumer>[0]['sasl']>;
type TlsConfig = NonNullable<ConstructorParameters<typeof Consumer>[0]['tls']>;

async function mskIamToken(region: string): Promise<string> {
  const name = 'aws-msk-iam-sasl-signer-js';
  type Signer = { generateAuthToken(o: { region: string }): Promise<{ token: string }> };
  const signer = (await loadOptional('kafka.sasl aws-msk-iam', () => import(name))) as Signer;
  return (await signer.generateAuthToken({ region })).token;
}

function saslFor(sasl: KafkaSaslOptions | undefined): SaslConfig | undefined {
  if (sasl === undefined) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', username: sasl.username, password: sasl.password };
    case 'aws-msk-iam':
      return { mechanism: 'OAUTHBEARER', token: () => mskIamToken(sasl.region) };
    case 'oauthbearer': {
      const provider = sasl.provider;
      return {
        mechanism: 'OAUTHBEARER',
        token: provider === undefined ? (sasl.token ?? '') : async () => (await provider()).value,
      };
    }
  }
}

/** The connection part of the library's client options for our connection options (exported for tests). */
export function platformaticConnection(options: KafkaConnectionOptions): {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  tls?: TlsConfig;
  sasl?: SaslConfig;
} {
  validateConnectionOptions(options);
  const ssl =
    options.sasl?.mechanism === 'aws-msk-iam'
      ? (tlsFromFiles(options.ssl) ?? true)
      : tlsFromFiles(options.ssl);
  const out: ReturnType<typeof platformaticConnection> = {
    clientId: options.clientId ?? 'cdc-cache',
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectionTimeoutMs ?? 10_000,
  };
  if (ssl !== undefined && ssl !== false) out.tls = (ssl === true ? {} : ssl) as TlsConfig;
  const sasl = saslFor(options.sasl);
  if (sasl !== undefined) out.sasl = sasl;
  return out;
}

/** One assigned partition as the dispatcher sees it. */
interface PartitionState {
  topic: string;
  partition: number;
  queue: Message[];
  /** Offset after the last message queued or handed out; lower offsets are duplicates. */
  next: bigint | null;
  running: boolean;
  /** A dispatch is queued (microtask) — so one fetch response becomes one batch, not one per message. */
  dispatchQueued: boolean;
  paused: boolean;
  stale: boolean;
  /** Offset to commit (last resolved + 1) and its leader epoch; null when nothing new. */
  resolved: { offset: bigint; leaderEpoch: number } | null;
  /** Partition high watermark seen (from listOffsets), or -1n. */
  high: bigint;
}

/** Shutdown steps never wait longer than this: a commit or close the library keeps retrying (e.g.
 * a commit refused during a rebalance that will not complete because we are leaving) must not hang
 * SIGTERM. What was not committed is replayed by the group (at-least-once). */
const SHUTDOWN_STEP_MS = 10_000;

/** `p`, or a rejection after `ms`. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function toPortMessage(m: Message): KafkaMessage {
  return {
    key: m.key ?? null,
    value: m.value ?? null,
    offset: String(m.offset),
    timestamp: String(m.timestamp),
  };
}

/** Creates our Kafka client over `@platformatic/kafka`. */
export function createPlatformaticClient(
  options: KafkaConnectionOptions,
  tuning: PlatformaticTuning = {},
): KafkaClientPort {
  const connection = platformaticConnection(options);
  const maxBuffered = tuning.maxBufferedMessages ?? 20_000;
  const maxBatch = tuning.maxBatchMessages ?? 10_000;
  const maxHeldBytes = tuning.maxBufferedBytes ?? 64 * 1024 * 1024;
  const maxBatchBytes = tuning.maxBatchBytes ?? 16 * 1024 * 1024;
  const commitInterval = tuning.commitIntervalMs ?? 1000;
  return {
    consumer(o: KafkaConsumerPortOptions): KafkaConsumerPort {
      const consumer = new Consumer({
        ...connection,
        groupId: o.groupId,
        sessionTimeout: o.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
        // The library's default (rebalanceTimeout > session timeout) keeps a slow member's rejoin in.
        rebalanceTimeout: Math.max(60_000, o.sessionTimeoutMs ?? 30_000),
        autocommit: false,
        maxBytesPerPartition: o.maxBytesPerPartition ?? 1_048_576,
        maxBytes: o.maxBytes ?? 10_485_760,
        maxWaitTime: o.maxWaitTimeMs ?? 5_000,
        minBytes: 1,
      });
      const joinListeners: ((assigned: Record<string, number[]>) => void)[] = [];
      const crashListeners: ((error: Error, restart: boolean) => void)[] = [];
      let topics: string[] = [];
      let fromBeginning = true;
      let running = false;
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
      let streamPaused = false;
      const states = new Map<string, PartitionState>();
      const ready: PartitionState[] = [];
      let buffered = 0;
      /** Bytes of the messages queued or in a handler's batch (messageBytes). */
      let heldBytes = 0;
      let active = 0;
      let concurrency = 1;
      let eachBatch: KafkaRunOptions['eachBatch'] = async () => {};
      let idleWaiters: (() => void)[] = [];
      let commitTimer: ReturnType<typeof setInterval> | null = null;
      let highTimer: ReturnType<typeof setInterval> | null = null;
      let committing: Promise<void> | null = null;
      let lastCommit = 0;

      const assignedSet = () => {
        const set = new Set<string>();
        for (const a of consumer.assignments ?? []) for (const p of a.partitions) set.add(keyOf(a.topic, p));
        return set;
      };

      function notifyIdle() {
        if (active > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
      const whenIdle = () =>
        active === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r));

      function updateBackpressure() {
        if (stream === null) return;
        if (!streamPaused && (buffered >= maxBuffered || heldBytes >= maxHeldBytes)) {
          streamPaused = true;
          stream.pause();
        } else if (streamPaused && buffered < maxBuffered / 2 && heldBytes < maxHeldBytes / 2) {
          streamPaused = false;
          stream.resume();
        }
      }

      /** Commits every resolved offset of a partition still assigned (single flight). */
      async function flushCommits(): Promise<void> {
        while (committing !== null) await committing.catch(() => {});
        const offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] = [];
        for (const s of states.values()) {
          if (s.stale || s.resolved === null) continue;
          offsets.push({ topic: s.topic, partition: s.partition, ...s.resolved });
        }
        lastCommit = Date.now();
        if (offsets.length === 0) return;
        const taken = new Map(offsets.map((x) => [keyOf(x.topic, x.partition), x.offset]));
        for (const s of states.values()) if (taken.has(keyOf(s.topic, s.partition))) s.resolved = null;
        committing = consumer
          .commit({ offsets })
          .catch((error: unknown) => {
            // Put back what was not superseded, for the next flush (a failed commit loses nothing:
            // the group replays from the last committed offset).
            for (const x of offsets) {
              const s = states.get(keyOf(x.topic, x.partition));
              if (s !== undefined && !s.stale && (s.resolved === null || s.resolved.offset < x.offset))
                s.resolved = { offset: x.offset, leaderEpoch: x.leaderEpoch };
            }
            throw error;
          })
          .finally(() => {
            committing = null;
          });
        await committing;
      }
      const backgroundCommit = () => {
        flushCommits().catch(() => {
          // Retried on the next tick; a rebalance makes the broker refuse the old generation.
        });
      };

      function schedule(s: PartitionState) {
        if (s.running || s.paused || s.stale || s.queue.length === 0 || !running) return;
        if (active >= concurrency) {
          if (!ready.includes(s)) ready.push(s);
          return;
        }
        void work(s);
      }

      function scheduleReady() {
        while (active < concurrency && ready.length > 0) {
          const s = ready.shift()!;
          schedule(s);
        }
      }

      async function work(s: PartitionState): Promise<void> {
        s.running = true;
        active++;
        let n = 0;
        let batchBytes = 0;
        while (n < s.queue.length && n < maxBatch) {
          const b = messageBytes(s.queue[n]!);
          if (n > 0 && batchBytes + b > maxBatchBytes) break;
          batchBytes += b;
          n++;
        }
        const messages = s.queue.splice(0, n);
        buffered -= messages.length;
        updateBackpressure();
        const last = messages[messages.length - 1]!;
        /** Offset after the last message of this batch the handler resolved. */
        let resolvedUpTo = -1n;
        const controls: KafkaBatchControls = {
          resolveOffset(offset) {
            if (s.stale) return;
            const value = BigInt(offset) + 1n;
            if (value > resolvedUpTo) resolvedUpTo = value;
            if (s.resolved !== null && s.resolved.offset >= value) return;
            let epoch = last.leaderEpoch;
            for (let i = messages.length - 1; i >= 0; i--) {
              if (messages[i]!.offset === value - 1n) {
                epoch = messages[i]!.leaderEpoch;
                break;
              }
            }
            s.resolved = { offset: value, leaderEpoch: epoch };
          },
          heartbeat: async () => {},
          async commitIfNecessary() {
            if (Date.now() - lastCommit >= commitInterval) backgroundCommit();
          },
          isRunning: () => running,
          isStale: () => s.stale,
          pause() {
            s.paused = true;
            return () => {
              if (!s.paused) return;
              s.paused = false;
              schedule(s);
            };
          },
        };
        const high = s.high > last.offset ? s.high : last.offset + 1n;
        try {
          await eachBatch(
            {
              topic: s.topic,
              partition: s.partition,
              messages: messages.map(toPortMessage),
              highWatermark: String(high),
            },
            controls,
          );
        } catch (error) {
          // As kafkajs does on a handler error: nothing past the resolved offset counts as done.
          // Re-queue the unresolved messages in front and try again after a pause.
          const rest = messages.filter((m) => m.offset >= resolvedUpTo);
          if (!s.stale && running) {
            s.queue.unshift(...rest);
            buffered += rest.length;
            for (const m of rest) heldBytes += messageBytes(m);
            s.paused = true;
            setTimeout(() => {
              s.paused = false;
              schedule(s);
            }, 1000).unref();
          }
          for (const l of crashListeners) l(error as Error, true);
        } finally {
          heldBytes -= batchBytes;
          updateBackpressure();
          s.running = false;
          active--;
          // Partitions waiting for a slot go first, then this one (queued behind them if none is left).
          scheduleReady();
          schedule(s);
          notifyIdle();
        }
      }

      function onMessage(m: Message) {
        const key = keyOf(m.topic, m.partition);
        let s = states.get(key);
        if (s === undefined) {
          if (!assignedSet().has(key)) return; // a fetch issued before a revocation
          s = {
            topic: m.topic,
            partition: m.partition,
            queue: [],
            next: null,
            running: false,
            dispatchQueued: false,
            paused: false,
            stale: false,
            resolved: null,
            high: -1n,
          };
          states.set(key, s);
        }
        if (s.next !== null && m.offset < s.next) return; // already queued or handed out
        s.next = m.offset + 1n;
        s.queue.push(m);
        buffered++;
        heldBytes += messageBytes(m);
        updateBackpressure();
        if (!s.dispatchQueued) {
          // The stream pushes a whole fetch response synchronously: dispatch after the last message.
          s.dispatchQueued = true;
          const state = s;
          queueMicrotask(() => {
            state.dispatchQueued = false;
            schedule(state);
          });
        }
      }

      function dropState(s: PartitionState) {
        s.stale = true;
        buffered -= s.queue.length;
        for (const m of s.queue) heldBytes -= messageBytes(m);
        s.queue = [];
        s.resolved = null;
        states.delete(keyOf(s.topic, s.partition));
        const i = ready.indexOf(s);
        if (i >= 0) ready.splice(i, 1);
      }

      async function refreshHighWatermarks() {
        const assigned = consumer.assignments ?? [];
        if (assigned.length === 0) return;
        const partitions: Record<string, number[]> = {};
        for (const a of assigned) partitions[a.topic] = a.partitions;
        const offsets = await consumer.listOffsets({
          topics: assigned.map((a) => a.topic),
          partitions,
          isolationLevel: 1,
        });
        for (const [topic, list] of offsets) {
          list.forEach((high, partition) => {
            const s = states.get(keyOf(topic, partition));
            if (s !== undefined) s.high = high;
          });
        }
      }

      async function openStream(): Promise<void> {
        const s = await consumer.consume({
          topics,
          mode: 'committed',
          fallbackMode: fromBeginning ? 'earliest' : 'latest',
          autocommit: false,
          sessionTimeout: o.sessionTimeoutMs ?? 30_000,
          heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
          highWaterMark: 1024,
        });
        stream = s;
        streamPaused = false;
        s.on('data', onMessage);
        s.on('error', (error: Error) => {
          if (stream !== s) return;
          void restartStream(error);
        });
      }

      async function restartStream(error: Error) {
        stream = null;
        for (const l of crashListeners) l(error, true);
        for (const s of [...states.values()]) s.paused = true;
        await whenIdle();
        await flushCommits().catch(() => {});
        for (const s of [...states.values()]) dropState(s);
        buffered = 0;
        heldBytes = 0;
        for (let attempt = 1; running; attempt++) {
          await new Promise((r) =>
            setTimeout(r, backoffDelay(attempt, { baseDelayMs: 1000, maxDelayMs: 10_000 })),
          );
          if (!running) return;
          try {
            await openStream();
            return;
          } catch (retryError) {
            if (attempt >= 5) {
              for (const l of crashListeners) l(retryError as Error, false);
              return;
            }
          }
        }
      }

      consumer.on('consumer:group:rebalance', () => {
        // Before the rejoin: commit what is done while the old generation is still accepted.
        if (running) backgroundCommit();
      });
      consumer.on('consumer:group:join', (payload) => {
        const assigned: Record<string, number[]> = {};
        for (const a of payload.assignments ?? []) assigned[a.topic] = [...a.partitions];
        const keep = new Set<string>();
        for (const [t, ps] of Object.entries(assigned)) for (const p of ps) keep.add(keyOf(t, p));
        for (const s of [...states.values()]) if (!keep.has(keyOf(s.topic, s.partition))) dropState(s);
        updateBackpressure();
        for (const l of joinListeners) l(assigned);
      });

      return {
        async connect() {
          await consumer.metadata({ topics: [] });
        },
        async subscribe(list, beginning) {
          fromBeginning = beginning;
          const names = list.filter((t): t is string => typeof t === 'string');
          const patterns = list.filter((t): t is RegExp => t instanceof RegExp);
          if (patterns.length > 0) {
            const admin = new Admin(connection);
            try {
              for (const name of await admin.listTopics()) {
                if (patterns.some((p) => p.test(name)) && !names.includes(name)) names.push(name);
              }
            } finally {
              await admin.close();
            }
          }
          if (names.length === 0)
            throw new ConfigError(`kafka: no topic matches ${list.map(String).join(', ')}`);
          topics = names;
        },
        async run(run) {
          concurrency = run.partitionsConsumedConcurrently;
          eachBatch = run.eachBatch;
          running = true;
          await openStream();
          commitTimer = setInterval(() => {
            if (Date.now() - lastCommit >= commitInterval) backgroundCommit();
          }, commitInterval);
          commitTimer.unref();
          highTimer = setInterval(() => {
            refreshHighWatermarks().catch(() => {});
          }, 5000);
          highTimer.unref();
          refreshHighWatermarks().catch(() => {});
        },
        async stop() {
          if (!running) return;
          running = false;
          if (commitTimer !== null) clearInterval(commitTimer);
          if (highTimer !== null) clearInterval(highTimer);
          const s = stream;
          stream = null;
          s?.pause();
          await whenIdle();
          try {
            await bounded(flushCommits(), SHUTDOWN_STEP_MS, 'final commit').catch(async () => {
              await new Promise((r) => setTimeout(r, 200));
              await bounded(flushCommits(), SHUTDOWN_STEP_MS, 'final commit');
            });
          } catch (error) {
            // Not fatal: the group replays from the last committed offset. Reported, not thrown,
            // so the consumer still leaves the group.
            for (const l of crashListeners) l(error as Error, false);
          } finally {
            for (const st of [...states.values()]) dropState(st);
            buffered = 0;
            heldBytes = 0;
            if (s) await bounded(s.close(), SHUTDOWN_STEP_MS, 'closing the stream').catch(() => {});
          }
        },
        async disconnect() {
          // Force: a stream left open (stop() not called) is closed first instead of refusing to leave.
          await bounded(consumer.close(true), SHUTDOWN_STEP_MS, 'leaving the group').catch(() => {});
        },
        onGroupJoin(listener) {
          joinListeners.push(listener);
        },
        onCrash(listener) {
          crashListeners.push(listener);
        },
      };
    },
    producer(): KafkaProducerPort {
      const producer = new Producer({ ...connection, autocreateTopics: true });
      const buf = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v);
      return {
        async connect() {
          await producer.metadata({ topics: [] });
        },
        async send(topic, messages) {
          await producer.send({
            acks: -1,
            messages: messages.map((m) => {
              const out: Parameters<typeof producer.send>[0]['messages'][number] = {
                topic,
                headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
              };
              if (m.key !== null) out.key = buf(m.key);
              if (m.value !== null) out.value = buf(m.value);
              return out;
            }),
          });
        },
        async disconnect() {
          await producer.close();
        },
      };
    },
  };
}

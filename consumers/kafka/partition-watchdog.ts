/**
 * The stall watchdog of the Kafka consumer. A partition that has lag and whose committed offset
 * does not move is the worst failure a CDC consumer can have: the caches it feeds go stale and,
 * when the cause is a hang or a livelock inside the client, nothing logs it. Every `everyMs` the
 * watchdog reads, through the admin port (its own connection, so a stuck consumer does not block
 * it), the group's committed offsets and the high watermarks of the partitions this member was
 * assigned at its last join. A partition with lag whose committed offset stayed the same for
 * `stallAfterMs` (the consumer uses 3 × the session timeout) is reported once per episode:
 *
 * - one error line, `partition stalled: lag and no committed progress`, naming group, topic,
 *   partition, committed, high, lag and how long;
 * - `cdc_cache_kafka_stalls_total{topic,partition}` + 1, `cdc_cache_kafka_stalled_partitions` (the
 *   partitions stalled now), and `cdc_cache_kafka_consumer_lag` set from the committed offset (the
 *   in-batch value of a partition that gets no batches would stay as it was).
 *
 * Partitions waiting for the target (an outage the consumer already logs and reports as not ready)
 * are not stalls. A stalled partition that commits again is logged at info and leaves the gauge.
 * While any partition is stalled, {@link PartitionWatchdog.stallReason} says so, and the consumer's
 * `/readyz` answers 503 with it (consumers/README.md, "Stall watchdog").
 */
import type { ConsumerMetrics } from '../runtime/consumer-metrics.ts';
import type { Logger } from '../runtime/logger.ts';
import type { KafkaAdminPort } from './kafka-port.ts';

/** Options of {@link createPartitionWatchdog}. */
export interface PartitionWatchdogOptions {
  admin: Pick<KafkaAdminPort, 'committedOffsets' | 'topicOffsets'>;
  groupId: string;
  /** The partitions this member holds (its last group join). */
  assigned(): Readonly<Record<string, readonly number[]>>;
  /** True while the partition waits for the target (not a stall). */
  retrying(topic: string, partition: number): boolean;
  /** No committed progress with lag for this long is a stall. */
  stallAfterMs: number;
  metrics: Pick<ConsumerMetrics, 'kafkaLag' | 'kafkaStalls' | 'kafkaStalledPartitions'>;
  logger: Logger;
  now?: () => number;
}

/** A running watchdog. */
export interface PartitionWatchdog {
  /** One round: read the offsets, report new stalls (tests call it directly). */
  check(): Promise<void>;
  /** Runs {@link PartitionWatchdog.check} every `everyMs` (timer unref'd). */
  start(everyMs: number): void;
  stop(): void;
  /** `topic/partition` of the partitions stalled now. */
  stalled(): string[];
  /**
   * Null while no partition is stalled, else one line for `/readyz`: how many, and each one's
   * `topic/partition`, lag and time without committed progress (as of the last round).
   */
  stallReason(): string | null;
}

interface Watch {
  committed: bigint;
  since: number;
  stalled: boolean;
  /** Lag at the last round (high watermark − committed offset). */
  lag: bigint;
  /** Time of the last round that saw it. */
  seenAt: number;
}

/** Creates the watchdog (not started). */
export function createPartitionWatchdog(o: PartitionWatchdogOptions): PartitionWatchdog {
  const now = o.now ?? Date.now;
  const watches = new Map<string, Watch>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let busy = false;
  let lastError = '';

  const gauge = () => {
    let n = 0;
    for (const w of watches.values()) if (w.stalled) n++;
    o.metrics.kafkaStalledPartitions.set(n);
  };

  async function round(): Promise<void> {
    const seen = new Set<string>();
    const t = now();
    for (const [topic, partitions] of Object.entries(o.assigned())) {
      if (partitions.length === 0) continue;
      const [committedBy, offsets] = await Promise.all([
        o.admin.committedOffsets(o.groupId, topic),
        o.admin.topicOffsets(topic),
      ]);
      for (const partition of partitions) {
        const off = offsets.find((p) => p.partition === partition);
        if (off === undefined) continue;
        const key = `${topic}/${partition}`;
        seen.add(key);
        const high = BigInt(off.high);
        const given = committedBy.get(partition);
        const committed = given === undefined ? BigInt(off.low) : BigInt(given);
        const lag = high > committed ? high - committed : 0n;
        const w = watches.get(key);
        if (w === undefined || w.committed !== committed || lag === 0n || o.retrying(topic, partition)) {
          if (w?.stalled)
            o.logger.info('partition moving again', {
              group: o.groupId,
              topic,
              partition,
              committed: String(committed),
              lag: Number(lag),
            });
          watches.set(key, { committed, since: t, stalled: false, lag, seenAt: t });
          continue;
        }
        w.lag = lag;
        w.seenAt = t;
        if (w.stalled) {
          o.metrics.kafkaLag.set(Number(lag), [topic, String(partition)]);
          continue;
        }
        if (t - w.since < o.stallAfterMs) continue;
        w.stalled = true;
        o.metrics.kafkaStalls.inc([topic, String(partition)]);
        o.metrics.kafkaLag.set(Number(lag), [topic, String(partition)]);
        o.logger.error('partition stalled: lag and no committed progress', {
          group: o.groupId,
          topic,
          partition,
          committed: String(committed),
          high: String(high),
          lag: Number(lag),
          stalledForMs: t - w.since,
        });
      }
    }
    for (const key of [...watches.keys()]) if (!seen.has(key)) watches.delete(key);
    gauge();
  }

  const check = async () => {
    try {
      await round();
      lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastError)
        o.logger.warn('stall watchdog: cannot read the offsets', { group: o.groupId, error });
      lastError = message;
    }
  };

  return {
    check,
    start(everyMs) {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        if (busy) return; // the previous round is still reading
        busy = true;
        void check().finally(() => {
          busy = false;
        });
      }, everyMs);
      timer.unref?.();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    stalled: () => [...watches].filter(([, w]) => w.stalled).map(([k]) => k),
    stallReason() {
      const stalled = [...watches].filter(([, w]) => w.stalled);
      if (stalled.length === 0) return null;
      const each = stalled.map(
        ([key, w]) => `${key} (lag ${w.lag}, ${Math.round((w.seenAt - w.since) / 1000)} s)`,
      );
      return `${stalled.length} partition(s) stalled: lag and no committed progress: ${each.join(', ')}`;
    },
  };
}

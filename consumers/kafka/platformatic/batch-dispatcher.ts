/**
 * Hands queued messages to {@link KafkaRunOptions.eachBatch} for the `@platformatic/kafka` adapter.
 *
 * Invariants:
 * - Per partition, one batch at a time, in offset order; at most `concurrency` batches in flight over
 *   all partitions; partitions waiting for a slot go first, in arrival order.
 * - A paused or stale partition is not dispatched; `pause()` stops dispatching that partition only.
 * - `resolveOffset` records the offset to commit (last resolved + 1, with its leader epoch); a stale
 *   partition's resolutions are ignored.
 * - On a handler error, as kafkajs does: nothing past the resolved offset counts as done; the
 *   unresolved messages go back in front of the queue and the partition is retried after a pause;
 *   crash listeners get `(error, true)`.
 * - `heartbeat()` is a no-op: the library heartbeats on its own timer, independent of processing.
 */

import type { Message } from '@platformatic/kafka';
import type { KafkaBatchControls, KafkaHeaders, KafkaMessage, KafkaRunOptions } from '../kafka-port.ts';
import type { CommitScheduler } from './commit-scheduler.ts';
import type { PartitionBuffer, PartitionState } from './partition-buffer.ts';

/** Pause before a partition whose handler failed is dispatched again, ms. */
const HANDLER_ERROR_PAUSE_MS = 1000;

function toPortMessage(m: Message): KafkaMessage {
  const out: KafkaMessage = {
    key: m.key ?? null,
    value: m.value ?? null,
    offset: String(m.offset),
    timestamp: String(m.timestamp),
  };
  // Debezium records carry none by default: the common case costs one size check.
  if (m.headers !== undefined && m.headers.size > 0) out.headers = headersOf(m.headers);
  return out;
}

/** The library's header map (Buffer names and values) in the port's shape. */
function headersOf(map: Map<unknown, unknown>): KafkaHeaders {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of map) {
    const name = Buffer.isBuffer(k) ? k.toString('utf8') : String(k);
    const value = Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''));
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** What a {@link BatchDispatcher} works with. */
export interface BatchDispatcherOptions {
  buffer: PartitionBuffer;
  commits: CommitScheduler;
  /** Whether the consumer is running (`run()` called, `stop()` not). */
  isRunning(): boolean;
  /** A handler threw (crash listeners get `(error, true)`). */
  onHandlerError(error: Error): void;
}

/** Runs the handler over each partition's queue, one batch per partition at a time. */
export class BatchDispatcher {
  private active = 0;
  private concurrency = 1;
  private eachBatch: KafkaRunOptions['eachBatch'] = async () => {};
  private idleWaiters: (() => void)[] = [];

  private readonly o: BatchDispatcherOptions;

  constructor(o: BatchDispatcherOptions) {
    this.o = o;
  }

  /** Sets the handler and the number of partitions processed at once (from `run()`). */
  configure(run: KafkaRunOptions): void {
    this.concurrency = run.partitionsConsumedConcurrently;
    this.eachBatch = run.eachBatch;
  }

  /**
   * Dispatches `s` after the current synchronous run: the stream pushes a whole fetch response
   * synchronously, so its messages become one batch, not one per message.
   */
  dispatchSoon(s: PartitionState): void {
    if (s.dispatchQueued) return;
    s.dispatchQueued = true;
    queueMicrotask(() => {
      s.dispatchQueued = false;
      this.schedule(s);
    });
  }

  /** Resolves when no batch is in a handler. */
  whenIdle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Starts a batch of `s` if it has work and a slot is free; else it waits in line for a slot. */
  schedule(s: PartitionState): void {
    if (s.running || s.paused || s.stale || s.queue.length === 0 || !this.o.isRunning()) return;
    const { ready } = this.o.buffer;
    if (this.active >= this.concurrency) {
      if (!ready.includes(s)) ready.push(s);
      return;
    }
    void this.work(s);
  }

  private scheduleReady(): void {
    const { ready } = this.o.buffer;
    while (this.active < this.concurrency && ready.length > 0) {
      const s = ready.shift()!;
      this.schedule(s);
    }
  }

  private notifyIdle(): void {
    if (this.active > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async work(s: PartitionState): Promise<void> {
    const { buffer, commits } = this.o;
    s.running = true;
    this.active++;
    const { messages, bytes: batchBytes } = buffer.take(s);
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
        commits.commitIfDue();
      },
      isRunning: () => this.o.isRunning(),
      isStale: () => s.stale,
      pause: () => {
        s.paused = true;
        return () => {
          if (!s.paused) return;
          s.paused = false;
          this.schedule(s);
        };
      },
    };
    const high = s.high > last.offset ? s.high : last.offset + 1n;
    try {
      await this.eachBatch(
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
      if (!s.stale && this.o.isRunning()) {
        buffer.requeue(s, rest);
        s.paused = true;
        setTimeout(() => {
          s.paused = false;
          this.schedule(s);
        }, HANDLER_ERROR_PAUSE_MS).unref();
      }
      this.o.onHandlerError(error as Error);
    } finally {
      buffer.release(batchBytes);
      s.running = false;
      this.active--;
      // Partitions waiting for a slot go first, then this one (queued behind them if none is left).
      this.scheduleReady();
      this.schedule(s);
      this.notifyIdle();
    }
  }
}

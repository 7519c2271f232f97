/**
 * The messages the `@platformatic/kafka` adapter holds: one queue per assigned partition, and the
 * two bounds that pause the fetch stream (backpressure).
 *
 * Invariants:
 * - Per partition, offsets only go forward: an offset lower than one already queued or handed out
 *   (the stream re-reads from the committed offset after a rejoin) is dropped.
 * - `buffered` counts the queued messages (not yet handed to a handler); `heldBytes` counts the
 *   bytes ({@link messageBytes}) of the queued messages and of those in a handler's batch. The
 *   stream pauses when either reaches its limit and resumes when both are below half of it.
 * - A dropped (stale) partition loses its queue and its resolved-but-uncommitted offset.
 */

import type { Message } from '@platformatic/kafka';

/** What one message costs beyond its key and value bytes (objects, offsets, headers), for the byte bound. */
export const MESSAGE_OVERHEAD_BYTES = 200;

/** The bytes one message counts for against `maxBufferedBytes`. */
export function messageBytes(m: Message): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
}

/** The map key of a partition. */
export const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** One assigned partition as the dispatcher sees it. */
export interface PartitionState {
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

/** What the buffer pauses and resumes: the library's messages stream. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** The bounds of a {@link PartitionBuffer} (the adapter's tuning, defaults applied). */
export interface PartitionBufferLimits {
  /** Queued messages, all partitions, at which the stream pauses. */
  maxBuffered: number;
  /** Bytes queued or in a handler's batch, all partitions, at which the stream pauses. */
  maxHeldBytes: number;
  /** Messages in one batch at most. */
  maxBatch: number;
  /** Bytes in one batch at most (a bigger single message goes alone). */
  maxBatchBytes: number;
}

/** The per-partition queues of one consumer and their backpressure on the fetch stream. */
export class PartitionBuffer {
  /** Every partition holding state, by {@link keyOf}. */
  readonly states = new Map<string, PartitionState>();
  /** Partitions with work waiting for a free handler slot, in arrival order. */
  readonly ready: PartitionState[] = [];
  private buffered = 0;
  private heldBytes = 0;
  private flow: FlowControl | null = null;
  /** The partition the last accepted message belonged to (dropped partitions are stale: looked up again). */
  private last: PartitionState | undefined;
  private flowPaused = false;

  private readonly limits: PartitionBufferLimits;

  constructor(limits: PartitionBufferLimits) {
    this.limits = limits;
  }

  /** Applies backpressure to `flow` from now on (a newly opened stream, running). */
  attach(flow: FlowControl): void {
    this.flow = flow;
    this.flowPaused = false;
  }

  /** Stops applying backpressure (the stream is gone). */
  detach(): void {
    this.flow = null;
  }

  /**
   * Queues `m` unless it is a duplicate or its partition is not assigned (`isAssigned` is asked
   * only for a partition without state). Returns the partition's state when queued.
   */
  accept(m: Message, isAssigned: (key: string) => boolean): PartitionState | undefined {
    // A fetch response pushes a partition's messages one after another: the partition of the
    // previous message is checked first, without building its map key (a string per message).
    let s = this.last;
    if (s === undefined || s.partition !== m.partition || s.topic !== m.topic || s.stale) {
      s = this.lookup(m, isAssigned);
      if (s === undefined) return undefined;
      this.last = s;
    }
    if (s.next !== null && m.offset < s.next) return undefined; // already queued or handed out
    s.next = m.offset + 1n;
    s.queue.push(m);
    this.buffered++;
    this.heldBytes += messageBytes(m);
    this.updateBackpressure();
    return s;
  }

  /** The state of the partition of `m`, created when it is assigned; undefined when it is not. */
  private lookup(m: Message, isAssigned: (key: string) => boolean): PartitionState | undefined {
    const key = keyOf(m.topic, m.partition);
    let s = this.states.get(key);
    if (s === undefined) {
      if (!isAssigned(key)) return undefined; // a fetch issued before a revocation
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
      this.states.set(key, s);
    }
    return s;
  }

  /**
   * Takes the next batch of `s` off its queue (at most `maxBatch` messages and `maxBatchBytes`
   * bytes, at least one message); its bytes stay held until {@link release}.
   */
  take(s: PartitionState): { messages: Message[]; bytes: number } {
    let n = 0;
    let bytes = 0;
    while (n < s.queue.length && n < this.limits.maxBatch) {
      const b = messageBytes(s.queue[n]!);
      if (n > 0 && bytes + b > this.limits.maxBatchBytes) break;
      bytes += b;
      n++;
    }
    const messages = s.queue.splice(0, n);
    this.buffered -= messages.length;
    this.updateBackpressure();
    return { messages, bytes };
  }

  /** Puts messages of a failed batch back in front of the queue of `s`. */
  requeue(s: PartitionState, messages: Message[]): void {
    s.queue.unshift(...messages);
    this.buffered += messages.length;
    for (const m of messages) this.heldBytes += messageBytes(m);
  }

  /** Releases the bytes of a finished batch ({@link take}). */
  release(bytes: number): void {
    this.heldBytes -= bytes;
    this.updateBackpressure();
  }

  /** Marks `s` stale and forgets its queue and its resolved offset. */
  drop(s: PartitionState): void {
    s.stale = true;
    this.buffered -= s.queue.length;
    for (const m of s.queue) this.heldBytes -= messageBytes(m);
    s.queue = [];
    s.resolved = null;
    this.states.delete(keyOf(s.topic, s.partition));
    const i = this.ready.indexOf(s);
    if (i >= 0) this.ready.splice(i, 1);
  }

  /** Drops every partition and zeroes the counters (stream restart, stop). */
  dropAll(): void {
    for (const s of [...this.states.values()]) this.drop(s);
    this.buffered = 0;
    this.heldBytes = 0;
  }

  /** Drops the partitions whose key is not in `keep` (a new assignment). */
  retain(keep: Set<string>): void {
    for (const s of [...this.states.values()]) if (!keep.has(keyOf(s.topic, s.partition))) this.drop(s);
    this.updateBackpressure();
  }

  /** Records a partition's high watermark, if it holds state. */
  setHigh(topic: string, partition: number, high: bigint): void {
    const s = this.states.get(keyOf(topic, partition));
    if (s !== undefined) s.high = high;
  }

  private updateBackpressure(): void {
    const flow = this.flow;
    if (flow === null) return;
    const { maxBuffered, maxHeldBytes } = this.limits;
    if (!this.flowPaused && (this.buffered >= maxBuffered || this.heldBytes >= maxHeldBytes)) {
      this.flowPaused = true;
      flow.pause();
    } else if (this.flowPaused && this.buffered < maxBuffered / 2 && this.heldBytes < maxHeldBytes / 2) {
      this.flowPaused = false;
      flow.resume();
    }
  }
}

/**
 * When and what the `@platformatic/kafka` adapter commits (the library runs with `autocommit: false`).
 *
 * Invariants:
 * - Only offsets a handler resolved (after the target acknowledged) are committed, and only for
 *   partitions still assigned (a stale partition's offset is never committed under a new generation).
 * - One commit in flight at a time; a failed commit puts back what was not superseded, for the next
 *   flush (it loses nothing: the group replays from the last committed offset).
 * - A commit is due when {@link CommitSchedulerOptions.intervalMs} has passed since the last flush,
 *   by the injected clock; a timer checks every interval.
 */

import { keyOf, type PartitionState } from './partition-buffer.ts';

/** One offset to commit, in the library's commit request shape. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

/** What a {@link CommitScheduler} needs. */
export interface CommitSchedulerOptions {
  /** The partitions holding state (their `resolved` offsets are what is committed). */
  states: Map<string, PartitionState>;
  /** Sends one OffsetCommit (the consumer's `commit`, current generation). */
  commit(request: { offsets: OffsetToCommit[] }): Promise<void>;
  /** Interval between commits, ms. */
  intervalMs: number;
  /** Clock, epoch ms. */
  now: () => number;
}

/** Commits resolved offsets: on an interval, when a handler asks, on a rebalance and on stop. */
export class CommitScheduler {
  private committing: Promise<void> | null = null;
  private lastCommit = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  private readonly o: CommitSchedulerOptions;

  constructor(o: CommitSchedulerOptions) {
    this.o = o;
  }

  /** Commits every resolved offset of a partition still assigned (single flight). */
  async flush(): Promise<void> {
    while (this.committing !== null) await this.committing.catch(() => {});
    const { states } = this.o;
    const offsets: OffsetToCommit[] = [];
    for (const s of states.values()) {
      if (s.stale || s.resolved === null) continue;
      offsets.push({ topic: s.topic, partition: s.partition, ...s.resolved });
    }
    this.lastCommit = this.o.now();
    if (offsets.length === 0) return;
    const taken = new Map(offsets.map((x) => [keyOf(x.topic, x.partition), x.offset]));
    for (const s of states.values()) if (taken.has(keyOf(s.topic, s.partition))) s.resolved = null;
    this.committing = this.o
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
        this.committing = null;
      });
    await this.committing;
  }

  /** {@link flush} without waiting; a failure is retried on the next tick (a rebalance makes the broker refuse the old generation). */
  background(): void {
    this.flush().catch(() => {});
  }

  /** Commits in the background if the interval has passed since the last flush. */
  commitIfDue(): void {
    if (this.o.now() - this.lastCommit >= this.o.intervalMs) this.background();
  }

  /** Starts the interval timer (never keeps the process alive). */
  start(): void {
    this.timer = setInterval(() => this.commitIfDue(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the interval timer. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }
}

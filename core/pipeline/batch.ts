/**
 * One batch of source records through the pipeline, with the delivery semantics every runtime
 * (Lambda handlers, the Kafka consumer, the DynamoDB poller) relies on:
 *
 * - Records are grouped by `group` (a shard or a topic-partition); order within a group is the
 *   order given. Groups are independent.
 * - Every record is decoded; one that cannot be decoded or planned is handed to the dead-letter sink
 *   with its position and reason, and counts as done only once the sink resolved.
 * - Ops are planned across the batch (one per key, newest version wins), applied with retries, and a
 *   record counts as done only when every op it depends on was confirmed by the target.
 * - Per group, `firstUnfinished` is the index (into that group's records) of the first record not
 *   done: everything before it may be checkpointed; it and everything after it must be delivered
 *   again (Lambda: reported in batchItemFailures; Kafka: offset not resolved past it).
 */
import type { SourceRecord } from '../decode/document.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import { planBatch } from '../plan/planner.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheOp } from '../target/cache-op.ts';
import type { CacheTarget, OpResult } from '../target/cache-target.ts';
import { applyWithRetry, type RetryPolicy } from './apply.ts';
import type { DeadLetter } from './replay.ts';

/** One record of a batch. */
export interface BatchRecord {
  /** Shard id or topic-partition: order is kept within a group only. */
  group: string;
  /** The record, decoded lazily. */
  record: SourceRecord;
}

/** Options for {@link processBatch}. */
export interface ProcessBatchOptions {
  config: CompiledConfig;
  target: CacheTarget;
  /** Receives records that cannot be decoded or planned; reject to keep the record undone (retried). */
  deadLetter: (deadLetter: DeadLetter) => Promise<void>;
  retry?: RetryPolicy;
}

/** What happened to a batch. */
export interface BatchOutcome {
  /** Per group: index of the first record that is not done, or -1 when the whole group is done. */
  firstUnfinished: Map<string, number>;
  /** Per group, its records in order (indices match `firstUnfinished`). */
  groups: Map<string, BatchRecord[]>;
  events: number;
  skipped: number;
  deadLetters: number;
  ops: readonly CacheOp[];
  results: readonly OpResult[];
  /** The first target error, when some op was not applied. */
  targetError: Error | undefined;
}

/** Processes a batch and reports, per group, how far it may be checkpointed. */
export async function processBatch(
  records: readonly BatchRecord[],
  options: ProcessBatchOptions,
): Promise<BatchOutcome> {
  const events: (ChangeEvent | null)[] = [];
  const dead: (DeadLetter | undefined)[] = [];
  let skipped = 0;
  for (const { record } of records) {
    try {
      const e = record.decode();
      if (e === null) skipped++;
      events.push(e);
      dead.push(undefined);
    } catch (error) {
      const err = error as Error & { code?: string };
      events.push(null);
      dead.push({
        position: record.label,
        code: err.code ?? 'E_DECODE',
        reason: err.message,
        record: record.raw,
      });
    }
  }
  const plan = planBatch(options.config, events);
  for (const f of plan.failures) {
    const r = records[f.index]!.record;
    dead[f.index] = {
      position: r.label,
      code: f.error.code ?? 'E_RULE',
      reason: f.error.message,
      record: r.raw,
    };
  }
  const results = plan.ops.length > 0 ? await applyWithRetry(options.target, plan.ops, options.retry) : [];
  let targetError: Error | undefined;
  for (const r of results) if (!r.ok) targetError ??= r.error;

  // Dead letters go out in record order; a failed send leaves the record undone.
  const done = new Array<boolean>(records.length);
  let deadLetters = 0;
  for (let i = 0; i < records.length; i++) {
    const d = dead[i];
    if (d !== undefined) {
      try {
        await options.deadLetter(d);
        deadLetters++;
        done[i] = true;
      } catch {
        done[i] = false;
      }
      continue;
    }
    done[i] = plan.recordOps[i]!.every((op) => results[op]?.ok === true);
  }

  const groups = new Map<string, BatchRecord[]>();
  const firstUnfinished = new Map<string, number>();
  records.forEach((r, i) => {
    let list = groups.get(r.group);
    if (list === undefined) {
      list = [];
      groups.set(r.group, list);
      firstUnfinished.set(r.group, -1);
    }
    if (!done[i] && firstUnfinished.get(r.group) === -1) firstUnfinished.set(r.group, list.length);
    list.push(r);
  });
  const eventCount = events.filter((e) => e !== null).length;
  return {
    firstUnfinished,
    groups,
    events: eventCount,
    skipped,
    deadLetters,
    ops: plan.ops,
    results,
    targetError,
  };
}

/**
 * One batch of source records through the pipeline, with the delivery semantics every runtime
 * (Lambda handlers, the Kafka consumer, the DynamoDB poller) relies on:
 *
 * - Records are grouped by `group` (a shard or a topic-partition); order within a group is the
 *   order given. Groups are independent.
 * - Every record is decoded; one that cannot be decoded or planned is handed to the dead-letter sink
 *   with its position and reason, and counts as done only once the sink resolved. Only records
 *   before their group's first undone record are sent (later ones are delivered again).
 * - Ops are planned across the batch (one per key, newest version wins), applied with retries, and a
 *   record counts as done only when every op it depends on was confirmed by the target. An op the
 *   target refuses permanently (`retriable: false`) makes its records dead letters (`E_REJECTED`):
 *   only retriable failures hold the checkpoint.
 * - Per group, `firstUnfinished` is the index (into that group's records) of the first record not
 *   done: everything before it may be checkpointed; it and everything after it must be delivered
 *   again (Lambda: reported in batchItemFailures; Kafka: offset not resolved past it).
 */
import type { SourceRecord } from '../decode/document.ts';
import { ErrorCode, isRetriable } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import type { PlanStats } from '../plan/plan-stats.ts';
import { type Plan, planBatch } from '../plan/planner.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import type { CacheTarget, OpResult } from '../targets/cache-target.ts';
import { applyWithRetry, type RetryPolicy } from './apply.ts';
import type { DeadLetterSink } from './dead-letter-sink.ts';

/** A record that could not be decoded, planned or applied. */
export interface DeadLetter {
  /** `file:line` (and the record within the line), or the stream position. */
  position: string;
  /** Stable error code. */
  code: string;
  /** What went wrong and how to fix it. */
  reason: string;
  /** The record as it arrived (undefined when the line itself was unreadable). */
  record: unknown;
}

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
  deadLetter: DeadLetterSink;
  retry?: RetryPolicy;
  /** Counts what each rule did (pass it on a batch's first attempt only, so retries count once). */
  stats?: PlanStats;
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
  /** The first retriable target error, when some op was not applied and must be retried. */
  targetError: Error | undefined;
  /**
   * The first error of the dead-letter destination, when a dead letter could not be stored (its
   * record stays undone and is retried, like an op the target did not confirm).
   */
  deadLetterError: unknown;
}

/**
 * Why a batch left records undone, for the retry log line: the target (an outage) or the
 * dead-letter destination (it refused to store a dead letter). Never the record itself.
 */
export function retryCause(outcome: BatchOutcome): { message: string; error: unknown } {
  if (outcome.targetError === undefined && outcome.deadLetterError !== undefined)
    return { message: 'dead-letter destination not storing; retrying', error: outcome.deadLetterError };
  return { message: 'target not acknowledging; retrying', error: outcome.targetError };
}

/** A batch decoded and planned, not yet applied: see {@link prepareBatch}. */
export interface PreparedBatch {
  records: readonly BatchRecord[];
  /** Per record: the event, or null (not a row change, or it failed to decode). */
  events: (ChangeEvent | null)[];
  /** Per record: why it must be dead-lettered (decode or rule error), or undefined. */
  dead: (DeadLetter | undefined)[];
  plan: Plan;
  /** Records that are not row changes (tombstones, transaction markers, messages). */
  skipped: number;
}

/**
 * Decodes and plans a batch (no I/O). Split from {@link settleBatch} so a runtime can prepare the
 * next batch while the target applies the current one; applies must still run one after another.
 */
export function prepareBatch(
  records: readonly BatchRecord[],
  config: CompiledConfig,
  stats?: PlanStats,
): PreparedBatch {
  const events: (ChangeEvent | null)[] = new Array(records.length);
  const dead: (DeadLetter | undefined)[] = new Array(records.length);
  let skipped = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!.record;
    try {
      const e = record.decode();
      if (e === null) skipped++;
      events[i] = e;
    } catch (error) {
      const err = error as Error & { code?: string };
      events[i] = null;
      dead[i] = {
        position: record.label,
        code: err.code ?? 'E_DECODE',
        reason: err.message,
        record: record.raw,
      };
    }
  }
  const plan = planBatch(config, events, stats);
  for (const f of plan.failures) {
    const r = records[f.index]!.record;
    dead[f.index] = {
      position: r.label,
      code: f.error.code ?? 'E_RULE',
      reason: f.error.message,
      record: r.raw,
    };
  }
  return { records, events, dead, plan, skipped };
}

/** True when the target confirmed every op in `deps` (a loop: this runs once per record). */
function allConfirmed(deps: readonly number[], results: readonly OpResult[]): boolean {
  for (let k = 0; k < deps.length; k++) if (results[deps[k]!]?.ok !== true) return false;
  return true;
}

/**
 * Settles a prepared batch once the target answered its ops (`results[i]` for `plan.ops[i]`; empty
 * when there were none): sends dead letters in record order and works out, per group, the first
 * record that is not done. A record whose dead letter could not be sent stays undone.
 */
export async function settleBatch(
  prepared: PreparedBatch,
  results: readonly OpResult[],
  deadLetter: DeadLetterSink,
): Promise<BatchOutcome> {
  const { records, dead, plan } = prepared;
  let targetError: Error | undefined;
  let rejected = false;
  for (const r of results) {
    if (r.ok) continue;
    if (isRetriable(r.error)) targetError ??= r.error;
    else rejected = true;
  }
  // A permanent rejection is a dead letter, never a retry loop: every record whose ops include one
  // the target refused for good goes to the dead-letter sink with the target's reason.
  if (rejected) {
    plan.recordOps.forEach((deps, i) => {
      if (dead[i] !== undefined) return;
      for (const d of deps) {
        const r = results[d];
        if (r === undefined || r.ok || isRetriable(r.error)) continue;
        const rec = records[i]!.record;
        dead[i] = {
          position: rec.label,
          code: ErrorCode.Rejected,
          reason: `the target refused it permanently: ${r.error.message}`,
          record: rec.raw,
        };
        return;
      }
    });
  }

  // Dead letters go out in record order; a failed send leaves the record undone. A group stops at
  // its first undone record: dead letters after it are not sent now (the records are delivered
  // again, so sending them would store them twice).
  const done = new Array<boolean>(records.length);
  const stopped = new Set<string>();
  let deadLetters = 0;
  let deadLetterError: unknown;
  for (let i = 0; i < records.length; i++) {
    const group = records[i]!.group;
    if (stopped.has(group)) {
      done[i] = false;
      continue;
    }
    const d = dead[i];
    if (d !== undefined) {
      try {
        await deadLetter(d);
        deadLetters++;
        done[i] = true;
      } catch (error) {
        deadLetterError ??= error;
        done[i] = false;
      }
    } else done[i] = allConfirmed(plan.recordOps[i]!, results);
    if (!done[i]) stopped.add(group);
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
  let events = 0;
  for (const e of prepared.events) if (e !== null) events++;
  return {
    firstUnfinished,
    groups,
    events,
    skipped: prepared.skipped,
    deadLetters,
    ops: plan.ops,
    results,
    targetError,
    deadLetterError,
  };
}

/** Processes a batch (prepare, apply with retries, settle) and reports how far each group may be checkpointed. */
export async function processBatch(
  records: readonly BatchRecord[],
  options: ProcessBatchOptions,
): Promise<BatchOutcome> {
  const prepared = prepareBatch(records, options.config, options.stats);
  const ops = prepared.plan.ops;
  const results = ops.length > 0 ? await applyWithRetry(options.target, ops, options.retry) : [];
  return settleBatch(prepared, results, options.deadLetter);
}

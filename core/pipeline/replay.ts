/**
 * Replay: change logs → decode → rules → coalesced ops → target, deterministically (files in the
 * order given, lines in order, fixed batch boundaries, jitter derived from key and version).
 * Bad lines and records that cannot be decoded or planned become dead letters with their position
 * and reason; the replay goes on. Without a target it is a dry run that hands each batch's planned
 * ops to `onPlan`.
 */
import { readChangeLog } from '../changelog/read.ts';
import type { DecodeOptions } from '../decode/document.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import { type Plan, planBatch } from '../plan/planner.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheOp } from '../target/cache-op.ts';
import type { CacheTarget } from '../target/cache-target.ts';
import { applyWithRetry, type RetryPolicy } from './apply.ts';

/** A record that could not be decoded, planned or applied. */
export interface DeadLetter {
  /** `file:line` (and the record within the line). */
  position: string;
  /** Stable error code. */
  code: string;
  /** What went wrong and how to fix it. */
  reason: string;
  /** The record as it arrived (undefined when the line itself was unreadable). */
  record: unknown;
}

/** Counts from a replay. */
export interface ReplaySummary {
  lines: number;
  records: number;
  events: number;
  /** Records that are not row changes (tombstones, transaction markers, messages). */
  skipped: number;
  /** Events no rule matched. */
  unmatched: number;
  ops: { invalidate: number; refresh: number; invalidatePrefix: number };
  applied: number;
  fenced: number;
  /** Ops the target did not confirm after retries. */
  failed: number;
  deadLetters: number;
}

/** Replay options. */
export interface ReplayOptions {
  config: CompiledConfig;
  /** Where to apply ops; omit for a dry run. */
  target?: CacheTarget;
  decode?: DecodeOptions;
  /** Records per planned batch. @default 1000 */
  batchSize?: number;
  retry?: RetryPolicy;
  onDeadLetter?: (deadLetter: DeadLetter) => void;
  /** Receives every planned batch (dry run output, progress). */
  onPlan?: (ops: readonly CacheOp[], plan: Plan) => void;
}

interface Pending {
  position: string;
  record: unknown;
  event: ChangeEvent | null;
}

/** Replays change logs through the rules into the target (or a dry run). */
export async function replayChangeLogs(
  files: readonly string[],
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const summary: ReplaySummary = {
    lines: 0,
    records: 0,
    events: 0,
    skipped: 0,
    unmatched: 0,
    ops: { invalidate: 0, refresh: 0, invalidatePrefix: 0 },
    applied: 0,
    fenced: 0,
    failed: 0,
    deadLetters: 0,
  };
  const batchSize = options.batchSize ?? 1000;
  const dead = (d: DeadLetter) => {
    summary.deadLetters++;
    options.onDeadLetter?.(d);
  };
  let batch: Pending[] = [];
  // Decoding the next batch overlaps the target's apply of the current one; applies themselves stay
  // strictly sequential (a batch starts only after the previous one finished), so order per key holds.
  let applying: Promise<void> = Promise.resolve();

  const apply = async (plan: Plan, records: Pending[], target: CacheTarget) => {
    const results = await applyWithRetry(target, plan.ops, options.retry);
    const failedOps = new Set<number>();
    results.forEach((r, i) => {
      if (r.ok) summary[r.outcome === 'applied' ? 'applied' : 'fenced']++;
      else {
        summary.failed++;
        failedOps.add(i);
      }
    });
    if (failedOps.size === 0) return;
    plan.recordOps.forEach((deps, i) => {
      const bad = deps.find((d) => failedOps.has(d));
      if (bad === undefined) return;
      const r = results[bad]!;
      const error = r.ok ? undefined : r.error;
      const p = records[i]!;
      dead({
        position: p.position,
        code: (error as { code?: string })?.code ?? 'E_TARGET',
        reason: `not applied: ${error?.message}`,
        record: p.record,
      });
    });
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    const plan = planBatch(
      options.config,
      records.map((p) => p.event),
    );
    summary.unmatched += plan.unmatched;
    for (const f of plan.failures) {
      const p = records[f.index]!;
      dead({
        position: p.position,
        code: f.error.code ?? 'E_RULE',
        reason: f.error.message,
        record: p.record,
      });
    }
    for (const op of plan.ops) summary.ops[op.kind]++;
    options.onPlan?.(plan.ops, plan);
    await applying;
    const target = options.target;
    if (target !== undefined && plan.ops.length > 0) applying = apply(plan, records, target);
  };

  for (const file of files) {
    for await (const line of readChangeLog(file, options.decode ?? {})) {
      summary.lines++;
      if (line.error !== undefined) {
        dead({
          position: `${line.file}:${line.line}`,
          code: line.error.code,
          reason: line.error.message,
          record: undefined,
        });
        continue;
      }
      for (const r of line.records) {
        summary.records++;
        let event: ChangeEvent | null;
        try {
          event = r.decode();
        } catch (error) {
          const e = error as Error & { code?: string };
          dead({ position: r.label, code: e.code ?? 'E_DECODE', reason: e.message, record: r.raw });
          continue;
        }
        if (event === null) summary.skipped++;
        else summary.events++;
        batch.push({ position: r.label, record: r.raw, event });
        if (batch.length >= batchSize) await flush();
      }
    }
  }
  await flush();
  await applying;
  return summary;
}

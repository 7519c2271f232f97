/**
 * Replay: change logs → decode → rules → coalesced ops → target, deterministically (files in the
 * order given, lines in order, fixed batch boundaries, jitter derived from key and version).
 * Bad lines and records that cannot be decoded or planned (or whose ops the target refuses for good)
 * become dead letters with their position and reason; the replay goes on. A target that stays down
 * through the retries ends the replay with a TargetUnavailableError. Without a target it is a dry run that hands each batch's planned
 * ops to `onPlan`.
 */
import { readChangeLog } from '../changelog/read.ts';
import type { DecodeOptions, SourceRecord } from '../decode/document.ts';
import { isRetriable, TargetError } from '../errors.ts';
import { PlanStats } from '../plan/plan-stats.ts';
import type { Plan } from '../plan/planner.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import type { CacheTarget, OpResult } from '../targets/cache-target.ts';
import { applyWithRetry, type RetryPolicy } from './apply.ts';
import { type BatchRecord, type DeadLetter, prepareBatch, settleBatch } from './batch.ts';

export type { DeadLetter } from './batch.ts';

/**
 * The target did not confirm ops after every retry (down, unreachable, timing out): the replay stops,
 * and no record is blamed for it. `message` is the target's own error, on one line.
 */
export class TargetUnavailableError extends TargetError {
  constructor(cause: Error) {
    super(`the target failed: ${(cause.message.split('\n')[0] ?? '').trim()}`, { cause, retriable: true });
  }
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
  ops: Record<CacheOp['kind'], number>;
  applied: number;
  fenced: number;
  /** Ops the target did not confirm after retries. */
  failed: number;
  deadLetters: number;
  /** What each rule did (matches, fallbacks, partial images, tables no rule names). */
  rules: PlanStats;
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
  /** Counts what each rule did; given to accumulate over several replays. @default a new PlanStats */
  stats?: PlanStats;
  /** Receives every planned batch (dry run output, progress). */
  onPlan?: (ops: readonly CacheOp[], plan: Plan) => void;
}

/** What a dry run's settle sees for each planned op (nothing was applied; nothing is waited for). */
const PLANNED: OpResult = Object.freeze({ ok: true, outcome: 'applied' });

/** An unreadable line, carried through the batch so dead letters keep file order. */
function lineErrorRecord(position: string, error: Error & { code?: string }): SourceRecord {
  return {
    kind: 'debezium',
    label: position,
    raw: undefined,
    decode() {
      throw error;
    },
  };
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
    ops: { invalidate: 0, refresh: 0, invalidatePrefix: 0, softInvalidate: 0, invalidateTag: 0 },
    applied: 0,
    fenced: 0,
    failed: 0,
    deadLetters: 0,
    rules: options.stats ?? new PlanStats(options.config.rules.length),
  };
  const batchSize = options.batchSize ?? 1000;
  const target = options.target;
  const deadLetter = async (d: DeadLetter) => {
    summary.deadLetters++;
    options.onDeadLetter?.(d);
  };
  let batch: BatchRecord[] = [];
  // Decoding and planning the next batch overlaps the target's apply of the current one; applies
  // themselves stay strictly sequential (a batch starts only after the previous one settled), so
  // order per key holds.
  let applying: Promise<void> = Promise.resolve();

  const settle = async (prepared: ReturnType<typeof prepareBatch>) => {
    const { ops } = prepared.plan;
    const results: OpResult[] =
      target !== undefined && ops.length > 0 ? await applyWithRetry(target, ops, options.retry) : [];
    let failed = 0;
    let outage: Error | undefined;
    for (const r of results) {
      if (r.ok) summary[r.outcome === 'applied' ? 'applied' : 'fenced']++;
      else {
        failed++;
        if (isRetriable(r.error)) outage ??= r.error;
      }
    }
    summary.failed += failed;
    // A target that is down is not a bad record: the replay stops with that one error. Ops the
    // target refused permanently are the records' fault: settleBatch dead-letters them.
    if (outage !== undefined) throw new TargetUnavailableError(outage);
    // A dry run applies nothing, yet every dead letter must be reported: its ops count as planned.
    await settleBatch(prepared, target === undefined ? ops.map(() => PLANNED) : results, deadLetter);
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const prepared = prepareBatch(batch, options.config, summary.rules);
    batch = [];
    for (const e of prepared.events) if (e !== null) summary.events++;
    summary.skipped += prepared.skipped;
    summary.unmatched += prepared.plan.unmatched;
    for (const op of prepared.plan.ops) summary.ops[op.kind]++;
    options.onPlan?.(prepared.plan.ops, prepared.plan);
    await applying;
    applying = settle(prepared);
    applying.catch(() => {}); // marked handled: the next flush (or the end) awaits it and throws
  };

  for (const file of files) {
    for await (const line of readChangeLog(file, options.decode ?? {})) {
      summary.lines++;
      if (line.error !== undefined) {
        batch.push({ group: file, record: lineErrorRecord(`${line.file}:${line.line}`, line.error) });
        continue;
      }
      for (const record of line.records) {
        summary.records++;
        batch.push({ group: file, record });
        if (batch.length >= batchSize) await flush();
      }
    }
  }
  await flush();
  await applying;
  return summary;
}

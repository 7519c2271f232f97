/**
 * Redrive: dead letters back through the same pipeline as the stream (core/pipeline/batch.ts:
 * decode → plan → apply with retries → settle), with the rules as they are now.
 *
 * Per entry the outcome is one of:
 * - `applied`: every op of its records was confirmed by the target, at least one of them written;
 * - `fenced`: confirmed, but the target already held a newer version for every key (the targets'
 *   version fencing: an older change never overwrites a newer one), so nothing was written;
 * - `failed`: a record still cannot be decoded or planned, its records are gone from the stream
 *   (E_AGED_OUT), the current rules make no op for it (E_NO_OPS: most often the wrong config;
 *   `removeWithoutOps` counts those as done), or the target refused an op; with the reason;
 * - `not-tried`: the target was unavailable (retries exhausted) before its turn: redrive stopped;
 * - `planned` (dry run): the ops it would apply, nothing touched.
 *
 * Only `applied` and `fenced` entries are "done" (the caller removes / commits only those). A target
 * outage is never a failure of the record: it stops the run, and its entries stay where they are.
 */
import { isRetriable } from '../../core/errors.ts';
import { applyWithRetry, type RetryPolicy } from '../../core/pipeline/apply.ts';
import { type BatchRecord, prepareBatch, settleBatch } from '../../core/pipeline/batch.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { CacheOp } from '../../core/targets/cache-op.ts';
import type { CacheTarget, OpResult } from '../../core/targets/cache-target.ts';
import type { StoredDeadLetter } from './dead-letter-store.ts';
import { type ResolveOptions, resolveRecords } from './stored-records.ts';

/** What happened to one dead letter. */
export type RedriveOutcome = 'applied' | 'fenced' | 'failed' | 'not-tried' | 'planned';

/** One entry's line of the report. */
export interface EntryReport {
  id: string;
  position: string;
  outcome: RedriveOutcome;
  /** Records the entry stood for (an on-failure range may hold several). */
  records: number;
  /** The ops planned for its records (after coalescing with the rest of the batch). */
  ops: CacheOp[];
  /** Why it failed again. */
  code?: string;
  reason?: string;
}

/** The whole run. */
export interface RedriveReport {
  entries: EntryReport[];
  /** Ids of the entries the target confirmed (applied or fenced): the only ones to remove. */
  done: Set<string>;
  counts: Record<RedriveOutcome, number>;
  /** The target error that stopped the run, when one did. */
  stoppedBy: Error | undefined;
}

/** Options of {@link redrive}. */
export interface RedriveOptions {
  config: CompiledConfig;
  /** Required unless `dryRun`. */
  target?: CacheTarget;
  /** Plan only: no target, nothing done. */
  dryRun?: boolean;
  retry?: RetryPolicy;
  resolve?: ResolveOptions;
  /** Entries per pipeline batch. @default 100 */
  batchSize?: number;
  /**
   * Count an entry whose records the current rules turn into no cache operation (no rule matches
   * its table, a `when` filter skips it, not a row change) as done, so it is removed. Off by default:
   * that is most often the wrong `--config`, and removing would lose the entry. @default false
   */
  removeWithoutOps?: boolean;
}

interface Slot {
  entry: StoredDeadLetter;
  report: EntryReport;
  /** Indices of its records in the batch. */
  indices: number[];
}

/** Runs `entries` through the pipeline; see the module comment for the outcomes. */
export async function redrive(
  entries: readonly StoredDeadLetter[],
  o: RedriveOptions,
): Promise<RedriveReport> {
  if (!o.dryRun && o.target === undefined) throw new Error('redrive needs a target unless dryRun');
  const reports: EntryReport[] = entries.map((e) => ({
    id: e.id,
    position: e.position,
    outcome: 'not-tried',
    records: 0,
    ops: [],
  }));
  const size = o.batchSize ?? 100;
  let stoppedBy: Error | undefined;
  for (let from = 0; from < entries.length && stoppedBy === undefined; from += size) {
    stoppedBy = await redriveChunk(entries.slice(from, from + size), reports.slice(from, from + size), o);
  }
  const counts: Record<RedriveOutcome, number> = {
    applied: 0,
    fenced: 0,
    failed: 0,
    'not-tried': 0,
    planned: 0,
  };
  const done = new Set<string>();
  for (const r of reports) {
    counts[r.outcome]++;
    if (r.outcome === 'applied' || r.outcome === 'fenced') done.add(r.id);
  }
  return { entries: reports, done, counts, stoppedBy };
}

async function redriveChunk(
  entries: readonly StoredDeadLetter[],
  reports: EntryReport[],
  o: RedriveOptions,
): Promise<Error | undefined> {
  const records: BatchRecord[] = [];
  const slots: Slot[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const report = reports[i]!;
    try {
      const resolved = await resolveRecords(entry, o.resolve);
      const indices = resolved.records.map((record) => records.push({ group: resolved.group, record }) - 1);
      report.records = indices.length;
      slots.push({ entry, report, indices });
    } catch (error) {
      const e = error as Error & { code?: string };
      if (isRetriable(e)) return e; // the source is unreachable: stop, keep everything
      Object.assign(report, { outcome: 'failed', code: e.code ?? 'E_DECODE', reason: e.message });
    }
  }
  const prepared = prepareBatch(records, o.config);
  const { ops, recordOps } = prepared.plan;
  for (const s of slots)
    s.report.ops = [...new Set(s.indices.flatMap((i) => recordOps[i] ?? []))].map((k) => ops[k]!);

  /** Why an entry that planned no op must stay, or undefined when it may go. */
  const withoutOps = (slot: Slot): Partial<EntryReport> | undefined => {
    if (o.removeWithoutOps || slot.report.ops.length > 0) return undefined;
    const tables = [
      ...new Set(slot.indices.map((i) => prepared.events[i]?.table).filter((t) => t !== undefined)),
    ];
    return {
      outcome: 'failed',
      code: 'E_NO_OPS',
      reason:
        `the current rules make no cache operation for it (${tables.length > 0 ? `table ${tables.join(', ')}: no rule matches or a filter skips it` : 'not a row change'}): ` +
        'kept; check --config, or pass --remove-unmatched to drop such entries',
    };
  };

  if (o.dryRun) {
    for (const s of slots) {
      const dead = s.indices.map((i) => prepared.dead[i]).find((d) => d !== undefined);
      Object.assign(
        s.report,
        dead
          ? { outcome: 'failed', code: dead.code, reason: dead.reason }
          : (withoutOps(s) ?? { outcome: 'planned' }),
      );
    }
    return undefined;
  }

  const results: OpResult[] = ops.length > 0 ? await applyWithRetry(o.target!, ops, o.retry) : [];
  // Records that still fail to decode or plan stay in the destination: the sink only notes them.
  const outcome = await settleBatch(prepared, results, async () => {});
  for (const s of slots) {
    const dead = s.indices.map((i) => prepared.dead[i]).find((d) => d !== undefined);
    if (dead) {
      Object.assign(s.report, { outcome: 'failed', code: dead.code, reason: dead.reason });
      continue;
    }
    const none = withoutOps(s);
    if (none) {
      Object.assign(s.report, none);
      continue;
    }
    const opIndices = [...new Set(s.indices.flatMap((i) => recordOps[i] ?? []))];
    const failed = opIndices.map((k) => results[k]).find((r) => r !== undefined && !r.ok);
    if (failed && !failed.ok) {
      const e = failed.error as Error & { code?: string };
      Object.assign(s.report, {
        outcome: isRetriable(e) ? 'not-tried' : 'failed',
        code: e.code ?? 'E_TARGET',
        reason: `not applied: ${e.message}`,
      });
      continue;
    }
    const fenced =
      opIndices.length > 0 &&
      opIndices.every((k) => {
        const r = results[k];
        return r?.ok === true && r.outcome === 'fenced';
      });
    s.report.outcome = fenced ? 'fenced' : 'applied';
  }
  const te = outcome.targetError as (Error & { retriable?: boolean }) | undefined;
  return te !== undefined && isRetriable(te) ? te : undefined;
}

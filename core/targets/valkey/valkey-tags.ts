/**
 * Soft invalidations and tag invalidations on Valkey (docs/soft-invalidation-and-tags.md), beside
 * the APPLY fast path of valkey-batch.ts:
 *
 * - soft invalidations go out as one SOFT_INVALIDATE call per op through the ScriptRunner
 *   (node-grouped pipelines; each call touches one key's slot);
 * - a tag invalidation is three steps, none spanning two slots: TAG_BUMP in the tag's slot (epoch,
 *   members → pending), TAG_KEY per pending key in the key's slot, TAG_DONE in the tag's slot. The op
 *   is applied only when all three succeeded; a failure fails it retriably and the retry (or the next
 *   change of the tag) takes up what is still pending.
 */
import { TargetError } from '../../errors.ts';
import { versionSortKey } from '../../event/version.ts';
import type { InvalidateTagOp, SoftInvalidateOp } from '../cache-op.ts';
import type { OpResult } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { entryTagsKey, isReserved, leaseKey, staleKey, tagStateKeys, versionKey } from './valkey-keys.ts';
import type { ScriptCall, ScriptRunner } from './valkey-runner.ts';
import { SOFT_INVALIDATE, TAG_BUMP, TAG_DONE, TAG_KEY } from './valkey-tag-scripts.ts';

/** Pending keys handled per TAG_DONE call. */
const DONE_CHUNK = 500;

function refused(message: string, cause?: unknown): OpResult {
  return { ok: false, error: new TargetError(`valkey: ${message}`, { cause, retriable: false }) };
}

/** Applies soft invalidations `ops[from..to)`, writing each result at its index. Never rejects. */
export async function applySoftInvalidations(
  runner: ScriptRunner,
  ops: readonly SoftInvalidateOp[],
  from: number,
  to: number,
  tombstoneTtlMs: number,
  results: OpResult[],
): Promise<void> {
  const calls: ScriptCall[] = [];
  const at: number[] = [];
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    if (isReserved(op.key)) {
      results[i] = refused(`key "${op.key}" starts with a reserved prefix`);
      continue;
    }
    let version: string;
    try {
      version = versionSortKey(op.version);
    } catch (error) {
      results[i] = refused((error as Error).message, error);
      continue;
    }
    const k = op.key;
    calls.push({
      script: SOFT_INVALIDATE,
      keys: [k, versionKey(k), leaseKey(k), staleKey(k)],
      args: [version, String(tombstoneTtlMs)],
    });
    at.push(i);
  }
  const replies = await runner.run(calls);
  replies.forEach((r, n) => {
    results[at[n]!] = r.ok
      ? { ok: true, outcome: r.reply === 0 ? 'fenced' : 'applied' }
      : { ok: false, error: toTargetError(r.error) };
  });
}

/** Applies one tag invalidation (see module comment). */
export async function applyTagInvalidation(
  runner: ScriptRunner,
  op: InvalidateTagOp,
  tombstoneTtlMs: number,
): Promise<OpResult> {
  let version: string;
  try {
    version = versionSortKey(op.version);
  } catch (error) {
    return refused((error as Error).message, error);
  }
  const state = tagStateKeys(op.tag);
  const tomb = String(tombstoneTtlMs);
  const [bump] = await runner.run([
    { script: TAG_BUMP, keys: [state.epoch, state.members, state.pending], args: [version, tomb] },
  ]);
  if (bump === undefined || !bump.ok) return { ok: false, error: toTargetError(bump?.error ?? 'no reply') };
  const reply = bump.reply as unknown[];
  // Applied when this change moved the epoch on, or finished removals an earlier attempt left pending.
  let applied = reply[0] === 1;
  const pending: [string, string][] = [];
  for (let i = 1; i + 1 < reply.length; i += 2) pending.push([String(reply[i]), String(reply[i + 1])]);
  if (pending.length > 0) {
    const calls: ScriptCall[] = pending.map(([key, v]) => ({
      script: TAG_KEY,
      keys: [key, versionKey(key), leaseKey(key), staleKey(key), entryTagsKey(key)],
      args: [op.tag, v, tomb],
    }));
    const removed = await runner.run(calls);
    const failed = removed.find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) return { ok: false, error: toTargetError(failed.error) };
    if (removed.some((r) => r.ok && r.reply === 1)) applied = true;
    const done: ScriptCall[] = [];
    for (let i = 0; i < pending.length; i += DONE_CHUNK) {
      done.push({ script: TAG_DONE, keys: [state.pending], args: pending.slice(i, i + DONE_CHUNK).flat() });
    }
    for (const r of await runner.run(done)) if (!r.ok) return { ok: false, error: toTargetError(r.error) };
  }
  return { ok: true, outcome: applied ? 'applied' : 'fenced' };
}

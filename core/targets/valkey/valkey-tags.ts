/**
 * Soft invalidations and tag invalidations on Valkey (docs/soft-invalidation-and-tags.md), beside
 * the APPLY fast path of valkey-batch.ts:
 *
 * - soft invalidations go out as one SOFT_INVALIDATE call per op through the ScriptRunner
 *   (node-grouped pipelines; each call touches one key's slot);
 * - a tag invalidation is three steps, none spanning two slots: TAG_BUMP in the tag's slot (epoch;
 *   the members become the change's pending batch by RENAME, O(1)), then a page at a time (at most
 *   TAG_PAGE_SIZE keys, one bounded reply): SRANDMEMBER of the oldest batch, TAG_KEY per key in the
 *   key's slot, TAG_BATCH_DONE in the tag's slot (the page leaves the batch, an empty batch the
 *   queue). The op is applied only when every step succeeded; a failure fails it retriably and the
 *   retry (or the next change of the tag) takes up what is still pending. No step holds the server
 *   for more than one page, however many entries the tag has.
 */
import { TargetError } from '../../errors.ts';
import { nextAppVersion, versionSortKey } from '../../event/version.ts';
import type { InvalidateTagOp, SoftInvalidateOp } from '../cache-op.ts';
import type { OpResult } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { entryTagsKey, isReserved, leaseKey, staleKey, tagStateKeys, versionKey } from './valkey-keys.ts';
import type { ScriptCall, ScriptRunner } from './valkey-runner.ts';
import { SOFT_INVALIDATE, TAG_BATCH_DONE, TAG_BUMP, TAG_KEY } from './valkey-tag-scripts.ts';

/** Pending keys handled per page of a tag invalidation (one reply, one pipeline of TAG_KEY calls). */
export const TAG_PAGE_SIZE = 1000;

/** How often an app-side invalidation without a version retries when a change moved the epoch meanwhile. */
const APP_BUMP_ATTEMPTS = 10;

/** The plain commands a tag invalidation reads the tag's state with (the target's client, routed by key). */
export interface TagStateReader {
  call(command: string, ...args: string[]): Promise<unknown>;
}

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

/** What a tag invalidation did: its outcome, the version it used, and the keys it removed (or marked). */
export interface TagInvalidation {
  outcome: 'applied' | 'fenced';
  /** The version used (a `versionSortKey` string; an app-side one without a version took its own). */
  version: string;
  /** The keys removed (or, soft, marked stale), for a near cache to drop. */
  keys: string[];
}

/** Options of {@link invalidateTagOnValkey}. */
export interface TagInvalidationOptions {
  /** Mark the entries stale instead of removing them. @default false */
  soft?: boolean;
  /** Pending keys per page. @default TAG_PAGE_SIZE */
  pageSize?: number;
  /** Called with each page's removed (or marked) keys, as they go. */
  onKeys?: (keys: readonly string[]) => void;
}

function toReplyError(error: unknown): Error {
  return toTargetError(error ?? new Error('no reply'));
}

/**
 * Invalidates every entry tagged `tag` at `version` (a `versionSortKey` string; '' = an app-side
 * invalidation without a version, which takes `nextAppVersion` of the epoch): the
 * bump, then the pending batches a page at a time (see module comment). Throws a retriable
 * TargetError when a step fails; what is left pending, the retry (or the next change) finishes.
 */
export async function invalidateTagOnValkey(
  runner: Pick<ScriptRunner, 'run'>,
  reader: TagStateReader,
  tag: string,
  version: string,
  tombstoneTtlMs: number,
  options: TagInvalidationOptions = {},
): Promise<TagInvalidation> {
  const state = tagStateKeys(tag);
  const tomb = String(tombstoneTtlMs);
  const pageSize = options.pageSize ?? TAG_PAGE_SIZE;
  let v = version;
  let applied = false;
  for (let attempt = 0; ; attempt++) {
    if (version === '') v = nextAppVersion(String((await reader.call('GET', state.epoch)) ?? ''));
    const [bump] = await runner.run([
      {
        script: TAG_BUMP,
        keys: [state.epoch, state.members, state.queue, state.batch(v)],
        args: [v, tomb],
      },
    ]);
    if (bump === undefined || !bump.ok) throw toReplyError(bump?.error);
    applied = bump.reply === 1;
    // A change (or another app-side invalidation) moved the epoch since it was read: read it again.
    if (applied || version !== '' || attempt + 1 >= APP_BUMP_ATTEMPTS) break;
  }
  const keys: string[] = [];
  const soft = options.soft === true ? '1' : '0';
  const removeAll = async (pending: readonly (readonly [string, string])[]) => {
    const calls: ScriptCall[] = pending.map(([key, at]) => ({
      script: TAG_KEY,
      keys: [key, versionKey(key), leaseKey(key), staleKey(key), entryTagsKey(key)],
      args: [tag, at, tomb, soft],
    }));
    const replies = await runner.run(calls);
    const page: string[] = [];
    replies.forEach((r, n) => {
      if (!r.ok) throw toReplyError(r.error);
      if (r.reply === 1) page.push(pending[n]![0]);
    });
    if (page.length > 0) {
      applied = true;
      for (const key of page) keys.push(key);
      options.onKeys?.(page);
    }
  };
  // The batches, oldest first: a page of keys, their removal, then the page leaves the batch.
  for (;;) {
    const at = (await reader.call('LINDEX', state.queue, '0')) as string | null;
    if (at === null) break;
    const batch = state.batch(at);
    const members = ((await reader.call('SRANDMEMBER', batch, String(pageSize))) as string[] | null) ?? [];
    await removeAll(members.map((key) => [key, at] as const));
    const [done] = await runner.run([
      { script: TAG_BATCH_DONE, keys: [batch, state.queue, state.members], args: [at, soft, ...members] },
    ]);
    if (done === undefined || !done.ok) throw toReplyError(done?.error);
  }
  return { outcome: applied ? 'applied' : 'fenced', version: v, keys };
}

/** Applies one tag invalidation op of the pipeline (see module comment). Never rejects. */
export async function applyTagInvalidation(
  runner: ScriptRunner,
  reader: TagStateReader,
  op: InvalidateTagOp,
  tombstoneTtlMs: number,
): Promise<OpResult> {
  let version: string;
  try {
    version = versionSortKey(op.version);
  } catch (error) {
    return refused((error as Error).message, error);
  }
  try {
    const done = await invalidateTagOnValkey(runner, reader, op.tag, version, tombstoneTtlMs, {
      soft: op.soft === true,
    });
    return { ok: true, outcome: done.outcome };
  } catch (error) {
    return { ok: false, error: toTargetError(error) };
  }
}

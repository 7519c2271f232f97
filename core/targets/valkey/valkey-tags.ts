/**
 * Soft invalidations and tag invalidations on Valkey (docs/soft-invalidation-and-tags.md), beside
 * the APPLY fast path of valkey-batch.ts:
 *
 * - soft invalidations go out as one SOFT_INVALIDATE call per op through the ScriptRunner
 *   (node-grouped pipelines; each call touches one key's slot);
 * - a tag invalidation is three steps, none spanning two slots: TAG_BUMP in the tag's slot (epoch;
 *   the members become the change's pending batch by RENAME, O(1)), then a page at a time (at most
 *   TAG_PAGE_SIZE keys, one bounded reply): SRANDMEMBER of the oldest batch, TAG_KEYS per slot of
 *   the page's keys (per chunk of the page on a standalone server), TAG_BATCH_DONE in the tag's slot (the page leaves the batch, an empty batch the
 *   queue). The op is applied only when every step succeeded; a failure fails it retriably and the
 *   retry (or the next change of the tag) takes up what is still pending. No step holds the server
 *   for more than one page, however many entries the tag has.
 */
import { TargetError } from '../../errors.ts';
import { nextAppVersion, versionSortKey } from '../../event/version.ts';
import type { InvalidateTagOp, SoftInvalidateOp } from '../cache-op.ts';
import type { OpResult } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { keySlot } from './slots.ts';
import { entryTagsKey, isReserved, leaseKey, staleKey, tagStateKeys, versionKey } from './valkey-keys.ts';
import type { ScriptCall, ScriptRunner } from './valkey-runner.ts';
import { SOFT_INVALIDATE, TAG_BATCH_DONE, TAG_BUMP, TAG_KEYS } from './valkey-tag-scripts.ts';

/** Pending keys handled per page of a tag invalidation (one reply, one pipeline of TAG_KEYS calls). */
export const TAG_PAGE_SIZE = 1000;

/**
 * Entries per TAG_KEYS call on a standalone server: bounds how long one call holds the server
 * (~8 commands per entry; 256 entries ≈ 1–2 ms, as APPLY's maxOpsPerScript).
 */
export const TAG_KEYS_PER_SCRIPT = 256;

/** An entry's keys as TAG_KEYS takes them: K V L S G (one slot). */
function entryScriptKeys(key: string): string[] {
  return [key, versionKey(key), leaseKey(key), staleKey(key), entryTagsKey(key)];
}

/** `keys` grouped by hash slot, in first-seen order. */
function groupBySlot(keys: readonly string[]): Map<number, string[]> {
  const bySlot = new Map<number, string[]>();
  for (const key of keys) {
    const slot = keySlot(key);
    const group = bySlot.get(slot);
    if (group === undefined) bySlot.set(slot, [key]);
    else group.push(key);
  }
  return bySlot;
}

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
  /**
   * Whether the server is a cluster: then a page goes out as one call per hash slot; `false` (a
   * standalone server) sends it in calls of {@link TAG_KEYS_PER_SCRIPT} entries. @default true
   */
  clustered?: boolean;
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
  // One TAG_KEYS call per slot's keys (cluster) or per chunk (standalone), all pipelined.
  const removeAll = async (members: readonly string[], at: string) => {
    const groups = options.clustered === false ? [members] : [...groupBySlot(members).values()];
    const calls: ScriptCall[] = [];
    const order: string[] = [];
    for (const group of groups) {
      for (let from = 0; from < group.length; from += TAG_KEYS_PER_SCRIPT) {
        const chunk = group.slice(from, from + TAG_KEYS_PER_SCRIPT);
        calls.push({ script: TAG_KEYS, keys: chunk.flatMap(entryScriptKeys), args: [tag, at, tomb, soft] });
        for (const key of chunk) order.push(key);
      }
    }
    const replies = await runner.run(calls);
    const page: string[] = [];
    let n = 0;
    for (const r of replies) {
      if (!r.ok) throw toReplyError(r.error);
      for (const removed of r.reply as number[]) {
        if (removed === 1) page.push(order[n]!);
        n++;
      }
    }
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
    await removeAll(members, at);
    const [done] = await runner.run([
      { script: TAG_BATCH_DONE, keys: [batch, state.queue, state.members], args: [at, soft, ...members] },
    ]);
    if (done === undefined || !done.ok) throw toReplyError(done?.error);
  }
  return { outcome: applied ? 'applied' : 'fenced', version: v, keys };
}

/** Applies one tag invalidation op of the pipeline (see module comment). Never rejects. */
export async function applyTagInvalidation(
  runner: Pick<ScriptRunner, 'run' | 'clustered'>,
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
      clustered: runner.clustered,
    });
    return { ok: true, outcome: done.outcome };
  } catch (error) {
    return { ok: false, error: toTargetError(error) };
  }
}

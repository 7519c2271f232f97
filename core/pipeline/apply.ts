/**
 * Applies ops to a target with retries: retriable failures (outages, timeouts) are retried with
 * exponential backoff with equal jitter (backoff.ts), in order, until they succeed or the attempts run out; failures the
 * target marks non-retriable are returned at once. The caller decides what an unapplied op means
 * (consumers stop and do not advance; replay reports it). Nothing here advances a checkpoint.
 */
import { isRetriable } from '../errors.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import type { CacheTarget, OpResult } from '../targets/cache-target.ts';
import { backoffDelay } from './backoff.ts';

/** Retry policy. */
export interface RetryPolicy {
  /** Attempts in all, including the first. @default 8 */
  attempts?: number;
  /** First backoff in ms, doubled each attempt. @default 50 */
  baseDelayMs?: number;
  /** Backoff ceiling in ms. @default 5000 */
  maxDelayMs?: number;
  /** Sleep function (inject a fake in tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Checked before each retry: true stops retrying (a time budget ran out). */
  giveUp?: () => boolean;
  /** Called before each retry with the attempt number and the first error. */
  onRetry?: (attempt: number, error: Error) => void;
}

/** Retry defaults. */
export const RETRY_DEFAULTS = { attempts: 8, baseDelayMs: 50, maxDelayMs: 5000 } as const;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Applies `ops`, retrying retriable failures; resolves with the final result of every op. */
export async function applyWithRetry(
  target: CacheTarget,
  ops: readonly CacheOp[],
  policy: RetryPolicy = {},
): Promise<OpResult[]> {
  const attempts = policy.attempts ?? RETRY_DEFAULTS.attempts;
  const base = policy.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
  const max = policy.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const sleep = policy.sleep ?? realSleep;
  const results: OpResult[] = new Array(ops.length);
  let pending = ops.map((_, i) => i);
  for (let attempt = 1; pending.length > 0; attempt++) {
    let batch: OpResult[];
    try {
      // The first attempt sends every op: the caller's array as it is, no copy.
      batch = await target.apply(attempt === 1 ? ops : pending.map((i) => ops[i]!));
    } catch (error) {
      // A target that rejects the whole call (connection lost) fails every pending op retriably.
      const e = error as Error & { retriable?: boolean };
      batch = pending.map(() => ({ ok: false, error: e }));
    }
    const retry: number[] = [];
    let firstError: Error | undefined;
    batch.forEach((r, j) => {
      const i = pending[j]!;
      results[i] = r;
      if (!r.ok && isRetriable(r.error)) {
        retry.push(i);
        firstError ??= r.error;
      }
    });
    if (retry.length === 0 || attempt >= attempts || policy.giveUp?.() === true) break;
    policy.onRetry?.(attempt, firstError!);
    await sleep(backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: max }));
    pending = retry;
  }
  return results;
}

/**
 * Time budgets: a handler must answer before Lambda kills it, or the whole batch is retried and
 * nothing it did is reported. `withDeadline` wraps a target so that an apply still running at the
 * deadline (or started after it) resolves with retriable failures (an outage, not a bad record) and
 * the retry loop stops there (`retry.giveUp`): those records are reported in batchItemFailures, and
 * Lambda delivers them again. Ops that completed
 * late anyway are harmless: every op is idempotent and version-fenced.
 */
import { TargetError } from '../../core/errors.ts';
import type { CacheOp } from '../../core/targets/cache-op.ts';
import { type CacheTarget, type OpResult, targetCapabilities } from '../../core/targets/cache-target.ts';

/** The time budget of one invocation ran out (retriable: the records are delivered again). */
export class TimeBudgetError extends TargetError {
  constructor(message: string) {
    super(message, { retriable: true });
  }
}

/** For `RetryPolicy.giveUp`: true once `deadline` has passed. */
export function pastDeadline(deadline: number, now: () => number = Date.now): () => boolean {
  return () => now() >= deadline;
}

function expired(ops: readonly CacheOp[], why: string): OpResult[] {
  const error = new TimeBudgetError(why);
  return ops.map(() => ({ ok: false, error }));
}

/** A target whose applies give up at `deadline` (epoch ms); its capabilities pass through. */
export function withDeadline(
  target: CacheTarget,
  deadline: number,
  now: () => number = Date.now,
): CacheTarget {
  return {
    kind: target.kind,
    async apply(ops) {
      const left = deadline - now();
      if (left <= 0) return expired(ops, 'time budget exhausted before the target was called');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<OpResult[]>((resolve) => {
        timer = setTimeout(() => resolve(expired(ops, `target did not answer within ${left} ms`)), left);
      });
      try {
        return await Promise.race([target.apply(ops), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    get: (key) => target.get(key),
    dump: () => target.dump(),
    close: () => target.close(),
    ...targetCapabilities(target),
  };
}

/** A retry sleep that never sleeps past the deadline. */
export function sleepWithin(deadline: number, now: () => number = Date.now): (ms: number) => Promise<void> {
  return (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - now()))));
}

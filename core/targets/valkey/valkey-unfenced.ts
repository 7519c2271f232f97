/**
 * TEST/DIAGNOSTIC ONLY: the Valkey target with version fencing switched off (`fencing: false`).
 * Refresh is a plain `SET` (with PX), invalidate a plain `DEL`: no version check, no tombstone, no
 * lease cancellation. It exists so the consistency test can show that its check fails without
 * fencing (a late or reordered change then overwrites newer data). Never use it in production.
 */
import type { Cluster, Valkey } from 'iovalkey';
import type { CacheOp } from '../cache-op.ts';
import type { OpResult } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';

/** Applies ops unfenced, one command each, in order per key (see module comment). */
export async function applyUnfenced(client: Valkey | Cluster, ops: readonly CacheOp[]): Promise<OpResult[]> {
  const results: OpResult[] = [];
  for (const op of ops) {
    try {
      if (op.kind === 'refresh') {
        if (op.ttlMs > 0) await client.set(op.key, op.value, 'PX', op.ttlMs);
        else await client.set(op.key, op.value);
      } else if (op.kind === 'invalidate' || op.kind === 'softInvalidate') await client.del(op.key);
      else throw new Error(`${op.kind} is not supported with fencing off`);
      results.push({ ok: true, outcome: 'applied' });
    } catch (error) {
      results.push({ ok: false, error: toTargetError(error) });
    }
  }
  return results;
}

/**
 * Sliding-window rate limiter on a sorted set: one member per request scored by its time; a MULTI
 * drops the requests older than the window, records this one and counts, atomically. Runs unchanged
 * on the engine server and on Valkey.
 */
import type { Valkey } from 'iovalkey';

/** The limiter's verdict for one request. */
export interface RateDecision {
  allowed: boolean;
  /** Requests in the window, this one included. */
  count: number;
}

/**
 * Records a request for `key` at `nowMs` and allows it when at most `limit` requests (this one
 * included) fall in the last `windowMs`. `requestId` makes members unique within one millisecond.
 */
export async function hit(
  client: Valkey,
  key: string,
  limit: number,
  windowMs: number,
  nowMs: number,
  requestId: string,
): Promise<RateDecision> {
  const results = await client
    .multi()
    .zremrangebyscore(key, 0, nowMs - windowMs)
    .zadd(key, nowMs, `${nowMs}:${requestId}`)
    .zcard(key)
    .pexpire(key, windowMs)
    .exec();
  if (results === null) throw new Error(`rate limiter transaction on ${key} was aborted`);
  const [err, count] = results[2]!;
  if (err) throw err;
  return { allowed: Number(count) <= limit, count: Number(count) };
}

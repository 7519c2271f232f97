/**
 * Session store on hashes with a TTL: HSET and EXPIRE in one MULTI so a session never exists
 * without its expiry; reads refresh the TTL (sliding sessions). Runs unchanged on the engine server
 * and on Valkey.
 */
import type { Valkey } from 'iovalkey';

/** Stores `fields` under session `id`, expiring `ttlSeconds` from now. */
export async function saveSession(
  client: Valkey,
  id: string,
  fields: Record<string, string>,
  ttlSeconds: number,
): Promise<void> {
  const results = await client
    .multi()
    .hset(`session:${id}`, fields)
    .expire(`session:${id}`, ttlSeconds)
    .exec();
  const failed = results?.find(([err]) => err !== null);
  if (results === null || failed) throw failed?.[0] ?? new Error(`session ${id}: transaction aborted`);
}

/** The session's fields (null when absent or expired); refreshes its TTL to `ttlSeconds`. */
export async function loadSession(
  client: Valkey,
  id: string,
  ttlSeconds: number,
): Promise<Record<string, string> | null> {
  const [[, fields], [, refreshed]] = (await client
    .multi()
    .hgetall(`session:${id}`)
    .expire(`session:${id}`, ttlSeconds)
    .exec()) as [[Error | null, Record<string, string>], [Error | null, number]];
  return refreshed === 1 ? fields : null;
}

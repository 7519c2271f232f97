/**
 * Tag invalidation on an engine server, a page at a time (`CACHE.TAGPAGE`, engine/server/commands/
 * cache.ts): the first call moves the tag's epoch on and takes its members as one pending batch, each
 * call then invalidates at most `pageSize` pending keys and answers them, so neither one command nor
 * one reply grows with the tag. What a crashed caller left pending, the next call for the tag (a
 * redelivery, fenced by the epoch, or a newer change) finishes.
 */
import type { Valkey } from 'iovalkey';

/** Pending keys per CACHE.TAGPAGE call. */
export const REMOTE_TAG_PAGE_SIZE = 1000;

/** What a tag invalidation did on the engine server. */
export interface RemoteTagInvalidation {
  outcome: 'applied' | 'fenced';
  /** The keys removed (or, soft, marked stale). */
  keys: string[];
}

/**
 * Invalidates every entry tagged `tag` at `version` (a sort key; '' = an app-side invalidation
 * without a version: the engine takes the next app version of the tag's epoch). Rejects with the
 * client's error when a page fails; the retry takes up what is still pending.
 */
export async function invalidateTagRemote(
  client: Pick<Valkey, 'call'>,
  tag: string,
  version: string,
  options: { soft?: boolean; tombstoneTtlMs: number; pageSize?: number },
): Promise<RemoteTagInvalidation> {
  const count = String(options.pageSize ?? REMOTE_TAG_PAGE_SIZE);
  const tomb = String(options.tombstoneTtlMs);
  const extra = options.soft === true ? ['SOFT'] : [];
  let v = version;
  let applied = false;
  const keys: string[] = [];
  for (;;) {
    const reply = (await client.call('CACHE.TAGPAGE', tag, v, tomb, count, ...extra)) as unknown[];
    if (reply[0] === 1) applied = true;
    v = String(reply[2]);
    for (let i = 3; i < reply.length; i++) keys.push(String(reply[i]));
    if (reply[1] !== 1) break;
  }
  return { outcome: applied ? 'applied' : 'fenced', keys };
}

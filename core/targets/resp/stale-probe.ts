/**
 * A tracked read that also reports a soft-invalidation mark (docs/soft-invalidation-and-tags.md), so a
 * near cache never keeps a stale entry as fresh. The backend's probe commands (the mark, and on Valkey
 * the fence it must equal) run on the same connection as the value's GET, once before and once after
 * it in one pipeline: a mark set before the GET is seen by the second probe unless something cleared
 * it since, and whatever clears it rewrites the key, which tracking reports (the near cache then does
 * not install); the first probe keeps the store's rule that a value read after the mark is as new or
 * newer, so a stale value is never answered as fresh.
 */
import type { ChainableCommander } from 'iovalkey';
import type { StoredEntry } from '../../client/fill-lease-store.ts';

/** How one backend reads a key's soft mark with plain commands (see module comment). */
export interface StaleProbe {
  /** The commands that read the mark of `key` (all in `key`'s slot). */
  commands(key: string): readonly (readonly [string, ...string[]])[];
  /** Whether their replies, in order, say the entry is stale. */
  stale(replies: readonly unknown[]): boolean;
}

/** Reads `key`'s value and TTL in one pipeline of `pipeline`, with `probe` around the value's GET. */
export async function probedRead(
  pipeline: ChainableCommander,
  key: string,
  probe: StaleProbe | undefined,
): Promise<StoredEntry | null> {
  const cmds = probe?.commands(key) ?? [];
  for (const [name, ...args] of cmds) pipeline.call(name, ...args);
  pipeline.getBuffer(key).pttl(key);
  for (const [name, ...args] of cmds) pipeline.call(name, ...args);
  const replies = (await pipeline.exec()) ?? [];
  const n = cmds.length;
  for (let i = 0; i < replies.length; i++) {
    const err = replies[i]?.[0];
    if (err) throw err;
  }
  const value = replies[n]?.[1];
  if (value === null || value === undefined) return null;
  const ttl = replies[n + 1]?.[1];
  const entry = { value: value as Buffer, ttlMs: typeof ttl === 'number' ? ttl : -1 };
  if (probe === undefined) return entry;
  const before = replies.slice(0, n).map((r) => r?.[1]);
  const after = replies.slice(n + 2, n + 2 + n).map((r) => r?.[1]);
  return probe.stale(before) || probe.stale(after) ? { ...entry, stale: true } : entry;
}

/**
 * A tracked read that also reports a soft-invalidation mark (docs/soft-invalidation-and-tags.md), so a
 * near cache never keeps a stale entry as fresh. A backend with a native read command (the engine
 * server: CACHE.READ, read-only, so tracked like GET) or a read script (Valkey: READ_ENTRY,
 * valkey-tag-scripts.ts) reads value, TTL and mark atomically in one command (the keys its GETs read
 * are tracked for the calling connection); otherwise the backend's probe commands (the mark, and on Valkey
 * the fence it must equal) run on the same connection as the value's GET, once before and once after
 * it in one pipeline: a mark set before the GET is seen by the second probe unless something cleared
 * it since, and whatever clears it rewrites the key, which tracking reports (the near cache then does
 * not install); the first probe keeps the store's rule that a value read after the mark is as new or
 * newer, so a stale value is never answered as fresh.
 */
import type { ChainableCommander } from 'iovalkey';
import type { StoredEntry } from '../../client/fill-lease-store.ts';

/** A script that reads a key's value, TTL and soft mark at once: nil, or `[value, pttl, stale 1|0]`. */
export interface ReadScript {
  readonly lua: string;
  readonly sha: string;
  /** The script's KEYS for `key` (all in `key`'s slot). */
  keys(key: string): string[];
}

/** What runs a read script: a connection or a cluster client (EVALSHA routed by the first key). */
export interface ScriptReader {
  callBuffer(command: string, ...args: string[]): Promise<unknown>;
  pipeline(): ChainableCommander;
}

/**
 * Runs `script` for `key` on `conn` (EVALSHA; on NOSCRIPT, EVAL, which also caches it again).
 * Answers the entry, marked stale when the script says so, or null.
 */
export async function scriptedRead(
  conn: Pick<ScriptReader, 'callBuffer'>,
  key: string,
  script: ReadScript,
): Promise<StoredEntry | null> {
  const keys = script.keys(key);
  let reply: unknown;
  try {
    reply = await conn.callBuffer('EVALSHA', script.sha, String(keys.length), ...keys);
  } catch (error) {
    if (!/^NOSCRIPT/.test((error as Error).message ?? '')) throw error;
    reply = await conn.callBuffer('EVAL', script.lua, String(keys.length), ...keys);
  }
  return entryOf(reply);
}

/** A read script's or read command's reply (nil, or `[value, pttl, stale 1|0]`) as an entry. */
function entryOf(reply: unknown): StoredEntry | null {
  if (!Array.isArray(reply)) return null;
  const [value, ttl, stale] = reply as [Buffer, number, number];
  const entry = { value, ttlMs: typeof ttl === 'number' ? ttl : -1 };
  return stale === 1 ? { ...entry, stale: true } : entry;
}

/** Connections whose server answered a native read command as unknown (an older server) or not permitted. */
const withoutCommand = new WeakSet<object>();

/**
 * Reads `key` with the native read `command` on `conn` (one reply as a read script's); null when the
 * server does not know the command (an older server) or the connection's user may not run it: the
 * caller reads another way on that connection from then on.
 */
async function commandRead(
  conn: Pick<ScriptReader, 'callBuffer'>,
  key: string,
  command: string,
): Promise<{ entry: StoredEntry | null } | null> {
  try {
    return { entry: entryOf(await conn.callBuffer(command, key)) };
  } catch (error) {
    // An older server does not know the command; a user whose ACL names the commands of the
    // pipeline (set up before the command existed) may not run it: both read the other way.
    if (!/^(ERR unknown command|NOPERM .*no permissions to run)/i.test((error as Error).message ?? ''))
      throw error;
    withoutCommand.add(conn);
    return null;
  }
}

/** How one backend reads a key's soft mark with plain commands (see module comment). */
export interface StaleProbe {
  /** The commands that read the mark of `key` (all in `key`'s slot). */
  commands(key: string): readonly (readonly [string, ...string[]])[];
  /** Whether their replies, in order, say the entry is stale. */
  stale(replies: readonly unknown[]): boolean;
  /** When set, a tracked read is this one script instead of the probe pipeline (see module comment). */
  script?: ReadScript;
  /**
   * When set, a tracked read is this one native command (`command key` → as a read script), falling
   * back to the probe pipeline on a server that does not know it.
   */
  command?: string;
}

/**
 * Reads `key`'s value and TTL on `conn`: with `probe.command` that command (unless the server lacks
 * it), with `probe.script` that script, otherwise one pipeline with `probe`'s commands around the
 * value's GET.
 */
export async function probedRead(
  conn: ScriptReader,
  key: string,
  probe: StaleProbe | undefined,
): Promise<StoredEntry | null> {
  if (probe?.command !== undefined && !withoutCommand.has(conn)) {
    const read = await commandRead(conn, key, probe.command);
    if (read !== null) return read.entry;
  }
  if (probe?.script !== undefined) return scriptedRead(conn, key, probe.script);
  const pipeline = conn.pipeline();
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

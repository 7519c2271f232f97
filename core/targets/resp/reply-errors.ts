/**
 * The one table that decides which errors of a Valkey-protocol client are retriable, shared by the
 * backends that speak RESP (Valkey standalone or cluster, the engine over RESP) and their lease
 * stores. A retriable failure makes the pipeline retry and hold its checkpoint; a non-retriable one
 * dead-letters its records (core/pipeline/batch.ts), so only what a record itself causes (WRONGTYPE,
 * a value over proto-max-bulk-len, a bad argument) may be one.
 *
 * - Anything that is not a server reply (connection refused or lost, timeout, a command aborted by
 *   a closing connection) is retriable: the server never judged the record.
 * - A reply is retriable when it says "not now" rather than "never" (the table below): the
 *   server's state (loading, busy, out of memory, cluster resharding or failover, persistence
 *   failing, too many clients) or our credentials (AUTH/ACL), neither of which is the record's fault.
 */
import { TargetError } from '../../errors.ts';

/**
 * Reply prefixes that are retriable (why in the comments: kept out of the strings, which Lambda
 * bundles carry). An error code matches as a whole word (`OOM …`); an `ERR …` entry matches the
 * start of the message.
 */
export const RETRIABLE_REPLIES: readonly string[] = [
  'MOVED', // cluster: the slot moved (iovalkey follows it; what still fails is resharding)
  'ASK', // cluster: the slot is migrating
  'TRYAGAIN', // cluster: multi-key request during a slot migration
  'CLUSTERDOWN', // cluster: not serving (failover in progress)
  'MASTERDOWN', // a replica lost its master
  'READONLY', // wrote to a replica during a failover
  'NOREPLICAS', // min-replicas-to-write not met
  'LOADING', // the server is loading its dataset
  'BUSY', // a script or module command is running
  'OOM', // maxmemory reached (memory may free up)
  'MISCONF', // persistence is failing on the server
  'NOSCRIPT', // the script cache was flushed (restart, failover)
  'NOAUTH', // credentials: authentication required
  'WRONGPASS', // credentials: wrong user or password
  'NOPERM', // credentials: the ACL user lacks a permission
  'ERR max number of clients', // the server is at maxclients
  'ERR Script attempted to access a non local key', // cluster: a slot moved while the script ran
];

const ERR_PREFIXES = RETRIABLE_REPLIES.filter((p) => p.startsWith('ERR '));
const CODES = new Set(RETRIABLE_REPLIES.filter((p) => !p.startsWith('ERR ')));

/** True when `message`, a server error reply, is in {@link RETRIABLE_REPLIES}. */
export function isRetriableReply(message: string): boolean {
  const code = /^[A-Z]+/.exec(message)?.[0];
  if (code !== undefined && CODES.has(code) && !/^[A-Za-z0-9_]/.test(message.slice(code.length))) return true;
  return ERR_PREFIXES.some((p) => message.startsWith(p));
}

/** True when a client error is retriable: not a server reply, or a reply in the table. */
export function isRetriableClientError(error: Error): boolean {
  return error.name !== 'ReplyError' || isRetriableReply(error.message);
}

/** Maps a client error to a TargetError named `what: message`, retriable per the table. */
export function toTargetError(error: unknown, what = 'valkey'): TargetError {
  if (error instanceof TargetError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  return new TargetError(`${what}: ${e.message}`, { cause: e, retriable: isRetriableClientError(e) });
}

/** Runs one client call; a failure becomes a TargetError named `lease store <what>` (lease stores' calls). */
export async function leaseCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toTargetError(error, `lease store ${what}`);
  }
}

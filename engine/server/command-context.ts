/**
 * What a protocol command handler sees: the engine, the reply writer, the client's state and the
 * server's, plus the shared parsing helpers and Valkey's exact error texts. Handlers write their
 * reply to `ctx.w` and either return, or throw a {@link ReplyError} (or an EngineError) whose
 * message becomes the error reply. A handler may return a Promise (write-through hooks, CACHE.WAIT);
 * the connection then holds later pipelined commands until it settles, so replies stay in order.
 */
import type { Engine } from '../engine.ts';
import type { EngineState } from '../engine-state.ts';
import type { AclUser } from './acl.ts';
import type { KeyspaceEvents } from './keyspace-events.ts';
import type { ClientPubSub, PubSub } from './pubsub.ts';
import type { PushMessage } from './push-message.ts';
import type { ReplyWriter } from './reply-writer.ts';
import type { TlsMaterial, TlsPort } from './tls-port.ts';
import type { ClientTracking, Tracking } from './tracking.ts';

/** Valkey's error texts, byte-identical. */
export const Err = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  noSuchKey: 'ERR no such key',
  invalidCursor: 'ERR invalid cursor',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  hashNotInteger: 'ERR hash value is not an integer',
  dbRange: 'ERR DB index is out of range',
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  arity: (cmd: string) => `ERR wrong number of arguments for '${cmd}' command`,
} as const;

/** An error reply; `message` starts with its code (`ERR`, `WRONGTYPE`, …). */
export class ReplyError extends Error {
  override name = 'ReplyError';
}

/** Per-connection state. */
export interface ClientState {
  readonly id: number;
  name: string;
  authenticated: boolean;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt: number;
  lastCommand: string;
  /** Set by QUIT: close once the reply is flushed. */
  closeAfterReply: boolean;
  /** Failed AUTH/HELLO AUTH attempts on this connection (see auth-guard.ts). */
  authFailures: number;
  /** The ACL user the connection runs as (`default` until AUTH names another). */
  user: AclUser;
  /** Channel and pattern subscriptions (pubsub.ts); null when none (not in subscribed mode). */
  pubsub: ClientPubSub | null;
  /** Client tracking (tracking.ts); null while off. */
  tracking: ClientTracking | null;
  /** The protocol the client speaks (2 or 3). */
  readonly resp: 2 | 3;
  /**
   * Sends a push (Pub/Sub message, invalidation). To the client running the current command it
   * leaves after that command's reply, as in Valkey; to others at the end of the event-loop turn.
   */
  push(message: PushMessage): void;
  /** CLIENT NO-TOUCH on: this client's commands (except TOUCH) do not count as accesses for LRU/LFU. */
  noTouch: boolean;
  /** The open MULTI transaction (commands queued for EXEC), or null outside MULTI (see commands/transactions.ts). */
  tx: Transaction | null;
}

/** A MULTI block being queued. */
export interface Transaction {
  /** Queued commands (argument vectors), run in order by EXEC. */
  readonly queue: string[][];
  /** Bytes of the queued arguments (counted in the client's memory). */
  bytes: number;
  /** A command was refused while queuing (unknown, arity, ACL, OOM): EXEC replies EXECABORT. */
  aborted: boolean;
}

/** One class of Valkey's `client-output-buffer-limit`: bytes (0 = no limit) and seconds. */
export interface OutputBufferLimit {
  /** Close the client as soon as its pending output exceeds this. */
  hard: number;
  /** Close the client when its pending output stays above this for `seconds`. */
  soft: number;
  seconds: number;
}

/** A connected client as the server sees it (CLIENT LIST, limits, the server cron). */
export interface ClientEntry {
  readonly client: ClientState;
  readonly w: ReplyWriter;
  /** Bytes the client holds: unparsed input plus replies not yet taken by the kernel. */
  memory(): number;
  /** Bytes of replies not yet taken by the kernel (what client-output-buffer-limit measures). */
  outputBytes(): number;
  /** Bytes of unparsed input (qbuf). */
  queryBytes(): number;
  /** Epoch ms of the last command (for `timeout`). */
  readonly lastInteraction: number;
  /** True while an asynchronous command (CACHE.WAIT, a write-through hook) holds the client. */
  readonly blocked: boolean;
  /** Epoch ms since when the output has been above the soft limit (0 = not above). */
  softLimitSince: number;
  /** Closes the connection now, dropping everything it holds. */
  kill(): void;
}

/** Server-wide state commands read or change. */
export interface ServerState {
  readonly startedAt: number;
  readonly port: number;
  /** The `tls-port` listener (tls-port.ts). */
  readonly tlsPort: TlsPort;
  /** The `tls` material the server was started with (used when no tls-*-file is configured). */
  readonly tlsMaterial: TlsMaterial | null;
  /** True when the server was started with `tls` and no `tlsPort`: its one port speaks TLS. */
  readonly tlsOnMainPort: boolean;
  readonly tcpBind: string;
  /** True when every bind address is loopback (run-time password removal is then allowed). */
  readonly loopbackOnly: boolean;
  requirepass: string | null;
  /** Valkey's `enable-protected-configs`: allows removing requirepass at run time on a non-loopback bind. */
  readonly enableProtectedConfigs: boolean;
  protoMaxBulkLen: number;
  /** Most bytes of unparsed input one client may hold (Valkey's client-query-buffer-limit). */
  clientQueryBufferLimit: number;
  /** Valkey's client-output-buffer-limit, per class. */
  readonly clientOutputBufferLimit: { normal: OutputBufferLimit; pubsub: OutputBufferLimit };
  /** Most bytes all clients together may hold; the biggest is closed beyond it (0 = no limit). */
  maxmemoryClients: number;
  /** Close clients idle for this many seconds (0 = never). */
  timeout: number;
  readonly clients: Map<number, ClientEntry>;
  totalConnections: number;
  totalCommands: number;
  rejectedConnections: number;
  /** Failed AUTH attempts (INFO `acl_access_denied_auth`). */
  authFailures: number;
  /** Commands refused by ACL (INFO `acl_access_denied_cmd`, `acl_access_denied_key`). */
  aclDeniedCommands: number;
  aclDeniedKeys: number;
  /** ACL users by name; `default` always present (see acl.ts). */
  readonly users: Map<string, AclUser>;
  /** Clients closed for exceeding client-output-buffer-limit. */
  outputBufferLimitDisconnections: number;
  /** Clients closed for exceeding client-query-buffer-limit. */
  queryBufferLimitDisconnections: number;
  /** Clients closed by maxmemory-clients. */
  evictedClients: number;
  /** Channels and patterns with their subscribers (pubsub.ts). */
  readonly pubsub: PubSub;
  /** Client tracking: the tracking table and BCAST prefixes (tracking.ts). */
  readonly tracking: Tracking;
  /** notify-keyspace-events (keyspace-events.ts). */
  readonly keyspaceEvents: KeyspaceEvents;
  /** The client whose command is running (null between commands): NOLOOP and push ordering use it. */
  current: ClientState | null;
  /** The arguments of the running command (keyspace events read its options). */
  currentArgs: string[] | null;
}

/** The handler's view of one command execution. */
export interface CommandContext {
  readonly engine: Engine;
  readonly core: EngineState;
  readonly w: ReplyWriter;
  readonly client: ClientState;
  readonly server: ServerState;
  /** Clock reading taken once for the whole command. */
  readonly now: number;
}

/** A command implementation. */
export type CommandHandler = (ctx: CommandContext, args: string[]) => void | Promise<void>;

/** Command flags used by dispatch and COMMAND. */
export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'fast'
  | 'noauth'
  | 'hookaware'
  | 'loading'
  | 'stale';

/** A command table entry (Valkey's arity: n = exactly n args incl. name, -n = at least n). */
export interface CommandSpec {
  readonly name: string;
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly handler: CommandHandler;
}

/** Builds a spec. */
export function command(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  keys: readonly [number, number, number],
  handler: CommandHandler,
): CommandSpec {
  return { name, arity, flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], handler };
}

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/** Parses a signed 64-bit integer strictly like Valkey's string2ll; null when malformed or out of range. */
export function parseI64(s: string): bigint | null {
  if (s.length === 0 || s.length > 20) return null;
  if (!/^(?:0|-?[1-9]\d*)$/.test(s)) return null;
  const n = BigInt(s);
  return n < MIN_I64 || n > MAX_I64 ? null : n;
}

/**
 * The fast case of {@link parseI64}: an integer of at most 15 characters (so exact as a JS number),
 * with the same strict syntax; NaN when `s` is malformed or longer (then ask parseI64).
 */
export function parseSmallInt(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return Number.NaN;
  let i = 0;
  let c = s.charCodeAt(0);
  const neg = c === 45; // '-'
  if (neg) {
    if (n === 1) return Number.NaN;
    i = 1;
    c = s.charCodeAt(1);
  }
  // '0' alone is zero; '-0' and leading zeros are malformed, as in Valkey's string2ll.
  if (c === 48) return n === 1 ? 0 : Number.NaN;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Parses an integer argument into a JS number (throws `ERR value is not an integer…`). */
export function intArg(s: string): number {
  const small = parseSmallInt(s);
  if (!Number.isNaN(small)) return small;
  const n = parseI64(s);
  if (n === null) throw new ReplyError(Err.notInteger);
  return Number(n);
}

/** True when `n` is within the signed 64-bit range. */
export function inI64(n: bigint): boolean {
  return n >= MIN_I64 && n <= MAX_I64;
}

/** Parses a float like Valkey's string2ld (no spaces, no NaN); null when malformed. */
export function parseFloatStrict(s: string): number | null {
  if (s.length === 0 || /\s/.test(s[0]!) || /\s/.test(s[s.length - 1]!)) return null;
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null;
  return Number(s);
}

/**
 * Formats a float the way INCRBYFLOAT replies: fixed notation, up to 17 significant digits, no
 * trailing zeros. (Valkey computes in long double; we round to 15 digits to hide binary noise that
 * long double would not show, e.g. 0.1 + 0.2 → "0.3".)
 */
export function formatFloat(n: number): string {
  const rounded = Number(n.toPrecision(15));
  const s = String(rounded);
  if (!s.includes('e')) return s;
  if (Math.abs(rounded) >= 1) return BigInt(rounded).toString();
  const exp = Number(s.slice(s.indexOf('e') + 1));
  return rounded
    .toFixed(Math.min(100, 15 - exp))
    .replace(/0+$/, '')
    .replace(/\.$/, '');
}

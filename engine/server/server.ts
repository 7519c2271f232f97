/**
 * The engine's Valkey-protocol server: a TCP (optionally TLS) listener, plus an optional Unix
 * socket, whose connections run the command table against one engine. Usable by valkey-cli,
 * valkey-benchmark and iovalkey unchanged.
 *
 * Safety: it listens on loopback by default and refuses a non-loopback bind without `requirepass`
 * (the keyspace would be open to the network); the engine it creates always has a memory limit
 * within V8's heap (see servedEngineOptions), and a cron enforces the client limits that need time
 * (client-limits.ts). `close()` stops accepting, ends every connection and releases the engine only
 * if the server created it.
 */
import { chmodSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Engine, type EngineOptions } from '../engine.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { EvictionPolicy } from '../eviction.ts';
import { defaultMaxmemory, maxmemoryProblem } from '../memory.ts';
import { defaultUser } from './acl.ts';
import { isLoopback, normalizeBindAddress } from './bind-address.ts';
import { ClientConnection } from './client-connection.ts';
import { CLIENT_CRON_MS, DEFAULT_OUTPUT_BUFFER_LIMITS, enforceClientLimits } from './client-limits.ts';
import type { ServerState } from './command-context.ts';
import { buildCommandTable } from './command-table.ts';
import { KeyspaceEvents } from './keyspace-events.ts';
import { PubSub } from './pubsub.ts';
import { rewrapWithOnread } from './read-path.ts';
import {
  DEFAULT_PROTO_MAX_BULK_LEN,
  MAX_PROTO_MAX_BULK_LEN,
  QUERY_BUFFER_LIMIT,
  registerCommandNames,
} from './resp-parser.ts';
import { closeScripts } from './scripting/eval-commands.ts';
import { TlsPort } from './tls-port.ts';
import { Tracking } from './tracking.ts';

export { DEFAULT_PROTO_MAX_BULK_LEN, MAX_PROTO_MAX_BULK_LEN } from './resp-parser.ts';

/** Options of {@link startEngineServer}. */
export interface EngineServerOptions {
  /** TCP port; 0 picks a free one. @default 6380 */
  port?: number;
  /** Address to bind. @default '127.0.0.1' */
  host?: string;
  /**
   * Engine to serve; created from `engineOptions` when absent. An engine passed in keeps its own
   * memory settings (give it a `maxmemory` from {@link servedEngineOptions} if it is only served).
   */
  engine?: Engine;
  /**
   * Options for the engine the server creates. Unlike an in-process engine, a served engine always
   * has a memory limit: `maxmemory` absent or 0 means {@link defaultMaxmemory} (half of V8's
   * old-generation limit), and the policy defaults to {@link SERVER_DEFAULT_POLICY}, which keeps
   * serving at the limit.
   */
  engineOptions?: EngineOptions;
  /** Password for AUTH/HELLO (user `default`); null = no auth. Required for a non-loopback bind. */
  requirepass?: string | null;
  /** Longest accepted bulk string in bytes. @default DEFAULT_PROTO_MAX_BULK_LEN */
  protoMaxBulkLen?: number;
  /** Most concurrent clients; more are refused with Valkey's error. @default 10000 */
  maxClients?: number;
  /**
   * TLS key and certificate (PEM). Without {@link EngineServerOptions.tlsPort}, `port` itself speaks
   * TLS; with it, `port` stays plain and TLS is served on `tlsPort` (Valkey's layout). Plain TCP
   * only when absent (a TLS port can still be opened with `CONFIG SET tls-cert-file/tls-key-file/tls-port`).
   */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /** Valkey's `tls-port`: serve TLS here (0 = a free port) beside plain `port`; needs `tls`. */
  tlsPort?: number;
  /**
   * Valkey's `enable-protected-configs`: when false, a server bound to a non-loopback address
   * refuses `CONFIG SET requirepass ""` (removing the password would open it to the network).
   * @default false
   */
  enableProtectedConfigs?: boolean;
  /** Most bytes one pending request may hold (client-query-buffer-limit). @default 1 GiB */
  clientQueryBufferLimit?: number;
  /** client-output-buffer-limit per class. @default DEFAULT_OUTPUT_BUFFER_LIMITS */
  clientOutputBufferLimit?: Partial<ServerState['clientOutputBufferLimit']>;
  /** Most bytes all clients together may hold (maxmemory-clients); 0 = no limit. @default 0 */
  maxmemoryClients?: number;
  /** Close clients idle this many seconds; 0 = never. @default 0 */
  timeout?: number;
  /** Also listen on this Unix socket path (plain, mode 0700), as Valkey's `unixsocket`. */
  unixSocket?: string;
}

/** A running server. */
export interface EngineServer {
  readonly engine: Engine;
  readonly host: string;
  readonly port: number;
  /** The port TLS is served on beside `port` (`tls-port`); 0 when none. */
  readonly tlsPort: number;
  /** Number of open client connections. */
  readonly connections: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** The served engine's default eviction policy: evict least-recently-used keys, keep serving. */
export const SERVER_DEFAULT_POLICY = EvictionPolicy.AllKeysLru;

/**
 * The engine options a served engine gets: a memory limit always (0 or absent = the default share
 * of the heap), never above the heap's ceiling (throws E_ENGINE_CONFIG with the fix), LRU eviction
 * unless a policy is given.
 */
export function servedEngineOptions(options: EngineOptions = {}): EngineOptions {
  const maxmemory =
    options.maxmemory === undefined || options.maxmemory === 0 ? defaultMaxmemory() : options.maxmemory;
  const problem = maxmemoryProblem(maxmemory);
  if (problem !== null) throw new EngineError(EngineErrorCode.Config, problem);
  return { ...options, maxmemory, maxmemoryPolicy: options.maxmemoryPolicy ?? SERVER_DEFAULT_POLICY };
}

/** Starts serving an engine over the Valkey protocol. */
export async function startEngineServer(options: EngineServerOptions = {}): Promise<EngineServer> {
  const host = normalizeBindAddress(options.host ?? '127.0.0.1');
  const requirepass = options.requirepass ?? null;
  if (!isLoopback(host) && (requirepass === null || requirepass === '')) {
    throw new EngineError(
      EngineErrorCode.Config,
      `refusing to bind ${host} without a password: set requirepass (--requirepass) or bind 127.0.0.1`,
    );
  }
  const protoMaxBulkLen = options.protoMaxBulkLen ?? DEFAULT_PROTO_MAX_BULK_LEN;
  if (!(protoMaxBulkLen >= 1024 && protoMaxBulkLen <= MAX_PROTO_MAX_BULK_LEN)) {
    throw new EngineError(
      EngineErrorCode.Config,
      `protoMaxBulkLen must be in [1024, ${MAX_PROTO_MAX_BULK_LEN}] (the longest string V8 holds)`,
    );
  }
  const maxClients = options.maxClients ?? 10_000;
  const clientQueryBufferLimit = options.clientQueryBufferLimit ?? QUERY_BUFFER_LIMIT;
  if (!(clientQueryBufferLimit >= 1024 * 1024 && clientQueryBufferLimit <= QUERY_BUFFER_LIMIT)) {
    throw new EngineError(EngineErrorCode.Config, `clientQueryBufferLimit must be in [1mb, 1gb]`);
  }
  const ownsEngine = options.engine === undefined;
  const engine = options.engine ?? new Engine(servedEngineOptions(options.engineOptions));
  const table = buildCommandTable();
  registerCommandNames(table.keys());
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  const pubsub = new PubSub();
  const current = (): ServerState['current'] => state.current;
  if (options.tlsPort !== undefined && options.tls === undefined)
    throw new EngineError(
      EngineErrorCode.Config,
      'tlsPort needs tls: { key, cert } (or set it later with CONFIG SET)',
    );
  const tlsOnMainPort = options.tls !== undefined && options.tlsPort === undefined;
  const state: ServerState = {
    startedAt: Date.now(),
    port: 0,
    tlsPort: new TlsPort(host, (socket) => onConnection(socket)),
    tlsMaterial: options.tls ?? null,
    tlsOnMainPort,
    tcpBind: host,
    loopbackOnly: isLoopback(host),
    requirepass,
    enableProtectedConfigs: options.enableProtectedConfigs ?? false,
    protoMaxBulkLen,
    clientQueryBufferLimit,
    clientOutputBufferLimit: {
      normal: { ...DEFAULT_OUTPUT_BUFFER_LIMITS.normal, ...options.clientOutputBufferLimit?.normal },
      pubsub: { ...DEFAULT_OUTPUT_BUFFER_LIMITS.pubsub, ...options.clientOutputBufferLimit?.pubsub },
    },
    maxmemoryClients: options.maxmemoryClients ?? 0,
    timeout: options.timeout ?? 0,
    clients: new Map(),
    totalConnections: 0,
    totalCommands: 0,
    rejectedConnections: 0,
    authFailures: 0,
    aclDeniedCommands: 0,
    aclDeniedKeys: 0,
    users: new Map([['default', defaultUser()]]),
    outputBufferLimitDisconnections: 0,
    queryBufferLimitDisconnections: 0,
    evictedClients: 0,
    pubsub,
    tracking: new Tracking(engine, (id) => state.clients.get(id)?.client, current),
    keyspaceEvents: new KeyspaceEvents(engine, pubsub, () => ({
      client: state.current,
      args: state.currentArgs,
    })),
    current: null,
    currentArgs: null,
  };
  const cron = setInterval(() => enforceClientLimits(state, Date.now()), CLIENT_CRON_MS);
  cron.unref();
  const onConnection = (accepted: net.Socket): void => {
    state.totalConnections++;
    if (sockets.size >= maxClients) {
      state.rejectedConnections++;
      accepted.end('-ERR max number of clients reached\r\n');
      return;
    }
    let conn: ClientConnection | undefined;
    const rewrapped =
      accepted instanceof tls.TLSSocket
        ? null
        : rewrapWithOnread(accepted, {
            onRead: (buf, n) => conn?.onRead(buf, true, n),
            directTarget: () => conn?.directReadTarget() ?? null,
            onDirectRead: (view, n) => conn?.onDirectRead(view, n),
          });
    const socket = rewrapped ?? accepted;
    sockets.add(socket);
    conn = new ClientConnection(socket, nextId++, engine, state, table, rewrapped !== null);
    socket.resume();
    state.clients.set(conn.client.id, conn);
    socket.on('close', () => {
      sockets.delete(socket);
      state.clients.delete(conn.client.id);
    });
  };
  const tlsOptions = options.tls;
  const server =
    tlsOptions !== undefined && options.tlsPort === undefined
      ? tls.createServer(tlsOptions, onConnection)
      : net.createServer({ pauseOnConnect: true }, onConnection);
  const listen = (srv: net.Server, ...where: [number, string] | [string]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(...(where as [number, string]), () => {
        srv.off('error', reject);
        resolve();
      });
    });
  await listen(server, options.port ?? 6380, host);
  if (options.tlsPort !== undefined && tlsOptions !== undefined) {
    try {
      await state.tlsPort.listen(options.tlsPort, tlsOptions);
    } catch (error) {
      server.close();
      throw error;
    }
  }
  // The Unix socket (plain, like Valkey's `unixsocket`), owner-only: it is as local as loopback.
  let unix: net.Server | null = null;
  if (options.unixSocket !== undefined) {
    unix = net.createServer({ pauseOnConnect: true }, onConnection);
    try {
      await listen(unix, options.unixSocket);
      chmodSync(options.unixSocket, 0o700);
    } catch (error) {
      server.close();
      void state.tlsPort.close();
      throw error;
    }
  }
  const address = server.address() as net.AddressInfo;
  (state as { port: number }).port = address.port;
  return {
    engine,
    host,
    port: address.port,
    get tlsPort() {
      return state.tlsPort.port;
    },
    get connections() {
      return sockets.size;
    },
    async close() {
      clearInterval(cron);
      const closed = [server, ...(unix ? [unix] : [])].map(
        (srv) => new Promise<void>((resolve) => srv.close(() => resolve())),
      );
      closed.push(state.tlsPort.close());
      for (const s of sockets) s.destroy();
      // An engine passed in outlives the server: leave no keyspace-event listener on it.
      state.keyspaceEvents.configure(new Set());
      closeScripts(state);
      await Promise.all(closed);
      if (ownsEngine) engine.close();
    },
  };
}

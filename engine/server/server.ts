/**
 * The engine's Valkey-protocol server: a TCP (optionally TLS) listener whose connections run the
 * command table against one engine. Usable by valkey-cli, valkey-benchmark and iovalkey unchanged.
 *
 * Safety: it listens on loopback by default and refuses a non-loopback bind without `requirepass`
 * (the keyspace would be open to the network). `close()` stops accepting, ends every connection
 * and releases the engine only if the server created it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Engine, type EngineOptions } from '../engine.ts';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { ClientConnection } from './client-connection.ts';
import type { ServerState } from './command-context.ts';
import { buildCommandTable } from './command-table.ts';
import { rewrapWithOnread } from './read-path.ts';
import { registerCommandNames } from './resp-parser.ts';

/** Valkey's default proto-max-bulk-len (512 MiB), capped at V8's longest string. */
export const DEFAULT_PROTO_MAX_BULK_LEN = Math.min(512 * 1024 * 1024, 2 ** 29 - 24);

/** Options of {@link startEngineServer}. */
export interface EngineServerOptions {
  /** TCP port; 0 picks a free one. @default 6380 */
  port?: number;
  /** Address to bind. @default '127.0.0.1' */
  host?: string;
  /** Engine to serve; created from `engineOptions` when absent. */
  engine?: Engine;
  /** Options for the engine the server creates. */
  engineOptions?: EngineOptions;
  /** Password for AUTH/HELLO (user `default`); null = no auth. Required for a non-loopback bind. */
  requirepass?: string | null;
  /** Longest accepted bulk string in bytes. @default DEFAULT_PROTO_MAX_BULK_LEN */
  protoMaxBulkLen?: number;
  /** Most concurrent clients; more are refused with Valkey's error. @default 10000 */
  maxClients?: number;
  /** TLS key and certificate (PEM); plain TCP when absent. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
}

/** A running server. */
export interface EngineServer {
  readonly engine: Engine;
  readonly host: string;
  readonly port: number;
  /** Number of open client connections. */
  readonly connections: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** True for loopback addresses (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
  );
}

/** Starts serving an engine over the Valkey protocol. */
export async function startEngineServer(options: EngineServerOptions = {}): Promise<EngineServer> {
  const host = options.host ?? '127.0.0.1';
  const requirepass = options.requirepass ?? null;
  if (!isLoopback(host) && (requirepass === null || requirepass === '')) {
    throw new EngineError(
      EngineErrorCode.Config,
      `refusing to bind ${host} without a password: set requirepass (--requirepass) or bind 127.0.0.1`,
    );
  }
  const protoMaxBulkLen = options.protoMaxBulkLen ?? DEFAULT_PROTO_MAX_BULK_LEN;
  if (!(protoMaxBulkLen >= 1024 && protoMaxBulkLen <= DEFAULT_PROTO_MAX_BULK_LEN)) {
    throw new EngineError(
      EngineErrorCode.Config,
      `protoMaxBulkLen must be in [1024, ${DEFAULT_PROTO_MAX_BULK_LEN}]`,
    );
  }
  const maxClients = options.maxClients ?? 10_000;
  const ownsEngine = options.engine === undefined;
  const engine = options.engine ?? new Engine(options.engineOptions);
  const table = buildCommandTable();
  registerCommandNames(table.keys());
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  const state: ServerState = {
    startedAt: Date.now(),
    port: 0,
    tcpBind: host,
    requirepass,
    protoMaxBulkLen,
    clients: new Map(),
    totalConnections: 0,
    totalCommands: 0,
    rejectedConnections: 0,
  };
  const onConnection = (accepted: net.Socket): void => {
    state.totalConnections++;
    if (sockets.size >= maxClients) {
      state.rejectedConnections++;
      accepted.end('-ERR max number of clients reached\r\n');
      return;
    }
    let conn: ClientConnection | undefined;
    const rewrapped = options.tls ? null : rewrapWithOnread(accepted, (chunk) => conn?.onRead(chunk, true));
    const socket = rewrapped ?? accepted;
    sockets.add(socket);
    conn = new ClientConnection(socket, nextId++, engine, state, table, rewrapped !== null);
    socket.resume();
    state.clients.set(conn.client.id, { client: conn.client, w: conn.writer });
    socket.on('close', () => {
      sockets.delete(socket);
      state.clients.delete(conn.client.id);
    });
  };
  const server = options.tls
    ? tls.createServer(options.tls, onConnection)
    : net.createServer({ pauseOnConnect: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 6380, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  (state as { port: number }).port = address.port;
  return {
    engine,
    host,
    port: address.port,
    get connections() {
      return sockets.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      if (ownsEngine) engine.close();
    },
  };
}

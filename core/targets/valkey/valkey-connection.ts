/**
 * Connection options of the Valkey adapter: parsed once from a URL or options (bad input is rejected
 * with the fix), then turned into an iovalkey client — standalone or cluster. iovalkey is imported
 * lazily so importing core never loads a Valkey client.
 *
 * URL form: `valkey://[user[:password]@]host:port[,host:port…][?cluster=true|false&ca=PATH&servername=NAME&legacyLeases=true]`;
 * `valkeys://` turns TLS on. Several hosts, or `cluster=true`, mean a cluster; otherwise the server
 * is asked (`INFO cluster`) and a cluster-enabled one is opened as a cluster (`mode: 'auto'`).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Cluster, Valkey } from 'iovalkey';
import { redactTargetSpec } from '../../config/target-spec.ts';
import { TargetError } from '../../errors.ts';
import { routeWarningsUntilEnd } from '../resp/client-console.ts';
import { loadIovalkey } from './load-iovalkey.ts';

/** How to open the server. */
export type ValkeyMode = 'auto' | 'standalone' | 'cluster';

/** A host and port. */
export interface ValkeyNode {
  host: string;
  port: number;
}

/** Connection options (URL fields, when both are given, lose to explicit options). */
export interface ValkeyConnectionOptions {
  /** `valkey://…` or `valkeys://…` (see the module comment). */
  url?: string;
  /** Seed nodes, instead of (or beside) the URL's hosts. */
  nodes?: ValkeyNode[];
  /** Standalone, cluster, or ask the server. @default 'auto' */
  mode?: ValkeyMode;
  /** ACL user name (AUTH username password). */
  username?: string;
  /** Password (ACL user's, or the `requirepass` one). */
  password?: string;
  /** TLS: true, or Node TLS options (`ca`, `servername`, …). @default true for valkeys://, else false */
  tls?: boolean | ConnectionOptions;
  /** Per-command timeout, ms. @default 5000 */
  commandTimeoutMs?: number;
  /** Connection timeout, ms. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Receives the client's `error` events (a refused connection, a reconnect that failed), so the
   * process logs them in its own format: the client never prints them to stderr itself.
   * @default ignored (the failure reaches the caller as a failed command)
   */
  onClientError?: (error: Error) => void;
  /**
   * Not a connection setting, but read from the same URL (`?legacyLeases=true`): the target's APPLY
   * also cancels layout-1 fill leases (`__cdc:l:{K}`), for an upgrade while app processes of a
   * release before layout 2 still take leases (README.md, "Fence layout and upgrades").
   * @default false
   */
  legacyLeases?: boolean;
}

/** Connection defaults. */
export const VALKEY_CONNECTION_DEFAULTS = {
  port: 6379,
  commandTimeoutMs: 5000,
  connectTimeoutMs: 10_000,
} as const;

/** Options after parsing: what a client is built from. */
export interface ResolvedConnection {
  nodes: ValkeyNode[];
  mode: ValkeyMode;
  username: string | undefined;
  password: string | undefined;
  tls: ConnectionOptions | undefined;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  onClientError: ((error: Error) => void) | undefined;
}

function bad(message: string): TargetError {
  return new TargetError(`valkey target: ${message}`, { retriable: false });
}

function parseHostPort(text: string, url: string): ValkeyNode {
  const m = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(text);
  if (!m) throw bad(`cannot read host:port "${text}" in ${url}`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = m[2] === undefined ? VALKEY_CONNECTION_DEFAULTS.port : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw bad(`port out of range in ${url}`);
  return { host, port };
}

/** Parses a `valkey://` / `valkeys://` URL into connection options. */
export function parseValkeyUrl(url: string): ValkeyConnectionOptions {
  // User info runs to the LAST "@" of the authority (as WHATWG URL and ioredis read it), so a
  // password with an unescaped "@" is not cut short. Errors name the URL without its password.
  const m = /^(valkeys?|rediss?):\/\/(?:([^/?#]*)@)?([^/?#@]*)(?:\/(\d*))?(?:\?([^#]*))?$/.exec(url);
  const shown = redactTargetSpec(url);
  if (!m) {
    throw bad(
      `"${shown}" is not a valkey URL; write valkey://[user:password@]host:port (valkeys:// for TLS)`,
    );
  }
  const [, scheme, userinfo, hosts, db, query] = m;
  if (db !== undefined && db !== '' && db !== '0')
    throw bad(`database ${db} is not supported; use /0 or omit it`);
  const out: ValkeyConnectionOptions = {
    nodes: (hosts ?? '').split(',').map((h) => parseHostPort(h, shown)),
  };
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (colon < 0) out.password = user;
    else {
      if (user !== '') out.username = user;
      out.password = decodeURIComponent(userinfo.slice(colon + 1));
    }
  }
  const params = new URLSearchParams(query ?? '');
  const tls: ConnectionOptions = {};
  let tlsOn = scheme === 'valkeys' || scheme === 'rediss';
  for (const [name, value] of params) {
    if (name === 'cluster') {
      if (value !== 'true' && value !== 'false')
        throw bad(`cluster=${value}: use cluster=true or cluster=false`);
      out.mode = value === 'true' ? 'cluster' : 'standalone';
    } else if (name === 'ca') {
      try {
        tls.ca = readFileSync(value);
      } catch (error) {
        throw bad(`cannot read the CA file ca=${value}: ${(error as Error).message}`);
      }
      tlsOn = true;
    } else if (name === 'servername') {
      tls.servername = value;
    } else if (name === 'legacyLeases') {
      if (value !== 'true' && value !== 'false')
        throw bad(`legacyLeases=${value}: use legacyLeases=true or legacyLeases=false`);
      out.legacyLeases = value === 'true';
    } else {
      throw bad(`unknown URL parameter "${name}" (known: cluster, ca, servername, legacyLeases)`);
    }
  }
  if (tlsOn) out.tls = tls;
  return out;
}

/** Merges URL and options and checks them. */
export function resolveConnection(options: ValkeyConnectionOptions): ResolvedConnection {
  const fromUrl = options.url === undefined ? {} : parseValkeyUrl(options.url);
  const nodes = options.nodes ?? fromUrl.nodes ?? [];
  if (nodes.length === 0) throw bad('no server given: pass url (valkey://host:port) or nodes');
  const tlsOpt = options.tls ?? fromUrl.tls ?? false;
  const tls = tlsOpt === false ? undefined : tlsOpt === true ? {} : tlsOpt;
  const mode = options.mode ?? fromUrl.mode ?? (nodes.length > 1 ? 'cluster' : 'auto');
  if (mode === 'standalone' && nodes.length > 1) throw bad('several hosts need mode "cluster"');
  const commandTimeoutMs = options.commandTimeoutMs ?? VALKEY_CONNECTION_DEFAULTS.commandTimeoutMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? VALKEY_CONNECTION_DEFAULTS.connectTimeoutMs;
  if (!(commandTimeoutMs > 0) || !(connectTimeoutMs > 0)) throw bad('timeouts must be > 0 ms');
  return {
    nodes,
    mode,
    username: options.username ?? fromUrl.username,
    password: options.password ?? fromUrl.password,
    tls,
    commandTimeoutMs,
    connectTimeoutMs,
    onClientError: options.onClientError,
  };
}

/** An open client: standalone or cluster. */
export type ValkeyClient = { cluster: false; client: Valkey } | { cluster: true; client: Cluster };

function nodeOptions(c: ResolvedConnection) {
  return {
    ...(c.username === undefined ? {} : { username: c.username }),
    ...(c.password === undefined ? {} : { password: c.password }),
    ...(c.tls === undefined ? {} : { tls: c.tls }),
    commandTimeout: c.commandTimeoutMs,
    connectTimeout: c.connectTimeoutMs,
    // Fail a command after a couple of reconnect attempts instead of queueing it forever: the
    // caller (applyWithRetry, the consumer loop) owns the backoff and must not advance meanwhile.
    maxRetriesPerRequest: 2,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
}

function connectError(c: ResolvedConnection, error: unknown): TargetError {
  const where = c.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  const message = error instanceof Error ? error.message : String(error);
  const auth = /NOAUTH|WRONGPASS|NOPERM/.test(message);
  return new TargetError(`valkey target: cannot use ${where}: ${message}`, {
    cause: error,
    retriable: !auth,
  });
}

/** Opens (and pings) a client for `c`; detects a cluster in `auto` mode. */
export async function openValkeyClient(c: ResolvedConnection): Promise<ValkeyClient> {
  const { Cluster, Valkey } = await loadIovalkey();
  const opts = nodeOptions(c);
  let clusterMode = c.mode === 'cluster';
  if (!clusterMode) {
    const first = c.nodes[0]!;
    const client = new Valkey({ host: first.host, port: first.port, ...opts, lazyConnect: true });
    // connect() rejects with "Connection is closed." on a refused AUTH; the reason arrives as an event.
    let lastError: unknown;
    client.on('error', (e: Error) => {
      lastError = e;
      c.onClientError?.(e);
    });
    routeWarningsUntilEnd(client, c.onClientError);
    try {
      await client.connect();
      if (c.mode === 'auto' && /cluster_enabled:1/.test(await client.info('cluster'))) clusterMode = true;
      else return { cluster: false, client };
    } catch (error) {
      client.disconnect();
      throw connectError(c, lastError ?? error);
    }
    await client.quit().catch(() => client.disconnect());
  }
  const cluster = new Cluster(c.nodes, {
    redisOptions: opts,
    // TLS certificates name the host; keep the address as given (ElastiCache's documented setting).
    dnsLookup: (address, callback) => callback(null, address),
    enableReadyCheck: true,
    lazyConnect: true,
    slotsRefreshTimeout: c.connectTimeoutMs,
    clusterRetryStrategy: (times: number) => (times > 10 ? null : Math.min(100 * times, 2000)),
  });
  let lastError: unknown;
  cluster.on('error', (e: Error) => {
    lastError = e;
    c.onClientError?.(e);
  });
  routeWarningsUntilEnd(cluster, c.onClientError);
  try {
    await cluster.connect();
  } catch (error) {
    cluster.disconnect();
    throw connectError(c, lastError ?? error);
  }
  return { cluster: true, client: cluster };
}

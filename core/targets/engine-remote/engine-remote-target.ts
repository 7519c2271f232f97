/**
 * The remote engine target: a CacheTarget speaking the engine's CACHE.* commands over RESP with
 * iovalkey (kind `engine-remote`). It behaves exactly like the embedded adapter: the same fencing,
 * tombstones and outcomes, because the server runs the same engine code.
 *
 * One `apply` is one pipeline (one round trip), except that a tag invalidation goes a page at a time
 * (engine-remote-tags.ts) between the pipelines of the ops around it. Error mapping: a connection failure fails every op
 * of the batch as retriable; a server error reply fails its op, retriable for server state
 * (OOM/LOADING/BUSY/…) and credentials (NOAUTH/WRONGPASS/NOPERM) per the one table of
 * ../resp/reply-errors.ts; any other reply is the op's own fault and not retriable, which
 * dead-letters its records.
 */
import { Valkey } from 'iovalkey';
import { TargetError } from '../../errors.ts';
import { versionSortKey } from '../../event/version.ts';
import type { CacheOp, InvalidateTagOp } from '../cache-op.ts';
import { type CapableCacheTarget, type OpResult, TARGET_DEFAULTS } from '../cache-target.ts';
import { lazyFillLeaseStore, lazyShardLeaseStore } from '../lazy-lease-stores.ts';
import { routeWarningsUntilEnd } from '../resp/client-console.ts';
import { isRetriableClientError } from '../resp/reply-errors.ts';
import { invalidateTagRemote } from './engine-remote-tags.ts';

/** Options of {@link createEngineRemoteTarget}. */
export interface EngineRemoteTargetOptions {
  /** `valkey://[[user]:password@]host:port` (or `redis://`). @default 'valkey://127.0.0.1:6380' */
  url?: string;
  /** An existing client to use (not closed by `close()`); `url` is then ignored. */
  client?: Valkey;
  /** Tombstone lifetime of invalidations, ms. @default TARGET_DEFAULTS.tombstoneTtlMs */
  tombstoneTtlMs?: number;
  /** Per-command timeout in ms. @default 5000 */
  commandTimeoutMs?: number;
  /** Receives the client's `error` events (see ValkeyConnectionOptions.onClientError). @default ignored */
  onClientError?: (error: Error) => void;
}

/** A CacheTarget over an engine server. */
export interface EngineRemoteTarget extends CapableCacheTarget {
  readonly kind: 'engine-remote';
  readonly client: Valkey;
}

function toArgs(op: CacheOp, tombstoneTtlMs: number): [string, string[]] {
  const version = versionSortKey(op.version);
  switch (op.kind) {
    case 'refresh':
      return ['CACHE.REFRESH', [op.key, op.value, String(op.ttlMs), version]];
    case 'invalidate':
      return ['CACHE.INVALIDATE', [op.key, version, String(tombstoneTtlMs)]];
    case 'invalidatePrefix':
      return ['CACHE.INVALIDATEPREFIX', [op.prefix, version, String(tombstoneTtlMs)]];
    case 'softInvalidate':
      return ['CACHE.SOFTINVALIDATE', [op.key, version, String(tombstoneTtlMs)]];
    case 'invalidateTag':
      // Paged by applyTag (engine-remote-tags.ts); this one-command form is kept for callers of toArgs.
      return ['CACHE.TAGINVALIDATE', [op.tag, version, String(tombstoneTtlMs)]];
  }
}

function clientFromUrl(url: string, commandTimeoutMs: number): Valkey {
  const u = new URL(url.replace(/^valkeys?:/, (m) => (m === 'valkeys:' ? 'rediss:' : 'redis:')));
  return new Valkey({
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6380),
    // The ACL user too (CDC_CACHE_TARGET_USERNAME or user:password@): without it AUTH would log in as
    // the default user with that password, a different identity than the one configured.
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
}

/** Creates the remote engine target. */
export function createEngineRemoteTarget(options: EngineRemoteTargetOptions = {}): EngineRemoteTarget {
  const owned = options.client === undefined;
  const client =
    options.client ??
    clientFromUrl(options.url ?? 'valkey://127.0.0.1:6380', options.commandTimeoutMs ?? 5000);
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TARGET_DEFAULTS.tombstoneTtlMs;
  // Without a listener the client prints "[ioredis] Unhandled error event" with a stack to stderr on
  // every failed reconnect, breaking one-JSON-object-per-line logs; failures reach apply() anyway,
  // which names the last connection error when a command fails for it.
  let connectionError: Error | undefined;
  if (owned) {
    client.on('error', (e: Error) => {
      connectionError = e;
      options.onClientError?.(e);
    });
    client.on('ready', () => {
      connectionError = undefined;
    });
    routeWarningsUntilEnd(client, options.onClientError);
  }
  const failure = (error: unknown): string => {
    const message = (error as Error).message;
    if (connectionError !== undefined && /max retries per request|Connection is closed/i.test(message))
      return `cannot reach the engine at ${client.options.host}:${client.options.port}: ${connectionError.message}`;
    return message;
  };
  const failed = (error: unknown): OpResult => {
    const retriable = isRetriableClientError(error as Error);
    return {
      ok: false,
      error: new TargetError(`engine-remote: ${failure(error)}`, { cause: error, retriable }),
    };
  };
  async function applyTag(op: InvalidateTagOp): Promise<OpResult> {
    let version: string;
    try {
      version = versionSortKey(op.version);
    } catch (error) {
      return {
        ok: false,
        error: new TargetError(`engine-remote: ${(error as Error).message}`, {
          cause: error,
          retriable: false,
        }),
      };
    }
    try {
      const done = await invalidateTagRemote(client, op.tag, version, {
        soft: op.soft === true,
        tombstoneTtlMs,
      });
      return { ok: true, outcome: done.outcome };
    } catch (error) {
      return failed(error);
    }
  }
  async function applyPipelined(
    ops: readonly CacheOp[],
    from: number,
    to: number,
    results: OpResult[],
  ): Promise<void> {
    const pipeline = client.pipeline();
    const sent: number[] = [];
    for (let i = from; i < to; i++) {
      try {
        const [cmd, args] = toArgs(ops[i]!, tombstoneTtlMs);
        pipeline.call(cmd, args);
        sent.push(i);
      } catch (error) {
        results[i] = {
          ok: false,
          error: new TargetError(`engine-remote: ${(error as Error).message}`, {
            cause: error,
            retriable: false,
          }),
        };
      }
    }
    if (sent.length === 0) return;
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      for (const i of sent) {
        results[i] = {
          ok: false,
          error: new TargetError(`engine-remote: ${failure(error)}`, { cause: error }),
        };
      }
      return;
    }
    sent.forEach((i, n) => {
      const [err, reply] = replies?.[n] ?? [new Error('no reply'), null];
      results[i] = err ? failed(err) : { ok: true, outcome: reply === 'fenced' ? 'fenced' : 'applied' };
    });
  }
  return {
    kind: 'engine-remote',
    client,
    async apply(ops) {
      const results: OpResult[] = new Array(ops.length);
      // Segments: ops up to a tag invalidation go out as one pipeline; a tag invalidation is paged
      // (engine-remote-tags.ts) and completes before the ops after it start.
      let start = 0;
      while (start < ops.length) {
        const op = ops[start]!;
        if (op.kind === 'invalidateTag') {
          results[start] = await applyTag(op);
          start++;
          continue;
        }
        let end = start + 1;
        while (end < ops.length && ops[end]!.kind !== 'invalidateTag') end++;
        await applyPipelined(ops, start, end, results);
        start = end;
      }
      return results;
    },
    async get(key) {
      try {
        return await client.get(key);
      } catch (error) {
        throw new TargetError(`engine-remote: ${failure(error)}`, { cause: error });
      }
    },
    async dump() {
      const out: Record<string, string> = {};
      let cursor = '0';
      do {
        const [next, keys] = (await client.call('SCAN', [cursor, 'COUNT', '1000', 'TYPE', 'string'])) as [
          string,
          string[],
        ];
        cursor = next;
        if (keys.length > 0) {
          const values = await client.mget(...keys);
          keys.forEach((k, i) => {
            const v = values[i];
            if (v !== null && v !== undefined) out[k] = v;
          });
        }
      } while (cursor !== '0');
      return out;
    },
    async close() {
      if (!owned) return;
      // QUIT on a client that is reconnecting would wait for a connection that may never come.
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
    // The stores' modules load on first use (lazy-lease-stores.ts): the CDC path never needs them.
    fillLeases: (leaseOptions) =>
      lazyFillLeaseStore({ kind: 'engine-remote', wakes: true, tracks: true }, async () =>
        (await import('./engine-remote-fill-lease-store.ts')).engineRemoteLeaseStore(client, {
          tombstoneTtlMs,
          ...leaseOptions,
        }),
      ),
    shardLeases: (scope) =>
      lazyShardLeaseStore(scope, async () =>
        (await import('./engine-remote-shard-lease-store.ts')).engineRemoteShardLeaseStore(client, scope),
      ),
  };
}

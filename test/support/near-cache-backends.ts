/**
 * The four backends the near-cache tests run against, each with a second, independent writer (another
 * client / process) and the CDC consumer's own path (a second target's `apply`).
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Valkey } from 'iovalkey';
import type { FillLeaseStore } from '../../core/client/fill-lease-store.ts';
import { leaseStoreFor } from '../../core/client/index.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { createEngineTarget, type EngineTarget } from '../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../core/targets/engine-remote/engine-remote-target.ts';
import { keySlot } from '../../core/targets/valkey/slots.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { type EngineServer, startEngineServer } from '../../engine/index.ts';
import { requireServices } from '../setup/require-services.ts';
import { valkeyServices } from './conformance/services.ts';

/** One opened backend. */
export interface OpenBackend {
  /** The target the app's client uses. */
  target: CacheTarget;
  store: FillLeaseStore;
  /** The CDC consumer's target (another connection; the same engine in-process). */
  cdc: CacheTarget;
  /** Another client's plain SET (PX when given). */
  write(key: string, value: string, px?: number): Promise<void>;
  /** Another client's plain GET (forces lazy expiry). */
  read(key: string): Promise<string | null>;
  /** Runs a raw command on the node holding `key` from another connection (RESP backends). */
  raw?: (key: string) => Valkey;
  close(): Promise<void>;
}

/** A backend under test. */
export interface Backend {
  name: string;
  /** Whether tracking runs over connections (CLIENT KILL applies). */
  resp: boolean;
  open(): Promise<OpenBackend>;
}

/** A key no other test uses. */
export function uniqueKey(tag: string): string {
  return `near:${tag}:${randomUUID().slice(0, 8)}`;
}

function inProcess(): Backend {
  return {
    name: 'engine in-process',
    resp: false,
    async open() {
      const target: EngineTarget = createEngineTarget();
      return {
        target,
        store: leaseStoreFor(target),
        cdc: target,
        write: async (k, v, px) => void target.engine.set(k, v, px === undefined ? undefined : { ttlMs: px }),
        read: async (k) => target.engine.getBuffer(k)?.toString() ?? null,
        close: () => target.close(),
      };
    },
  };
}

function respBackend(
  name: string,
  url: () => Promise<{ url: string; cluster: boolean; stop?: () => Promise<void>; engine?: boolean }>,
): Backend {
  return {
    name,
    resp: true,
    async open() {
      const u = await url();
      const target = u.engine
        ? createEngineRemoteTarget({ url: u.url })
        : await createValkeyTarget({ url: u.url });
      const cdc = u.engine
        ? createEngineRemoteTarget({ url: u.url })
        : await createValkeyTarget({ url: u.url });
      const hosts = u.url.replace(/^valkey:\/\//, '').split(',');
      const other: Valkey | Cluster = u.cluster
        ? new Cluster(hosts.map((h) => ({ host: h.split(':')[0]!, port: Number(h.split(':')[1]) })))
        : new Valkey(u.url);
      const nodeOf = (key: string): Valkey => {
        if (!(other instanceof Cluster)) return other;
        const slot = (other as unknown as { slots: string[][] }).slots;
        const id = slot[keySlot(key)]?.[0];
        const node = other.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === id);
        if (node === undefined) throw new Error(`no node for ${key}`);
        return node;
      };
      if (other instanceof Cluster) await other.ping();
      return {
        target,
        store: leaseStoreFor(target),
        cdc,
        write: async (k, v, px) => {
          if (px === undefined) await other.set(k, v);
          else await other.set(k, v, 'PX', px);
        },
        read: (k) => other.get(k),
        raw: nodeOf,
        async close() {
          other.disconnect();
          await cdc.close();
          await target.close();
          await u.stop?.();
        },
      };
    },
  };
}

/** The four backends. */
export const NEAR_BACKENDS: Backend[] = [
  inProcess(),
  respBackend('engine server', async () => {
    const server: EngineServer = await startEngineServer({ port: 0 });
    return {
      url: `valkey://127.0.0.1:${server.port}`,
      cluster: false,
      engine: true,
      stop: () => server.close(),
    };
  }),
  respBackend('Valkey standalone', async () => {
    requireServices('valkey');
    return { url: valkeyServices().standaloneUrl, cluster: false };
  }),
  respBackend('Valkey cluster', async () => {
    requireServices('valkey-cluster');
    return { url: `valkey://${valkeyServices().clusterNodes.join(',')}`, cluster: true };
  }),
];

/** A backend over a private valkey-server at `url` (safe to FLUSHALL). */
export function privateValkeyBackend(url: string, stop: () => Promise<void>): Promise<OpenBackend> {
  return respBackend('private valkey-server', async () => ({ url, cluster: false, stop })).open();
}

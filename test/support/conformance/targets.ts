/**
 * The five targets the conformance suite runs against, each opened from a serialisable spec so
 * child processes (the cross-process stampede) can open the same target.
 */

import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { requireServices, type ServiceName } from '../../setup/require-services.ts';
import { valkeyServices } from './services.ts';

/** How to open a target: a URL (anything but the embedded engine). */
export type TargetSpec = { kind: 'engine' } | { kind: 'url'; url: string };

/** One target of the suite. */
export interface ConformanceTarget {
  name: string;
  /** True when child processes can reach it (not the embedded engine). */
  shared: boolean;
  /** Starts what the target needs; returns its spec. Throws (failing the suite) when unavailable. */
  setup(): Promise<TargetSpec>;
  teardown(): Promise<void>;
}

/** Opens `spec` with the given tombstone lifetime. */
export async function openSpec(spec: TargetSpec, tombstoneTtlMs: number): Promise<CacheTarget> {
  if (spec.kind === 'engine') return createEngineTarget({ tombstoneTtlMs });
  if (spec.url.startsWith('engine://')) {
    return createEngineRemoteTarget({
      url: `valkey://${spec.url.slice('engine://'.length)}`,
      tombstoneTtlMs,
    });
  }
  return createValkeyTarget({ url: spec.url, tombstoneTtlMs });
}

function engineRemote(): ConformanceTarget {
  let server: EngineServer | undefined;
  return {
    name: 'engine over RESP',
    shared: true,
    async setup() {
      server = await startEngineServer({ port: 0 });
      return { kind: 'url', url: `engine://127.0.0.1:${server.port}` };
    },
    async teardown() {
      await server?.close();
    },
  };
}

function valkey(name: string, service: ServiceName, url: () => string): ConformanceTarget {
  return {
    name,
    shared: true,
    async setup() {
      requireServices(service);
      return { kind: 'url', url: url() };
    },
    async teardown() {},
  };
}

/** Every target, in the order the suite runs them. */
export const CONFORMANCE_TARGETS: ConformanceTarget[] = [
  {
    name: 'engine in-process',
    shared: false,
    setup: async () => ({ kind: 'engine' }),
    teardown: async () => {},
  },
  engineRemote(),
  valkey('Valkey standalone', 'valkey', () => valkeyServices().standaloneUrl),
  valkey(
    'Valkey 3-master cluster',
    'valkey-cluster',
    () => `valkey://${valkeyServices().clusterNodes.join(',')}`,
  ),
  valkey('Valkey TLS + ACL user', 'valkey-tls', () => {
    const s = valkeyServices();
    return `${s.tlsUrl}?ca=${encodeURIComponent(s.tlsCa)}`;
  }),
];

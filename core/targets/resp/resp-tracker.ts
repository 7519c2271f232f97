/**
 * NearTracker over one server speaking the Valkey protocol: Valkey standalone and the engine server.
 * Two connections of its own, duplicated from the store's client (same address, credentials, TLS),
 * so tracking never touches the connection the store and the CDC pipeline use.
 */
import type { Valkey } from 'iovalkey';
import type { NearTracker } from '../../client/near-cache/tracker.ts';
import type { StaleProbe } from './stale-probe.ts';
import { TrackedNode } from './tracked-node.ts';

/**
 * A NearTracker for the server `client` talks to (`kind` as the store's); `probe` reads the
 * backend's soft-invalidation mark with each value (stale-probe.ts).
 */
export function respNearTracker(kind: string, client: Valkey, probe?: StaleProbe): NearTracker {
  let node: TrackedNode | undefined;
  return {
    kind,
    read(key) {
      if (node === undefined) throw new Error('near tracker: read before start');
      return node.read(key, probe);
    },
    start(sink) {
      node = new TrackedNode(
        (name) => client.duplicate({ connectionName: name, autoResubscribe: false, lazyConnect: false }),
        sink,
      );
      node.start();
    },
    async close() {
      await node?.close();
    },
  };
}

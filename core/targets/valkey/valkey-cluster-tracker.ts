/**
 * NearTracker over a Valkey cluster. Tracking is per node (a node only reports keys read on it, to a
 * redirect client on itself), so each master gets its own TrackedNode and reads are routed by slot
 * from this tracker's own copy of the slot table (`CLUSTER SLOTS`).
 *
 * Invariants: tracking is up only when the slot table is loaded and every master's node is up. A
 * MOVED/ASK reply, or a slot with no known master, means the table is old: tracking goes down at
 * once (near cache emptied), the read is answered through the cluster client (never installed, its
 * epoch is gone), and the table is reloaded before tracking can come up again.
 */
import type { Cluster, Valkey } from 'iovalkey';
import type { StoredEntry } from '../../client/fill-lease-store.ts';
import type { NearTracker, TrackingSink } from '../../client/near-cache/tracker.ts';
import { probedRead, type StaleProbe } from '../resp/stale-probe.ts';
import { TrackedNode } from '../resp/tracked-node.ts';
import { loadIovalkey } from './load-iovalkey.ts';
import { keySlot, SLOT_COUNT } from './slots.ts';

type SlotsReply = [number, number, [string, number, ...unknown[]], ...unknown[]][];

/**
 * A NearTracker over `cluster` (the Valkey target's Cluster client); `probe` reads the soft mark
 * with each value (stale-probe.ts).
 */
export function clusterNearTracker(cluster: Cluster, probe?: StaleProbe): NearTracker {
  const nodes = new Map<string, TrackedNode>();
  let slots: (string | undefined)[] = [];
  let sink: TrackingSink | undefined;
  let loaded = false;
  let refreshing: Promise<void> | undefined;
  let closed = false;

  function allUp(): boolean {
    if (!loaded || refreshing !== undefined || nodes.size === 0) return false;
    for (const node of nodes.values()) if (!node.isUp) return false;
    return true;
  }

  const nodeSink: TrackingSink = {
    invalidate: (keys) => sink?.invalidate(keys),
    down: (reason) => sink?.down(reason),
    up: () => {
      if (allUp()) sink?.up();
    },
  };

  async function load(): Promise<void> {
    const reply = (await cluster.call('CLUSTER', 'SLOTS')) as SlotsReply;
    const table: (string | undefined)[] = new Array(SLOT_COUNT);
    const masters = new Map<string, { host: string; port: number }>();
    for (const [start, end, master] of reply) {
      const host = String(master[0]);
      const port = Number(master[1]);
      const id = `${host}:${port}`;
      masters.set(id, { host, port });
      for (let s = start; s <= end; s++) table[s] = id;
    }
    const redisOptions = cluster.options.redisOptions ?? {};
    const { Valkey } = await loadIovalkey();
    for (const [id, node] of nodes) {
      if (!masters.has(id)) {
        nodes.delete(id);
        await node.close();
      }
    }
    for (const [id, { host, port }] of masters) {
      if (nodes.has(id) || closed) continue;
      const open = (name: string): Valkey =>
        new Valkey({ ...redisOptions, host, port, connectionName: name, autoResubscribe: false });
      const node = new TrackedNode(open, nodeSink);
      nodes.set(id, node);
      node.start();
    }
    slots = table;
    loaded = true;
  }

  function refresh(reason: string): void {
    sink?.down(reason);
    if (refreshing !== undefined || closed) return;
    refreshing = (async () => {
      for (let attempt = 0; !closed; attempt++) {
        try {
          await load();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        }
      }
    })().finally(() => {
      refreshing = undefined;
      nodeSink.up();
    });
  }

  async function readThroughCluster(key: string): Promise<StoredEntry | null> {
    return probedRead(cluster, key, probe);
  }

  return {
    kind: 'valkey-cluster',
    async read(key) {
      const id = slots[keySlot(key)];
      const node = id === undefined ? undefined : nodes.get(id);
      if (node === undefined) {
        refresh('cluster slot table out of date');
        return readThroughCluster(key);
      }
      try {
        return await node.read(key, probe);
      } catch (error) {
        if (!/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN) /.test((error as Error).message ?? '')) throw error;
        refresh(`cluster topology changed (${(error as Error).message})`);
        return readThroughCluster(key);
      }
    },
    start(s) {
      sink = s;
      refresh('starting');
    },
    async close() {
      closed = true;
      await refreshing;
      await Promise.all([...nodes.values()].map((n) => n.close()));
      nodes.clear();
    },
  };
}

/**
 * Near-cache app workers of the consistency test (issue 18): during a run, worker threads read
 * through a near cache on Valkey and on the engine server (whose own CDC consumer child follows the
 * same copy topic under its own group); after the drain each worker reads every key once more and
 * compares what it served with PostgreSQL. Tracked workers must serve 0 stale reads; workers with
 * the test-only `tracking: false` switch keep what they read during the run and serve stale values
 * (so the check can fail).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { startChild, stopChild } from './harness.ts';

const WORKER = join(import.meta.dirname, 'near-worker.ts');
const CHILD = join(import.meta.dirname, 'cdc-child.ts');

/** What one backend's near workers found after the drain. */
export interface NearCheck {
  backend: 'valkey' | 'engine';
  tracking: boolean;
  workers: number;
  /** Reads during the run, and how many were near hits. */
  reads: number;
  nearHits: number;
  /** Keys read after the drain, how many were served near, and the stale ones. */
  checked: number;
  nearServed: number;
  stale: string[];
  invalidations: number;
}

interface Running {
  worker: Worker;
  backend: 'valkey' | 'engine';
  tracking: boolean;
  ran: Promise<{ reads: number; stats: { hits: number } }>;
}

/** Options of {@link startNearReaders}. */
export interface NearReadersOptions {
  valkeyUrl: string;
  pgUrl: string;
  prefix: string;
  ids: number[];
  durationMs: number;
  seed: number;
  /** The Valkey CDC child's environment (cdc-child.ts); the engine's child copies it. */
  cdcEnv: Record<string, string>;
  /** The engine child's consumer group. */
  engineGroup: string;
  /** Tracked workers per backend. @default 1 */
  tracked?: number;
  /** Untracked (test-only switch) workers per backend. @default 1 */
  untracked?: number;
}

/** Near readers running beside the scenario's apps. */
export interface NearReaders {
  /** The engine server's URL (engine://…). */
  engineUrl: string;
  /** Resolves when every worker finished its read phase. */
  ran(): Promise<void>;
  /** After the drain: every worker's check, grouped by backend and tracking. */
  check(): Promise<NearCheck[]>;
  /** Stops the workers, the engine's CDC child and the engine server (again: no-op). */
  stop(): Promise<void>;
}

/** Starts the engine server, its CDC child and the near workers. */
export async function startNearReaders(o: NearReadersOptions): Promise<NearReaders> {
  const server: EngineServer = await startEngineServer({ port: 0 });
  const engineUrl = `engine://127.0.0.1:${server.port}`;
  const cdc: ChildProcess = await startChild(CHILD, {
    ...o.cdcEnv,
    CONS_GROUP: o.engineGroup,
    CONS_VALKEY: engineUrl,
  });
  const running: Running[] = [];
  let stopped = false;
  let n = 0;
  for (const backend of ['valkey', 'engine'] as const) {
    for (const tracking of [true, false]) {
      const count = tracking ? (o.tracked ?? 1) : (o.untracked ?? 1);
      for (let i = 0; i < count; i++) {
        const worker = new Worker(WORKER, {
          workerData: {
            targetUrl: backend === 'valkey' ? o.valkeyUrl : engineUrl,
            pgUrl: o.pgUrl,
            prefix: o.prefix,
            ids: o.ids,
            durationMs: o.durationMs,
            tracking,
            seed: o.seed + 100 + n++,
          },
        });
        const ran = new Promise<{ reads: number; stats: { hits: number } }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        running.push({ worker, backend, tracking, ran });
      }
    }
  }
  return {
    engineUrl,
    async ran() {
      await Promise.all(running.map((r) => r.ran));
    },
    async check() {
      // The drain means every change is applied; its invalidation is then still on the wire to the
      // near caches for about a millisecond (bench/client/near-invalidation.ts): let it land.
      await new Promise((r) => setTimeout(r, 500));
      const results = await Promise.all(
        running.map(async (r) => {
          const ran = await r.ran;
          const checked = new Promise<{
            checked: number;
            stale: string[];
            nearServed: number;
            stats: { invalidations: number };
          }>((resolve, reject) => {
            r.worker.once('message', resolve);
            r.worker.once('error', reject);
          });
          r.worker.postMessage('check');
          return { r, ran, checked: await checked };
        }),
      );
      const groups = new Map<string, NearCheck>();
      for (const { r, ran, checked } of results) {
        const id = `${r.backend}/${r.tracking}`;
        const g = groups.get(id) ?? {
          backend: r.backend,
          tracking: r.tracking,
          workers: 0,
          reads: 0,
          nearHits: 0,
          checked: 0,
          nearServed: 0,
          stale: [],
          invalidations: 0,
        };
        g.workers++;
        g.reads += ran.reads;
        g.nearHits += ran.stats.hits;
        g.checked += checked.checked;
        g.nearServed += checked.nearServed;
        g.stale.push(...checked.stale);
        g.invalidations += checked.stats.invalidations;
        groups.set(id, g);
      }
      return [...groups.values()];
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(running.map((r) => r.worker.terminate()));
      await stopChild(cdc, 'SIGTERM');
      await server.close();
    },
  };
}

/** The near-cache lines of the results file. */
export function formatNearChecks(run: string, checks: readonly NearCheck[]): string[] {
  return checks.map(
    (c) =>
      `| ${run} | ${c.backend} | ${c.tracking ? 'on' : '**off** (test-only)'} | ${c.workers} | ${c.reads} / ${c.nearHits} | ${c.checked} / ${c.nearServed} | **${c.stale.length}** | ${c.invalidations} |`,
  );
}

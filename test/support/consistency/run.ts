/**
 * The randomized consistency run, one for every source (issue 9): the source (PostgreSQL through
 * Debezium and Kafka, or DynamoDB Streams) supplies the database, its writes, how its changes are
 * followed and when the pipeline has drained; this runner does the rest the same way for both:
 * - the verifier (core/verify) follows every change live (windows 100 ms … 5 s) and, after the
 *   drain, checks every touched key in full mode against the database;
 * - app worker threads do cache-aside `getOrLoad` (leases on or off) with a slow loader;
 * - WRITERS concurrent writers make random writes on a few rows for `durationMs`;
 * - the CDC pipeline runs in a child process (cdc-child.ts), SIGKILLed mid-run and restarted;
 * - deterministic faults at the end: every row's oldest change again, late (fencing must reject
 *   it), then one slow load races an update and its invalidation (a lease must reject the fill),
 *   then the source's own faults.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createCacheClient, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import type { CompiledConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import {
  createVerifier,
  formatReport,
  type TruthSource,
  type VerifyReport,
  verifyFull,
} from '../../../core/verify/index.ts';
import { serviceEnv } from '../../setup/require-services.ts';
import { prng, startChild, stopChild } from './harness.ts';

/** Writes per run, in ms (CDC_CACHE_CONSISTENCY_MS, default 8000). */
export const DURATION_MS = Number(process.env.CDC_CACHE_CONSISTENCY_MS ?? 8000);
/** Rows (items) the writers contend on. */
export const ROWS = 5;
/** Concurrent writers. */
export const WRITERS = 3;
/** App worker threads. */
export const APPS = 3;
/** The live verifier's windows. */
export const WINDOWS_MS = [100, 500, 1000, 2000, 5000];
const CHILD = join(import.meta.dirname, 'cdc-child.ts');
const WORKER = join(import.meta.dirname, 'app-worker.ts');

/** Where the run's changes go as the source follows them. */
export interface ChangeSink {
  observe(e: ChangeEvent): void;
  /** Every change observed so far, in order. */
  readonly events: readonly ChangeEvent[];
}

/** One database and its change stream, set up for one run. */
export interface ConsistencySource {
  /** Prefix of the printed reports (`[<label>name]`). */
  label: string;
  /** The run's seed; row ids are base … base + ROWS - 1. */
  base: number;
  /** Key prefix unique to the run. */
  prefix: string;
  config: CompiledConfig;
  /** Fields the verifier compares. */
  fields: readonly string[];
  truth: TruthSource;
  /** Extra `workerData` of the app threads (how they load: `pgUrl` or `ddb`). */
  appData: Record<string, unknown>;
  /** Starts following the stream (for the verifier); stopped by `stopFollowing`. */
  follow(sink: ChangeSink): Promise<void>;
  /** The environment of the CDC child (cdc-child.ts), for its `start`-th start (0, then 1 after the kill). */
  childEnv(start: number): Record<string, string>;
  /** Writer `n`'s `i`-th random write on row `id` (`k` in [0, 1) picks the kind). */
  write(n: number, i: number, id: number, k: number): Promise<void>;
  /** Writes that run beside the writers until `until` (Date.now() ms); optional. */
  background?(until: number): Promise<void>;
  /** Resolves when the pipeline applied (committed) every change made so far. */
  drained(what: string): Promise<void>;
  /** Fault 1: every row's oldest change delivered again, late. */
  replayOldest(): Promise<void>;
  /** Fault 2: the race row's state before the racing load. */
  raceBefore(id: number): Promise<void>;
  /** Fault 2: the slow load reads the row (what it will fill). */
  raceRead(id: number): Promise<string>;
  /** Fault 2: the update that commits while the load is in flight. */
  raceUpdate(id: number): Promise<void>;
  /** The source's own faults, with the apps' Valkey target; optional. */
  moreFaults?(appTarget: ValkeyTarget, leases: boolean): Promise<void>;
  /** Stops following the stream once everything is in. */
  stopFollowing(): Promise<void>;
  /** Checks of its own after the full check (dependent keys, the CLI); optional. */
  afterCheck?(reader: ValkeyTarget): Promise<void>;
  close(): Promise<void>;
}

/** What every run reports, whatever the source. */
export interface ConsistencyRun {
  name: string;
  full: VerifyReport;
  live: VerifyReport;
  reads: number;
  loads: number;
  fills: number;
  rejected: number;
  kills: number;
  raceFill: string;
  raceKey: string;
}

/** One run on `source`: with `protectedRun` fencing and leases are on, else both are off. */
export async function runConsistency(
  source: ConsistencySource,
  name: string,
  protectedRun: boolean,
): Promise<ConsistencyRun> {
  const { base, prefix, config, truth } = source;
  const ids = Array.from({ length: ROWS }, (_, i) => base + i);
  const valkeyUrl = serviceEnv('CDC_CACHE_VALKEY_URL');
  const reader = await createValkeyTarget({ url: valkeyUrl });
  const expect = { fields: [...source.fields] };
  const live = createVerifier({
    config,
    target: reader,
    truth,
    expect,
    windowsMs: WINDOWS_MS,
    ratePerSec: 20_000,
  });
  const events: ChangeEvent[] = [];
  await source.follow({
    observe: (e) => {
      events.push(e);
      live.observe(e);
    },
    events,
  });
  let verifying = true;
  const verifierLoop = (async () => {
    while (verifying) {
      await live.runDue();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  let cdc: ChildProcess = await startChild(CHILD, source.childEnv(0));
  let kills = 0;

  const apps = Array.from({ length: APPS }, (_, n) => {
    const w = new Worker(WORKER, {
      workerData: {
        valkeyUrl,
        ...source.appData,
        prefix,
        ids,
        durationMs: DURATION_MS,
        leases: protectedRun,
        seed: base + n,
      },
    });
    return new Promise<{ reads: number; loads?: number; fills: number; rejected: number }>(
      (resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      },
    );
  });

  const until = Date.now() + DURATION_MS;
  const background = source.background?.(until);
  const writers = Array.from({ length: WRITERS }, async (_, n) => {
    const rnd = prng(base * 31 + n);
    for (let i = 0; Date.now() < until; i++) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      await source.write(n, i, id, rnd());
    }
  });
  // Crash the CDC consumer mid-run and restart it (from its committed offsets / checkpoints).
  const crash = (async () => {
    await new Promise((r) => setTimeout(r, DURATION_MS / 2));
    await stopChild(cdc, 'SIGKILL');
    kills++;
    cdc = await startChild(CHILD, source.childEnv(1));
  })();
  await Promise.all(writers);
  await background;
  const appCounts = await Promise.all(apps);
  await crash;
  await source.drained('after the burst');

  // Fault 1: every row's oldest change again, late (fencing must reject it).
  await source.replayOldest();

  // Fault 2: a slow load of `ca:` reads the row, an update commits and its invalidation is
  // applied, then the load fills (a lease must reject the fill).
  const raceId = ids[0]!;
  const raceKey = `${prefix}ca:${raceId}`;
  await source.raceBefore(raceId);
  await source.drained('before the racing fill');
  const appTarget = await createValkeyTarget({ url: valkeyUrl });
  let raceFill = 'none';
  const app = createCacheClient({
    store: leaseStoreFor(appTarget),
    leases: protectedRun,
    ttlMs: 0,
    codec: textCodec,
    onEvent: (e) => {
      if (e.type === 'fill') raceFill = 'filled';
      else if (e.type === 'lease-rejected') raceFill = `rejected (${e.outcome})`;
    },
  });
  await app.getOrLoad(
    raceKey,
    async () => {
      const old = await source.raceRead(raceId);
      await source.raceUpdate(raceId);
      await source.drained('during the racing fill');
      return old;
    },
    { codec: textCodec },
  );
  await source.moreFaults?.(appTarget, protectedRun);
  await app.close();
  await appTarget.close();

  await source.stopFollowing();
  verifying = false;
  await verifierLoop;
  await live.drain(Date.now() + WINDOWS_MS.at(-1)! + 1000);
  const full = await verifyFull(events, {
    config,
    target: reader,
    truth,
    expect,
    ratePerSec: 20_000,
    maxInconsistencies: 1000,
  });
  process.stdout.write(
    `\n[${source.label}${name}] live verifier:\n${formatReport(live.report())}\n[${source.label}${name}] full check after drain:\n${formatReport(full)}`,
  );
  await source.afterCheck?.(reader);

  await stopChild(cdc, 'SIGTERM');
  await reader.close();
  await source.close();
  const sum = (k: 'reads' | 'loads' | 'fills' | 'rejected') => appCounts.reduce((a, c) => a + (c[k] ?? 0), 0);
  return {
    name,
    full,
    live: live.report(),
    reads: sum('reads'),
    loads: sum('loads'),
    fills: sum('fills'),
    rejected: sum('rejected'),
    kills,
    raceFill,
    raceKey,
  };
}

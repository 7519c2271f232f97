/**
 * `cdc-cache/testing`: replay change logs into an embedded engine inside your own tests, with a
 * virtual clock so TTLs are deterministic, and assert on the cache state.
 *
 * ```ts
 * import { createTestCache } from 'cdc-cache/testing';
 *
 * const cache = await createTestCache({ config: { rules: [{ table: 'users', keys: ['user:{id}'], refresh: { ttl: 60 } }] } });
 * await cache.replay('test/changelogs/users.jsonl');
 * expect(cache.get('user:1')).toBe('{"id":1,"name":"Ada"}');
 * cache.advance(60_000);
 * expect(cache.get('user:1')).toBeNull();
 * ```
 *
 * Everything runs through the production pipeline (decode → rules → plan → fenced apply); only the
 * clock is virtual. Dead letters are collected, not printed.
 */

// The testing helper is part of the embedded-engine adapter layer: it drives the engine's clock.
import { ManualClock } from '../../engine/clock.ts';
import { type DecodeOptions, splitDocument } from '../decode/document.ts';
import { type BatchOutcome, processBatch } from '../pipeline/batch.ts';
import { type DeadLetter, type ReplaySummary, replayChangeLogs } from '../pipeline/replay.ts';
import { PlanStats } from '../plan/plan-stats.ts';
import { type Finding, ruleFindings } from '../plan/rule-report.ts';
import { type CompiledConfig, compileConfig } from '../rules/compile.ts';
import type { CdcCacheConfig } from '../rules/config.ts';
import { loadConfig } from '../rules/load.ts';
import { createEngineTarget, type EngineTarget } from '../targets/engine/engine-target.ts';

/** Options of {@link createTestCache}. */
export interface TestCacheOptions {
  /** Rules: a config object, or the path of a config file (.json / .ts). */
  config: CdcCacheConfig | string;
  /** Virtual start time, epoch ms. @default 1_700_000_000_000 */
  startTime?: number;
  /** Decode options (source hint, table). */
  decode?: DecodeOptions;
  /** Tombstone lifetime, ms. @default 300000 */
  tombstoneTtlMs?: number;
}

/** An embedded cache under a virtual clock, fed by the production pipeline. */
export interface TestCache {
  /** The virtual clock; `advance` moves it. */
  readonly clock: ManualClock;
  /** The engine target (its `engine` is the embedded engine). */
  readonly target: EngineTarget;
  /** The compiled rules (warnings included). */
  readonly config: CompiledConfig;
  /** Dead letters collected so far. */
  readonly deadLetters: DeadLetter[];
  /**
   * What the rules did not do as written, over everything replayed or applied so far: rules that
   * matched nothing, tables no rule names, refresh fallbacks, partial-image fallbacks, `when`
   * fields no event carried (one line each, as `replay --strict` prints them). `expect(cache.findings()).toEqual([])` in a test.
   */
  findings(): Finding[];
  /** Replays JSONL change-log files in order. */
  replay(files: string | readonly string[]): Promise<ReplaySummary>;
  /** Applies in-memory source documents (records, Lambda events, change-log line objects) as one batch. */
  apply(documents: readonly unknown[]): Promise<BatchOutcome>;
  /** Moves the virtual clock forward (expiring TTLs and tombstones on the way). */
  advance(ms: number): void;
  /** The plain value under `key`, or null. */
  get(key: string): string | null;
  /** Remaining TTL in ms (-1 no expiry, -2 absent), as PTTL. */
  ttl(key: string): number;
  /** The visible cache state `{ key: value }`. */
  dump(): Record<string, string>;
  /** Stops the engine's timers. */
  close(): Promise<void>;
}

/** Creates an embedded test cache with a virtual clock. */
export async function createTestCache(options: TestCacheOptions): Promise<TestCache> {
  const config =
    typeof options.config === 'string'
      ? await loadConfig(options.config)
      : compileConfig(options.config, 'test config');
  const clock = new ManualClock(options.startTime);
  const target = createEngineTarget({
    engineOptions: { clock, activeExpire: false },
    ...(options.tombstoneTtlMs === undefined ? {} : { tombstoneTtlMs: options.tombstoneTtlMs }),
  });
  const deadLetters: DeadLetter[] = [];
  const decode = options.decode ?? {};
  const stats = new PlanStats(config.rules.length);
  return {
    clock,
    target,
    config,
    deadLetters,
    replay: (files) =>
      replayChangeLogs(typeof files === 'string' ? [files] : files, {
        config,
        target,
        decode,
        retry: { attempts: 1 },
        stats,
        onDeadLetter: (d) => void deadLetters.push(d),
      }),
    apply: (documents) =>
      processBatch(
        documents.flatMap((doc, i) =>
          splitDocument(doc, decode, `document[${i}]`).map((record) => ({ group: 'test', record })),
        ),
        { config, target, deadLetter: async (d) => void deadLetters.push(d), retry: { attempts: 1 }, stats },
      ),
    findings: () => ruleFindings(config, stats),
    advance: (ms) => clock.advance(ms),
    get: (key) => target.engine.get(key),
    ttl: (key) => target.engine.ttl(key),
    dump: () => target.engine.dump(),
    close: () => target.close(),
  };
}

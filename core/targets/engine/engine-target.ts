/**
 * The embedded engine target: a CacheTarget over an in-process cache engine (kind `engine`).
 *
 * Versions become `versionSortKey` strings here, because the engine compares versions as plain
 * byte strings. Engine errors become TargetErrors: OOM stays retriable (memory may free up), a bad
 * version or a refused write is not.
 */
// The engine's modules directly, not engine/index.ts: the index also exports the RESP server and its
// CLI (~95 KB), which a bundler cannot drop (their command tables run at load), and the Lambda
// bundles reach this file.
import { createEngine, type Engine, type EngineOptions } from '../../../engine/engine.ts';
import { EngineError } from '../../../engine/errors.ts';
import { TargetError } from '../../errors.ts';
import { versionSortKey } from '../../event/version.ts';
import type { CacheOp, InvalidateTagOp } from '../cache-op.ts';
import { type CapableCacheTarget, type OpResult, TARGET_DEFAULTS } from '../cache-target.ts';
import { lazyFillLeaseStore, lazyShardLeaseStore } from '../lazy-lease-stores.ts';
import { invalidateTagInPages } from './engine-tags.ts';

/** Options of {@link createEngineTarget}. */
export interface EngineTargetOptions {
  /** An engine to use (shared with the app or a server); created from `engineOptions` when absent. */
  engine?: Engine;
  /** Options for the engine this target creates (ignored when `engine` is given). */
  engineOptions?: EngineOptions;
  /** Tombstone lifetime of invalidations, ms. @default TARGET_DEFAULTS.tombstoneTtlMs */
  tombstoneTtlMs?: number;
}

/** A CacheTarget over an in-process engine; `engine` is exposed for tests and the app side. */
export interface EngineTarget extends CapableCacheTarget {
  readonly kind: 'engine';
  readonly engine: Engine;
}

/** Applies one op to the engine (shared with tests of the remote adapter's parity). */
export function applyToEngine(engine: Engine, op: CacheOp, tombstoneTtlMs: number): OpResult {
  try {
    const version = versionSortKey(op.version);
    switch (op.kind) {
      case 'refresh':
        return { ok: true, outcome: engine.refreshIfNewer(op.key, op.value, op.ttlMs, version) };
      case 'invalidate':
        return { ok: true, outcome: engine.invalidate(op.key, version, tombstoneTtlMs) };
      case 'invalidatePrefix':
        engine.invalidatePrefix(op.prefix, version, tombstoneTtlMs);
        return { ok: true, outcome: 'applied' };
      case 'softInvalidate':
        return { ok: true, outcome: engine.softInvalidate(op.key, version, tombstoneTtlMs) };
      case 'invalidateTag':
        return { ok: true, outcome: engine.invalidateTag(op.tag, version, tombstoneTtlMs, op.soft === true) };
    }
  } catch (error) {
    return engineFailure(error);
  }
}

async function applyTagPaged(engine: Engine, op: InvalidateTagOp, tombstoneTtlMs: number): Promise<OpResult> {
  try {
    const done = await invalidateTagInPages(engine, op.tag, versionSortKey(op.version), {
      soft: op.soft === true,
      tombstoneTtlMs,
    });
    return { ok: true, outcome: done.outcome };
  } catch (error) {
    return engineFailure(error);
  }
}

function engineFailure(error: unknown): OpResult {
  const retriable = error instanceof EngineError && error.retriable;
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: new TargetError(`engine: ${message}`, { cause: error, retriable }) };
}

/** Creates the embedded engine target. */
export function createEngineTarget(options: EngineTargetOptions = {}): EngineTarget {
  const owned = options.engine === undefined;
  const engine = options.engine ?? createEngine(options.engineOptions);
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TARGET_DEFAULTS.tombstoneTtlMs;
  if (!(tombstoneTtlMs >= 0)) {
    throw new TargetError('engine target: tombstoneTtlMs must be >= 0', { retriable: false });
  }
  return {
    kind: 'engine',
    engine,
    async apply(ops) {
      const results: OpResult[] = [];
      for (const op of ops) {
        // A tag invalidation goes a page at a time, yielding between pages (a tag with very many
        // entries never holds the event loop); the rest is one synchronous step each.
        if (op.kind === 'invalidateTag') results.push(await applyTagPaged(engine, op, tombstoneTtlMs));
        else results.push(applyToEngine(engine, op, tombstoneTtlMs));
      }
      return results;
    },
    async get(key) {
      try {
        return engine.get(key);
      } catch (error) {
        throw new TargetError(`engine: ${(error as Error).message}`, { cause: error, retriable: false });
      }
    },
    async dump() {
      return engine.dump();
    },
    async close() {
      if (owned) engine.close();
    },
    // The stores' modules load on first use (lazy-lease-stores.ts): the CDC path never needs them.
    fillLeases: () =>
      lazyFillLeaseStore({ kind: 'engine', wakes: true, tracks: true }, async () =>
        (await import('./engine-fill-lease-store.ts')).engineLeaseStore(engine),
      ),
    shardLeases: (scope) =>
      lazyShardLeaseStore(scope, async () =>
        (await import('./engine-shard-lease-store.ts')).engineShardLeaseStore(engine, scope),
      ),
  };
}

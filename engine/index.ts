/**
 * Public API of the cache engine (standalone: imports nothing from the rest of the repository).
 * See engine/README.md.
 */

export { runEngineCli } from './cli.ts';
export { type CancelTimer, type Clock, ManualClock, systemClock } from './clock.ts';
export {
  createEngine,
  ENGINE_DEFAULTS,
  Engine,
  type EngineOptions,
  type EngineValue,
  type SetOptions,
} from './engine.ts';
export { EngineError, EngineErrorCode, type EngineErrorCodeValue } from './errors.ts';
export { EvictionPolicy, type EvictionPolicyValue, isEvictionPolicy } from './eviction.ts';
export { globMatch } from './glob.ts';
export type { EngineEvent, EngineEventType, EngineListener } from './listeners.ts';
export type { EngineFillOutcome } from './locks.ts';

import type { EngineFillOutcome } from './locks.ts';

/** @deprecated Renamed {@link EngineFillOutcome} (the client's fill-lease store has its own `FillOutcome`). */
export type FillOutcome = EngineFillOutcome;

export {
  DEFAULT_MAXMEMORY_HEAP_SHARE,
  defaultMaxmemory,
  heapSizeLimit,
  MAX_MAXMEMORY_HEAP_SHARE,
  oldGenerationLimit,
  parseMemorySize,
} from './memory.ts';
export { isLoopback, normalizeBindAddress } from './server/bind-address.ts';
export {
  DEFAULT_PROTO_MAX_BULK_LEN,
  type EngineServer,
  type EngineServerOptions,
  SERVER_DEFAULT_POLICY,
  servedEngineOptions,
  startEngineServer,
} from './server/server.ts';
export type { VersionedOutcome } from './versioned-writes.ts';
export type { WakeReason } from './waiters.ts';
export { DEFAULT_HOOK_TIMEOUT_MS, type HookChange, type WriteThroughHook } from './write-through.ts';

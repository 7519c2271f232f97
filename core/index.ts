/**
 * cdc-cache core: the change-event model, decoders, rules, planner, change logs, the CacheTarget
 * contract and the replay pipeline. Imports no Kafka or AWS client (Lambda bundles stay small).
 */

export { type ChangeLogLine, readChangeLog } from './changelog/read.ts';
export * from './client/index.ts';
export * from './decode/index.ts';
export * from './errors.ts';
export {
  type ChangeEvent,
  formatPosition,
  type JsonValue,
  type Op,
  Ops,
  type PartialCause,
  PartialCauses,
  type PartialImage,
  type RawNumber,
  type Row,
  type Source,
  type SourcePosition,
  Sources,
} from './event/change-event.ts';
export { compareVersions, hexToDecimal, isVersion, versionSortKey } from './event/version.ts';
export { isRawNumber, parseExactJson, rawNumber, scalarText } from './json/exact-json.ts';
export { type MetricSpec, NEAR_CACHE_METRICS } from './metrics/metric-names.ts';
export {
  loadOptional,
  MissingDependencyError,
  missingOptionalPackage,
  OPTIONAL_PACKAGES,
  type OptionalPackage,
} from './optional-dependency.ts';
export { applyWithRetry, RETRY_DEFAULTS, type RetryPolicy } from './pipeline/apply.ts';
export {
  type BatchOutcome,
  type BatchRecord,
  type ProcessBatchOptions,
  processBatch,
} from './pipeline/batch.ts';
export {
  type DeadLetter,
  type ReplayOptions,
  type ReplaySummary,
  replayChangeLogs,
} from './pipeline/replay.ts';
export { type FallbackReason, FallbackReasons, PlanStats } from './plan/plan-stats.ts';
export { opsForEvent, type Plan, type PlanFailure, planBatch } from './plan/planner.ts';
export {
  type Finding,
  type FindingKind,
  type RuleFindingsOptions,
  ruleFindings,
  type UnusedRuleMode,
} from './plan/rule-report.ts';
export { type CompiledConfig, type CompiledRule, compileConfig } from './rules/compile.ts';
export {
  type Action,
  Actions,
  type CdcCacheConfig,
  CONFIG_DEFAULTS,
  defineConfig,
  type ImageMode,
  type KeySpec,
  type PartialImagePolicy,
  type RefreshSpec,
  type RuleSpec,
  type WhenSpec,
} from './rules/config.ts';
export { evaluateRule, ruleMatches } from './rules/evaluate.ts';
export { FullTables } from './rules/full-tables.ts';
export { loadConfig } from './rules/load.ts';
export {
  checkReplicaIdentity,
  type ReplicaIdentityFinding,
  type SqlQuery,
} from './rules/replica-identity.ts';
export { compileTemplate, renderTemplate, type Template } from './rules/template.ts';
export type {
  CacheOp,
  InvalidateOp,
  InvalidatePrefixOp,
  RefreshOp,
} from './targets/cache-op.ts';
export {
  type CacheTarget,
  type CapableCacheTarget,
  type OpOutcome,
  type OpResult,
  TARGET_DEFAULTS,
  targetCapabilities,
} from './targets/cache-target.ts';
export type { ShardCheckpoint, ShardLeaseStore } from './targets/shard-lease-store.ts';
export { hashTag, keySlot, SLOT_COUNT } from './targets/valkey/slots.ts';
export {
  parseValkeyUrl,
  VALKEY_CONNECTION_DEFAULTS,
  type ValkeyConnectionOptions,
  type ValkeyMode,
  type ValkeyNode,
} from './targets/valkey/valkey-connection.ts';
export { isReserved, leaseKey, RESERVED_PREFIX, versionKey } from './targets/valkey/valkey-keys.ts';
export { RUNNER_DEFAULTS, type RunnerLimits } from './targets/valkey/valkey-runner.ts';
export {
  createValkeyTarget,
  type ValkeyTarget,
  type ValkeyTargetOptions,
} from './targets/valkey/valkey-target.ts';

/**
 * The in-process engine's options and value types (engine.ts): construction options with their
 * defaults, SET options, and how a value is stored.
 */
import type { Clock } from './clock.ts';
import type { EvictionPolicyValue } from './eviction.ts';
import { Kind, type KindValue } from './keyspace.ts';

/** Engine construction options. */
export interface EngineOptions {
  /** Time source and timers. @default systemClock */
  clock?: Clock;
  /** Memory limit in bytes (estimated heap use); 0 = unlimited. @default 0 */
  maxmemory?: number;
  /** What to do over `maxmemory`. @default 'noeviction' */
  maxmemoryPolicy?: EvictionPolicyValue;
  /** Run the sampled active expiry cycle on a timer. @default true */
  activeExpire?: boolean;
  /** Active expiry period in ms (Valkey's hz 10). @default 100 */
  activeExpireIntervalMs?: number;
  /** Tombstone lifetime for invalidations that do not pass one. @default 300000 */
  tombstoneTtlMs?: number;
  /** Random source in [0, 1) for sampled eviction and LFU (inject a seeded one for deterministic tests). @default Math.random */
  random?: () => number;
  /** Called when a listener throws. @default ignore */
  onListenerError?: (error: unknown) => void;
}

/** Engine defaults. */
export const ENGINE_DEFAULTS = {
  activeExpireIntervalMs: 100,
  activeExpireBudgetMs: 2,
  tombstoneTtlMs: 300_000,
} as const;

/** Options of {@link Engine.set} (Valkey SET semantics). */
export interface SetOptions {
  /** Relative TTL in ms (PX). */
  ttlMs?: number;
  /** Absolute expiry, epoch ms (PXAT). */
  expireAt?: number;
  /** Only if absent (NX). */
  nx?: boolean;
  /** Only if present (XX). */
  xx?: boolean;
  /** Keep the current TTL (KEEPTTL). */
  keepTtl?: boolean;
}

/** A string or raw bytes. */
export type EngineValue = string | Buffer;

/** A value as the keyspace stores it: text as given, bytes as latin1. */
export function encodeValue(value: EngineValue): { kind: KindValue; stored: string } {
  return typeof value === 'string'
    ? { kind: Kind.Text, stored: value }
    : { kind: Kind.Bytes, stored: value.toString('latin1') };
}

/**
 * Limits on what clients may hold, as Valkey has them: `client-output-buffer-limit` (classes
 * `normal` and `pubsub`: hard bytes, soft bytes, soft seconds), `maxmemory-clients`, the idle
 * `timeout`, plus the parsing and formatting of their CONFIG values.
 *
 * The connection enforces the hard limit on every flush (client-connection.ts); the server cron
 * here enforces what needs time to pass (soft limits, idle timeout) and the total over all clients.
 * A client subscribed to any channel or pattern is in the `pubsub` class (as in Valkey), every
 * other client in `normal`.
 */
import { parseMemorySize } from '../memory.ts';
import type { ClientEntry, OutputBufferLimit, ServerState } from './command-context.ts';

/** Valkey's defaults: `normal 0 0 0` (no limit) and `pubsub 32mb 8mb 60`. */
export const DEFAULT_OUTPUT_BUFFER_LIMITS = {
  normal: { hard: 0, soft: 0, seconds: 0 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, seconds: 60 },
} as const;

/** How often the server cron checks the limits that need time (ms). */
export const CLIENT_CRON_MS = 100;

/** The classes `client-output-buffer-limit` accepts. */
export type OutputBufferClass = 'normal' | 'pubsub';

/**
 * Parses a `client-output-buffer-limit` value: one or more `<class> <hard> <soft> <seconds>`
 * groups. Returns the changes, or an error text (Valkey's wording) when malformed.
 */
export function parseOutputBufferLimits(
  value: string,
): Partial<Record<OutputBufferClass, OutputBufferLimit>> | string {
  const parts = value.trim().split(/\s+/);
  if (parts.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
  const out: Partial<Record<OutputBufferClass, OutputBufferLimit>> = {};
  for (let i = 0; i < parts.length; i += 4) {
    const cls = parts[i]!.toLowerCase();
    if (cls === 'replica' || cls === 'slave') continue; // no replication: accepted, nothing to limit
    if (cls !== 'normal' && cls !== 'pubsub')
      return 'Invalid client class specified in buffer limit configuration.';
    const hard = parseMemorySize(parts[i + 1]!);
    const soft = parseMemorySize(parts[i + 2]!);
    const seconds = /^\d+$/.test(parts[i + 3]!) ? Number(parts[i + 3]) : null;
    if (hard === null || soft === null || seconds === null)
      return 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';
    out[cls] = { hard, soft, seconds };
  }
  return out;
}

/** Valkey's default limits of the replica class (the engine has no replicas: only echoed). */
export const REPLICA_OUTPUT_BUFFER_LIMIT: OutputBufferLimit = {
  hard: 268435456,
  soft: 67108864,
  seconds: 60,
};

/**
 * The CONFIG GET text of `client-output-buffer-limit` (Valkey 8.0 still names the replica class
 * `slave`); `replica` is the last value set for that class, which the engine only echoes.
 */
export function formatOutputBufferLimits(
  limits: ServerState['clientOutputBufferLimit'],
  replica: OutputBufferLimit = REPLICA_OUTPUT_BUFFER_LIMIT,
): string {
  const one = (name: string, l: OutputBufferLimit): string => `${name} ${l.hard} ${l.soft} ${l.seconds}`;
  return `${one('normal', limits.normal)} ${one('slave', replica)} ${one('pubsub', limits.pubsub)}`;
}

/** The limit a value gives the replica class (`replica` or `slave` groups), if any; the value is valid. */
export function replicaOutputBufferLimit(value: string): OutputBufferLimit | null {
  const parts = value.trim().split(/\s+/);
  let out: OutputBufferLimit | null = null;
  for (let i = 0; i + 3 < parts.length; i += 4) {
    const cls = parts[i]!.toLowerCase();
    if (cls === 'replica' || cls === 'slave')
      out = {
        hard: parseMemorySize(parts[i + 1]!)!,
        soft: parseMemorySize(parts[i + 2]!)!,
        seconds: Number(parts[i + 3]),
      };
  }
  return out;
}

/**
 * One cron pass: closes clients idle past `timeout`, clients whose output stayed above the soft
 * limit for its seconds, and, while all clients together hold more than `maxmemory-clients`, the
 * client holding the most. Returns how many clients it closed.
 */
export function enforceClientLimits(state: ServerState, now: number): number {
  const limits = state.clientOutputBufferLimit;
  const idleMs = state.timeout * 1000;
  const cap = state.maxmemoryClients;
  if (limits.normal.soft === 0 && limits.pubsub.soft === 0 && idleMs === 0 && cap === 0) return 0;
  let closed = 0;
  let total = 0;
  for (const c of state.clients.values()) {
    const limit = c.client.pubsub !== null ? limits.pubsub : limits.normal;
    // Like Valkey, a client blocked in a command (CACHE.WAIT) is not idle, nor is a subscriber.
    if (idleMs > 0 && !c.blocked && c.client.pubsub === null && now - c.lastInteraction > idleMs) {
      c.kill();
      closed++;
      continue;
    }
    if (limit.soft > 0) {
      if (c.outputBytes() <= limit.soft) c.softLimitSince = 0;
      else if (c.softLimitSince === 0) c.softLimitSince = now;
      else if (now - c.softLimitSince >= limit.seconds * 1000) {
        state.outputBufferLimitDisconnections++;
        c.kill();
        closed++;
        continue;
      }
    }
    if (cap > 0) total += c.memory();
  }
  while (cap > 0 && total > cap) {
    let biggest: ClientEntry | undefined;
    let most = 0;
    for (const c of state.clients.values()) {
      const m = c.memory();
      if (m > most) {
        most = m;
        biggest = c;
      }
    }
    if (biggest === undefined || most === 0) break;
    state.clients.delete(biggest.client.id);
    biggest.kill();
    state.evictedClients++;
    closed++;
    total -= most;
  }
  return closed;
}

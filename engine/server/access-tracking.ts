/**
 * Which commands count as an access for eviction.
 *
 * Under an LFU policy (OBJECT FREQ shows the count, so it must be Valkey's): every key a command
 * looks up is touched once, before the command runs, except for the commands Valkey reads with
 * LOOKUP_NOTOUCH (EXISTS, TYPE, TTL, OBJECT…) and for clients in `CLIENT NO-TOUCH on` mode (whose
 * TOUCH still counts). New keys start at LFU_INIT_VAL (keyspace.ts); overwriting a key keeps its
 * counter, so a write to an existing key counts once. Keys are the spec's first/last/step keys;
 * the sources of a numkeys command (ZUNIONSTORE, SINTERCARD, LMPOP…) are not counted.
 *
 * Under an LRU policy (the served engine's default) a touch only stamps the time, so counting
 * each lookup exactly buys nothing and would cost a second key lookup per command: the commands'
 * own lookups stamp ({@link lruAccess}: string, hash and collection reads, TOUCH) and so does
 * every overwrite of a string (keyspace.ts).
 */
import { AccessTracking } from '../keyspace.ts';
import type { CommandContext, CommandSpec } from './command-context.ts';

/** Commands that look keys up without touching them (Valkey's LOOKUP_NOTOUCH, or no lookup). */
const NO_TOUCH = new Set([
  'exists',
  'type',
  'ttl',
  'pttl',
  'expiretime',
  'pexpiretime',
  'object',
  'memory',
  'watch',
  'del',
  'unlink',
]);

/** An LRU stamp for a key a command looked up (nothing under LFU: dispatch counted it; nor in NO-TOUCH mode). */
export function lruAccess(ctx: CommandContext, slot: number): void {
  const ks = ctx.core.keyspace;
  if (ks.tracking === AccessTracking.Lru && !ctx.client.noTouch) ks.touch(slot);
}

/** Counts one more LFU access to `slot` (a command Valkey looks the key up twice for; nothing in NO-TOUCH mode). */
export function countAccess(ctx: CommandContext, slot: number): void {
  const ks = ctx.core.keyspace;
  if (ks.tracking === AccessTracking.Lfu && !ctx.client.noTouch) ks.touch(slot);
}

/** Touches the live keys `args` names for `spec` (call only under an LFU policy). */
export function touchCommandKeys(spec: CommandSpec, ctx: CommandContext, args: string[]): void {
  if (NO_TOUCH.has(spec.name) || (ctx.client.noTouch && spec.name !== 'touch')) return;
  if (spec.firstKey === 0) return;
  const ks = ctx.core.keyspace;
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < args.length; i += spec.step) {
    const slot = ks.findLive(args[i]!, ctx.now);
    if (slot >= 0) ks.touch(slot);
  }
}

/**
 * Shared helpers for string commands: typed lookups (WRONGTYPE on hashes), reply encoding of a
 * stored string (raw bytes as-is, in-process text as UTF-8), byte conversions, and the
 * write-through path protocol writes take when a hook covers the key.
 */
import { EngineState } from '../../engine-state.ts';
import { EngineError, EngineErrorCode, wrongTypeError } from '../../errors.ts';
import { isContainerKind, Kind } from '../../keyspace.ts';
import type { HookChange } from '../../write-through.ts';
import type { CommandContext } from '../command-context.ts';
import type { ReplyWriter } from '../reply-writer.ts';

/** Slot of a live string key, -1 when absent; throws WRONGTYPE for a hash. */
export function stringSlot(ctx: CommandContext, key: string): number {
  const ks = ctx.core.keyspace;
  const slot = ks.findLive(key, ctx.now);
  if (slot >= 0 && isContainerKind(ks.kinds[slot]!)) throw wrongTypeError();
  return slot;
}

/** Writes the string held in `slot` as a bulk reply. */
export function replySlot(w: ReplyWriter, ctx: CommandContext, slot: number): void {
  const ks = ctx.core.keyspace;
  if (ks.kinds[slot] === Kind.Text) w.bulkText(ks.valueAt(slot) as string);
  else w.bulk(ks.valueAt(slot) as string);
}

/** The raw bytes (latin1 string) of the string in `slot`. */
export function slotBytes(ctx: CommandContext, slot: number): string {
  const ks = ctx.core.keyspace;
  const v = ks.valueAt(slot) as string;
  return ks.kinds[slot] === Kind.Text ? Buffer.from(v, 'utf8').toString('latin1') : v;
}

/** The text of the string in `slot` (for number parsing). */
export function slotText(ctx: CommandContext, slot: number): string {
  const ks = ctx.core.keyspace;
  return EngineState.asText(ks.kinds[slot]!, ks.valueAt(slot));
}

/**
 * Runs a protocol write on a key under a write-through hook: the hook persists first, then `apply`
 * changes the cache and writes the reply. The returned promise makes the connection hold later
 * pipelined commands until this one has replied. `change` is only called for a hooked key (it copies
 * the value), so unhooked writes allocate nothing for it.
 */
export function throughHook(
  ctx: CommandContext,
  key: string,
  change: () => HookChange,
  apply: () => void,
): Promise<void> | null {
  const engine = ctx.engine;
  if (!engine.hooks.active) return null;
  const hook = engine.hooks.match(key);
  if (!hook) return null;
  return engine.hooks
    .run(hook, change(), apply, () => ctx.core.deleteKey(key, ctx.core.clock.now()))
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      ctx.w.error(/^[A-Z]+ /.test(message) ? message : `ERR ${message}`);
    });
}

/** A HookChange for a protocol SET of raw bytes. */
export function setChange(key: string, bytes: string, ttlMs: number | null): HookChange {
  return { op: 'set', key, value: Buffer.from(bytes, 'latin1'), ttlMs };
}

/** The error for a write command that cannot go through hooks on a hooked key. */
export function notHookAware(cmd: string): EngineError {
  return new EngineError(
    EngineErrorCode.HookedKey,
    `ERR '${cmd}' is not supported on keys under a write-through hook`,
  );
}

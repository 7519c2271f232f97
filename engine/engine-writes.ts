/**
 * The in-process API's writes (engine.ts): SET with Valkey's semantics (NX/XX, PX/PXAT/KEEPTTL,
 * eviction first), and the writes and deletes that go through a matching write-through hook first
 * (write-through.ts). Keys are in keyspace form, except writeThrough's text key.
 */
import type { EngineValue, SetOptions } from './engine-options.ts';
import { type EngineState, KEEP_TTL } from './engine-state.ts';
import { keyBytes } from './key-text.ts';
import { AccessTracking, Kind } from './keyspace.ts';
import type { HookChange, WriteThrough } from './write-through.ts';

/** Valkey SET of `value` under `key`; false when NX/XX prevented it. */
export function applySet(
  core: EngineState,
  key: string,
  value: EngineValue,
  options: SetOptions | undefined,
): boolean {
  const now = core.clock.now();
  let expireAt = 0;
  if (options !== undefined) {
    if (options.nx || options.xx) {
      const exists = core.keyspace.findLive(key, now) >= 0;
      if ((options.nx && exists) || (options.xx && !exists)) return false;
    }
    if (options.ttlMs !== undefined) expireAt = now + options.ttlMs;
    else if (options.expireAt !== undefined) expireAt = options.expireAt;
    else if (options.keepTtl) expireAt = KEEP_TTL;
  }
  if (core.maxmemory !== 0) core.ensureMemory();
  if (core.keyspace.tracking === AccessTracking.Lfu) {
    // Overwriting an existing key counts as an access under LFU (a new key starts fresh; LRU
    // stamps in the overwrite itself).
    const slot = core.keyspace.findLive(key, now);
    if (slot >= 0) core.keyspace.touch(slot);
  }
  if (typeof value === 'string') core.writeString(key, Kind.Text, value, expireAt, now);
  else core.writeString(key, Kind.Bytes, value.toString('latin1'), expireAt, now);
  return true;
}

/**
 * {@link applySet} through the hook of `hooks` that matches the text key `text`, if any, first
 * (Engine.write: the key turns into keyspace form here, so a bad key rejects, as it always did).
 */
export async function writeThrough(
  core: EngineState,
  hooks: WriteThrough,
  text: string,
  value: EngineValue,
  options: SetOptions | undefined,
): Promise<boolean> {
  const key = keyBytes(text);
  const hook = hooks.active ? hooks.match(key) : undefined;
  if (!hook) return applySet(core, key, value, options);
  const change: HookChange = {
    op: 'set',
    key,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    ttlMs: options?.ttlMs ?? null,
  };
  return hooks.run(
    hook,
    change,
    () => applySet(core, key, value, options),
    () => core.deleteKey(key, core.clock.now()),
  );
}

/** Deletes `key` through the hook of `hooks` that matches it, if any, first. */
export async function removeThrough(core: EngineState, hooks: WriteThrough, key: string): Promise<boolean> {
  const hook = hooks.active ? hooks.match(key) : undefined;
  const apply = (): boolean => core.deleteKey(key, core.clock.now());
  if (!hook) return apply();
  return hooks.run(hook, { op: 'delete', key }, apply, apply);
}

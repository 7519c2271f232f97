/**
 * Listing the keyspace: the visible keys matching a glob (KEYS, `Engine.keys`) and every
 * visible string as text (`Engine.dump`). Full scans over the slot arrays, O(slots); they skip
 * free slots, tombstones and expired keys without removing them (a listing never mutates).
 */
import { EngineState } from './engine-state.ts';
import { globMatch } from './glob.ts';
import { type Keyspace, Kind } from './keyspace.ts';

/** Visible keys (not free, not tombstoned, not expired at `now`) matching the Valkey glob `pattern`. */
export function listKeys(ks: Keyspace, pattern: string, now: number): string[] {
  const out: string[] = [];
  for (let slot = 0; slot < ks.top; slot++) {
    const kind = ks.kinds[slot]!;
    if (kind === Kind.Free || kind === Kind.Tombstone) continue;
    const at = ks.expireAt(slot);
    if (at !== 0 && now > at) continue;
    const key = ks.keyAt(slot);
    if (pattern === '*' || globMatch(pattern, key)) out.push(key);
  }
  return out;
}

/** Every visible string key and its text value at `now` (containers, tombstones and expired keys excluded). */
export function dumpStrings(ks: Keyspace, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let slot = 0; slot < ks.top; slot++) {
    const kind = ks.kinds[slot]!;
    if (kind !== Kind.Text && kind !== Kind.Bytes) continue;
    const at = ks.expireAt(slot);
    if (at !== 0 && now > at) continue;
    out[ks.keyAt(slot)] = EngineState.asText(kind, ks.valueAt(slot));
  }
  return out;
}

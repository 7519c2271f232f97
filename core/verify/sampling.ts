/**
 * Deterministic sampling by row: a change is sampled when the hash of its row identity (namespace,
 * table, primary key) falls under the fraction. Every change of a sampled row is therefore sampled
 * too, so the verifier can follow a row to its newest change, and two verifier runs with the same
 * fraction follow the same rows.
 */
import type { ChangeEvent, JsonValue, Row } from '../event/change-event.ts';

/** Canonical JSON of a key row: fields sorted by name, numbers with their exact digits. */
export function canonicalKey(key: Row): string {
  const names = Object.keys(key).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    out += `${i === 0 ? '' : ','}${JSON.stringify(n)}:${JSON.stringify(key[n] as JsonValue)}`;
  }
  return `${out}}`;
}

/**
 * The identity of the row a change is about, e.g. `public.customers {"id":7}`; null when the event
 * carries no key (the verifier then identifies the row by the cache keys its change names).
 */
export function rowIdentity(event: ChangeEvent): string | null {
  if (event.key === null) return null;
  const table = event.namespace === null ? event.table : `${event.namespace}.${event.table}`;
  return `${table} ${canonicalKey(event.key)}`;
}

/** FNV-1a (32 bit) of `text` followed by the murmur3 finaliser, as a number in [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

/** True when the row `identity` is in the sample of size `fraction` (0..1; 1 = every row). */
export function isSampled(identity: string, fraction: number): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  return unitHash(identity) < fraction;
}

/**
 * A hash's value in its keyspace slot, in one of Valkey's two encodings:
 * - `listpack`: a packed string (packed.ts) of field, value, field, value… entries in insertion
 *   order (an update keeps the field's place);
 * - `hashtable`: a `Map` of field → value.
 * As in Valkey's hashTypeTryConversion/hashTypeSet, a write converts to hashtable when it carries
 * more pairs than hash-max-listpack-entries, when a field or value is longer than
 * hash-max-listpack-value, or when the hash grows past hash-max-listpack-entries; never back.
 */
import { type Keyspace, Kind } from '../../keyspace.ts';
import { noteRemovals } from './collection-scan.ts';
import type { EncodingLimits } from './encoding-limits.ts';
import {
  appendEntries,
  countEntries,
  detach,
  entries,
  entryText,
  findEntry,
  lastStart,
  readLen,
  removeEntries,
} from './packed.ts';

/** A hash value as its slot holds it. */
export type HashData = string | Map<string, string>;

/** The hash's encoding name (OBJECT ENCODING). */
export function hashEncoding(h: HashData): 'listpack' | 'hashtable' {
  return typeof h === 'string' ? 'listpack' : 'hashtable';
}

/** Number of fields. */
export function hashSize(h: HashData): number {
  return typeof h === 'string' ? countEntries(h, 0) / 2 : h.size;
}

/** The value of `field`, or undefined. */
export function hashGet(h: HashData, field: string): string | undefined {
  if (typeof h !== 'string') return h.get(field);
  const at = findEntry(h, field, 0, 2);
  if (at < 0) return undefined;
  const v = readLen(h, readLen(h, at) + lastStart());
  const s = lastStart();
  return h.slice(s, s + v);
}

/** True when `field` is present. */
export function hashHas(h: HashData, field: string): boolean {
  return typeof h === 'string' ? findEntry(h, field, 0, 2) >= 0 : h.has(field);
}

/** Fields and values alternating, in the hash's order. */
export function hashPairs(h: HashData): string[] {
  if (typeof h === 'string') return entries(h, 0);
  const out: string[] = [];
  for (const [f, v] of h) out.push(f, v);
  return out;
}

/** A copy of the hash (COPY): a packed hash is immutable, so the copy shares it. */
export function copyHash(h: HashData): HashData {
  return typeof h === 'string' ? h : new Map(h);
}

function toHashtable(p: string): Map<string, string> {
  const pairs = entries(p, 0);
  const out = new Map<string, string>();
  for (let i = 0; i < pairs.length; i += 2) out.set(detach(pairs[i]!), detach(pairs[i + 1]!));
  return out;
}

/** True when writing `args[from..]` (field, value pairs) converts a listpack hash at once. */
function convertsUpFront(lim: EncodingLimits, args: string[], from: number): boolean {
  if ((args.length - from) / 2 > lim.hashMaxListpackEntries) return true;
  for (let i = from; i < args.length; i++) if (args[i]!.length > lim.hashMaxListpackValue) return true;
  return false;
}

/**
 * Sets the (field, value) pairs `args[from..]` in the hash in `slot`; returns how many fields were
 * new. A listpack hash is re-stored in the slot; a hashtable is edited in place (the caller
 * re-accounts it with `recomputeSize`).
 */
export function setFields(
  ks: Keyspace,
  slot: number,
  lim: EncodingLimits,
  args: string[],
  from: number,
): number {
  let h = ks.valueAt(slot) as HashData;
  let added = 0;
  if (typeof h === 'string') {
    if (convertsUpFront(lim, args, from)) {
      h = toHashtable(h);
      ks.replace(slot, Kind.Hash, h);
    } else {
      let p = h;
      // Fields new to the hash with their values (field, value, …), kept apart so a repeated field
      // in one command updates its value.
      const fresh: string[] = [];
      for (let i = from; i < args.length; i += 2) {
        const f = args[i]!;
        const at = findEntry(p, f, 0, 2);
        if (at >= 0) {
          const v = readLen(p, at) + lastStart();
          const end = readLen(p, v) + lastStart();
          // Three parts, two of them non-empty: join makes one flat string (packed.ts).
          p = [p.slice(0, v), entryText(args[i + 1]!), p.slice(end)].join('');
          continue;
        }
        let k = 0;
        while (k < fresh.length && fresh[k] !== f) k += 2;
        if (k < fresh.length) fresh[k + 1] = args[i + 1]!;
        else fresh.push(f, args[i + 1]!);
      }
      added = fresh.length / 2;
      if (countEntries(p, 0) / 2 + added <= lim.hashMaxListpackEntries) {
        ks.replace(slot, Kind.Hash, appendEntries(p, fresh));
        return added;
      }
      h = toHashtable(p);
      for (let k = 0; k < fresh.length; k += 2) h.set(fresh[k]!, fresh[k + 1]!);
      ks.replace(slot, Kind.Hash, h);
      return added;
    }
  }
  for (let i = from; i < args.length; i += 2) {
    if (!h.has(args[i]!)) added++;
    h.set(args[i]!, args[i + 1]!);
  }
  return added;
}

/** Deletes `args[from..]` from the hash in `slot`; returns how many were present. */
export function deleteFields(ks: Keyspace, slot: number, args: string[], from: number): number {
  const h = ks.valueAt(slot) as HashData;
  if (typeof h === 'string') return removeEntries(ks, slot, Kind.Hash, h, args, from, 0, 2);
  let removed = 0;
  for (let i = from; i < args.length; i++) if (h.delete(args[i]!)) removed++;
  noteRemovals(h, removed);
  return removed;
}

/**
 * A computed hash as Valkey stores it (RESTORE): listpack when within both limits, else hashtable.
 * `fromListpack` (a listpack payload, which Valkey loads as it is) checks the entry count only.
 */
export function finishHash(lim: EncodingLimits, h: Map<string, string>, fromListpack = false): HashData {
  if (h.size > lim.hashMaxListpackEntries) return h;
  const parts = [''];
  for (const [f, v] of h) {
    if (!fromListpack && (f.length > lim.hashMaxListpackValue || v.length > lim.hashMaxListpackValue))
      return h;
    parts.push(entryText(f), entryText(v));
  }
  return parts.join('');
}

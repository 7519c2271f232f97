/**
 * A set's value in its keyspace slot, in one of Valkey's three encodings:
 * - `intset`: a packed string (packed.ts) with header `i`, canonical integers in ascending order;
 * - `listpack`: a packed string with header `l`, members in insertion order;
 * - `hashtable`: a {@link SetValue} (a JS `Set`; reply order is the `Set`'s, Valkey's is its hash
 *   table's, so tests compare those replies as multisets).
 * Conversions follow Valkey's setTypeAdd/setTypeCreate and go one way (intset → listpack →
 * hashtable, or straight to hashtable), never back, except where Valkey rebuilds a set: an SPOP
 * that leaves few members ({@link compactAfterPop}). The limits are set-max-intset-entries,
 * set-max-listpack-entries and set-max-listpack-value ({@link EncodingLimits}).
 *
 * Writers go through {@link addMembers}/{@link removeMembers}, which re-store a packed set in its slot
 * (`Keyspace.replace` re-accounts it) or edit a hashtable in place (the caller's `finishWrite`
 * re-accounts it).
 */
import { type Keyspace, Kind, type SizedValue } from '../../keyspace.ts';
import { stringBytes } from '../../memory.ts';
import { noteRemovals } from './collection-scan.ts';
import type { EncodingLimits } from './encoding-limits.ts';
import {
  appendEntries,
  countEntries,
  detach,
  entries,
  entryText,
  findEntry,
  flat,
  lastStart,
  readLen,
  removeEntries,
} from './packed.ts';

/** Bytes of one member in a hashtable set (entry overhead plus the string). */
const memberBytes = (s: string): number => 24 + stringBytes(s);

/** Fixed bytes of an empty hashtable set. */
const BASE_BYTES = 96;
const INTSET = 'i';
const LISTPACK = 'l';

/** Valkey's set encodings. */
export type SetEncoding = 'intset' | 'listpack' | 'hashtable';

/** A set in the hashtable encoding. */
export class SetValue implements SizedValue {
  m = new Set<string>();
  bytes = BASE_BYTES;

  add(member: string): boolean {
    if (this.m.has(member)) return false;
    this.m.add(member);
    this.bytes += memberBytes(member);
    return true;
  }

  delete(member: string): boolean {
    if (!this.m.delete(member)) return false;
    noteRemovals(this.m, 1);
    this.bytes -= memberBytes(member);
    return true;
  }
}

/** A set value as its slot holds it: a packed string (intset, listpack) or a {@link SetValue}. */
export type SetData = string | SetValue;

/** True when Valkey would store `s` in an intset (a canonical signed 64-bit integer). */
export function isIntMember(s: string): boolean {
  if (s.length === 0 || s.length > 20 || !/^(?:0|-?[1-9]\d*)$/.test(s)) return false;
  if (s.length < 19) return true;
  const n = BigInt(s);
  return n <= 9223372036854775807n && n >= -9223372036854775808n;
}

/** Ascending numeric order of canonical integer strings. */
export function compareInts(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45;
  const nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  const c = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return na ? -c : c;
}

/** An empty set as Valkey's setTypeCreate makes it for a first member `first` and `hint` members. */
export function newSet(lim: EncodingLimits, first: string, hint: number): SetData {
  if (hint <= lim.setMaxIntsetEntries && isIntMember(first)) return INTSET;
  if (hint <= lim.setMaxListpackEntries) return LISTPACK;
  return new SetValue();
}

/** The set's encoding name (OBJECT ENCODING). */
export function setEncoding(v: SetData): SetEncoding {
  if (typeof v !== 'string') return 'hashtable';
  return v.charCodeAt(0) === 105 ? 'intset' : 'listpack';
}

/** Number of members. */
export function setSize(v: SetData): number {
  return typeof v === 'string' ? countEntries(v, 1) : v.m.size;
}

/** True when `m` is a member. */
export function setHas(v: SetData, m: string): boolean {
  return typeof v === 'string' ? findEntry(v, m, 1, 1) >= 0 : v.m.has(m);
}

/** Members in Valkey's reply order (intset ascending, listpack insertion order). */
export function setMembers(v: SetData): string[] {
  return typeof v === 'string' ? entries(v, 1) : [...v.m];
}

/** A hashtable set holding the members of the packed set `p`. */
function toHashtable(p: string): SetValue {
  const out = new SetValue();
  for (const m of entries(p, 1)) out.add(detach(m));
  return out;
}

/** Offset where integer `m` belongs in the intset `p` (before the first larger member). */
function intsetPosition(p: string, m: string): number {
  let i = 1;
  while (i < p.length) {
    const len = readLen(p, i);
    const s = lastStart();
    if (compareInts(p.slice(s, s + len), m) > 0) return i;
    i = s + len;
  }
  return i;
}

/**
 * Adds `args[from..]` to the set in `slot` (Valkey's conversions included, the write's member count
 * as the size hint) and returns how many were new. A packed set is re-stored in the slot; a hashtable is edited in place.
 */
export function addMembers(
  ks: Keyspace,
  slot: number,
  lim: EncodingLimits,
  args: string[],
  from: number,
): number {
  let v = ks.valueAt(slot) as SetData;
  let added = 0;
  let i = from;
  // Valkey's setTypeMaybeConvert: more members in the write than the encoding's limit converts a
  // compact set to hashtable up front, even when none of them is new.
  const hint = args.length - from;
  if (
    typeof v === 'string' &&
    hint > (v.charCodeAt(0) === 105 ? lim.setMaxIntsetEntries : lim.setMaxListpackEntries)
  ) {
    v = toHashtable(v);
    ks.replace(slot, Kind.Set, v);
  }
  if (typeof v === 'string') {
    let p = v;
    let size = countEntries(p, 1);
    // Members appended by this command (listpack), joined onto `p` once at the end.
    const fresh: string[] = [];
    for (; i < args.length; i++) {
      const m = args[i]!;
      if (findEntry(p, m, 1, 1) >= 0 || (fresh.length > 0 && fresh.includes(m))) continue;
      if (p.charCodeAt(0) === 105) {
        if (isIntMember(m)) {
          // A full intset goes to hashtable (Valkey's maybeConvertIntset), never to listpack.
          if (size >= lim.setMaxIntsetEntries) break;
          const at = intsetPosition(p, m);
          p = p.slice(0, at) + entryText(m) + p.slice(at);
        } else if (size < lim.setMaxListpackEntries && m.length <= lim.setMaxListpackValue) {
          // intset → listpack keeps the ascending order the intset had, then appends.
          p = LISTPACK + p.slice(1);
          fresh.push(m);
        } else break;
      } else if (size < lim.setMaxListpackEntries && m.length <= lim.setMaxListpackValue) {
        fresh.push(m);
      } else break;
      size++;
      added++;
    }
    if (i === args.length) {
      if (fresh.length > 0) ks.replace(slot, Kind.Set, appendEntries(p, fresh));
      else if (added > 0) ks.replace(slot, Kind.Set, flat(p));
      return added;
    }
    v = toHashtable(p);
    for (const m of fresh) v.add(m);
    ks.replace(slot, Kind.Set, v);
  }
  for (; i < args.length; i++) if (v.add(args[i]!)) added++;
  return added;
}

/** Removes `args[from..]` from the set in `slot`; returns how many were members. */
export function removeMembers(ks: Keyspace, slot: number, args: string[], from: number): number {
  const v = ks.valueAt(slot) as SetData;
  if (typeof v === 'string') return removeEntries(ks, slot, Kind.Set, v, args, from, 1, 1);
  let removed = 0;
  for (let i = from; i < args.length; i++) if (v.delete(args[i]!)) removed++;
  return removed;
}

/**
 * Valkey's SPOP with a count that leaves `remaining` × 5 ≤ count members (spopWithCountCommand,
 * case 3): a hashtable set's remaining members are copied into a new listpack set, so the set in
 * `slot` turns compact again when they fit the listpack limits. Packed sets are left as they are.
 */
export function compactAfterPop(ks: Keyspace, slot: number, lim: EncodingLimits): void {
  const v = ks.valueAt(slot) as SetData;
  if (typeof v === 'string' || v.m.size > lim.setMaxListpackEntries) return;
  const parts = [LISTPACK];
  for (const m of v.m) {
    if (m.length > lim.setMaxListpackValue) return;
    parts.push(entryText(m));
  }
  ks.replace(slot, Kind.Set, parts.join(''));
}

/**
 * A set restored from a listpack payload (distinct members), as Valkey's RDB loading keeps it:
 * listpack in the payload's order (integers included: never intset) unless it has more than
 * set-max-listpack-entries members, then hashtable.
 */
export function restoredListpackSet(lim: EncodingLimits, members: readonly string[]): SetData {
  if (members.length > lim.setMaxListpackEntries) {
    const out = new SetValue();
    for (const m of members) out.add(m);
    return out;
  }
  return appendEntries(LISTPACK, members);
}

/**
 * A set built member by member as Valkey builds SINTERSTORE/SUNIONSTORE/SDIFFSTORE results (from
 * an empty intset, converting as members arrive).
 */
export class SetBuilder {
  readonly #seen = new Set<string>();
  #order: string[] = [];
  #enc: SetEncoding = 'intset';
  readonly #lim: EncodingLimits;

  constructor(lim: EncodingLimits) {
    this.#lim = lim;
  }

  /** Number of members so far. */
  get size(): number {
    return this.#seen.size;
  }

  /** Adds a member (ignored when present). */
  add(m: string): void {
    if (this.#seen.has(m)) return;
    const n = this.#seen.size;
    const lim = this.#lim;
    if (this.#enc === 'intset' && isIntMember(m)) {
      if (n >= lim.setMaxIntsetEntries) this.#enc = 'hashtable';
    } else if (this.#enc === 'intset') {
      // intset → listpack keeps the ascending order the intset had, then appends.
      this.#enc =
        n < lim.setMaxListpackEntries && m.length <= lim.setMaxListpackValue ? 'listpack' : 'hashtable';
      this.#order.sort(compareInts);
    } else if (
      this.#enc === 'listpack' &&
      (n >= lim.setMaxListpackEntries || m.length > lim.setMaxListpackValue)
    ) {
      this.#enc = 'hashtable';
    }
    this.#seen.add(m);
    this.#order.push(m);
  }

  /** The finished set value. */
  value(): SetData {
    if (this.#enc === 'hashtable') {
      const out = new SetValue();
      for (const m of this.#order) out.add(detach(m));
      return out;
    }
    if (this.#enc === 'intset') this.#order.sort(compareInts);
    return appendEntries(this.#enc === 'intset' ? INTSET : LISTPACK, this.#order);
  }
}

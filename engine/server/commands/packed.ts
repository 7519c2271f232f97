/**
 * Packed entries: the engine's compact encoding of small sets and hashes (Valkey's listpack and
 * intset). One latin1 string holds a one-character header then every entry as its length (a
 * varint: one character under 128) followed by its bytes. The string sits in the keyspace slot
 * itself, with no wrapper object, so a 5-member set costs one string header (16 bytes) plus its
 * bytes; a `Set` or `Map` would cost ~300 bytes more.
 *
 * Invariants: a packed string is flat (a sequential V8 string, never a cons or a slice of another
 * string: {@link flat} makes it so), and is never edited in place (every edit builds a new one, and
 * the slot is re-accounted by `Keyspace.replace`). Entries are at most a few hundred, so the linear
 * walks below are cheaper than any index would be.
 */
import type { Keyspace, KindValue } from '../../keyspace.ts';

/** Start of the bytes of the entry whose length {@link readLen} read last. */
let entryStart = 0;

/** Start of the bytes of the entry whose length {@link readLen} read last. */
export function lastStart(): number {
  return entryStart;
}

/** Reads the varint length at `i`; {@link lastStart} is then where its bytes begin. */
export function readLen(p: string, i: number): number {
  let c = p.charCodeAt(i);
  if (c < 128) {
    entryStart = i + 1;
    return c;
  }
  let n = c & 127;
  let mul = 128;
  for (;;) {
    c = p.charCodeAt(++i);
    n += (c & 127) * mul;
    // Past the end charCodeAt is NaN: stop there too.
    if (!(c >= 128)) break;
    mul *= 128;
  }
  entryStart = i + 1;
  return n;
}

const SHORT_LENGTHS = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

/** The varint text of `n`. */
export function lenText(n: number): string {
  if (n < 128) return SHORT_LENGTHS[n]!;
  let out = '';
  while (n >= 128) {
    out += String.fromCharCode(128 | (n % 128));
    n = Math.floor(n / 128);
  }
  return out + String.fromCharCode(n);
}

/** `s` as one entry (its length then its bytes). */
export function entryText(s: string): string {
  return lenText(s.length) + s;
}

/** Scratch for {@link flat}. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * `s` as a flat sequential string. V8 builds `a + b` of 13 characters or more as a cons string (an
 * extra 32-byte object pointing at both halves) and `slice` as a view that keeps its parent alive;
 * `[a, b].join('')` copies into one new string only when two or more parts are non-empty (it returns
 * a lone part as it is). So edits join two or more non-empty parts ({@link concat2}) and the rest
 * copies through a buffer here.
 */
export function flat(s: string): string {
  if (s.length < 13) return s;
  if (s.length > scratch.length) return Buffer.from(s, 'latin1').toString('latin1');
  const n = scratch.write(s, 0, 'latin1');
  return scratch.toString('latin1', 0, n);
}

/** `a + b` as one flat string. */
export function concat2(a: string, b: string): string {
  if (a.length === 0) return flat(b);
  if (b.length === 0) return flat(a);
  return [a, b].join('');
}

/** A copy of `s` that does not keep a packed string alive (members moved into a full structure). */
export const detach = flat;

/** Offset of the entry equal to `m` at or after `from` (stepping `stride` entries), or -1. */
export function findEntry(p: string, m: string, from: number, stride: number): number {
  const n = m.length;
  let i = from;
  while (i < p.length) {
    const len = readLen(p, i);
    const s = entryStart;
    if (len === n && p.startsWith(m, s)) return i;
    i = s + len;
    for (let k = 1; k < stride && i < p.length; k++) i = readLen(p, i) + entryStart;
  }
  return -1;
}

/** Offset just past the entry at `i`. */
export function skipEntry(p: string, i: number): number {
  return readLen(p, i) + entryStart;
}

/** The text of the entry at `i` (a slice of `p`: short-lived uses only, or {@link detach} it). */
export function entryAt(p: string, i: number): string {
  const len = readLen(p, i);
  return p.slice(entryStart, entryStart + len);
}

/** Number of entries from `from` to the end. */
export function countEntries(p: string, from: number): number {
  let n = 0;
  for (let i = from; i < p.length; i = readLen(p, i) + entryStart) n++;
  return n;
}

/** Every entry's text from `from` on, in order. */
export function entries(p: string, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < p.length; ) {
    const len = readLen(p, i);
    i = entryStart + len;
    out.push(p.slice(entryStart, i));
  }
  return out;
}

/**
 * `p` followed by every text of `items` as an entry, as one flat string (`p` itself when `items` is
 * empty). Also builds a whole packed value: `appendEntries(header, members)`.
 */
export function appendEntries(p: string, items: readonly string[]): string {
  if (items.length === 0) return p;
  const parts = [p];
  for (const s of items) parts.push(entryText(s));
  return parts.join('');
}

/**
 * Removes from the packed value `p` in `slot` every entry equal to one of `keys[from..]` (entries
 * start at `start`, one per `stride`: a hash field goes with its value) and re-stores the result
 * when any was present; returns how many were.
 */
export function removeEntries(
  ks: Keyspace,
  slot: number,
  kind: KindValue,
  p: string,
  keys: readonly string[],
  from: number,
  start: number,
  stride: number,
): number {
  let removed = 0;
  for (let i = from; i < keys.length; i++) {
    const at = findEntry(p, keys[i]!, start, stride);
    if (at < 0) continue;
    let end = at;
    for (let k = 0; k < stride; k++) end = readLen(p, end) + entryStart;
    // concat2 keeps the result flat however the entry splits it.
    p = concat2(p.slice(0, at), p.slice(end));
    removed++;
  }
  if (removed > 0) ks.replace(slot, kind, p);
  return removed;
}

/**
 * A sorted set's value in its keyspace slot, in one of Valkey's two encodings:
 * - `listpack`: a packed string (packed.ts) of member entries each followed by its score, in
 *   (score, member bytes) order. A score is one character `t` < 0xF8 for the integers −120…127
 *   (`t − 0x78`), else 0xFF and the 8 bytes of the float64 (−0, fractions, big numbers, ±inf);
 * - `skiplist`: a {@link ZSetValue}.
 * As in Valkey's zsetTypeCreate/zsetAdd, a set starts as listpack when its first write carries at
 * most zset-max-listpack-entries members of at most zset-max-listpack-value bytes, and converts to
 * skiplist (never back) when a new member would pass either limit. Commands read either encoding
 * through {@link ZSetRead}; ZADD/ZINCRBY/ZREM edit through {@link ZSetEditor}; the rarer bulk
 * edits (pops, range removals) through {@link editZSet}.
 */
import { type Keyspace, Kind } from '../../keyspace.ts';
import type { EncodingLimits } from './encoding-limits.ts';
import { concat2, detach, entryText, lastStart, readLen } from './packed.ts';
import { type LexBound, lexAbove, lexBelow, ZSetValue } from './zset-value.ts';

/** A sorted set as its slot holds it. */
export type ZSetData = string | ZSetValue;

/** What the read commands need of a sorted set (ranks are 0-based, ascending). */
export interface ZSetRead {
  readonly size: number;
  memberAt(i: number): string;
  scoreAt(i: number): number;
  /** The member's score, or undefined. */
  score(member: string): number | undefined;
  rank(member: string): number;
  firstByScore(min: number, exclusive: boolean): number;
  endByScore(max: number, exclusive: boolean): number;
  firstByLex(min: LexBound): number;
  endByLex(max: LexBound): number;
  readonly members: string[];
  readonly scores: number[];
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const FLOAT_TAG = 0xff;
const SMALL_MAX = 0xf8;
const SMALL_ZERO = 0x78;

/** The packed text of a score. */
function scoreText(s: number): string {
  if (Number.isInteger(s) && s >= -SMALL_ZERO && s < SMALL_MAX - SMALL_ZERO && !Object.is(s, -0))
    return String.fromCharCode(s + SMALL_ZERO);
  F64[0] = s;
  const b = F64_BYTES;
  return String.fromCharCode(FLOAT_TAG, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[6]!, b[7]!);
}

/** The score encoded at `i`. */
function readScore(p: string, i: number): number {
  const t = p.charCodeAt(i);
  if (t < SMALL_MAX) return t - SMALL_ZERO;
  for (let k = 0; k < 8; k++) F64_BYTES[k] = p.charCodeAt(i + 1 + k);
  return F64[0]!;
}

/** Offset past the score encoded at `i`. */
function skipScore(p: string, i: number): number {
  return p.charCodeAt(i) < SMALL_MAX ? i + 1 : i + 9;
}

/** Offset of `m`'s member entry in `p`, or -1 (its score follows the member). */
function findMember(p: string, m: string): number {
  const n = m.length;
  let i = 0;
  while (i < p.length) {
    const len = readLen(p, i);
    const s = lastStart();
    if (len === n && p.startsWith(m, s)) return i;
    i = skipScore(p, s + len);
  }
  return -1;
}

/** Offset where (score, m) belongs: before the first pair not ordered before it. */
function insertPosition(p: string, score: number, m: string): number {
  let i = 0;
  while (i < p.length) {
    const len = readLen(p, i);
    const s = lastStart();
    const sc = readScore(p, s + len);
    if (sc > score || (sc === score && p.slice(s, s + len) >= m)) return i;
    i = skipScore(p, s + len);
  }
  return i;
}

/** Offset past the (member, score) pair at `i`. */
function skipPair(p: string, i: number): number {
  const len = readLen(p, i);
  return skipScore(p, lastStart() + len);
}

/** Number of members. */
function countPairs(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i = skipPair(p, i)) n++;
  return n;
}

/** Packs members and scores given in order. */
export function packZSet(members: readonly string[], scores: readonly number[]): string {
  const parts: string[] = [''];
  for (let i = 0; i < members.length; i++) parts.push(entryText(members[i]!), scoreText(scores[i]!));
  return parts.join('');
}

/** A read-only view of a packed sorted set (decoded once, for one command). */
export class PackedZSet implements ZSetRead {
  readonly #m: string[] = [];
  readonly #s: number[] = [];

  constructor(p: string) {
    for (let i = 0; i < p.length; ) {
      const len = readLen(p, i);
      const s = lastStart();
      this.#m.push(p.slice(s, s + len));
      this.#s.push(readScore(p, s + len));
      i = skipScore(p, s + len);
    }
  }

  get size(): number {
    return this.#m.length;
  }

  get members(): string[] {
    return this.#m.slice();
  }

  get scores(): number[] {
    return this.#s.slice();
  }

  memberAt(i: number): string {
    return this.#m[i]!;
  }

  scoreAt(i: number): number {
    return this.#s[i]!;
  }

  score(member: string): number | undefined {
    const i = this.#m.indexOf(member);
    return i < 0 ? undefined : this.#s[i];
  }

  rank(member: string): number {
    return this.#m.indexOf(member);
  }

  /** First rank satisfying `past` (monotone over the order), or the size. */
  #first(past: (score: number, member: string) => boolean): number {
    let a = 0;
    let z = this.#m.length;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (past(this.#s[mid]!, this.#m[mid]!)) z = mid;
      else a = mid + 1;
    }
    return a;
  }

  firstByScore(min: number, exclusive: boolean): number {
    return this.#first(exclusive ? (s) => s > min : (s) => s >= min);
  }

  endByScore(max: number, exclusive: boolean): number {
    return this.#first(exclusive ? (s) => s >= max : (s) => s > max);
  }

  firstByLex(min: LexBound): number {
    return this.#first((_, m) => lexAbove(m, min));
  }

  endByLex(max: LexBound): number {
    return this.#first((_, m) => !lexBelow(m, max));
  }
}

/** A read view of either encoding. */
export function zsetRead(v: ZSetData): ZSetRead {
  return typeof v === 'string' ? new PackedZSet(v) : v;
}

/** The sorted set's encoding name (OBJECT ENCODING). */
export function zsetEncoding(v: ZSetData): 'listpack' | 'skiplist' {
  return typeof v === 'string' ? 'listpack' : 'skiplist';
}

/** An empty sorted set as Valkey's zsetTypeCreate makes it for `sizeHint` members of up to `lenHint` bytes. */
export function newZSet(lim: EncodingLimits, sizeHint: number, lenHint: number): ZSetData {
  return sizeHint <= lim.zsetMaxListpackEntries && lenHint <= lim.zsetMaxListpackValue ? '' : new ZSetValue();
}

/** A skiplist holding the packed set's pairs. */
function toSkiplist(p: string): ZSetValue {
  const out = new ZSetValue();
  const view = new PackedZSet(p);
  for (let i = 0; i < view.size; i++) out.set(detach(view.memberAt(i)), view.scoreAt(i));
  return out;
}

/**
 * `z` as Valkey stores a computed result (ZUNIONSTORE, ZRANGESTORE…): listpack when it is within
 * both limits, else skiplist. `fromListpack` (RESTORE of a listpack payload, which Valkey loads as
 * it is) checks the entry count only.
 */
export function finishZSet(lim: EncodingLimits, z: ZSetValue, fromListpack = false): ZSetData {
  if (z.size > lim.zsetMaxListpackEntries) return z;
  const members = z.members;
  if (!fromListpack) for (const m of members) if (m.length > lim.zsetMaxListpackValue) return z;
  return packZSet(members, z.scores);
}

/**
 * Member-by-member edits of the sorted set in a slot (ZADD, ZINCRBY, ZREM). A packed set is edited
 * as a string and re-stored by {@link ZSetEditor.finish}; a skiplist is edited in place.
 */
export class ZSetEditor {
  readonly #ks: Keyspace;
  readonly #slot: number;
  readonly #lim: EncodingLimits;
  #p: string | null;
  #z: ZSetValue | null;
  /** Member count of #p, or -1 until needed. */
  #n = -1;
  #dirty = false;

  constructor(ks: Keyspace, slot: number, lim: EncodingLimits) {
    this.#ks = ks;
    this.#slot = slot;
    this.#lim = lim;
    const v = ks.valueAt(slot) as ZSetData;
    this.#p = typeof v === 'string' ? v : null;
    this.#z = typeof v === 'string' ? null : v;
  }

  /**
   * Valkey's zsetTypeMaybeConvert: a write of more than zset-max-listpack-entries members, or of a
   * member longer than zset-max-listpack-value, converts a listpack set to skiplist before any
   * member is looked at (so even when the write then adds nothing: XX, NX, repeated members).
   */
  convertForHints(sizeHint: number, lenHint: number): void {
    const p = this.#p;
    if (
      p === null ||
      (sizeHint <= this.#lim.zsetMaxListpackEntries && lenHint <= this.#lim.zsetMaxListpackValue)
    )
      return;
    this.#z = toSkiplist(p);
    this.#p = null;
    this.#dirty = true;
  }

  /** The member's score, or undefined. */
  score(member: string): number | undefined {
    const p = this.#p;
    if (p === null) return this.#z!.score(member);
    const at = findMember(p, member);
    return at < 0 ? undefined : readScore(p, readLen(p, at) + lastStart());
  }

  /** Sets the member's score (adding it, converting to skiplist when a limit is passed). */
  set(member: string, score: number): void {
    let p = this.#p;
    if (p === null) {
      this.#z!.set(member, score);
      return;
    }
    const at = findMember(p, member);
    if (at >= 0) {
      p = p.slice(0, at) + p.slice(skipPair(p, at));
    } else {
      if (this.#n < 0) this.#n = countPairs(p);
      if (this.#n + 1 > this.#lim.zsetMaxListpackEntries || member.length > this.#lim.zsetMaxListpackValue) {
        this.#z = toSkiplist(p);
        this.#p = null;
        this.#dirty = true;
        this.#z.set(member, score);
        return;
      }
      this.#n++;
    }
    const pos = insertPosition(p, score, member);
    // Two non-empty parts at least: join makes one flat string (packed.ts).
    this.#p = [p.slice(0, pos), entryText(member), scoreText(score), p.slice(pos)].join('');
    this.#dirty = true;
  }

  /** Removes the member; returns whether it was there. */
  delete(member: string): boolean {
    const p = this.#p;
    if (p === null) return this.#z!.delete(member);
    const at = findMember(p, member);
    if (at < 0) return false;
    this.#p = concat2(p.slice(0, at), p.slice(skipPair(p, at)));
    if (this.#n >= 0) this.#n--;
    this.#dirty = true;
    return true;
  }

  /** Stores the edited set back in its slot; returns its member count. */
  finish(): number {
    if (this.#p === null) {
      if (this.#dirty) this.#ks.replace(this.#slot, Kind.ZSet, this.#z!);
      return this.#z!.size;
    }
    if (this.#dirty) this.#ks.replace(this.#slot, Kind.ZSet, this.#p);
    return this.#p.length === 0 ? 0 : this.#n >= 0 ? this.#n : countPairs(this.#p);
  }
}

/**
 * Applies a bulk edit (pops, range removals) to the sorted set in `slot` as a {@link ZSetValue}: a
 * packed set is unpacked, edited and packed again (its encoding stays listpack; removals never
 * pass a limit). Returns `edit`'s result.
 */
export function editZSet<T>(ks: Keyspace, slot: number, edit: (z: ZSetValue) => T): T {
  const v = ks.valueAt(slot) as ZSetData;
  if (typeof v !== 'string') return edit(v);
  const z = toSkiplist(v);
  const out = edit(z);
  ks.replace(slot, Kind.ZSet, packZSet(z.members, z.scores));
  return out;
}

/**
 * A sorted set: a `Map` member → score plus two parallel arrays (members, scores) kept sorted by
 * (score, member bytes), Valkey's order. Lookups by member are O(1); rank, score and lex ranges are
 * binary searches; inserts and removals shift the arrays (memmove-fast up to ~10⁵ members).
 * `big` mirrors Valkey's one-way listpack → skiplist conversion (zset-max-listpack-entries 128,
 * zset-max-listpack-value 64), for OBJECT ENCODING.
 */
import type { SizedValue } from '../../keyspace.ts';
import { stringBytes } from '../../memory.ts';

const BASE_BYTES = 96;
const ENTRY_BYTES = 56;

/** (score, member) order. */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/** The sorted set value. */
export class ZSetValue implements SizedValue {
  readonly dict = new Map<string, number>();
  members: string[] = [];
  scores: number[] = [];
  bytes = BASE_BYTES;
  big = false;

  get size(): number {
    return this.members.length;
  }

  /** Index where (score, member) sits or would be inserted. */
  #position(score: number, member: string): number {
    let lo = 0;
    let hi = this.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.scores[mid]!, this.members[mid]!, score, member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sets the member's score (adding it when absent). Returns true when it was added. */
  set(member: string, score: number): boolean {
    const old = this.dict.get(member);
    if (old !== undefined) {
      if (old === score) return false;
      const at = this.#position(old, member);
      this.members.splice(at, 1);
      this.scores.splice(at, 1);
    } else {
      this.bytes += ENTRY_BYTES + stringBytes(member);
      if (member.length > 64 || this.dict.size + 1 > 128) this.big = true;
    }
    this.dict.set(member, score);
    const at = this.#position(score, member);
    this.members.splice(at, 0, member);
    this.scores.splice(at, 0, score);
    return old === undefined;
  }

  /** Removes the member; returns whether it was there. */
  delete(member: string): boolean {
    const old = this.dict.get(member);
    if (old === undefined) return false;
    const at = this.#position(old, member);
    this.members.splice(at, 1);
    this.scores.splice(at, 1);
    this.dict.delete(member);
    this.bytes -= ENTRY_BYTES + stringBytes(member);
    return true;
  }

  /** Removes the members at ranks [from, to). */
  deleteRange(from: number, to: number): number {
    if (to <= from) return 0;
    const gone = this.members.splice(from, to - from);
    this.scores.splice(from, to - from);
    for (const m of gone) {
      this.dict.delete(m);
      this.bytes -= ENTRY_BYTES + stringBytes(m);
    }
    return gone.length;
  }

  /** 0-based rank of the member in ascending order, or -1. */
  rank(member: string): number {
    const s = this.dict.get(member);
    return s === undefined ? -1 : this.#position(s, member);
  }

  /** First rank whose score is > min (exclusive) or >= min. */
  firstByScore(min: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.scores[mid]!;
      if (exclusive ? s <= min : s < min) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** One past the last rank whose score is < max (exclusive) or <= max. */
  endByScore(max: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.scores[mid]!;
      if (exclusive ? s < max : s <= max) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First rank whose member is past the lex bound `min` (see {@link LexBound}). */
  firstByLex(min: LexBound): number {
    let lo = 0;
    let hi = this.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (!lexAbove(this.members[mid]!, min)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** One past the last rank whose member is within the lex bound `max`. */
  endByLex(max: LexBound): number {
    let lo = 0;
    let hi = this.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lexBelow(this.members[mid]!, max)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clone(): ZSetValue {
    const out = new ZSetValue();
    for (const [m, s] of this.dict) out.dict.set(m, s);
    out.members = this.members.slice();
    out.scores = this.scores.slice();
    out.bytes = this.bytes;
    out.big = this.big;
    return out;
  }
}

/** A ZRANGEBYLEX bound: `-`, `+`, `[x` (inclusive) or `(x` (exclusive). */
export type LexBound = { kind: 'min' } | { kind: 'max' } | { kind: 'incl' | 'excl'; value: string };

/** True when `m` is past the lower bound. */
function lexAbove(m: string, b: LexBound): boolean {
  if (b.kind === 'min') return true;
  if (b.kind === 'max') return false;
  return b.kind === 'incl' ? m >= b.value : m > b.value;
}

/** True when `m` is within the upper bound. */
function lexBelow(m: string, b: LexBound): boolean {
  if (b.kind === 'max') return true;
  if (b.kind === 'min') return false;
  return b.kind === 'incl' ? m <= b.value : m < b.value;
}

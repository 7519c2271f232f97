/**
 * A sorted set: a `Map` member → score plus the (score, member) pairs in Valkey's order (score,
 * then member bytes), kept in blocks of at most {@link BLOCK_MAX} pairs (parallel arrays per
 * block). Lookups by member are O(1); rank, score and lex positions are two binary searches (over
 * the blocks' last pairs, then inside one block) plus a prefix table of block starts rebuilt after
 * edits; an insert or removal moves at most one block's pairs, so ZADD stays cheap on a set of 10⁵
 * or more members (one flat array moved every pair after the insertion point, ~100 µs per ZADD at
 * 10⁵ members). A set of up to {@link BLOCK_MAX} members is a single block.
 * In a slot it is Valkey's `skiplist` encoding; small sets are packed strings instead
 * (zset-packed.ts), which also builds results through this class.
 */
import type { SizedValue } from '../../keyspace.ts';
import { stringBytes } from '../../memory.ts';
import { noteRemovals } from './collection-scan.ts';

const BASE_BYTES = 96;
const ENTRY_BYTES = 56;
/** A block holding more pairs than this is split in two halves. */
const BLOCK_MAX = 256;

/** (score, member) order. */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/** The sorted set value. */
export class ZSetValue implements SizedValue {
  readonly dict = new Map<string, number>();
  /** Members of each block, in order; never an empty block unless the set is empty (one block). */
  #bm: string[][] = [[]];
  /** Scores of each block, parallel to #bm. */
  #bs: number[][] = [[]];
  /** Global rank of each block's first pair; null after an edit (rebuilt on demand). */
  #starts: number[] | null = null;
  #size = 0;
  bytes = BASE_BYTES;

  get size(): number {
    return this.#size;
  }

  /** All members in order (a copy: O(n), for replies that list the whole set). */
  get members(): string[] {
    return this.#bm.length === 1 ? this.#bm[0]!.slice() : this.#bm.flat();
  }

  /** All scores in order, parallel to {@link ZSetValue.members} (a copy). */
  get scores(): number[] {
    return this.#bs.length === 1 ? this.#bs[0]!.slice() : this.#bs.flat();
  }

  #startsTable(): number[] {
    let starts = this.#starts;
    if (starts === null) {
      starts = new Array(this.#bm.length);
      let n = 0;
      for (let b = 0; b < this.#bm.length; b++) {
        starts[b] = n;
        n += this.#bm[b]!.length;
      }
      this.#starts = starts;
    }
    return starts;
  }

  /** Block index holding global rank `i` (0 ≤ i < size). */
  #blockOf(i: number): number {
    const starts = this.#startsTable();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The member at rank `i` (0 ≤ i < size). */
  memberAt(i: number): string {
    if (this.#bm.length === 1) return this.#bm[0]![i]!;
    const b = this.#blockOf(i);
    return this.#bm[b]![i - this.#starts![b]!]!;
  }

  /** The score at rank `i` (0 ≤ i < size). */
  scoreAt(i: number): number {
    if (this.#bs.length === 1) return this.#bs[0]![i]!;
    const b = this.#blockOf(i);
    return this.#bs[b]![i - this.#starts![b]!]!;
  }

  /**
   * First rank whose pair satisfies `past` (monotone over the order: false… then true…), as
   * [block, offset in block]; [last block, its length] when none does.
   */
  #firstWhere(past: (score: number, member: string) => boolean): [number, number] {
    const bm = this.#bm;
    const bs = this.#bs;
    let lo = 0;
    let hi = bm.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = bm[mid]!.length - 1;
      if (past(bs[mid]![last]!, bm[mid]![last]!)) hi = mid;
      else lo = mid + 1;
    }
    const m = bm[lo]!;
    const s = bs[lo]!;
    let a = 0;
    let z = m.length;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (past(s[mid]!, m[mid]!)) z = mid;
      else a = mid + 1;
    }
    return [lo, a];
  }

  #rankOf(at: [number, number]): number {
    return this.#bm.length === 1 ? at[1] : this.#startsTable()[at[0]]! + at[1];
  }

  /** [block, offset] where (score, member) sits or would be inserted. */
  #position(score: number, member: string): [number, number] {
    return this.#firstWhere((s, m) => !before(s, m, score, member));
  }

  #removeAt(b: number, at: number): void {
    this.#bm[b]!.splice(at, 1);
    this.#bs[b]!.splice(at, 1);
    if (this.#bm[b]!.length === 0 && this.#bm.length > 1) {
      this.#bm.splice(b, 1);
      this.#bs.splice(b, 1);
    }
    this.#starts = null;
  }

  #insert(score: number, member: string): void {
    const [b, at] = this.#position(score, member);
    const m = this.#bm[b]!;
    const s = this.#bs[b]!;
    m.splice(at, 0, member);
    s.splice(at, 0, score);
    if (m.length > BLOCK_MAX) {
      const half = m.length >>> 1;
      this.#bm.splice(b + 1, 0, m.splice(half));
      this.#bs.splice(b + 1, 0, s.splice(half));
    }
    this.#starts = null;
  }

  /** Sets the member's score (adding it when absent). Returns true when it was added. */
  set(member: string, score: number): boolean {
    const old = this.dict.get(member);
    if (old !== undefined) {
      if (old === score) return false;
      const [b, at] = this.#position(old, member);
      this.#removeAt(b, at);
    } else {
      this.bytes += ENTRY_BYTES + stringBytes(member);
      this.#size++;
    }
    this.dict.set(member, score);
    this.#insert(score, member);
    return old === undefined;
  }

  /** Removes the member; returns whether it was there. */
  delete(member: string): boolean {
    const old = this.dict.get(member);
    if (old === undefined) return false;
    const [b, at] = this.#position(old, member);
    this.#removeAt(b, at);
    this.dict.delete(member);
    noteRemovals(this.dict, 1);
    this.#size--;
    this.bytes -= ENTRY_BYTES + stringBytes(member);
    return true;
  }

  /** Removes the members at ranks [from, to). */
  deleteRange(from: number, to: number): number {
    if (to <= from) return 0;
    const starts = this.#startsTable();
    const bm: string[][] = [];
    const bs: number[][] = [];
    for (let b = 0; b < this.#bm.length; b++) {
      const m = this.#bm[b]!;
      const s = this.#bs[b]!;
      const lo = Math.max(from - starts[b]!, 0);
      const hi = Math.min(to - starts[b]!, m.length);
      if (lo < hi) {
        for (const gone of m.splice(lo, hi - lo)) {
          this.dict.delete(gone);
          this.bytes -= ENTRY_BYTES + stringBytes(gone);
        }
        s.splice(lo, hi - lo);
      }
      if (m.length > 0) {
        bm.push(m);
        bs.push(s);
      }
    }
    if (bm.length === 0) {
      bm.push([]);
      bs.push([]);
    }
    this.#bm = bm;
    this.#bs = bs;
    this.#starts = null;
    const removed = this.#size - this.dict.size;
    noteRemovals(this.dict, removed);
    this.#size = this.dict.size;
    return removed;
  }

  /** The member's score, or undefined. */
  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  /** 0-based rank of the member in ascending order, or -1. */
  rank(member: string): number {
    const s = this.dict.get(member);
    return s === undefined ? -1 : this.#rankOf(this.#position(s, member));
  }

  /** First rank whose score is > min (exclusive) or >= min. */
  firstByScore(min: number, exclusive: boolean): number {
    return this.#rankOf(this.#firstWhere(exclusive ? (s) => s > min : (s) => s >= min));
  }

  /** One past the last rank whose score is < max (exclusive) or <= max. */
  endByScore(max: number, exclusive: boolean): number {
    return this.#rankOf(this.#firstWhere(exclusive ? (s) => s >= max : (s) => s > max));
  }

  /** First rank whose member is past the lex bound `min` (see {@link LexBound}). */
  firstByLex(min: LexBound): number {
    return this.#rankOf(this.#firstWhere((_, m) => lexAbove(m, min)));
  }

  /** One past the last rank whose member is within the lex bound `max`. */
  endByLex(max: LexBound): number {
    return this.#rankOf(this.#firstWhere((_, m) => !lexBelow(m, max)));
  }

  clone(): ZSetValue {
    const out = new ZSetValue();
    for (const [m, s] of this.dict) out.dict.set(m, s);
    out.#bm = this.#bm.map((m) => m.slice());
    out.#bs = this.#bs.map((s) => s.slice());
    out.#starts = null;
    out.#size = this.#size;
    out.bytes = this.bytes;
    return out;
  }
}

/** A ZRANGEBYLEX bound: `-`, `+`, `[x` (inclusive) or `(x` (exclusive). */
export type LexBound = { kind: 'min' } | { kind: 'max' } | { kind: 'incl' | 'excl'; value: string };

/** True when `m` is past the lower bound. */
export function lexAbove(m: string, b: LexBound): boolean {
  if (b.kind === 'min') return true;
  if (b.kind === 'max') return false;
  return b.kind === 'incl' ? m >= b.value : m > b.value;
}

/** True when `m` is within the upper bound. */
export function lexBelow(m: string, b: LexBound): boolean {
  if (b.kind === 'max') return true;
  if (b.kind === 'min') return false;
  return b.kind === 'incl' ? m <= b.value : m < b.value;
}

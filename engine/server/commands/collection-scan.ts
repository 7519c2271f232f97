/**
 * SSCAN, ZSCAN and HSCAN pages over a large collection (Valkey's hashtable/skiplist encodings),
 * with Valkey's guarantee: every element present from the first call to the last is returned at
 * least once, whatever is added, removed or updated in between; an element may come twice.
 *
 * Collections are JavaScript `Set`s and `Map`s, whose iteration order is insertion order: removing
 * an element never moves the others, an update keeps an element's place, additions go at the end.
 * A cursor holds a position in that order plus the collection's removal count when it was issued
 * (`position * 2^29 + removals mod 2^29`; a V8 Set or Map holds fewer than 2^24 entries, so the
 * cursor stays an exact double). Resuming skips to `position - removals since`, which never passes
 * an element not yet returned (each removal moves a later element back by at most one): duplicates
 * are possible, misses are not. The common case, the same client going on, does not skip at all:
 * the page's live iterator is kept (a few per collection) under the cursor it returned, and a live
 * iterator visits every element still present exactly once. Only an iterator that stands exactly at
 * its cursor's position is kept (no removal since it was created or resumed from a position): two
 * scans can be handed equal cursors, and the other one must never resume from an iterator past it.
 * A page after a removal therefore resumes by position (skipping from the start of the order).
 *
 * Small collections (Valkey's intset/listpack encodings) are answered in one page with cursor 0,
 * as Valkey does; the commands decide that before calling here.
 */
import type { CommandContext } from '../command-context.ts';

const REMOVALS_MOD = 2 ** 29;
/** Live iterators kept per collection (each may hold the collection's old table alive). */
const MAX_PENDING = 4;

/** A page's iterator, and the lower bound of its position in the order when it was issued. */
interface Pending {
  it: Iterator<unknown>;
  /** Position of the next element when the iterator was created or last resumed. */
  base: number;
  consumed: number;
  /** The collection's removal count at `base`. */
  removals: number;
}

const pending = new WeakMap<object, Map<number, Pending>>();

/**
 * Removal counts of the containers a cursor was issued for (counted from the first page on; the
 * cursor arithmetic only needs differences, and an unscanned collection pays one WeakMap miss).
 */
const removalCounts = new WeakMap<object, number>();

/** Records `n` removals from a collection's container (its `Set` or `Map`). */
export function noteRemovals(container: object, n: number): void {
  const c = removalCounts.get(container);
  if (c !== undefined && n > 0) removalCounts.set(container, c + n);
}

/** What one page needs from a collection. */
export interface ScanSource<T> {
  /** The `Set` or `Map` holding the elements (its removals go through {@link noteRemovals}). */
  readonly container: object;
  /** A fresh iterator over the elements, in the container's order. */
  iterate(): Iterator<T>;
}

/**
 * Visits up to `count` elements from `cursor` (0 = start), calling `take` for each; returns the
 * next cursor, 0 when the collection was walked to its end.
 */
export function scanPage<T>(src: ScanSource<T>, cursor: number, count: number, take: (e: T) => void): number {
  let removals = removalCounts.get(src.container);
  if (removals === undefined) {
    removals = 0;
    removalCounts.set(src.container, 0);
  }
  let byCursor = pending.get(src.container);
  let p = cursor === 0 ? undefined : byCursor?.get(cursor);
  if (p !== undefined) byCursor!.delete(cursor);
  else {
    let start = 0;
    if (cursor !== 0) {
      const position = Math.floor(cursor / REMOVALS_MOD);
      const since = ((removals % REMOVALS_MOD) - (cursor % REMOVALS_MOD) + REMOVALS_MOD) % REMOVALS_MOD;
      start = Math.max(0, position - since);
    }
    const it = src.iterate() as Iterator<unknown>;
    for (let i = 0; i < start; i++) if (it.next().done) return 0;
    p = { it, base: start, consumed: 0, removals: removals };
  }
  for (let n = 0; n < count; n++) {
    const r = p.it.next();
    if (r.done) return 0;
    take(r.value as T);
    p.consumed++;
  }
  // Removals since `base` moved the iterator back by at most one place each.
  const position = Math.max(0, p.base + p.consumed - (removals - p.removals));
  // 0 would end the scan: position 0 with removals ≡ 0 becomes 1, which resumes from the start.
  const next = position * REMOVALS_MOD + (removals % REMOVALS_MOD) || 1;
  // The iterator is kept only when it stands exactly at `position` (no removal since `base`). After
  // a removal `position` is only a lower bound and the iterator may be past it: another scan whose
  // cursor has the same value (same lower bound, its own elements not yet returned) would resume
  // from it and miss those. An exact iterator is never past any scan holding its cursor value.
  if (removals !== p.removals) return next;
  if (byCursor === undefined) {
    byCursor = new Map();
    pending.set(src.container, byCursor);
  }
  if (byCursor.size >= MAX_PENDING) byCursor.delete(byCursor.keys().next().value!);
  byCursor.set(next, p);
  return next;
}

/** Writes a scan reply: the cursor and the flat `items`. */
export function writeScanPage(ctx: CommandContext, cursor: number, items: readonly string[]): void {
  ctx.w.array(2);
  ctx.w.bulk(String(cursor));
  ctx.w.array(items.length);
  for (const s of items) ctx.w.bulk(s);
}

/**
 * scanPage's guarantee as a unit, in the interleavings the integration test cannot force: two scans
 * of one collection whose cursors come out equal. A live iterator kept under a cursor must never be
 * handed to another scan that is behind it (that scan would miss elements it has not seen yet).
 */
import { describe, expect, it } from 'vitest';
import { noteRemovals, scanPage } from '../../../../../engine/server/commands/collection-scan.ts';

function setOf(n: number): Set<string> {
  return new Set(Array.from({ length: n }, (_, i) => `e${i}`));
}

function remove(s: Set<string>, ...members: string[]): void {
  for (const m of members) if (s.delete(m)) noteRemovals(s, 1);
}

describe('scanPage with colliding cursors', () => {
  it('a scan whose cursor equals another scan’s still returns every element present throughout', () => {
    const s = setOf(20);
    const src = { container: s, iterate: () => s.values() };
    const seenA: string[] = [];
    const seenB: string[] = [];
    // Scan A reads 10 elements; two elements ahead of both scans are removed.
    const a1 = scanPage(src, 0, 10, (m: string) => seenA.push(m));
    remove(s, 'e15', 'e16');
    // Scan B starts and reads 13; A goes on by 5. Both cursors now say "position 13, 2 removals",
    // but A's live iterator is past e14 while B has only seen up to e12.
    const b1 = scanPage(src, 0, 13, (m: string) => seenB.push(m));
    const a2 = scanPage(src, a1, 5, (m: string) => seenA.push(m));
    expect(a2).toBe(b1);
    for (let c = b1; c !== 0; ) c = scanPage(src, c, 100, (m: string) => seenB.push(m));
    for (let c = a2; c !== 0; ) c = scanPage(src, c, 100, (m: string) => seenA.push(m));
    const present = [...s];
    expect(present).toHaveLength(18);
    expect(present.filter((m) => !seenB.includes(m))).toEqual([]);
    expect(present.filter((m) => !seenA.includes(m))).toEqual([]);
  });

  it('an unedited collection pages without duplicates and ends with cursor 0', () => {
    const s = setOf(50);
    const src = { container: s, iterate: () => s.values() };
    const seen: string[] = [];
    let c = scanPage(src, 0, 7, (m: string) => seen.push(m));
    while (c !== 0) c = scanPage(src, c, 7, (m: string) => seen.push(m));
    expect(seen).toEqual([...s]);
  });
});

/**
 * The packed encoding of small collections (packed.ts, zset-packed.ts): entry lengths on both sides
 * of each varint width, lookups by stride, flat copies, and every score form read back exactly.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../engine/clock.ts';
import { Keyspace, Kind } from '../../../../engine/keyspace.ts';
import {
  appendEntries,
  countEntries,
  entries,
  entryText,
  findEntry,
  flat,
  lastStart,
  lenText,
  readLen,
  removeEntries,
} from '../../../../engine/server/commands/packed.ts';
import { PackedZSet, packZSet } from '../../../../engine/server/commands/zset-packed.ts';

describe('packed entries', () => {
  it('reads back lengths of every varint width', () => {
    for (const n of [0, 1, 127, 128, 129, 16383, 16384, 2_097_151, 2_097_152, 300_000_000]) {
      const t = lenText(n);
      expect(t.length).toBe(n < 2 ** 7 ? 1 : n < 2 ** 14 ? 2 : n < 2 ** 21 ? 3 : n < 2 ** 28 ? 4 : 5);
      expect(readLen(`${t}rest`, 0)).toBe(n);
      expect(lastStart()).toBe(t.length);
    }
  });

  it('walks entries of any bytes and finds them by stride', () => {
    const items = ['', 'a', 'x'.repeat(127), 'y'.repeat(128), '\u0000\u00ff\r\n', 'z'.repeat(20_000), 'a'];
    const p = flat(`h${items.map(entryText).join('')}`);
    expect(countEntries(p, 1)).toBe(items.length);
    expect(entries(p, 1)).toEqual(items);
    expect(findEntry(p, 'y'.repeat(128), 1, 1)).toBeGreaterThan(0);
    expect(findEntry(p, 'y'.repeat(127), 1, 1)).toBe(-1);
    // Stride 2 (hash fields): only even entries are compared, so 'a' is found as the 7th, not the 2nd.
    const seventh = 1 + items.slice(0, 6).reduce((n, s) => n + entryText(s).length, 0);
    expect(findEntry(p, 'a', 1, 1)).toBe(2);
    expect(findEntry(p, 'a', 1, 2)).toBe(seventh);
    expect(findEntry(p, 'y'.repeat(128), 1, 2)).toBe(-1);
    expect(findEntry(p, '', 1, 2)).toBe(1);
    expect(findEntry(p, '\u0000\u00ff\r\n', 1, 2)).toBeGreaterThan(0);
  });

  it('appends entries and removes them by stride, re-storing only on a removal', () => {
    expect(appendEntries('l', [])).toBe('l');
    const set = appendEntries('l', ['a', 'bb', 'c']);
    expect(entries(set, 1)).toEqual(['a', 'bb', 'c']);
    const hash = appendEntries('', ['f1', 'v1', 'f2', 'v2', 'f3', 'v3']);
    const ks = new Keyspace(new ManualClock(1_000));
    const slot = ks.insert('h', Kind.Hash, hash, 0);
    // Stride 2: a field goes with its value; a value's text is not a field.
    expect(removeEntries(ks, slot, Kind.Hash, hash, ['x', 'f2', 'v1', 'f2'], 1, 0, 2)).toBe(1);
    expect(entries(ks.valueAt(slot) as string, 0)).toEqual(['f1', 'v1', 'f3', 'v3']);
    const before = ks.valueAt(slot);
    expect(removeEntries(ks, slot, Kind.Hash, before as string, ['nope'], 0, 0, 2)).toBe(0);
    expect(ks.valueAt(slot)).toBe(before);
  });

  it('flat keeps the text', () => {
    const s = `${'a'.repeat(10)}${'b'.repeat(10)}`;
    expect(flat(s)).toBe(s);
    expect(flat('short')).toBe('short');
  });
});

describe('packed sorted sets', () => {
  it('read back every score form exactly, in order', () => {
    const scores = [
      -Infinity,
      -1e300,
      -121,
      -120,
      -2.25,
      -0,
      0,
      Number.MIN_VALUE,
      1.5,
      127,
      128,
      3_000_000_000,
      1e300,
      Infinity,
    ];
    const members = scores.map((_, i) => `m${i}`);
    const z = new PackedZSet(packZSet(members, scores));
    expect(z.size).toBe(scores.length);
    for (let i = 0; i < scores.length; i++) {
      expect(Object.is(z.scoreAt(i), scores[i])).toBe(true);
      expect(z.memberAt(i)).toBe(members[i]);
      expect(z.rank(members[i]!)).toBe(i);
    }
    expect(z.score('nope')).toBeUndefined();
    expect(z.firstByScore(0, false)).toBe(5);
    expect(z.firstByScore(0, true)).toBe(7);
    expect(z.endByScore(128, false)).toBe(11);
  });
});

/** Grouping a batch's prefix invalidations (core/targets/prefix-merge.ts). */
import { describe, expect, it } from 'vitest';
import type { CacheOp } from '../../../../core/targets/cache-op.ts';
import { countPrefixInvalidations, groupPrefixInvalidations } from '../../../../core/targets/prefix-merge.ts';

const P = (prefix: string, version: string): CacheOp => ({ kind: 'invalidatePrefix', prefix, version });
const R = (key: string): CacheOp => ({ kind: 'refresh', key, value: 'v', ttlMs: 0, version: '5' });
const I = (key: string): CacheOp => ({ kind: 'invalidate', key, version: '5' });

describe('groupPrefixInvalidations', () => {
  it('runs one prefix once, with the newest version, across ops that leave its keys alone', () => {
    const ops = [P('a:', '3'), I('b:1'), R('b:2'), P('c:', '1'), P('a:', '10'), P('a:', '7')];
    expect(countPrefixInvalidations(ops)).toBe(4);
    const g = groupPrefixInvalidations(ops);
    expect([...g.leaderOf]).toEqual([
      [4, 0],
      [5, 0],
    ]);
    // Versions compare as numbers, not strings: 10 is the newest.
    expect([...g.versionOf]).toEqual([[0, '10']]);
  });

  it('keeps the leader its own version when it is the newest', () => {
    const g = groupPrefixInvalidations([P('a:', '9'), P('a:', '2')]);
    expect([...g.leaderOf]).toEqual([[1, 0]]);
    expect(g.versionOf.size).toBe(0);
  });

  it('does not merge across an op on a key under the prefix (refresh, invalidate or soft)', () => {
    for (const between of [
      R('a:1'),
      I('a:2'),
      { kind: 'softInvalidate', key: 'a:3', version: '4' } as CacheOp,
    ]) {
      const g = groupPrefixInvalidations([P('a:', '1'), between, P('a:', '2')]);
      expect(g.leaderOf.size, between.kind).toBe(0);
    }
    // A key closes only the groups whose prefix it starts with: "a:x" ends "a:", "b:" stays open.
    const g = groupPrefixInvalidations([P('a:', '1'), P('b:', '1'), R('a:x'), P('a:', '2'), P('b:', '2')]);
    expect([...g.leaderOf]).toEqual([[4, 1]]);
  });

  it('does not merge across a tag invalidation, and never merges an op whose version is not a version', () => {
    const tag: CacheOp = { kind: 'invalidateTag', tag: 't', version: '3' };
    expect(groupPrefixInvalidations([P('a:', '1'), tag, P('a:', '2')]).leaderOf.size).toBe(0);
    expect(groupPrefixInvalidations([P('a:', 'x'), P('a:', '2')]).leaderOf.size).toBe(0);
    expect(groupPrefixInvalidations([P('a:', '2'), P('a:', 'nope')]).leaderOf.size).toBe(0);
  });

  it('treats the empty prefix as covering every key, and groups only inside [from, to)', () => {
    expect(groupPrefixInvalidations([P('', '1'), R('anything'), P('', '2')]).leaderOf.size).toBe(0);
    expect([...groupPrefixInvalidations([P('', '1'), P('', '2')]).leaderOf]).toEqual([[1, 0]]);
    const ops = [P('a:', '1'), P('a:', '2'), P('a:', '3')];
    expect([...groupPrefixInvalidations(ops, 1, 3).leaderOf]).toEqual([[2, 1]]);
    expect(countPrefixInvalidations(ops, 1, 2)).toBe(1);
  });
});

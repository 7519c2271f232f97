/**
 * The cache client's time policy (freshness.ts): stored TTL with jitter and grace, tag membership
 * TTL, and the four freshness states of a read entry, including XFetch's early refresh.
 */
import { describe, expect, it } from 'vitest';
import {
  freshMs,
  freshness,
  memberTtl,
  physicalTtl,
  type TtlPolicy,
} from '../../../../core/client/freshness.ts';

const policy = (o: Partial<TtlPolicy> = {}): TtlPolicy => ({
  ttlMs: 10_000,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  jitter: 0,
  earlyRefreshBeta: 0,
  leaseTtlMs: 1_000,
  ...o,
});
const entry = (ttlMs: number) => ({ value: Buffer.from('v'), ttlMs });
const never = () => 0.5;

describe('freshness', () => {
  it('stores a value for its jittered TTL plus the larger stale window; 0 stays 0', () => {
    const o = policy({ staleWhileRevalidateMs: 2_000, staleIfErrorMs: 5_000, jitter: 0.5 });
    expect(physicalTtl(o, () => 0)).toBe(15_000);
    expect(physicalTtl(o, () => 0.5)).toBe(12_500);
    expect(physicalTtl(policy({ ttlMs: 0, staleIfErrorMs: 5_000 }), never)).toBe(0);
  });

  it('keeps a tag membership as long as a fill could live, plus the lease', () => {
    expect(memberTtl(policy({ staleWhileRevalidateMs: 2_000 }))).toBe(13_000);
    expect(memberTtl(policy({ ttlMs: 0 }))).toBe(0);
  });

  it('classifies fresh, revalidate and grace by the remaining TTL', () => {
    const o = policy({ staleWhileRevalidateMs: 2_000, staleIfErrorMs: 5_000 });
    expect(freshness(entry(5_001), o, 0, never)).toBe('fresh');
    expect(freshness(entry(4_000), o, 0, never)).toBe('revalidate');
    expect(freshness(entry(2_000), o, 0, never)).toBe('grace');
    expect(freshness(entry(-1), o, 0, never)).toBe('fresh');
    expect(freshMs(entry(8_000), o)).toBe(3_000);
    expect(freshMs(entry(-1), o)).toBe(Number.POSITIVE_INFINITY);
  });

  it('refreshes early (XFetch) only with a measured load time, more likely near expiry', () => {
    const o = policy({ earlyRefreshBeta: 1 });
    // -loadMs * β * ln(random): 100 * ln(1/e) = 100 ms before expiry.
    const r = () => Math.exp(-1);
    expect(freshness(entry(100), o, 100, r)).toBe('early');
    expect(freshness(entry(101), o, 100, r)).toBe('fresh');
    expect(freshness(entry(100), o, 0, r)).toBe('fresh');
  });
});

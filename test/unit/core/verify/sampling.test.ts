/** The verifier's maths: sampling by row hash, durations and windows, nines, percentiles, token bucket. */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import {
  canonicalKey,
  formatDuration,
  isSampled,
  nines,
  parseDuration,
  parseWindows,
  percentile,
  rowIdentity,
  TokenBucket,
  unitHash,
} from '../../../../core/verify/index.ts';

const event = (key: ChangeEvent['key'], version = '1'): ChangeEvent => ({
  source: 'debezium',
  table: 'customers',
  namespace: 'public',
  op: 'update',
  key,
  before: null,
  after: { id: 1 },
  version,
  ts: 0,
});

describe('sampling', () => {
  it('identifies a row by table and canonical key, whatever the field order and version', () => {
    expect(canonicalKey({ b: 2, a: 'x' })).toBe('{"a":"x","b":2}');
    expect(rowIdentity(event({ b: 2, a: 'x' }, '5'))).toBe(rowIdentity(event({ a: 'x', b: 2 }, '9')));
    expect(rowIdentity(event({ id: 1 }))).toBe('public.customers {"id":1}');
    expect(rowIdentity(event(null))).toBeNull();
  });

  it('is deterministic, follows every change of a sampled row, and samples about the fraction', () => {
    let sampled = 0;
    for (let id = 0; id < 20_000; id++) {
      const row = rowIdentity(event({ id }))!;
      const s = isSampled(row, 0.1);
      expect(isSampled(row, 0.1)).toBe(s);
      if (s) sampled++;
    }
    expect(sampled / 20_000).toBeGreaterThan(0.09);
    expect(sampled / 20_000).toBeLessThan(0.11);
    expect(isSampled('anything', 1)).toBe(true);
    expect(isSampled('anything', 0)).toBe(false);
  });

  it('a row sampled at a fraction stays sampled at any larger fraction (nested samples)', () => {
    for (let id = 0; id < 2000; id++) {
      const row = `t {"id":${id}}`;
      if (isSampled(row, 0.01)) expect(isSampled(row, 0.05)).toBe(true);
    }
    const u = unitHash('x');
    expect(u).toBeGreaterThanOrEqual(0);
    expect(u).toBeLessThan(1);
  });
});

describe('durations, windows, nines, percentiles', () => {
  it('parses durations and windows, and names bad input', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(() => parseDuration('soon')).toThrow(/"soon" is not a duration/);
    expect(parseWindows('30s,1s,5s,1s')).toEqual([1000, 5000, 30_000]);
    expect(() => parseWindows('')).toThrow(/at least one window/);
    expect(() => parseWindows('0s')).toThrow(/longer than 0/);
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('∞');
  });

  it('counts nines: 90% = 1, 99.9% = 3, 99.95% = 3.3, 100% = Infinity', () => {
    expect(nines(0.9)).toBe(1);
    expect(nines(0.999)).toBe(3);
    expect(nines(0.99999)).toBe(5);
    expect(nines(0.9995)).toBe(3.3);
    expect(nines(0.5)).toBe(0.3);
    expect(nines(0)).toBe(0);
    expect(nines(1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes nearest-rank percentiles, keeping Infinity', () => {
    const v = [100, 100, 250, 500, Number.POSITIVE_INFINITY];
    expect(percentile(v, 50)).toBe(250);
    expect(percentile(v, 99)).toBe(Number.POSITIVE_INFINITY);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('token bucket (fake clock)', () => {
  it('allows a burst, then one token per 1/rate seconds', async () => {
    let t = 0;
    const bucket = new TokenBucket({
      ratePerSec: 10,
      burst: 2,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    for (let i = 0; i < 10; i++) await bucket.take();
    // 10 more tokens at 10/s take 1 s of (fake) time.
    expect(t).toBe(1000);
    expect(bucket.waitedMs).toBe(1000);
    t += 10_000; // idle time refills only up to the burst
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new TokenBucket({ ratePerSec: 0 })).toThrow(/positive/);
  });
});

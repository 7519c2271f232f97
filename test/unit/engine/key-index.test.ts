/**
 * The keyspace's open-addressing key index (engine/key-index.ts) against a Map model: random
 * inserts, replacements and deletes (backward-shift deletion), growth and shrinking, and a
 * keyspace-level check that lookups, expiry and removal still agree after heavy churn.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../engine/clock.ts';
import { KeyIndex } from '../../../engine/key-index.ts';
import { Keyspace, Kind } from '../../../engine/keyspace.ts';
import { seededInts } from '../../support/seeded-random.ts';

describe('KeyIndex', () => {
  it('agrees with a Map through 200k random operations, growing and shrinking', { timeout: 30_000 }, () => {
    /** Keys at even indexes, as the keyspace interleaves them with values. */
    const kv: string[] = [];
    const free: number[] = [];
    let top = 1;
    const index = new KeyIndex(() => kv);
    const model = new Map<string, number>();
    const rand = seededInts(7);
    let maxSize = 0;
    let mismatches = 0;
    for (let op = 0; op < 200_000; op++) {
      // Phases: grow to ~20k keys, then shrink to ~0, then grow again.
      const phase = Math.floor(op / 50_000) % 2;
      const key = `k:${rand(phase === 0 ? 40_000 : 25_000)}`;
      const r = rand(10);
      if ((phase === 0 && r < 7) || (phase === 1 && r < 2)) {
        const packed = model.get(key);
        if (packed === undefined) {
          const slot = free.pop() ?? top++;
          kv[slot * 2] = key;
          const p = (slot << 4) | (1 + rand(8));
          index.set(key, p);
          model.set(key, p);
        } else {
          const p = (packed & ~15) | (1 + rand(8));
          index.set(key, p);
          model.set(key, p);
        }
      } else {
        const packed = model.get(key);
        if (index.delete(key) !== (packed !== undefined)) mismatches++;
        if (packed !== undefined) {
          model.delete(key);
          kv[(packed >>> 4) * 2] = '';
          free.push(packed >>> 4);
        }
      }
      maxSize = Math.max(maxSize, model.size);
      if (op % 997 === 0) {
        const probe = `k:${rand(40_000)}`;
        if (index.get(probe) !== model.get(probe)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(maxSize).toBeGreaterThan(15_000);
    expect(index.size).toBe(model.size);
    expect([...model].filter(([k, v]) => index.get(k) !== v)).toEqual([]);
    expect([...index.keys()].sort()).toEqual([...model.keys()].sort());
    let hasMismatches = 0;
    for (let i = 0; i < 40_000; i++) if (index.has(`k:${i}`) !== model.has(`k:${i}`)) hasMismatches++;
    expect(hasMismatches).toBe(0);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.get([...model.keys()][0] ?? 'k:1')).toBeUndefined();
  });

  it('keeps the keyspace consistent under churn with TTLs', { timeout: 30_000 }, () => {
    const clock = new ManualClock(1_000_000);
    const ks = new Keyspace(clock);
    for (let i = 0; i < 30_000; i++)
      ks.setString(`key:${i}`, Kind.Bytes, `v${i}`, i % 3 === 0 ? 1_000_500 : 0, clock.now());
    for (let i = 0; i < 30_000; i += 2) {
      const slot = ks.find(`key:${i}`, clock.now());
      if (slot >= 0) ks.remove(slot, 'delete');
    }
    clock.advance(1000);
    let live = 0;
    for (let i = 0; i < 30_000; i++) {
      const slot = ks.findLive(`key:${i}`, clock.now());
      const expected = i % 2 === 1 && i % 3 !== 0;
      expect(slot >= 0).toBe(expected);
      if (slot >= 0) {
        live++;
        expect(ks.keyAt(slot)).toBe(`key:${i}`);
        expect(ks.valueAt(slot)).toBe(`v${i}`);
      }
    }
    expect(ks.size).toBe(live);
    expect(ks.index.size).toBe(live);
  });
});

describe('expiry cells', () => {
  it('keep exact expiries in and out of the 4-byte range, across a rebase and slot reuse', () => {
    const start = 1_700_000_000_000;
    const clock = new ManualClock(start);
    const ks = new Keyspace(clock);
    const day = 86_400_000;
    const cases: [string, number][] = [
      ['near', start + 5_000],
      ['past', start - 10_000], // before the base: held exactly outside the cells
      ['far', start + 60 * day], // beyond 49.7 days
      ['fraction', start + 1234.5],
      ['none', 0],
    ];
    for (const [key, at] of cases) ks.setString(key, Kind.Bytes, 'v', at, clock.now());
    expect(ks.farExpiries).toBe(3); // past, far and the fractional one
    for (const [key, at] of cases) expect(ks.expireAt(ks.index.get(key)! >>> 4)).toBe(at);
    // Rebasing a month later keeps every expiry exact.
    ks.rebaseExpiries(start + 30 * day);
    for (const [key, at] of cases) expect(ks.expireAt(ks.index.get(key)! >>> 4)).toBe(at);
    // A removed slot's far expiry does not leak into the key that reuses the slot.
    const farSlot = ks.index.get('far')! >>> 4;
    ks.remove(farSlot, 'delete');
    expect(ks.setString('reuse', Kind.Bytes, 'w', 0, clock.now())).toBe(farSlot);
    expect(ks.expireAt(farSlot)).toBe(0);
    // Lazy expiry still sees the past one as expired, the near one as live until its time.
    expect(ks.find('past', clock.now())).toBe(-1);
    expect(ks.find('near', clock.now())).toBeGreaterThanOrEqual(0);
    clock.advance(5_001);
    expect(ks.find('near', clock.now())).toBe(-1);
    expect(ks.volatileCount).toBe(1); // 'fraction' expired but not looked at yet; 'far' removed
  });
});

describe('KeyIndex.getBytes', () => {
  it('finds a key by its raw bytes exactly as get() finds the latin1 string of them', () => {
    const kv: string[] = [];
    const index = new KeyIndex(() => kv);
    const stored = [
      'a',
      '',
      'key:000001234',
      '\u00e9t\u00e9',
      '\u0000\r\n\u00ff',
      'x'.repeat(300),
      'caf\u00e9',
    ];
    stored.forEach((key, i) => {
      kv[(i + 1) * 2] = key;
      index.set(key, ((i + 1) << 4) | 2);
    });
    for (let i = 0; i < 2_000; i++) {
      kv[(stored.length + 1 + i) * 2] = `k:${i}`;
      index.set(`k:${i}`, ((stored.length + 1 + i) << 4) | 2);
    }
    const probes = [
      ...stored.map((k) => Buffer.from(k, 'latin1')),
      Buffer.from('caf\u00e9', 'utf8'), // the UTF-8 bytes of a latin1-stored key: a different key
      Buffer.from('k:1999'),
      Buffer.from('k:2000'),
      Buffer.from('ke'),
      Buffer.from([0, 13, 10]),
    ];
    for (const probe of probes) {
      // Offsets inside a larger buffer, with other bytes around, as in a read buffer.
      const framed = Buffer.concat([Buffer.from('$9\r\n'), probe, Buffer.from('\r\nzz')]);
      expect(index.getBytes(framed, 4, 4 + probe.length)).toBe(index.get(probe.toString('latin1')));
    }
    expect(index.getBytes(Buffer.from('caf\u00e9', 'utf8'), 0, 5)).toBeUndefined();
    expect(index.getBytes(Buffer.from('k:7'), 0, 3)).toBe(index.get('k:7'));
    // A key holding a char above 0xff (in-process text) is never matched by bytes.
    kv[9_000 * 2] = '\u20ac';
    index.set('\u20ac', (9_000 << 4) | 1);
    expect(index.getBytes(Buffer.from([0xac]), 0, 1)).toBeUndefined();
  });
});

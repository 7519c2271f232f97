import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../engine/index.ts';
import { Kind } from '../../../engine/keyspace.ts';

describe('memory accounting', () => {
  it('returns to its baseline when keys go away, whatever wrote them', () => {
    const engine = createEngine({ activeExpire: false });
    for (let i = 0; i < 5000; i++) engine.set(`warm${i}`, 'x');
    for (let i = 0; i < 5000; i++) engine.delete(`warm${i}`);
    const base = engine.usedMemory;
    for (let i = 0; i < 3000; i++) engine.set(`k${i}`, 'v'.repeat(i % 300), { ttlMs: 60_000 });
    for (let i = 0; i < 3000; i += 3) engine.set(`k${i}`, Buffer.alloc(50));
    engine.invalidate('k1', '05');
    engine.refreshIfNewer('k2', 'fresh', 0, '06');
    expect(engine.usedMemory).toBeGreaterThan(base + 3000 * 50);
    for (let i = 0; i < 3000; i++) engine.core.deleteKey(`k${i}`, engine.clock.now());
    engine.invalidate('k1', '07', 0);
    expect(engine.usedMemory).toBe(base);
    engine.close();
  });

  it('accounts hash edits in place', () => {
    const engine = createEngine({ activeExpire: false });
    const ks = engine.core.keyspace;
    const base = engine.usedMemory;
    const slot = ks.insert('h', Kind.Hash, new Map([['f', 'v']]), 0);
    const one = engine.usedMemory;
    (ks.valueAt(slot) as Map<string, string>).set('g', 'w'.repeat(100));
    ks.recomputeSize(slot);
    expect(engine.usedMemory).toBeGreaterThan(one + 100);
    ks.remove(slot, 'delete');
    expect(engine.usedMemory).toBe(base);
    engine.close();
  });
});

import { describe, expect, it } from 'vitest';
import { createEngineTarget } from '../../../../../core/targets/engine/engine-target.ts';
import { createEngine, ManualClock } from '../../../../../engine/index.ts';

describe('engine target (embedded)', () => {
  it('applies refresh/invalidate/prefix ops with version fencing and dumps visible values', async () => {
    const clock = new ManualClock();
    const target = createEngineTarget({ engineOptions: { clock }, tombstoneTtlMs: 1000 });
    expect(target.kind).toBe('engine');
    const results = await target.apply([
      { kind: 'refresh', key: 'u:1', value: '{"a":1}', ttlMs: 0, version: '10' },
      { kind: 'refresh', key: 'u:1', value: '{"a":0}', ttlMs: 0, version: '9' },
      { kind: 'refresh', key: 'u:2', value: '{"b":1}', ttlMs: 5000, version: '4421584500000000017450439091' },
      { kind: 'invalidate', key: 'u:3', version: '3.154.0' },
      { kind: 'refresh', key: 'u:3', value: 'stale', ttlMs: 0, version: '3.153.9' },
      { kind: 'refresh', key: 'u:1', value: '{"a":1}', ttlMs: 0, version: '10' },
    ]);
    expect(results).toEqual([
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'fenced' },
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'fenced' },
      { ok: true, outcome: 'fenced' },
    ]);
    expect(await target.get('u:1')).toBe('{"a":1}');
    expect(await target.get('u:3')).toBeNull();
    expect(await target.dump()).toEqual({ 'u:1': '{"a":1}', 'u:2': '{"b":1}' });
    // Versions compare as integers, not as text: 10 > 9, and a prefix op is fenced per key.
    await target.apply([{ kind: 'invalidatePrefix', prefix: 'u:', version: '4421584500000000017450439092' }]);
    expect(await target.dump()).toEqual({});
    clock.advance(6000);
    await target.close();
  });

  it('reports a malformed version as a non-retriable failure', async () => {
    const target = createEngineTarget();
    const [r] = await target.apply([{ kind: 'invalidate', key: 'k', version: 'abc' }]);
    expect(r?.ok).toBe(false);
    if (r && !r.ok) expect(r.error.retriable).toBe(false);
    await target.close();
  });

  it('wraps an existing engine and leaves it open on close', async () => {
    const engine = createEngine({ activeExpire: false });
    const target = createEngineTarget({ engine });
    await target.apply([{ kind: 'refresh', key: 'k', value: 'v', ttlMs: 0, version: '1' }]);
    expect(engine.get('k')).toBe('v');
    await target.close();
    expect(engine.get('k')).toBe('v');
  });
});

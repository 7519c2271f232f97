import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  EngineErrorCode,
  type HookChange,
  ManualClock,
} from '../../../engine/index.ts';

let engine: Engine;
let clock: ManualClock;
afterEach(() => engine?.close());

function setup(): void {
  clock = new ManualClock();
  engine = createEngine({ clock });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('write-through hooks', () => {
  it('persist first, then cache; keys outside the prefix skip the hook', async () => {
    setup();
    const persisted: HookChange[] = [];
    engine.addWriteThroughHook({
      prefix: 'user:',
      persist: (c) => {
        if (c.op === 'set') expect(engine.get('user:1')).toBeNull(); // the cache has not changed yet
        persisted.push(c);
      },
    });
    expect(await engine.write('user:1', 'ada', { ttlMs: 1000 })).toBe(true);
    expect(engine.get('user:1')).toBe('ada');
    expect(persisted).toEqual([{ op: 'set', key: 'user:1', value: Buffer.from('ada'), ttlMs: 1000 }]);
    await engine.write('other', 'x');
    expect(persisted).toHaveLength(1);
    expect(await engine.remove('user:1')).toBe(true);
    expect(persisted[1]).toEqual({ op: 'delete', key: 'user:1' });
    expect(engine.has('user:1')).toBe(false);
  });

  it('a failing hook leaves the old value and reports E_ENGINE_HOOK_FAILED', async () => {
    setup();
    let fail = false;
    engine.addWriteThroughHook({
      pattern: 'acct:*',
      persist: () => {
        if (fail) throw new Error('db down');
      },
    });
    await engine.write('acct:1', 'old');
    fail = true;
    await expect(engine.write('acct:1', 'new')).rejects.toMatchObject({
      code: EngineErrorCode.HookFailed,
      message: 'write-through hook failed: db down',
      retriable: false,
    });
    expect(engine.get('acct:1')).toBe('old');
    await expect(engine.remove('acct:1')).rejects.toMatchObject({ code: EngineErrorCode.HookFailed });
    expect(engine.get('acct:1')).toBe('old');
  });

  it('a hook that does not settle in time fails retriably and drops the cached key', async () => {
    setup();
    engine.set('slow:1', 'cached');
    engine.addWriteThroughHook({ prefix: 'slow:', timeoutMs: 100, persist: () => new Promise(() => {}) });
    const pending = engine.write('slow:1', 'new');
    await tick();
    clock.advance(101);
    await expect(pending).rejects.toMatchObject({ code: EngineErrorCode.HookTimeout, retriable: true });
    expect(engine.has('slow:1')).toBe(false);
  });

  it('writes to one key are serialised in arrival order', async () => {
    setup();
    const started: string[] = [];
    const release: (() => void)[] = [];
    engine.addWriteThroughHook({
      prefix: 'k',
      persist: (c) =>
        new Promise<void>((resolve) => {
          started.push(c.op === 'set' ? c.value.toString() : 'del');
          release.push(resolve);
        }),
    });
    const a = engine.write('k', 'a');
    const b = engine.write('k', 'b');
    await tick();
    expect(started).toEqual(['a']); // b waits for a
    release.shift()!();
    await a;
    await tick();
    expect(started).toEqual(['a', 'b']);
    release.shift()!();
    await b;
    expect(engine.get('k')).toBe('b');
  });

  it('synchronous set/delete on a hooked key is refused; bad registrations are rejected', () => {
    setup();
    engine.addWriteThroughHook({ prefix: 'h:', persist: () => {} });
    expect(() => engine.set('h:1', 'x')).toThrow(
      expect.objectContaining({ code: EngineErrorCode.HookedKey }),
    );
    expect(() => engine.delete('h:1')).toThrow(expect.objectContaining({ code: EngineErrorCode.HookedKey }));
    expect(() => engine.addWriteThroughHook({ persist: () => {} })).toThrow(/exactly one of/);
    expect(() => engine.addWriteThroughHook({ prefix: 'a', pattern: 'b', persist: () => {} })).toThrow(
      /exactly one of/,
    );
  });

  it('unregistering a hook makes the key plain again', () => {
    setup();
    const off = engine.addWriteThroughHook({ prefix: 'h:', persist: () => {} });
    off();
    expect(engine.set('h:1', 'x')).toBe(true);
  });
});

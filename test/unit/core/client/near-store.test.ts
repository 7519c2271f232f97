/**
 * The near cache's store (core/client/near-cache/near-store.ts): bounds by entries and bytes, CLOCK
 * eviction (an entry read since the hand last passed survives one sweep), deadlines on an injected
 * clock, the shared resolved promise of getOrLoad's hit path, and slot growth past the first 1,024.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NearStore } from '../../../../core/client/near-cache/near-store.ts';

const storeUrl = new URL('../../../../core/client/near-cache/near-store.ts', import.meta.url).href;

function clocked(maxEntries: number, maxBytes: number) {
  let now = 1000;
  const store = new NearStore(maxEntries, maxBytes, () => now);
  return { store, advance: (ms: number) => (now += ms) };
}

describe('NearStore', () => {
  it('keeps at most maxEntries, evicting an entry not read since the hand passed', () => {
    const { store } = clocked(3, 1 << 20);
    for (const k of ['a', 'b', 'c']) store.set(k, k, 60_000, 1);
    // The first sweep clears every new entry's used bit and evicts the oldest slot, 'a'.
    store.set('d', 'd', 60_000, 1);
    expect([store.get('a'), store.size]).toEqual([undefined, 3]);
    // Now 'b' and 'c' are unused; reading 'b' gives it a second chance, so 'c' goes next.
    expect(store.get('b')).toBe('b');
    store.set('e', 'e', 60_000, 1);
    expect(['b', 'c', 'd', 'e'].map((k) => store.get(k))).toEqual(['b', undefined, 'd', 'e']);
  });

  it('keeps at most maxBytes and refuses an entry larger than all of it', () => {
    const { store } = clocked(100, 250);
    for (let i = 0; i < 5; i++) store.set(`k${i}`, i, 60_000, 100);
    expect([store.size, store.bytes]).toEqual([2, 200]);
    store.set('huge', 'x', 60_000, 251);
    expect([store.get('huge'), store.size, store.bytes]).toEqual([undefined, 2, 200]);
    store.set('k3', 'replaced', 60_000, 10);
    expect([store.get('k3'), store.bytes]).toEqual(['replaced', 110]);
  });

  it('never returns an entry once the clock reached its deadline, and drops it', () => {
    const { store, advance } = clocked(10, 1000);
    store.set('k', 'v', 50, 1);
    advance(49);
    expect(store.get('k')).toBe('v');
    advance(1);
    expect(store.get('k')).toBeUndefined();
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });

  it("shares one resolved promise per entry, and a new entry's promise holds the new value", async () => {
    const { store } = clocked(10, 1000);
    store.set('k', { v: 1 }, 60_000, 1);
    const first = store.getResolved('k');
    expect(store.getResolved('k')).toBe(first);
    expect(await first).toEqual({ v: 1 });
    store.set('k', { v: 2 }, 60_000, 1);
    const second = store.getResolved('k');
    expect(second).not.toBe(first);
    expect(await second).toEqual({ v: 2 });
    store.delete('k');
    expect(store.getResolved('k')).toBeUndefined();
  });

  it('grows past its first 1,024 slots up to maxEntries, and clear empties it', () => {
    const { store } = clocked(5000, 1 << 30);
    for (let i = 0; i < 6000; i++) store.set(`k${i}`, i, 60_000, 8);
    expect([store.size, store.bytes]).toEqual([5000, 40_000]);
    expect(store.get('k5999')).toBe(5999);
    store.clear();
    expect([store.size, store.bytes, store.get('k5999')]).toEqual([0, 0, undefined]);
    for (let i = 0; i < 5000; i++) store.set(`n${i}`, i, 60_000, 8);
    expect([store.size, store.get('n0'), store.get('n4999')]).toEqual([5000, 0, 4999]);
  });

  it('with the default (cached) clock, an entry past its deadline is gone once the event loop turned', async () => {
    const store = new NearStore(10, 1000);
    store.set('k', 'v', 20, 1);
    expect(store.get('k')).toBe('v');
    await new Promise((r) => setTimeout(r, 40));
    expect(store.get('k')).toBeUndefined();
  });

  it('with the default clock, a read in an I/O callback after an idle wait sees the time of the wait', async () => {
    // In a process of its own (the test worker's own I/O would wake the loop): a child that writes in
    // 500 ms, then at 200 ms (a timer) an entry for 50 ms. The loop then waits in its poll phase with
    // nothing else to do until the child's output arrives, and the read there must see that time.
    const dir = await mkdtemp(join(tmpdir(), 'near-store-'));
    const file = join(dir, 'idle-read.mjs');
    await writeFile(
      file,
      `import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
      import { NearStore } from ${JSON.stringify(storeUrl)};
      const store = new NearStore(10, 1000);
      let set = false;
      const child = spawn('sh', ['-c', 'sleep 0.5; echo x'], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.once('data', () => process.stdout.write(JSON.stringify({ set, seen: store.get('k') ?? null })));
      setTimeout(() => { store.set('k', 'v', 50, 1); set = true; }, 200);`,
    );
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const node = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        node.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        node.on('error', reject);
        node.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
      });
      expect(JSON.parse(out)).toEqual({ set: true, seen: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

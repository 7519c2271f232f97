/**
 * One key, one text, both surfaces: a key the in-process API is given as text is the key a protocol
 * client (iovalkey, UTF-8) names with the same text, on one engine served over RESP. Non-ASCII keys
 * ('user:josé', '日本', an emoji): writes, deletes and versioned invalidations each way, KEYS/SCAN
 * bytes, keys()/dump() text, listener events, the near cache over the engine listener tracker, and a
 * CDC apply through the in-process target.
 */
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheClient, createNearCache, leaseStoreFor } from '../../../core/client/index.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import {
  createEngine,
  type Engine,
  type EngineEvent,
  type EngineServer,
  startEngineServer,
} from '../../../engine/index.ts';

const P = `kid:${process.pid}:`;
const TEXTS = ['user:jos\u00e9', '\u65e5\u672c', 'emoji:\u{1f600}'];

let engine: Engine;
let server: EngineServer;
let client: Valkey;
beforeAll(async () => {
  engine = createEngine();
  server = await startEngineServer({ port: 0, engine });
  client = new Valkey({ port: server.port, host: '127.0.0.1', lazyConnect: true });
  await client.connect();
});
afterAll(async () => {
  client?.disconnect();
  await server?.close();
  engine?.close();
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('key identity between the in-process API and the protocol', () => {
  for (const text of TEXTS) {
    it(`in-process set/delete/invalidate of ${JSON.stringify(text)} is seen over the protocol`, async () => {
      const key = `${P}in:${text}`;
      engine.set(key, 'v1');
      expect(await client.get(key)).toBe('v1');
      expect(engine.delete(key)).toBe(true);
      expect(await client.get(key)).toBeNull();
      expect(engine.refreshIfNewer(key, 'v2', 0, '5')).toBe('applied');
      expect(await client.get(key)).toBe('v2');
      expect(engine.invalidate(key, '6')).toBe('applied');
      expect(await client.get(key)).toBeNull();
      expect(await client.exists(key)).toBe(0);
    });

    it(`a protocol SET of ${JSON.stringify(text)} is the in-process key`, async () => {
      const key = `${P}out:${text}`;
      await client.set(key, 'w1');
      expect(engine.get(key)).toBe('w1');
      expect(engine.has(key)).toBe(true);
      expect(engine.delete(key)).toBe(true);
      expect(await client.exists(key)).toBe(0);
    });
  }

  it('KEYS and SCAN over the protocol answer UTF-8 bytes; keys() and dump() answer the text', async () => {
    const prefix = `${P}list:`;
    for (const text of TEXTS) engine.set(prefix + text, text);
    const want = TEXTS.map((t) => Buffer.from(prefix + t, 'utf8')).sort(Buffer.compare);
    expect((await client.keysBuffer(`${prefix}*`)).sort(Buffer.compare)).toEqual(want);
    const scanned: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, page] = await client.scanBuffer(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
      cursor = next.toString();
      scanned.push(...page);
    } while (cursor !== '0');
    expect(scanned.sort(Buffer.compare)).toEqual(want);
    expect(engine.keys(`${prefix}*`).sort()).toEqual(TEXTS.map((t) => prefix + t).sort());
    // A non-ASCII pattern is text too.
    expect(engine.keys(`${prefix}\u65e5*`)).toEqual([`${prefix}\u65e5\u672c`]);
    const dump = engine.dump();
    for (const text of TEXTS) expect(dump[prefix + text]).toBe(text);
  });

  it('listener events name the key as text, for in-process and protocol changes', async () => {
    const key = `${P}ev:${TEXTS[0]}`;
    const seen: EngineEvent[] = [];
    const off = engine.on('write', (e) => seen.push(e));
    try {
      engine.set(key, 'a');
      await client.set(key, 'b');
      expect(seen.map((e) => e.key)).toEqual([key, key]);
    } finally {
      off();
    }
  });

  it('tag pages and write-through hook changes name the key as text', async () => {
    const key = `${P}tag:${TEXTS[2]}`;
    const tag = `${P}t\u00e9`;
    const epochs = engine.joinTags(key, [tag], 0);
    expect(epochs.map(([t]) => t)).toEqual([tag]);
    expect(engine.writeTagged(key, 'x', 0, undefined, epochs)).toBe('applied');
    expect(await client.get(key)).toBe('x');
    const page = engine.invalidateTagPage(tag, '');
    expect(page.keys).toEqual([key]);
    expect(await client.get(key)).toBeNull();

    const hooked = `${P}h\u00e9:`;
    const changes: string[] = [];
    const off = engine.addWriteThroughHook({
      prefix: hooked,
      persist: (c) => void changes.push(`${c.op} ${c.key}`),
    });
    try {
      await engine.write(`${hooked}1`, 'a');
      await client.set(`${hooked}2`, 'b');
      await client.del(`${hooked}2`);
      expect(() => engine.set(`${hooked}3`, 'c')).toThrow(/use write\(\)/);
      expect(changes).toEqual([`set ${hooked}1`, `set ${hooked}2`, `delete ${hooked}2`]);
      expect(await client.get(`${hooked}1`)).toBe('a');
    } finally {
      off();
    }
  });

  it('the near cache over the engine listener tracker drops a non-ASCII key a protocol write changed', async () => {
    const target = createEngineTarget({ engine });
    const near = await createNearCache({ maxEntries: 100, maxBytes: 1 << 20, ttlMs: 60_000 });
    const app = createCacheClient({ store: leaseStoreFor(target), near, ttlMs: 60_000 });
    try {
      await until('tracking up', () => app.nearStats()?.tracking === 'up');
      const key = `${P}near:${TEXTS[1]}`;
      engine.set(key, JSON.stringify('v1'));
      const hits = app.nearStats()!.hits;
      for (let i = 0; i < 50 && app.nearStats()!.hits === hits; i++) {
        expect(await app.getOrLoad(key, async () => 'never')).toBe('v1');
      }
      expect(app.nearStats()!.hits).toBe(hits + 1);
      const seen = app.nearStats()!.invalidations;
      await client.set(key, JSON.stringify('v2'));
      await until('near invalidation', () => app.nearStats()!.invalidations > seen);
      expect(await app.getOrLoad(key, async () => 'never')).toBe('v2');
    } finally {
      await app.close();
    }
  });

  it('a CDC apply through the in-process target is what a protocol GET sees', async () => {
    const target = createEngineTarget({ engine });
    const key = `${P}cdc:${TEXTS[0]}`;
    await client.set(key, 'cached by the app');
    const results = await target.apply([{ kind: 'invalidate', key, version: '7' }]);
    expect(results.map((r) => r.ok && r.outcome)).toEqual(['applied']);
    expect(await client.get(key)).toBeNull();
    await target.apply([{ kind: 'refresh', key, value: 'fresh', ttlMs: 0, version: '8' }]);
    expect(await client.get(key)).toBe('fresh');
    expect(await target.get(key)).toBe('fresh');
  });
});

/**
 * What the Valkey adapter promises beyond the shared conformance suite: metadata siblings share
 * their key's slot (checked by the server itself), plain values stay plain, scripts survive a
 * SCRIPT FLUSH, an outage fails ops retriably (and retries succeed once the server is back), bad
 * credentials fail at open, not retriably.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetriable } from '../../../core/errors.ts';
import { applyWithRetry } from '../../../core/pipeline/apply.ts';
import { keySlot } from '../../../core/targets/valkey/slots.ts';
import { leaseKey, versionKey } from '../../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const ns = `vt:${process.pid}-${randomBytes(3).toString('hex')}:`;

describe('Valkey target on the 3-master cluster', () => {
  let target: ValkeyTarget;
  beforeAll(async () => {
    requireServices('valkey-cluster');
    target = await createValkeyTarget({
      url: `valkey://${valkeyServices().clusterNodes[0]}`,
      tombstoneTtlMs: 0,
    });
  });
  afterAll(async () => {
    await target?.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(30) }]);
    await target?.close();
  });

  it('detects the cluster from one seed node', () => {
    expect(target.kind).toBe('valkey-cluster');
  });

  it('names siblings in the same slot as their key, as the server computes it', async () => {
    const keys = ['user:1', 'a{b}c', '{b}', 'x}y', '{}z', 'ключ', '{a}{b}', 'pre{}fix{tag}', ''];
    for (const key of keys) {
      const server = (await target.client.call('CLUSTER', 'KEYSLOT', key)) as number;
      expect(keySlot(key), key).toBe(server);
      expect(await target.client.call('CLUSTER', 'KEYSLOT', versionKey(key)), `version of ${key}`).toBe(
        server,
      );
      expect(await target.client.call('CLUSTER', 'KEYSLOT', leaseKey(key)), `lease of ${key}`).toBe(server);
    }
  });

  it('keeps values plain and the version beside them', async () => {
    const key = `${ns}plain`;
    await target.apply([{ kind: 'refresh', key, value: '{"a":1}', ttlMs: 60_000, version: '3.154.0' }]);
    expect(await target.client.get(key)).toBe('{"a":1}');
    expect(await target.client.get(versionKey(key))).toBe('013.03154.010');
    const ttl = await target.client.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(Math.abs((await target.client.pttl(versionKey(key))) - ttl)).toBeLessThan(50);
  });
});

describe('Valkey target against a private server', () => {
  let server: OwnValkey;
  let target: ValkeyTarget;
  beforeAll(async () => {
    server = await startOwnValkey();
    target = await createValkeyTarget({ url: server.url, commandTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await target?.close();
    await server?.stop();
  });

  it('reloads its scripts after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    await target.client.script('FLUSH');
    const rs = await target.apply([
      { kind: 'refresh', key: 'a', value: '1', ttlMs: 0, version: '1' },
      { kind: 'invalidate', key: 'b', version: '1' },
    ]);
    expect(rs).toEqual([
      { ok: true, outcome: 'applied' },
      { ok: true, outcome: 'applied' },
    ]);
  });

  it('fails ops retriably while the server is down, and applies them once it is back', async () => {
    await server.stop(true);
    const down = await target.apply([{ kind: 'refresh', key: 'c', value: 'x', ttlMs: 0, version: '2' }]);
    expect(down[0]?.ok).toBe(false);
    expect(isRetriable(!down[0]?.ok && down[0]?.error)).toBe(true);
    const restart = setTimeout(() => void server.start(), 300);
    const rs = await applyWithRetry(
      target,
      [{ kind: 'refresh', key: 'c', value: 'x', ttlMs: 0, version: '2' }],
      {
        attempts: 20,
        baseDelayMs: 100,
        maxDelayMs: 500,
      },
    );
    clearTimeout(restart);
    expect(rs).toEqual([{ ok: true, outcome: 'applied' }]);
    expect(await target.get('c')).toBe('x');
  });

  it('refuses reserved keys and malformed versions without retrying', async () => {
    const rs = await target.apply([
      { kind: 'refresh', key: '__cdc:v:{x}', value: '1', ttlMs: 0, version: '1' },
      { kind: 'invalidate', key: 'ok', version: 'v1' },
    ]);
    for (const r of rs) {
      expect(r.ok).toBe(false);
      expect(isRetriable(!r.ok && r.error)).toBe(false);
    }
  });
});

describe('Valkey target with TLS and an ACL user', () => {
  it('rejects a wrong password at open, not retriably', async () => {
    requireServices('valkey-tls');
    const { tlsUrl, tlsCa } = valkeyServices();
    const wrong = tlsUrl.replace(/:[^:@/]*@/, ':wrong-password@');
    const error = await createValkeyTarget({ url: `${wrong}?ca=${encodeURIComponent(tlsCa)}` }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error.message)).toMatch(/WRONGPASS|invalid username-password/);
    expect(isRetriable(error)).toBe(false);
  });
});

/**
 * The harness's three Valkey deployments answer real commands through iovalkey: standalone, the
 * 3-master cluster (keys spread over every master), and TLS with an ACL user (default user off).
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

const run = `${process.pid}-${Date.now()}`;

describe('valkey standalone', () => {
  let client: Redis;
  beforeAll(() => {
    requireServices('valkey');
    client = new Redis(serviceEnv('CDC_CACHE_VALKEY_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  afterAll(() => client?.disconnect());

  it('SET then GET returns the value', async () => {
    await client.connect();
    await client.set(`it:standalone:${run}`, 'v1', 'PX', 60_000);
    expect(await client.get(`it:standalone:${run}`)).toBe('v1');
    expect(await client.info('server')).toMatch(/valkey_version:8\./);
  });
});

describe('valkey cluster', () => {
  let cluster: Cluster;
  beforeAll(() => {
    requireServices('valkey-cluster');
    const nodes = serviceEnv('CDC_CACHE_VALKEY_CLUSTER_NODES')
      .split(',')
      .map((hp) => {
        const [host, port] = hp.split(':');
        return { host: host ?? '127.0.0.1', port: Number(port) };
      });
    cluster = new Cluster(nodes, { lazyConnect: true });
  });
  afterAll(() => cluster?.disconnect());

  it('has three masters covering all slots', async () => {
    await cluster.connect();
    const info = await cluster.cluster('INFO');
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_assigned:16384');
    expect(cluster.nodes('master')).toHaveLength(3);
  });

  it('SET/GET keys that land on different masters', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `it:cluster:${run}:${i}`);
    for (const key of keys) await cluster.set(key, key, 'PX', 60_000);
    for (const key of keys) expect(await cluster.get(key)).toBe(key);
    const owners = new Set<string>();
    for (const master of cluster.nodes('master')) {
      for (const key of keys) {
        const slot = Number(await master.cluster('KEYSLOT', key));
        if ((await master.cluster('COUNTKEYSINSLOT', slot)) > 0) owners.add(`${master.options.port}`);
      }
    }
    expect(owners.size).toBe(3);
  });
});

describe('valkey TLS with ACL user', () => {
  let ca: Buffer;
  let url: string;
  beforeAll(() => {
    requireServices('valkey-tls');
    ca = readFileSync(serviceEnv('CDC_CACHE_VALKEY_TLS_CA'));
    url = serviceEnv('CDC_CACHE_VALKEY_TLS_URL');
  });

  it('authenticates as the ACL user over TLS verified by the harness CA', async () => {
    const client = new Redis(url, { tls: { ca }, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      expect(await client.acl('WHOAMI')).toBe(serviceEnv('CDC_CACHE_VALKEY_TLS_USER'));
      await client.set(`it:tls:${run}`, 'secret', 'PX', 60_000);
      expect(await client.get(`it:tls:${run}`)).toBe('secret');
    } finally {
      client.disconnect();
    }
  });

  it('refuses the disabled default user and a wrong password', async () => {
    const u = new URL(url);
    // No ready check: its INFO would be refused (NOAUTH) and close the connection.
    const anon = new Redis({
      host: u.hostname,
      port: Number(u.port),
      tls: { ca },
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    try {
      await anon.connect();
      await expect(anon.get('x')).rejects.toThrow(/NOAUTH/);
      await expect(anon.auth(serviceEnv('CDC_CACHE_VALKEY_TLS_USER'), 'wrong')).rejects.toThrow(/WRONGPASS/);
      const user = serviceEnv('CDC_CACHE_VALKEY_TLS_USER');
      expect(await anon.auth(user, serviceEnv('CDC_CACHE_VALKEY_TLS_PASSWORD'))).toBe('OK');
    } finally {
      anon.disconnect();
    }
  });
});

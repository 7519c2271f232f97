/**
 * `cdc-cache replay --target valkeys://host:port` takes AUTH and TLS from the same environment
 * names as the consumers and Lambda handlers (CDC_CACHE_TARGET_USERNAME/PASSWORD,
 * CDC_CACHE_TLS_CA_FILE), against the harness's TLS + ACL Valkey; without the password the server
 * refuses and the CLI says so.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { ROOT, runCli } from '../../support/cli.ts';

let valkey: ValkeyTarget;
const prefix = `replay-env-${Date.now()}:`;
let configFile: string;

beforeAll(async () => {
  requireServices('valkey-tls');
  valkey = await createValkeyTarget({
    url: `${serviceEnv('CDC_CACHE_VALKEY_TLS_URL')}?ca=${encodeURIComponent(serviceEnv('CDC_CACHE_VALKEY_TLS_CA'))}`,
  });
  configFile = join(mkdtempSync(join(tmpdir(), 'cdc-replay-env-')), 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      keyPrefix: prefix,
      defaults: { ttl: 600 },
      rules: [{ table: 'public.customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'email'] } }],
    }),
  );
});

afterAll(async () => {
  await valkey?.close();
});

const bareTlsUrl = () => serviceEnv('CDC_CACHE_VALKEY_TLS_URL').replace(/\/\/[^@/]*@/, '//');
const log = join(ROOT, 'examples', 'changelogs', 'debezium-postgres.jsonl');

describe('replay with target AUTH/TLS from the environment', () => {
  it('applies into the TLS + ACL Valkey with CDC_CACHE_TARGET_USERNAME/PASSWORD and CDC_CACHE_TLS_CA_FILE', async () => {
    const r = await runCli(['replay', log, '--config', configFile, '--target', bareTlsUrl()], undefined, {
      CDC_CACHE_TARGET_USERNAME: serviceEnv('CDC_CACHE_VALKEY_TLS_USER'),
      CDC_CACHE_TARGET_PASSWORD: serviceEnv('CDC_CACHE_VALKEY_TLS_PASSWORD'),
      CDC_CACHE_TLS_CA_FILE: serviceEnv('CDC_CACHE_VALKEY_TLS_CA'),
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const value = await valkey.get(`${prefix}customer:1001`);
    expect(JSON.parse(value ?? 'null')).toMatchObject({ id: 1001 });
  });

  it('without the password exits non-zero with the server refusal', async () => {
    const r = await runCli(['replay', log, '--config', configFile, '--target', bareTlsUrl()], undefined, {
      CDC_CACHE_TARGET_USERNAME: serviceEnv('CDC_CACHE_VALKEY_TLS_USER'),
      CDC_CACHE_TLS_CA_FILE: serviceEnv('CDC_CACHE_VALKEY_TLS_CA'),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/WRONGPASS|NOAUTH|NOPERM|auth/i);
  });
});

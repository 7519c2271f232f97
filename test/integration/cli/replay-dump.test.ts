/**
 * Issue 14, item 6: `replay --target valkey://… --dump` printed the server's whole keyspace (7.5 MB of
 * other people's keys on a shared instance). `--dump` now shows the keys the run touched;
 * `--dump-all` is the explicit way to see everything. Runs against the harness's shared Valkey with
 * a key prefix of its own, on the example change logs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { ROOT, runCli } from '../../support/cli.ts';

const LOGS = ['debezium-postgres.jsonl', 'dynamodb.jsonl'].map((f) =>
  join(ROOT, 'examples', 'changelogs', f),
);
const prefix = `it-dump-${process.pid}-${Date.now()}:`;
let config: string;

beforeAll(() => {
  requireServices('valkey');
  const rules = JSON.parse(readFileSync(join(ROOT, 'examples', 'cdc-cache.config.json'), 'utf8'));
  rules.keyPrefix = prefix;
  config = join(mkdtempSync(join(tmpdir(), 'cdc-dump-')), 'cdc-cache.config.json');
  writeFileSync(config, JSON.stringify(rules));
});

describe('replay --dump on a shared Valkey', () => {
  it('--dump prints only the keys this run touched', async () => {
    const target = serviceEnv('CDC_CACHE_VALKEY_URL');
    const r = await runCli(['replay', ...LOGS, '--config', config, '--target', target, '--dump']);
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(
      ['customer:1001', 'customer:1002', 'customer:1004', 'message:101'].map((k) => prefix + k),
    );
    expect(r.stderr).toMatch(/^replayed 12 records/);
  });

  it('--dump-all prints the whole keyspace, ours included', async () => {
    const r = await runCli([
      'replay',
      LOGS[1]!,
      '--config',
      config,
      '--target',
      serviceEnv('CDC_CACHE_VALKEY_URL'),
      '--dump-all',
    ]);
    expect(r.code).toBe(0);
    const keys = Object.keys(JSON.parse(r.stdout));
    expect(keys).toContain(`${prefix}message:101`);
    expect(keys).toContain(`${prefix}customer:1001`); // from the first run: not touched by this one
  });
});

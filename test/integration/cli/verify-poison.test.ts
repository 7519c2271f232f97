/**
 * Issue 14, item 9: `cdc-cache verify CHANGELOG` used to stop at the first poison line (exit 1, no
 * report), so a topic captured with its dead letters could not be verified. It now counts poison
 * records, names each on stderr and reports the rest. Truth is the harness's PostgreSQL; the change
 * log is the example Debezium log with one line cut to invalid JSON and one given `"lsn": "abc"`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { ROOT, runCli } from '../../support/cli.ts';

const lines = readFileSync(join(ROOT, 'examples', 'changelogs', 'debezium-postgres.jsonl'), 'utf8')
  .trim()
  .split('\n');
let log: string;

beforeAll(() => {
  requireServices('postgres');
  log = join(mkdtempSync(join(tmpdir(), 'cdc-verify-poison-')), 'with-poison.jsonl');
  writeFileSync(
    log,
    [lines[0], lines[1], '{not json', lines[2]!.replace(/"lsn":\d+/, '"lsn":"abc"')].join('\n'),
  );
});

describe('verify CHANGELOG with poison lines', () => {
  const args = () => [
    'verify',
    log,
    '--config',
    join(ROOT, 'examples', 'cdc-cache.config.json'),
    '--target',
    'engine',
    '--pg',
    serviceEnv('CDC_CACHE_PG_URL'),
  ];

  it('counts them, names each on stderr and reports the rest (exit 0: nothing stale)', async () => {
    const r = await runCli(args());
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^poison: .*with-poison\.jsonl:3: \[E_BAD_JSON\] /m);
    expect(r.stderr).toMatch(/^poison: PostgreSQL_server\.public\.customers\/0@2: \[E_BAD_VERSION\] /m);
    expect(r.stdout).toMatch(/^verify \(full\): 2 changes seen/);
    expect(r.stdout).toContain('2 poison record(s) skipped (not decodable, dead letters in the pipeline): ');
    expect(r.stdout).toContain('no inconsistent key at the last window');
  });

  it('--json carries the count and positions', async () => {
    const r = await runCli([...args(), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.poison.count).toBe(2);
    expect(report.poison.positions[1]).toBe('PostgreSQL_server.public.customers/0@2');
  });
});

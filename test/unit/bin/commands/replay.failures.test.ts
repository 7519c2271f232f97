/**
 * Issue 14: `cdc-cache replay` tells a target failure from a bad record, and refuses what does not
 * apply to its target.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli, ROOT } from '../../../support/cli.ts';

const CONFIG = join(ROOT, 'examples', 'cdc-cache.config.json');
const LOG = join(ROOT, 'examples', 'changelogs', 'debezium-postgres.jsonl');

describe('cdc-cache replay: target failures (item 7)', () => {
  // Bounded by the test's own timeout: the retries give up after about a second of backoff.
  it('an unreachable engine is one target-failure line and exit 1, never dead letters or raw client errors', async () => {
    const { code, stdout, stderr } = await cli([
      'replay',
      LOG,
      '--config',
      CONFIG,
      '--target',
      'engine://127.0.0.1:1',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'cdc-cache replay: the target failed: engine-remote: cannot reach the engine at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n',
    );
  }, 20_000);
});

describe('cdc-cache replay --target lambda:NAME (item 10)', () => {
  const DDB_LOG = join(ROOT, 'examples', 'changelogs', 'dynamodb.jsonl');

  it.each([
    [['--config', CONFIG], '--config'],
    [['--dump'], '--dump'],
    [['--dry-run'], '--dry-run'],
  ])('refuses %j, which would be ignored, with exit 2', async (extra, flag) => {
    const r = await cli(['replay', DDB_LOG, '--target', 'lambda:dynamodb', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^cdc-cache replay: ${flag} does not apply to --target lambda:dynamodb: the function uses its own rules`,
      ),
    );
  });

  it('without --endpoint and without AWS credentials, says how to reach a local "lambda serve"', async () => {
    const r = await cli(['replay', DDB_LOG, '--target', 'lambda:dynamodb'], undefined, {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'no-such-aws-credentials'),
      AWS_CONFIG_FILE: join(ROOT, 'no-such-aws-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^cdc-cache replay: lambda:dynamodb: no AWS credentials to invoke a deployed function \(.*\); for the project's handlers run "cdc-cache lambda serve" and add --endpoint http:\/\/127\.0\.0\.1:9001\n$/,
    );
  }, 30_000);
});

describe('cdc-cache replay: a closed stdout (item 6)', () => {
  it('| head ends the command quietly with exit 0, not "write EPIPE"', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { execFile } = await import('node:child_process');
    // 3000 refreshes of ~2 KB: several MB of --dry-run output, far beyond a pipe's buffer.
    const line = (i: number) =>
      JSON.stringify({
        topic: 'dbserver1.public.customers',
        partition: 0,
        offset: i,
        key: { id: i },
        value: {
          before: null,
          after: { id: i, first_name: 'x'.repeat(2000), last_name: 'y', email: `${i}@x.io` },
          source: { connector: 'postgresql', schema: 'public', table: 'customers', lsn: 1000 + i },
          op: 'c',
          ts_ms: 1732262400000,
        },
      });
    const log = join(mkdtempSync(join(tmpdir(), 'cdc-epipe-')), 'big.jsonl');
    writeFileSync(log, Array.from({ length: 3000 }, (_, i) => line(i)).join('\n'));
    const script = `"${process.execPath}" "${join(ROOT, 'bin', 'cdc-cache.ts')}" replay "${log}" --config "${CONFIG}" --dry-run | head -c 100 >/dev/null; echo "exit=\${PIPESTATUS[0]}"`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile('bash', ['-c', script], (_e, stdout, stderr) => resolve({ stdout, stderr })),
    );
    expect(stderr).not.toMatch(/EPIPE/);
    expect(stderr).toBe('');
    expect(stdout).toBe('exit=0\n');
  }, 30_000);
});

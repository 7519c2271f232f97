/**
 * Issue 14: `cdc-cache replay` tells a target failure from a bad record, and refuses what does not
 * apply to its target.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli, ROOT } from '../../support/cli.ts';

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

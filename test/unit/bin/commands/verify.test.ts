/**
 * `cdc-cache verify` argument handling: usage errors exit 2 and name the flag and the fix (no
 * services needed). In-process (test/support/cli.ts: a child per case took 2–3 s at load 12); one
 * real process checks the help and the exit code end to end.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { preloadCliInProcess, runCli, runCliInProcess } from '../../../support/cli.ts';

// The first in-process run imports (transforms) the verb's modules: once, not in the first test.
beforeAll(() => preloadCliInProcess('verify'), 120_000);

describe('cdc-cache verify usage', () => {
  it('prints its help and is listed by cdc-cache help', async () => {
    const help = await runCliInProcess(['verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--windows LIST');
    expect(help.stdout).toContain('Exit code 0: none inconsistent; 1: some');
    expect((await runCliInProcess(['help'])).stdout).toContain('verify CHANGELOG...');
  });

  it('a usage error, as a process: exit 2, one line and where to look', async () => {
    const r = await runCli(['verify', 'x.jsonl', '--config', 'c.json', '--pg', 'postgres://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'cdc-cache verify: verify needs --target URL (the cache to check)\nRun "cdc-cache verify --help" for its options.\n',
    );
  }, 30_000);

  it.each([
    [
      [],
      /verify needs change log files, or a live source: --kafka BROKERS --topic TOPIC, or --dynamodb-stream TABLE/,
    ],
    [['x.jsonl', '--target', 'engine', '--pg', 'postgres://x'], /verify needs --config FILE/],
    [['x.jsonl', '--config', 'c.json', '--pg', 'postgres://x'], /verify needs --target URL/],
    [
      ['x.jsonl', '--config', 'c.json', '--target', 'engine'],
      /one source of truth: --pg URL or --dynamodb-endpoint/,
    ],
    [
      ['--kafka', '127.0.0.1:1', '--config', 'c.json', '--target', 'engine', '--pg', 'p'],
      /--kafka needs at least one --topic/,
    ],
    [
      [
        '--kafka',
        'b:1',
        '--topic',
        't',
        '--dynamodb-stream',
        'T',
        '--config',
        'c',
        '--target',
        'engine',
        '--pg',
        'p',
      ],
      /give one live source/,
    ],
    [
      ['x.jsonl', '--config', 'c', '--target', 'engine', '--pg', 'p', '--sample', '2'],
      /--sample must be a fraction in \[0, 1\], got "2"/,
    ],
    [
      ['x.jsonl', '--config', 'c', '--target', 'engine', '--pg', 'p', '--windows', 'soon'],
      /"soon" is not a duration/,
    ],
    [
      ['x.jsonl', '--config', 'c', '--target', 'engine', '--pg', 'p', '--rate', '0'],
      /--rate must be a positive number/,
    ],
    [
      ['x.jsonl', '--config', 'c', '--target', 'engine', '--pg', 'p', '--expect', ','],
      /--expect needs field names/,
    ],
  ])('rejects %j with exit 2', async (args, message) => {
    const r = await runCliInProcess(['verify', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cdc-cache verify: /);
    expect(r.stderr).toMatch(message);
  });
});

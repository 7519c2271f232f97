/**
 * The CLI's command lines: `--version`, `VERB --help` for every verb, help generated from the same
 * option tables the parser reads (bin/option-table.ts), did-you-mean for unknown flags, and the
 * deprecated `--topics` spelling of `record kafka` (now `--topic`, repeatable as in consume/verify).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DECODE_COMMAND, DECODE_USAGE } from '../../../bin/commands/decode.ts';
import { RECORD_COMMAND, RECORD_USAGE } from '../../../bin/commands/record.ts';
import { REPLAY_COMMAND, REPLAY_USAGE } from '../../../bin/commands/replay.ts';
import { helpText, parseCommand } from '../../../bin/option-table.ts';
import { closestOption } from '../../../core/config/did-you-mean.ts';
import { runCliInProcess as cli, preloadCliInProcess, ROOT, runCli } from '../../support/cli.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

afterEach(() => vi.restoreAllMocks());

// The help and flag checks run in-process (test/support/cli.ts: three child processes in one test
// passed the 5 s timeout under load); --version runs the real executable.
beforeAll(async () => {
  for (const verb of ['decode', 'replay', 'record']) await preloadCliInProcess(verb);
}, 120_000);

describe('cdc-cache --version', () => {
  it('prints the package version for --version and -v', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout } = await runCli([flag]);
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(VERSION);
    }
  }, 30_000);
});

describe('VERB --help', () => {
  for (const verb of ['decode', 'replay', 'engine', 'consume', 'lambda', 'record', 'verify']) {
    it(`${verb} --help prints its usage and exits 0`, async () => {
      const { code, stdout } = await cli([verb, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`cdc-cache ${verb}`);
    });
  }

  it('is generated from the parser’s table: every option appears, with its placeholder', async () => {
    for (const [spec, usage, verb] of [
      [RECORD_COMMAND, RECORD_USAGE, 'record'],
      [DECODE_COMMAND, DECODE_USAGE, 'decode'],
      [REPLAY_COMMAND, REPLAY_USAGE, 'replay'],
    ] as const) {
      expect(usage).toBe(helpText(spec));
      for (const [name, o] of Object.entries(spec.options))
        expect(usage).toContain(`--${name}${o.type === 'string' ? ` ${'arg' in o ? o.arg : 'VALUE'}` : ''}`);
      expect((await cli([verb, '--help'])).stdout).toBe(usage);
    }
  });
});

describe('unknown flags', () => {
  it('suggest the nearest option of the verb', async () => {
    const { code, stderr } = await cli(['decode', '--sorce', 'debezium']);
    expect(code).toBe(2);
    expect(stderr).toContain('cdc-cache decode: unknown option --sorce (did you mean --source?)');
  });

  it('say nothing when no option is near; a swap of two letters is one edit', () => {
    expect(closestOption('tpoic', ['topic', 'table'])).toBe('topic');
    expect(closestOption('zzzzzzzz', ['source', 'table'])).toBeUndefined();
    expect(closestOption('brokrs', ['brokers', 'topic'])).toBe('brokers');
    expect(closestOption('topics', ['topic', 'table'])).toBe('topic');
    expect(closestOption('dump-a', ['dump', 'dump-all-keys'])).toBe('dump');
    expect(closestOption('proto-max', ['port', 'proto-max-bulk-len'])).toBe('proto-max-bulk-len');
  });
});

describe('--topic everywhere', () => {
  it('record kafka takes --topic repeatedly (and comma lists)', () => {
    const { values } = parseCommand(['kafka', '--topic', 'a', '--topic', 'b,c'], RECORD_COMMAND);
    expect(values.topic).toEqual(['a', 'b,c']);
  });

  it('--topics still works, as a deprecated spelling with a warning', () => {
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { values } = parseCommand(['kafka', '--topics=x,y'], RECORD_COMMAND);
    expect(values.topic).toEqual(['x,y']);
    expect(warn).toHaveBeenCalledWith('warning: --topics is deprecated: use --topic\n');
  });
});

/**
 * `cdc-cache dead-letters` as users run it (a child process), on a dead-letter file the Lambda
 * handlers wrote: messages and exit codes of list, show, redrive, --dry-run and usage errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.ts';
import { tmpFile, writeLambdaDeadLetters } from '../../../support/dead-letters.ts';
import { RULES } from '../../../support/lambda.ts';

async function setup(): Promise<{ file: string; fixed: string; bad: string }> {
  const file = tmpFile();
  await writeLambdaDeadLetters(file);
  const fixed = join(dirname(file), 'fixed.json');
  writeFileSync(fixed, JSON.stringify({ ...RULES, target: 'engine' }));
  const bad = join(dirname(file), 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      rules: RULES.rules.map((r) => (r.table === 'public.orders' ? { ...r, keys: ['order:{order_id}'] } : r)),
    }),
  );
  return { file, fixed, bad };
}

describe('cdc-cache dead-letters', () => {
  it('list prints one line per entry (id, position, code, reason) and removes nothing', async () => {
    const { file } = await setup();
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['dead-letters', 'list', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^dead-letters\.jsonl:1\tRecords\[0\]@100\t\[E_TEMPLATE_FIELD\] .*Idd/);
    expect(lines[3]).toMatch(/^dead-letters\.jsonl:4\torders\/0@7\t\[E_TEMPLATE_FIELD\]/);
    expect(r.stderr).toBe(`4 dead letters in ${file}\n`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('show prints the stored dead letter; an unknown id is exit 1 naming it', async () => {
    const { file } = await setup();
    const ok = await runCli(['dead-letters', 'show', file, 'dead-letters.jsonl:2']);
    expect(ok.code).toBe(0);
    const shown = JSON.parse(ok.stdout);
    expect(shown).toMatchObject({
      id: 'dead-letters.jsonl:2',
      position: 'Records[1]@200',
      code: 'E_TEMPLATE_FIELD',
    });
    expect(shown.stored.record.dynamodb.SequenceNumber).toBe('200');
    expect(shown.stored.functionName).toBe('cdc-cache-test');
    const missing = await runCli(['dead-letters', 'show', file, 'dead-letters.jsonl:9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/dead-letters\.jsonl:9: no such entry in .*dead-letters\.jsonl/);
  });

  it('redrive --dry-run prints the planned ops per entry and leaves the file as it was', async () => {
    const { file, fixed } = await setup();
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['dead-letters', 'redrive', file, '--config', fixed, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would apply dead-letters.jsonl:1 Records[0]@100: 1 ops\n');
    expect(r.stdout).toContain('"op":"refresh","key":"message:1"');
    expect(r.stderr).toMatch(
      /dry run of 4 dead letters from .*: 4 would apply, 0 would fail again; nothing touched/,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('redrive with a rule still wrong: exit 1, the failure with its reason, only the applied lines removed', async () => {
    const { file, bad } = await setup();
    const fourth = readFileSync(file, 'utf8').split('\n')[3];
    const r = await runCli(['dead-letters', 'redrive', file, '--config', bad, '--target', 'engine']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('applied dead-letters.jsonl:1 Records[0]@100 (1 ops)\n');
    expect(r.stdout).toMatch(/failed dead-letters\.jsonl:4 orders\/0@7: \[E_TEMPLATE_FIELD\] .*order_id/);
    expect(r.stderr).toMatch(/3 applied, 0 fenced, 1 failed again, 0 kept; 3 removed/);
    expect(readFileSync(file, 'utf8')).toBe(`${fourth}\n`);
  });

  it('redrive with the fixed rule: exit 0 and an empty file', async () => {
    const { file, fixed } = await setup();
    const r = await runCli(['dead-letters', 'redrive', file, '--config', fixed]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /redrove 4 dead letters from .* into engine: 4 applied, 0 fenced, 0 failed again, 0 kept; 4 removed/,
    );
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  // Five CLI processes, started together: one after another they passed vitest's 5 s under load.
  it('usage errors are exit 2 with the fix', { timeout: 30_000 }, async () => {
    const { file } = await setup();
    const [noConfig, noAction, badDest, missing, help] = await Promise.all([
      runCli(['dead-letters', 'redrive', file]),
      runCli(['dead-letters', 'purge', file]),
      runCli(['dead-letters', 'list', 'somewhere']),
      runCli(['dead-letters', 'list', `${file}.nope`]),
      runCli(['dead-letters', '--help']),
    ]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/^cdc-cache dead-letters: dead-letters redrive needs --config FILE/);
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toMatch(/needs an action: list, show or redrive/);
    expect(badDest.code).toBe(1);
    expect(badDest.stderr).toMatch(
      /dead-letter destination "somewhere": use kafka:\/\/HOST:PORT\/TOPIC, an SQS queue URL/,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /\.nope: cannot read the dead-letter file: no such file \(the sink creates it with the first dead letter: check the path\)\n$/,
    );
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--dry-run\s+redrive: print the planned ops/);
  });
});

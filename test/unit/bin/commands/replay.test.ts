/**
 * `cdc-cache replay` end to end on the embedded engine and as a dry run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli, ROOT } from '../../../support/cli.ts';

const CONFIG = join(ROOT, 'examples', 'cdc-cache.config.json');
const LOGS = ['debezium-postgres.jsonl', 'dynamodb.jsonl'].map((f) =>
  join(ROOT, 'examples', 'changelogs', f),
);

describe('cdc-cache replay', () => {
  it('--dump prints the resulting cache of the example change logs (engine target)', async () => {
    const { code, stdout, stderr } = await cli([
      'replay',
      ...LOGS,
      '--config',
      CONFIG,
      '--target',
      'engine',
      '--dump',
    ]);
    expect(code).toBe(0);
    const state = JSON.parse(stdout);
    expect(Object.keys(state).sort()).toEqual([
      'customer:1001',
      'customer:1002',
      'customer:1004',
      'message:101',
    ]);
    expect(JSON.parse(state['customer:1002'])).toEqual({
      id: 1002,
      first_name: 'George',
      last_name: 'Bailey',
      email: 'george.bailey@example.com',
    });
    expect(JSON.parse(state['customer:1004']).first_name).toBe('Anne Marie');
    expect(JSON.parse(state['message:101'])).toEqual({ Id: 101, Message: 'This item has changed' });
    expect(stderr).toMatch(/replayed 12 records .* 0 dead letters/);
  });

  it('is deterministic: two runs print identical dry-run plans', async () => {
    const a = await cli(['replay', ...LOGS, '--config', CONFIG, '--dry-run']);
    const b = await cli(['replay', ...LOGS, '--config', CONFIG, '--dry-run']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const ops = a.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ops.filter((o) => o.op === 'refresh')).toHaveLength(4);
    expect(ops.find((o) => o.key === 'customer:1003')).toEqual({
      op: 'invalidate',
      key: 'customer:1003',
      version: expect.any(String),
    });
  });

  it('dead-letters bad lines with file:line and reason, applies the rest, exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-replay-'));
    const log = join(dir, 'bad.jsonl');
    writeFileSync(
      log,
      [
        '{"topic":"PostgreSQL_server.public.customers","partition":0,"offset":1,"key":{"id":1},"value":{"op":"c","after":{"id":1,"first_name":"A","last_name":"B","email":"a@x"},"source":{"lsn":10,"schema":"public","table":"customers"}}}',
        '{"truncated": ',
        '{"topic":"PostgreSQL_server.public.customers","partition":0,"offset":2,"key":{"id":2},"value":{"op":"d","before":{"id":2},"source":{"lsn":11,"schema":"public","table":"customers"}}}',
        '{"topic":"PostgreSQL_server.public.customers","partition":0,"offset":3,"key":{"id":3},"value":{"op":"c","after":{"id":3,"first_name":"C","last_name":"D","email":"c@x"},"source":{"lsn":12,"schema":"public","table":"customers"}}}',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await cli([
      'replay',
      log,
      '--config',
      CONFIG,
      '--target',
      'engine',
      '--dump',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/dead letter: .*bad\.jsonl:2: \[E_BAD_JSON\] .*invalid JSON/);
    // The delete's before image lacks email: its email key cannot be built, so the record is dead-lettered.
    expect(stderr).toMatch(
      /dead letter: PostgreSQL_server\.public\.customers\/0@2: \[E_TEMPLATE_FIELD\] .*field "email" is missing/,
    );
    expect(Object.keys(JSON.parse(stdout)).sort()).toEqual(['customer:1', 'customer:3']);
    const allowed = await cli(['replay', log, '--config', CONFIG, '--dry-run', '--allow-dead-letters']);
    expect(allowed.code).toBe(0);
  });

  it('config errors name the file and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-replay-'));
    const cfg = join(dir, 'bad.config.json');
    writeFileSync(cfg, JSON.stringify({ rules: [{ table: 'users', keys: ['user:{id'] }] }));
    const { code, stderr } = await cli(['replay', LOGS[0]!, '--config', cfg, '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bad\.config\.json: rules\[0\]\.keys\[0\]: template "user:\{id" unclosed "\{"/);
  });

  it('a template field the whole image lacks (a typo) names the closest field it has, not only the source settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-replay-'));
    const cfg = join(dir, 'typo-field.config.json');
    writeFileSync(cfg, JSON.stringify({ rules: [{ table: 'customers', keys: ['customer:{emial}'] }] }));
    const { code, stderr } = await cli(['replay', LOGS[0]!, '--config', cfg, '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'dead letter: PostgreSQL_server.public.customers/0@0: [E_TEMPLATE_FIELD] rules[0] (customers): key template "customer:{emial}": field "emial" is missing in the after image of this create (did you mean "email"? the after image has id, first_name, last_name, email: fix the template, or if the field exists, capture the needed image',
    );
  });

  it('a misspelt target in the rules file is refused naming the file and its "target", not --target', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-replay-'));
    const cfg = join(dir, 'typo.config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        target: 'valky://127.0.0.1:6379',
        rules: [{ table: 'customers', keys: ['customer:{id}'] }],
      }),
    );
    const { code, stderr } = await cli(['replay', LOGS[0]!, '--config', cfg, '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /typo\.config\.json: target: unknown target scheme "valky:\/\/" \(did you mean "valkey"\?\)/,
    );
    expect(stderr).not.toContain('--target');
  });

  it('an unknown --source is a usage error (it used to decode as "auto")', async () => {
    const { code, stderr } = await cli([
      'replay',
      LOGS[0]!,
      '--config',
      CONFIG,
      '--dry-run',
      '--source',
      'dynamo',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /--source must be one of auto, dynamodb, debezium, lambda-kafka, got "dynamo" \(did you mean "dynamodb"\?\)/,
    );
  });
});

describe('TypeScript configs', () => {
  it('loads cdc-cache.config.ts natively (defineConfig, projection function, filter)', async () => {
    const { code, stdout } = await cli([
      'replay',
      ...LOGS,
      '--config',
      join(ROOT, 'examples', 'cdc-cache.config.ts'),
      '--target',
      'engine',
      '--dump',
    ]);
    expect(code).toBe(0);
    const state = JSON.parse(stdout);
    expect(JSON.parse(state['customer:1004'])).toEqual({
      id: 1004,
      name: 'Anne Marie Kretchmar',
      email: 'annek@noanswer.org',
    });
  });
});

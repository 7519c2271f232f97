/**
 * `cdc-cache decode` over every fixture, the output contract of ARCHITECTURE.md, and one-line errors
 * naming file, record and problem. The fixtures run in-process through the CLI's dispatcher
 * (test/support/cli.ts: a child process per fixture took 1–3 s at load 12, past the 5 s timeout
 * under heavier load); stdin and the exit codes of bad flags run as real processes.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli, preloadCliInProcess, runCli } from '../../../support/cli.ts';
import { FIXTURES } from '../../../support/fixtures.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.jsonl?$/.test(f) ? [p] : [];
  });
}

// Fixtures that are deliberately not decodable, with the error each must give.
const EXPECTED_ERRORS: Record<string, RegExp> = {
  'lambda-kafka/self-managed-kafka-event.json': /mytopic\/0@15: the Kafka value is not valid JSON/, // plain-text value
  // names a stream range, not records: decode points to `dead-letters redrive`
  'dead-letters/lambda-dynamodb-on-failure.json':
    /a Lambda on-failure record .*cdc-cache dead-letters redrive/,
};

// Fixtures without a source position: shown with `version: null` and a warning (issue 14).
const NO_VERSION = new Set([
  'debezium/postgres-transaction-enriched-create.json', // the docs elide its source block
  'debezium/unwrap-update-docs.json', // a bare docs fragment: no position anywhere
  'debezium/unwrap-delete-rewrite-docs.json',
]);

// The first in-process run imports (transforms) the verb's modules: once, not in the first test.
beforeAll(() => preloadCliInProcess('decode'), 120_000);

describe('cdc-cache decode', () => {
  const all = files(FIXTURES).map((f) => relative(FIXTURES, f));
  it('has fixtures to run over', () => {
    expect(all.length).toBeGreaterThan(40);
  });

  it.each(all)('handles %s', async (file) => {
    const { code, stdout, stderr } = await cli(['decode', join(FIXTURES, file), '--table', 'fallback_table']);
    const expected = EXPECTED_ERRORS[file];
    if (expected !== undefined) {
      expect(code).toBe(1);
      expect(stderr).toMatch(expected);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      return;
    }
    if (NO_VERSION.has(file)) {
      expect(code).toBe(0);
      expect(stderr).toMatch(
        /^warning: .*: the record carries no source position \(no version\): shown with "version": null/,
      );
      const events = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(e.version).toBeNull();
      return;
    }
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const line of stdout.trim().split('\n').filter(Boolean)) {
      const e = JSON.parse(line);
      expect(Object.keys(e).slice(0, 9)).toEqual([
        'source',
        'table',
        'namespace',
        'op',
        'key',
        'before',
        'after',
        'version',
        'ts',
      ]);
      expect(typeof e.version).toBe('string');
      expect(e.version).toMatch(/^\d+(\.\d+)*$/);
      expect(['create', 'update', 'delete', 'truncate', 'read']).toContain(e.op);
    }
  });

  it('prints nothing for records that are not row changes', async () => {
    const { code, stdout } = await cli(['decode', join(FIXTURES, 'debezium/transaction-begin.json')]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
  });

  it('reads JSONL from stdin and keeps int64 digits', async () => {
    const { code, stdout } = await runCli(
      ['decode', '-'],
      '{"topic":"db.public.t","partition":0,"offset":1,"key":{"id":9007199254740993},"value":{"op":"c","after":{"id":9007199254740993},"source":{"lsn":10,"table":"t","schema":"public"}}}\n',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('"key":{"id":9007199254740993}');
  }, 30_000);

  it('names file and line for a truncated JSONL line', async () => {
    const { code, stderr, stdout } = await cli([
      'decode',
      join(FIXTURES, 'changelogs/debezium-postgres.jsonl'),
    ]);
    expect(code).toBe(0);
    expect(stdout.split('\n').length).toBeGreaterThan(1);
    const bad = await runCli(
      ['decode', '-'],
      `${'{"op":"c","after":{"id":1},"source":{"lsn":1,"table":"t"}}'}\n{"op":"c","after":\n`,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^cdc-cache decode: stdin:2: invalid JSON/);
    expect(stderr).toBe('');
  }, 30_000);

  it('marks an old image it cannot vouch for (schemaless Debezium) with beforeUnverified', async () => {
    const { code, stdout } = await cli(['decode', join(FIXTURES, 'captured/debezium-postgres-plain.jsonl')]);
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; beforeUnverified?: string; partial?: unknown });
    const withBefore = events.filter((e) => e.op === 'update' || e.op === 'delete');
    // Each old image is either visibly partial or, looking whole, marked as unverified.
    for (const e of withBefore) {
      if (e.partial === undefined) expect(e.beforeUnverified).toBe('replica-identity');
      else expect(e.beforeUnverified).toBeUndefined();
    }
    expect(withBefore.filter((e) => e.beforeUnverified !== undefined).length).toBeGreaterThanOrEqual(2);
    for (const e of events.filter((x) => x.op === 'create')) expect(e.beforeUnverified).toBeUndefined();
  });

  it('exits 2 with usage for bad flags and missing files', async () => {
    expect((await cli(['decode', '--source', 'kafka'])).code).toBe(2);
    const missing = await cli(['decode', 'no-such-file.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-file.json: cannot read/);
    expect((await cli(['decode', '--bogus'])).code).toBe(2);
  });
});

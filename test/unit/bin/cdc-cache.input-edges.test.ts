/**
 * Issue 14, items 4 and 9: input that used to be refused for no good reason (a UTF-8 byte-order
 * mark) is accepted everywhere input is read; input that used to be accepted silently (a malformed
 * version, bytes that are not UTF-8, a record of another AWS service) is a dead letter or an error
 * naming the position. Inputs are the repository's example change logs, with the edit each test names.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestCache } from '../../../core/testing/index.ts';
import { runCli as cli, ROOT } from '../../support/cli.ts';

const BOM = '\uFEFF';
const CONFIG = join(ROOT, 'examples', 'cdc-cache.config.json');
const PG_LOG = join(ROOT, 'examples', 'changelogs', 'debezium-postgres.jsonl');
const DDB_LOG = join(ROOT, 'examples', 'changelogs', 'dynamodb.jsonl');
const pgLines = readFileSync(PG_LOG, 'utf8').trim().split('\n');
const dir = mkdtempSync(join(tmpdir(), 'cdc-input-edges-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('a UTF-8 byte-order mark is accepted everywhere input is read (item 4)', () => {
  const log = file('bom.jsonl', BOM + pgLines.slice(0, 2).join('\n'));
  const config = file('bom.config.json', BOM + readFileSync(CONFIG, 'utf8'));

  it('decode: a file and a stdin stream', async () => {
    const fromFile = await cli(['decode', log]);
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.trim().split('\n')).toHaveLength(2);
    const oneDocument = file('bom.json', `${BOM}${JSON.stringify(JSON.parse(pgLines[0]!).value, null, 2)}`);
    const doc = await cli(['decode', oneDocument, '--table', 'customers']);
    expect(doc.code).toBe(0);
    expect(JSON.parse(doc.stdout).after.id).toBe(1001);
    const stdin = await cli(['decode', '-'], BOM + pgLines[0]!);
    expect(stdin.code).toBe(0);
    expect(JSON.parse(stdin.stdout).op).toBe('create');
  });

  it('replay: a change log and a JSON config that start with a BOM', async () => {
    const r = await cli(['replay', log, '--config', config, '--dump']);
    expect(r.stderr).toMatch(/^replayed 2 records \(2 lines\) into engine: 2 change events/);
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['customer:1001', 'customer:1002']);
  });

  it('cdc-cache/testing: config and change log with a BOM', async () => {
    const cache = await createTestCache({ config });
    await cache.replay([log]);
    expect(cache.deadLetters).toEqual([]);
    expect(cache.get('customer:1001')).toMatch(/"first_name":"Sally"/);
    await cache.close();
  });
});

describe('input accepted silently before is refused with its position (item 9)', () => {
  it('a version field present but malformed ("lsn": "abc") is a dead letter, not the Kafka offset', async () => {
    const bad = pgLines[1]!.replace(/"lsn":\d+/, '"lsn":"abc"');
    expect(bad).toContain('"lsn":"abc"');
    const log = file('bad-lsn.jsonl', `${pgLines[0]}\n${bad}\n`);
    const r = await cli(['replay', log, '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^dead letter: PostgreSQL_server\.public\.customers\/0@1: \[E_BAD_VERSION\] .*field "source\.lsn" is "abc", not a source position \(a non-negative integer\)/m,
    );
    expect(r.stdout).toMatch(/: 1 change events, .* 0 failed; 1 dead letters$/m);
  });

  it('a change-log line that is not valid UTF-8 is a dead letter; no U+FFFD is ever stored', async () => {
    const line = Buffer.from(pgLines[1]!.replace('George', 'Geo\u0000rge'));
    line[line.indexOf(0)] = 0xff; // one stray byte inside a value
    const log = file(
      'bad-utf8.jsonl',
      Buffer.concat([Buffer.from(`${pgLines[0]}\n`), line, Buffer.from('\n')]),
    );
    const r = await cli(['replay', log, '--config', CONFIG, '--dump']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /dead letter: .*bad-utf8\.jsonl:2: \[E_BAD_UTF8\] .*bad-utf8\.jsonl:2: line 2 is not valid UTF-8 \(at byte \d+\)/,
    );
    expect(r.stdout).not.toContain('\uFFFD');
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['customer:1001']);
  });

  it('decode of bytes that are not UTF-8 names the input and exits 1', async () => {
    const path = file(
      'bad.json',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    );
    const r = await cli(['decode', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cdc-cache decode: .*bad\.json is not valid UTF-8 \(at byte 6\)/);
  });

  it('eventSource must match the decoder: "aws:sqs" is not a DynamoDB change', async () => {
    const record = JSON.parse(readFileSync(DDB_LOG, 'utf8').trim().split('\n')[0]!);
    record.eventSource = 'aws:sqs';
    const r = await cli(['decode', '-'], JSON.stringify(record));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /eventSource "aws:sqs" is not a DynamoDB stream record \(expected "aws:dynamodb"\)/,
    );
  });
});

describe('decode shows a record without a source position (decode item)', () => {
  it('a bare unwrapped document: version null and a warning, exit 0; replay still dead-letters it', async () => {
    const doc = '{"id":5,"email":"e@x.io","__op":"c","__table":"customers","__schema":"public"}';
    const d = await cli(['decode', '-'], doc);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ table: 'customers', op: 'create', version: null });
    expect(d.stderr).toBe(
      'warning: stdin: the record carries no source position (no version): shown with "version": null; replay and the consumers dead-letter it\n',
    );
    const log = file('unversioned.jsonl', `${doc}\n`);
    const r = await cli(['replay', log, '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^dead letter: .*unversioned\.jsonl:1: \[E_MISSING_FIELD\] .*no version/m);
  });

  it('a DynamoDB record without SequenceNumber or creation time: version null and a warning', async () => {
    const record = JSON.parse(readFileSync(DDB_LOG, 'utf8').trim().split('\n')[0]!);
    delete record.dynamodb.SequenceNumber;
    delete record.dynamodb.ApproximateCreationDateTime;
    const d = await cli(['decode', '-'], JSON.stringify(record));
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ source: 'dynamodb', op: 'create', version: null });
    expect(d.stderr).toMatch(/^warning: stdin: the record carries no source position/);
  });
});

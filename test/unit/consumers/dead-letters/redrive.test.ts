/**
 * Dead-letter redrive from the file sink, specified end to end without services: the dead letters
 * are written by the real writers (the DynamoDB and Kafka Lambda handlers with
 * CDC_CACHE_DEAD_LETTER=/path, the consumers' file sink) from records a bad rule refused; after the
 * rule is fixed, redrive applies them into a real engine target through the pipeline, fenced by
 * version, and rewrites the file without what was applied, and only that.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileDeadLetterStore } from '../../../../consumers/dead-letters/file-store.ts';
import { redrive } from '../../../../consumers/dead-letters/redrive.ts';
import { kafkaSourceRecord } from '../../../../consumers/kafka/kafka-record.ts';
import { fileDeadLetterSink } from '../../../../consumers/runtime/dead-letter-sink.ts';
import { splitDocument } from '../../../../core/decode/document.ts';
import { processBatch } from '../../../../core/pipeline/batch.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { createDynamoDbHandler } from '../../../../functions/dynamodb-handler.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import { ARN, BAD, quiet, tmpFile, writeLambdaDeadLetters } from '../../../support/dead-letters.ts';
import { fixture } from '../../../support/fixtures.ts';
import { ddbInsert, config as FIXED, failingFor, lambdaContext, RULES } from '../../../support/lambda.ts';

describe('dead letters in the file sink', () => {
  it('the handlers wrote one line per refused record; read parses each with its position and reason', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const entries = await fileDeadLetterStore(file).read();
    expect(entries.map((e) => [e.id, e.code])).toEqual([
      ['dead-letters.jsonl:1', 'E_TEMPLATE_FIELD'],
      ['dead-letters.jsonl:2', 'E_TEMPLATE_FIELD'],
      ['dead-letters.jsonl:3', 'E_TEMPLATE_FIELD'],
      ['dead-letters.jsonl:4', 'E_TEMPLATE_FIELD'],
    ]);
    expect(entries[0]!.position).toBe('Records[0]@100');
    expect(entries[3]!.position).toBe('orders/0@7');
    expect(entries[0]!.reason).toMatch(/Idd/);
  });

  it('after the rule is fixed, redrive applies them all and the file is left empty', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const target = createEngineTarget();
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read({ forRedrive: true }), { config: FIXED, target });
    expect(report.counts).toMatchObject({ applied: 4, fenced: 0, failed: 0 });
    expect(await store.settle(report.done)).toBe(4);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(JSON.parse((await target.get('message:2'))!)).toEqual({ Id: 2, Message: 'New item!' });
    expect(await target.get('order:7')).not.toBeNull();
  });

  it('an older dead-lettered change never overwrites a newer one already in the cache: fenced, and removed', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const target = createEngineTarget();
    // Item 2 changed again later (sequence 900) and that change was applied.
    const newer = ddbInsert(2, '900', ARN);
    newer.dynamodb.NewImage.Message.S = 'newer';
    const env = { ...quiet, CDC_CACHE_DEAD_LETTER: 'fail' };
    await createDynamoDbHandler(createEnvironment({ config: FIXED, target, env, logSink: () => {} }))(
      { Records: [newer] } as never,
      lambdaContext(),
    );
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read(), { config: FIXED, target });
    expect(report.entries.map((e) => e.outcome)).toEqual(['applied', 'fenced', 'applied', 'applied']);
    expect(JSON.parse((await target.get('message:2'))!).Message).toBe('newer');
    await store.settle(report.done);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('a rule still wrong: failed again with the reason, and the file keeps exactly those lines', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const before = readFileSync(file, 'utf8').split('\n');
    const halfFixed = compileConfig({
      rules: RULES.rules.map((r) => (r.table === 'public.orders' ? { ...r, keys: ['order:{order_id}'] } : r)),
    });
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read(), { config: halfFixed, target: createEngineTarget() });
    expect(report.counts).toMatchObject({ applied: 3, failed: 1 });
    expect(report.entries[3]).toMatchObject({
      outcome: 'failed',
      code: 'E_TEMPLATE_FIELD',
      position: 'orders/0@7',
    });
    expect(report.entries[3]!.reason).toMatch(/order_id/);
    await store.settle(report.done);
    expect(readFileSync(file, 'utf8')).toBe(`${before[3]}\n`);
  });

  it('the consumers file sink (Kafka records as text) redrives through the consumers decoding', async () => {
    const file = tmpFile();
    const sink = fileDeadLetterSink(file);
    const value = Buffer.from(
      JSON.stringify({
        before: null,
        after: { id: 5 },
        op: 'c',
        source: { table: 'orders', schema: 'public', ts_ms: 1 },
      }),
    );
    const record = kafkaSourceRecord(
      'orders',
      0,
      { key: Buffer.from('{"id":5}'), value, offset: '41', timestamp: '0' },
      {},
      () => {},
    );
    const outcome = await processBatch([{ group: 'orders/0', record }], {
      config: BAD,
      target: createEngineTarget(),
      deadLetter: sink,
    });
    expect(outcome.deadLetters).toBe(1);
    const [entry] = await fileDeadLetterStore(file).read();
    expect(entry).toMatchObject({ position: 'orders/0@41', code: 'E_TEMPLATE_FIELD' });
    const target = createEngineTarget();
    const report = await redrive([entry!], { config: FIXED, target });
    expect(report.entries[0]).toMatchObject({ outcome: 'applied' });
    expect(report.entries[0]!.ops[0]).toMatchObject({ kind: 'refresh', key: 'order:5', version: '41' });
  });

  it('the poller file sink (GetRecords records name no table): --table is asked for, then they apply', async () => {
    const file = tmpFile();
    const page = fixture('dynamodb/getrecords-response.json') as { Records: unknown[] };
    const badForum = compileConfig({ rules: [{ table: 'Forum', keys: ['thread:{Subjectt}'] }] });
    const records = splitDocument(
      { Records: page.Records },
      { source: 'dynamodb', table: 'Forum' },
      'shardId-1',
    );
    await processBatch(
      records.map((record) => ({ group: 'shardId-1', record })),
      { config: badForum, target: createEngineTarget(), deadLetter: fileDeadLetterSink(file) },
    );
    const entries = await fileDeadLetterStore(file).read();
    expect(entries).toHaveLength(3);
    const forum = compileConfig({ rules: [{ table: 'Forum', keys: ['thread:{Subject}'] }] });
    const noTable = await redrive(entries, { config: forum, target: createEngineTarget() });
    expect(noTable.entries[0]).toMatchObject({ outcome: 'failed', code: 'E_MISSING_FIELD' });
    expect(noTable.entries[0]!.reason).toMatch(/--table NAME/);
    const withTable = await redrive(entries, {
      config: forum,
      target: createEngineTarget(),
      resolve: { table: 'Forum' },
    });
    expect(withTable.counts).toMatchObject({ applied: 3, failed: 0 });
    expect(withTable.entries[0]!.ops).toMatchObject([
      { kind: 'invalidate', key: 'thread:DynamoDB Thread 3', version: '300000000000000499659' },
    ]);
  });

  it('a config whose rules make no op for them (the wrong --config) keeps every entry: E_NO_OPS', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const before = readFileSync(file, 'utf8');
    const other = compileConfig({
      rules: [{ table: 'public.customers', source: 'debezium', keys: ['c:{id}'] }],
    });
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read(), { config: other, target: createEngineTarget() });
    expect(report.counts).toMatchObject({ applied: 0, failed: 4 });
    expect(report.entries[0]).toMatchObject({ outcome: 'failed', code: 'E_NO_OPS' });
    expect(report.entries[0]!.reason).toMatch(
      /table ExampleTableWithStream: no rule matches .*--remove-unmatched/,
    );
    expect(await store.settle(report.done)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const dropped = await redrive(await store.read(), {
      config: other,
      target: createEngineTarget(),
      removeWithoutOps: true,
    });
    expect(dropped.counts).toMatchObject({ applied: 4 });
  });

  it('dry run plans the ops and touches neither the target nor the file', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const before = readFileSync(file, 'utf8');
    const report = await redrive(await fileDeadLetterStore(file).read(), { config: FIXED, dryRun: true });
    expect(report.counts).toMatchObject({ planned: 4, applied: 0 });
    expect(report.entries[0]!.ops).toMatchObject([{ kind: 'refresh', key: 'message:1', version: '100' }]);
    expect(report.done.size).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('target outage: retries, stops, and removes nothing it did not apply', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const before = readFileSync(file, 'utf8').split('\n');
    const target = failingFor(new Set(['message:2', 'order:7']));
    const retries: number[] = [];
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read(), {
      config: FIXED,
      target,
      retry: { attempts: 3, sleep: async () => {}, onRetry: (a) => retries.push(a) },
    });
    expect(retries).toEqual([1, 2]);
    expect(report.stoppedBy?.message).toMatch(/refused/);
    expect(report.entries.map((e) => e.outcome)).toEqual(['applied', 'not-tried', 'applied', 'not-tried']);
    await store.settle(report.done);
    expect(readFileSync(file, 'utf8')).toBe(`${before[1]}\n${before[3]}\n`);
  });

  it('a line that is not JSON or not a dead letter is reported, never applied nor removed', async () => {
    const file = tmpFile();
    writeFileSync(file, 'not json\n{"hello":1}\n');
    const store = fileDeadLetterStore(file);
    const report = await redrive(await store.read(), { config: FIXED, target: createEngineTarget() });
    expect(report.entries.map((e) => [e.outcome, e.code])).toEqual([
      ['failed', 'E_DEAD_LETTER_UNREADABLE'],
      ['failed', 'E_DEAD_LETTER_UNREADABLE'],
    ]);
    expect(report.entries[0]!.reason).toMatch(/line 1 is not JSON/);
    expect(await store.settle(report.done)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('not json\n{"hello":1}\n');
  });

  it('a line the sink is still writing is neither listed nor split when the file is rewritten', async () => {
    const file = tmpFile();
    await writeLambdaDeadLetters(file);
    const whole = readFileSync(file, 'utf8').split('\n');
    // The sink is mid-append: the last line has no newline yet when redrive reads the file.
    writeFileSync(file, `${whole[0]}\n${whole[1]}\n${whole[2]!.slice(0, 40)}`);
    const store = fileDeadLetterStore(file);
    const entries = await store.read({ forRedrive: true });
    expect(entries.map((e) => e.id)).toEqual(['dead-letters.jsonl:1', 'dead-letters.jsonl:2']);
    appendFileSync(file, `${whole[2]!.slice(40)}\n`);
    expect(await store.settle(new Set(['dead-letters.jsonl:1']))).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(`${whole[1]}\n${whole[2]}\n`);
  });
});

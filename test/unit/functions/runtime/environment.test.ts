/**
 * The handlers' runtime: settings validated with the fix in the message, per-environment state
 * created once and retried after a failed init, dead-letter destinations, Lambda event building.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitDocument } from '../../../../core/decode/document.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { kafkaEvent, lambdaKafkaRecordOf } from '../../../../functions/local/lambda-events.ts';
import { createDeadLetterSink } from '../../../../functions/runtime/dead-letter.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import { createLogger } from '../../../../functions/runtime/logger.ts';
import { engineUrl, valkeyAuthAndTls } from '../../../../functions/runtime/open-target.ts';
import { readSettings, SETTINGS_DEFAULTS } from '../../../../functions/runtime/settings.ts';
import { lineCollector, RULES } from '../../../support/lambda.ts';

const letter = {
  position: 'orders/0@2',
  code: 'E_BAD_JSON',
  reason: 'bad',
  record: { value: 'x' },
  group: 'orders-0',
  functionName: 'f',
  requestId: 'r',
};

describe('settings', () => {
  it('defaults', () => {
    const s = readSettings({});
    expect(s).toMatchObject({
      deadLetter: 'log',
      timeMarginMs: SETTINGS_DEFAULTS.timeMarginMs,
      retryAttempts: 5,
      metricsNamespace: 'cdc-cache',
      logLevel: 'info',
      tlsRejectUnauthorized: true,
    });
    expect(readSettings({ CDC_CACHE_METRICS_NAMESPACE: 'off' }).metricsNamespace).toBeUndefined();
  });

  it('rejects bad values naming the variable and the fix', () => {
    expect(() => readSettings({ CDC_CACHE_TIME_MARGIN_MS: '-5' })).toThrow(
      /CDC_CACHE_TIME_MARGIN_MS=-5: must be an integer >= 0/,
    );
    expect(() => readSettings({ CDC_CACHE_RETRY_ATTEMPTS: 'many' })).toThrow(/CDC_CACHE_RETRY_ATTEMPTS=many/);
    expect(() => readSettings({ CDC_CACHE_LOG_LEVEL: 'loud' })).toThrow(
      'environment: CDC_CACHE_LOG_LEVEL=loud: log level "loud" is not one of debug, info, warn, error',
    );
    expect(() => readSettings({ CDC_CACHE_TLS_REJECT_UNAUTHORIZED: 'no' })).toThrow(/must be true or false/);
  });

  it('AUTH and TLS reach the target options; AUTH goes into engine:// URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const s = readSettings({
      CDC_CACHE_TARGET_USERNAME: 'cdc',
      CDC_CACHE_TARGET_PASSWORD: 'p@ss',
      CDC_CACHE_TLS_CA_FILE: join(dir, 'ca.pem'),
      CDC_CACHE_TLS_SERVERNAME: 'cache.internal',
    });
    const o = valkeyAuthAndTls('valkeys://h:1', s);
    expect(o).toMatchObject({
      username: 'cdc',
      password: 'p@ss',
      tls: { servername: 'cache.internal', rejectUnauthorized: true },
    });
    expect(String(o.tls?.ca)).toBe('PEM');
    expect(valkeyAuthAndTls('valkey://h:1', readSettings({})).tls).toBeUndefined();
    expect(engineUrl('engine://127.0.0.1:6380', s)).toBe('valkey://cdc:p%40ss@127.0.0.1:6380');
    expect(() =>
      valkeyAuthAndTls('valkeys://h', readSettings({ CDC_CACHE_TLS_CA_FILE: '/nope.pem' })),
    ).toThrow(/CDC_CACHE_TLS_CA_FILE=\/nope.pem: cannot read it/);
  });
});

describe('environment', () => {
  it('initialises once and reuses the target across invocations', async () => {
    const env = createEnvironment({
      env: { CDC_CACHE_RULES: JSON.stringify(RULES), CDC_CACHE_TARGET: 'engine' },
      logSink: () => {},
    });
    const a = await env.get();
    expect(await env.get()).toBe(a);
    expect(a.target.kind).toBe('engine');
    await env.close();
  });

  it('a failed initialisation is reported and retried on the next call', async () => {
    const vars: Record<string, string> = {
      CDC_CACHE_RULES: JSON.stringify(RULES),
      CDC_CACHE_TARGET: 'memcached://x',
    };
    const env = createEnvironment({ env: vars, logSink: () => {} });
    await expect(env.get()).rejects.toThrow(
      'environment: CDC_CACHE_TARGET=memcached://x: unknown target scheme "memcached://"; use engine,',
    );
    vars.CDC_CACHE_TARGET = 'engine';
    expect((await env.get()).target.kind).toBe('engine');
    await env.close();
  });

  it('names what is missing when there are no rules, and checks inline rules', async () => {
    await expect(createEnvironment({ env: {}, logSink: () => {} }).get()).rejects.toThrow(
      /no rules: set CDC_CACHE_RULES .* or CDC_CACHE_CONFIG/,
    );
    await expect(
      createEnvironment({ env: { CDC_CACHE_RULES: '{"rules":' }, logSink: () => {} }).get(),
    ).rejects.toThrow(/CDC_CACHE_RULES: invalid JSON/);
    await expect(
      createEnvironment({
        env: { CDC_CACHE_RULES: '{"rules":[{"table":"t","kyes":["k"]}]}' },
        logSink: () => {},
      }).get(),
    ).rejects.toThrow(/CDC_CACHE_RULES: rules\[0\]/);
  });

  it('reads CDC_CACHE_CONFIG relative to LAMBDA_TASK_ROOT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-root-'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(RULES));
    const env = createEnvironment({
      env: { LAMBDA_TASK_ROOT: dir, CDC_CACHE_CONFIG: 'rules.json' },
      logSink: () => {},
    });
    expect((await env.get()).config.rules).toHaveLength(3);
    await env.close();
  });
});

describe('dead-letter destinations', () => {
  it('log: an error line with the whole record', async () => {
    const logs = lineCollector();
    await createDeadLetterSink('log', createLogger({ sink: logs.sink })).send(letter);
    expect(logs.lines()[0]).toMatchObject({ level: 'error', message: 'dead letter', deadLetter: letter });
  });

  it('file: one JSON line per record, appended', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cdc-dl-')), 'dl.jsonl');
    const sink = createDeadLetterSink(path, createLogger({ sink: () => {} }));
    await sink.send(letter);
    await sink.send({ ...letter, position: 'orders/0@3' });
    expect(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).position),
    ).toEqual(['orders/0@2', 'orders/0@3']);
  });

  it('sqs: one SendMessage per record to the queue URL', async () => {
    const sent: unknown[] = [];
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/cdc-cache-dlq';
    const sink = createDeadLetterSink(url, createLogger({ sink: () => {} }), {
      send: async (command) => {
        sent.push((command as { input: unknown }).input);
        return {};
      },
    });
    expect(sink.kind).toBe('sqs');
    await sink.send(letter);
    expect(sent).toEqual([{ QueueUrl: url, MessageBody: JSON.stringify(letter) }]);
  });

  it('fail: refuses, so the record stays reported; unknown specs are rejected with the choices', async () => {
    await expect(createDeadLetterSink('fail', createLogger({ sink: () => {} })).send(letter)).rejects.toThrow(
      /reported as a batch item failure/,
    );
    expect(() => createDeadLetterSink('s3://bucket', createLogger({ sink: () => {} }))).toThrow(
      /use "log", "fail", an SQS queue URL .* or a file path/,
    );
  });
});

describe('Lambda event building (replay, kafka-source)', () => {
  it('encodes a change-log line as an MSK record, keeping int64 digits exact', () => {
    const line =
      '{"topic":"db.public.t","partition":2,"offset":7,"key":{"id":9007199254740993},"value":{"op":"c","after":{"id":9007199254740993},"source":{"connector":"postgresql","table":"t","schema":"public","lsn":1},"ts_ms":1}}';
    const [record] = splitDocument(parseExactJson(line), {}, 'l:1');
    const r = lambdaKafkaRecordOf(record!, () => 0);
    expect(r).toMatchObject({
      topic: 'db.public.t',
      partition: 2,
      offset: 7,
      timestampType: 'CREATE_TIME',
      timestamp: 1,
    });
    expect(Buffer.from(r.key!, 'base64').toString()).toBe('{"id":9007199254740993}');
    expect(Buffer.from(r.value!, 'base64').toString()).toContain('"after":{"id":9007199254740993}');
    const event = kafkaEvent([r]) as { records: Record<string, unknown[]> };
    expect(Object.keys(event.records)).toEqual(['db.public.t-2']);
    // and the Kafka handler's decoder reads it back to the same event
    const [again] = splitDocument(event, { source: 'lambda-kafka' });
    expect(again!.decode()).toMatchObject({
      table: 't',
      op: 'create',
      key: { id: { rawJSON: '9007199254740993' } },
    });
  });
});

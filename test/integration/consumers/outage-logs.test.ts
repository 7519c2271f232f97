/**
 * A target outage produces only JSON lines (issue #15): `cdc-cache consume kafka` (a real child
 * process) applies to a private Valkey, which is stopped while records arrive and started again.
 * Every line the consumer writes, on stdout and stderr, is one JSON object of the logging contract
 * (no `[ioredis] Unhandled error event` stack dumps), the outage is logged as retries, and the
 * records that arrived during the outage are applied once Valkey is back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { createTopic, idBase, testKafka, waitFor, writeRulesFile } from '../../support/consumers.ts';
import { type PrivateValkey, startPrivateValkey } from '../../support/private-valkey.ts';

const CLI = join(import.meta.dirname, '../../../bin/cdc-cache.ts');
let cache: PrivateValkey;
let reader: Valkey;
let child: ChildProcess | undefined;

beforeAll(async () => {
  requireServices('kafka');
  cache = await startPrivateValkey();
  reader = new Valkey(cache.url, { maxRetriesPerRequest: 1 });
  reader.on('error', () => {}); // the test's own reader, during the outage
});

afterAll(async () => {
  child?.kill('SIGKILL');
  reader?.disconnect();
  await cache?.stop();
});

const value = (id: number, lsn: number) =>
  JSON.stringify({
    before: null,
    after: { id, email: `c${id}@x.io`, name: `n${id}`, tier: 'gold' },
    source: { connector: 'postgresql', schema: 'public', table: 'customers', lsn, ts_ms: Date.now() },
    op: 'c',
    ts_ms: Date.now(),
  });

describe('consume kafka during a target outage', () => {
  it('writes only JSON lines on stdout and stderr, logs the retries, and converges', async () => {
    const kafka = testKafka();
    const base = idBase();
    const topic = `cdc-outage-logs-${base}`;
    await createTopic(kafka, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: `{"id":${base}}`, value: value(base, 1) }] });

    child = spawn(
      process.execPath,
      [
        CLI,
        'consume',
        'kafka',
        ...['--brokers', serviceEnv('CDC_CACHE_KAFKA_BROKERS'), '--topic', topic, '--group', topic],
        ...['--config', writeRulesFile(), '--target', cache.url, '--dead-letter-topic', ''],
        ...['--no-http', '--no-progress', '--log-level', 'debug'],
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CDC_CACHE_TARGET: '', CDC_CACHE_CONFIG: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    await waitFor(
      'the first record applied',
      async () => (await reader.get(`customer:${base}`)) !== null,
      60_000,
      200,
    );
    await cache.stop();
    await producer.send({ topic, messages: [{ key: `{"id":${base + 1}}`, value: value(base + 1, 2) }] });
    await waitFor('a retry logged during the outage', async () => /retr/i.test(stderr), 60_000, 200);
    await cache.start();
    await waitFor(
      'the record of the outage applied after it',
      async () => (await reader.get(`customer:${base + 1}`).catch(() => null)) !== null,
      90_000,
      300,
    );
    await producer.disconnect();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const lines = `${stdout}${stderr}`.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      let parsed: unknown;
      expect(() => (parsed = JSON.parse(line)), line).not.toThrow();
      expect(parsed, line).toMatchObject({ level: expect.any(String), message: expect.any(String) });
      expect(parsed, line).toHaveProperty('timestamp');
    }
    expect(`${stdout}${stderr}`).not.toMatch(/\[ioredis\]|\[iovalkey\]|Unhandled error event/);
  });
});

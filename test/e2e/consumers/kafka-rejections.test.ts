/**
 * Issue 14, item 8 — a permanent rejection is a dead letter, never a retry loop. Two records the
 * Valkey target would refuse for good (a version component over 99 digits; a key rendering into the
 * reserved `__cdc:` prefix from user data) used to be retried forever by the Kafka consumer: the
 * partition's lag stuck, /readyz 503, nothing in the dead-letter topic. Here a real `consume kafka`
 * process on each Kafka client reads them between good records into the real Valkey: both land in
 * the dead-letter topic with their reasons, the good records are applied, and the group's committed
 * offset reaches the high watermark (lag 0) and readiness stays 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterHeaders } from '../../../consumers/kafka/dead-letter-topic.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  committedOffsets,
  createTopic,
  highWatermarks,
  readTopic,
  testKafka,
  waitFor,
} from '../../support/consumers.ts';
import { startWorker, type Worker } from '../../support/workers.ts';

const workers: Worker[] = [];
let valkey: ValkeyTarget;

beforeAll(async () => {
  requireServices('kafka', 'valkey');
  valkey = await createValkeyTarget({ url: serviceEnv('CDC_CACHE_VALKEY_URL') });
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await valkey?.close();
});

describe.each(['kafkajs', 'platformatic'])('permanent rejections on %s', (client) => {
  it('both records go to the dead-letter topic with reasons; the partition moves on to lag 0', async () => {
    const kafka = testKafka();
    const run = `${client}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const topic = `e2e-reject-${run}`;
    const dlq = `e2e-reject-dlq-${run}`;
    await createTopic(kafka, topic, 1);
    await createTopic(kafka, dlq, 1);
    const value = (id: number, handle: string, lsn: string) =>
      `{"before":null,"after":{"id":${id},"handle":${JSON.stringify(handle)}},"source":{"connector":"postgresql","schema":"public","table":"profiles","lsn":${lsn},"ts_ms":1732262400000},"op":"c","ts_ms":1732262400012}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: '{"id":1}', value: value(1, `ok1-${run}`, '1001') },
        { key: '{"id":2}', value: value(2, `ok2-${run}`, '9'.repeat(100)) },
        { key: '{"id":3}', value: value(3, '__cdc:v:{victim}', '1003') },
        { key: '{"id":4}', value: value(4, `ok4-${run}`, '1004') },
      ],
    });
    await producer.disconnect();
    const rules = {
      defaults: { ttl: 60 },
      rules: [{ table: 'public.profiles', keys: ['{handle}'], refresh: { fields: ['id', 'handle'] } }],
    };
    const groupId = `e2e-reject-${run}`;
    const w = startWorker(
      [
        'kafka',
        '--brokers',
        serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
        '--group',
        groupId,
        '--topic',
        topic,
        '--dead-letter-topic',
        dlq,
        '--target',
        serviceEnv('CDC_CACHE_VALKEY_URL'),
        '--http-port',
        '0',
        '--no-progress',
        '--kafka-client',
        client,
      ],
      { CDC_CACHE_RULES: JSON.stringify(rules) },
    );
    workers.push(w);
    const letters = await readTopic(kafka, dlq, 2, 60_000);
    expect(letters).toHaveLength(2);
    const [version, reserved] = letters;
    expect(version?.headers[DeadLetterHeaders.offset]).toBe('1');
    expect(version?.headers[DeadLetterHeaders.code]).toBe('E_BAD_VERSION');
    expect(version?.headers[DeadLetterHeaders.reason]).toMatch(/component longer than 99 digits/);
    expect(reserved?.headers[DeadLetterHeaders.offset]).toBe('2');
    expect(reserved?.headers[DeadLetterHeaders.code]).toBe('E_RESERVED_KEY');
    expect(reserved?.headers[DeadLetterHeaders.reason]).toMatch(/starts with the reserved prefix __cdc:/);
    await waitFor(
      'the committed offset at the high watermark (lag 0)',
      async () =>
        (await committedOffsets(kafka, groupId, topic)).get(0) ===
        (await highWatermarks(kafka, topic)).get(0),
      60_000,
      500,
    );
    expect(await valkey.get(`ok1-${run}`)).toBe(`{"id":1,"handle":"ok1-${run}"}`);
    expect(await valkey.get(`ok4-${run}`)).toBe(`{"id":4,"handle":"ok4-${run}"}`);
    expect(await valkey.get(`ok2-${run}`)).toBeNull();
    const port = w.logs.find((l) => l.message === 'http endpoint up')?.port;
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`cdc_cache_kafka_consumer_lag\\{topic="${topic}",partition="0"\\} 0`));
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });
});

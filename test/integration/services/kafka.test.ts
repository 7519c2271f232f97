/**
 * The harness's Kafka 4 (KRaft) broker works with kafkajs: a topic is created, a record produced
 * and the same record consumed back (through the port's read-only tail, with the default client).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../consumers/kafka/kafka-client.ts';
import { readKafkaTopics } from '../../../consumers/record/capture.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

describe('kafka', () => {
  let kafka: Kafka;
  const topic = `it-kafka-${process.pid}-${Date.now()}`;
  beforeAll(() => {
    requireServices('kafka');
    kafka = new Kafka({
      clientId: 'cdc-cache-it',
      brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(','),
      logLevel: logLevel.WARN,
    });
  });
  afterAll(async () => {
    const admin = kafka?.admin();
    if (!admin) return;
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('produces and consumes a record', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: '{"id":1}', value: '{"hello":"kafka"}' }] });
    await producer.disconnect();

    const lines = await readKafkaTopics(
      await createKafkaClient({ brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') }),
      {
        topics: [topic],
        until: (l) => l.length >= 1,
        timeoutMs: 30_000,
      },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ topic, key: { id: 1 }, value: { hello: 'kafka' } });
  });
});

/**
 * The Kafka client choice (consumers/kafka/kafka-client.ts) and the one record → change-log line
 * mapping (consumers/kafka/change-log-line.ts).
 */
import { describe, expect, it } from 'vitest';
import { kafkaLine } from '../../../../consumers/kafka/change-log-line.ts';
import { DEFAULT_KAFKA_CLIENT, toolKafkaClientName } from '../../../../consumers/kafka/kafka-client.ts';
import { resolveConsumerConfig } from '../../../../consumers/runtime/consumer-config.ts';

describe('Kafka client choice', () => {
  it("defaults to @platformatic/kafka; CDC_CACHE_KAFKA_CLIENT picks the tools' client", () => {
    expect(DEFAULT_KAFKA_CLIENT).toBe('platformatic');
    expect(toolKafkaClientName({})).toBe('platformatic');
    expect(toolKafkaClientName({ CDC_CACHE_KAFKA_CLIENT: 'kafkajs' })).toBe('kafkajs');
    expect(() => toolKafkaClientName({ CDC_CACHE_KAFKA_CLIENT: 'librdkafka' })).toThrow(
      'environment: CDC_CACHE_KAFKA_CLIENT: "librdkafka" is not one of kafkajs, platformatic',
    );
  });

  it('the consumer config takes the same default; kafka.client, the environment and --kafka-client pick kafkajs', () => {
    const file = { target: 'engine', kafka: { brokers: ['b:9092'] } };
    expect(resolveConsumerConfig(file, {}).kafka.client).toBe('platformatic');
    expect(
      resolveConsumerConfig({ ...file, kafka: { ...file.kafka, client: 'kafkajs' } }, {}).kafka.client,
    ).toBe('kafkajs');
    expect(resolveConsumerConfig(file, { CDC_CACHE_KAFKA_CLIENT: 'kafkajs' }).kafka.client).toBe('kafkajs');
    expect(resolveConsumerConfig(file, {}, { kafkaClient: 'kafkajs' }).kafka.client).toBe('kafkajs');
  });
});

describe('Kafka record → change-log line', () => {
  it('parses key and value exactly; a tombstone is null; text that is not JSON stays text', () => {
    const line = kafkaLine('dbz.public.t', 2, {
      key: Buffer.from('{"id":12345678901234567890}'),
      value: Buffer.from('{"op":"c","ts_ns":1765000000123456789}'),
      offset: '41',
      timestamp: '0',
    });
    expect(JSON.stringify(line)).toBe(
      '{"topic":"dbz.public.t","partition":2,"offset":"41","key":{"id":12345678901234567890},"value":{"op":"c","ts_ns":1765000000123456789}}',
    );
    expect(kafkaLine('t', 0, { key: null, value: null, offset: '1', timestamp: '0' })).toEqual({
      topic: 't',
      partition: 0,
      offset: '1',
      key: null,
      value: null,
    });
    expect(
      kafkaLine('t', 0, { key: Buffer.from('k1'), value: Buffer.from('{oops'), offset: '2', timestamp: '0' }),
    ).toMatchObject({ key: 'k1', value: '{oops' });
  });
});

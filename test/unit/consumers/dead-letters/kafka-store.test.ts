/**
 * `dead-letters kafka://…` reaches the brokers the way the consumers do: TLS and SASL from the same
 * CDC_CACHE_KAFKA_* variables, read by the same code (consumer-config.ts), into the same kafkajs
 * config (kafkajs-client.ts).
 */
import { describe, expect, it } from 'vitest';
import { kafkajsConfig } from '../../../../consumers/kafka/kafkajs-client.ts';
import { kafkaConnectionFromEnv } from '../../../../consumers/runtime/consumer-config.ts';

describe('the Kafka connection of dead-letters', () => {
  it('nothing set: plaintext, no SASL', () => {
    expect(kafkaConnectionFromEnv({})).toEqual({});
  });

  it('SASL SCRAM over TLS from the consumers variables', () => {
    const connection = kafkaConnectionFromEnv({
      CDC_CACHE_KAFKA_SSL: 'true',
      CDC_CACHE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      CDC_CACHE_KAFKA_SASL_USERNAME: 'redrive',
      CDC_CACHE_KAFKA_SASL_PASSWORD: 'pw',
    });
    expect(connection).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'redrive', password: 'pw' },
    });
    const config = kafkajsConfig({ brokers: ['b-1:9096'], ...connection });
    expect(config).toMatchObject({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'redrive' } });
  });

  it('a SASL mechanism without its password is refused, naming the variable', () => {
    expect(() =>
      kafkaConnectionFromEnv({ CDC_CACHE_KAFKA_SASL_MECHANISM: 'plain', CDC_CACHE_KAFKA_SASL_USERNAME: 'u' }),
    ).toThrow(/CDC_CACHE_KAFKA_SASL_PASSWORD: missing: CDC_CACHE_KAFKA_SASL_MECHANISM=plain needs it/);
  });
});

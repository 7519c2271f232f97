/**
 * Picks the Kafka client adapter behind {@link KafkaClientPort}: `kafkajs` (kafkajs-client.ts) or
 * `platformatic` (`@platformatic/kafka`, platformatic-client.ts). Each is loaded only when chosen,
 * so only the chosen library need be installed. The default is {@link DEFAULT_KAFKA_CLIENT}.
 */
import { ConfigError } from '../../core/errors.ts';
import type { KafkaClientName } from '../runtime/consumer-config.ts';
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS } from '../runtime/consumer-config-schema.ts';
import type { KafkaConnectionOptions } from './connection-options.ts';
import type { KafkaClientPort } from './kafka-port.ts';

export { DEFAULT_KAFKA_CLIENT } from '../runtime/consumer-config-schema.ts';

/** Creates the Kafka client `kind` names (default {@link DEFAULT_KAFKA_CLIENT}) on `connection`. */
export async function createKafkaClient(
  connection: KafkaConnectionOptions,
  kind: KafkaClientName = DEFAULT_KAFKA_CLIENT,
): Promise<KafkaClientPort> {
  // Plain imports: a missing library surfaces as the import error, which the CLI turns into its
  // one-line install hint naming every package the command lacks (bin/cdc-cache.ts).
  if (kind === 'kafkajs') return (await import('./kafkajs-client.ts')).createKafkajsClient(connection);
  return (await import('./platformatic-client.ts')).createPlatformaticClient(connection);
}

/**
 * The client the command-line tools (record, verify --kafka, dead-letters, lambda kafka-source)
 * use: `CDC_CACHE_KAFKA_CLIENT` when set (as for the consumers), else {@link DEFAULT_KAFKA_CLIENT}.
 */
export function toolKafkaClientName(
  env: Readonly<Record<string, string | undefined>> = process.env,
): KafkaClientName {
  const named = env.CDC_CACHE_KAFKA_CLIENT;
  if (named === undefined || named === '') return DEFAULT_KAFKA_CLIENT;
  if (!(KAFKA_CLIENTS as readonly string[]).includes(named))
    throw new ConfigError(
      `environment: CDC_CACHE_KAFKA_CLIENT: "${named}" is not one of ${KAFKA_CLIENTS.join(', ')}`,
    );
  return named as KafkaClientName;
}

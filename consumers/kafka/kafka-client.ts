/**
 * Picks the Kafka client adapter behind {@link KafkaClientPort}: `kafkajs` (kafkajs-client.ts) or
 * `platformatic` (`@platformatic/kafka`, platformatic-client.ts). Each is loaded only when chosen,
 * so only the chosen library need be installed; a missing one is a one-line install hint.
 */
import { ConfigError } from '../../core/errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import type { KafkaClientName } from '../runtime/consumer-config.ts';
import { KAFKA_CLIENTS } from '../runtime/consumer-config-schema.ts';
import type { KafkaConnectionOptions } from './connection-options.ts';
import type { KafkaClientPort } from './kafka-port.ts';

/** The client used when none is named (`kafka.client`, `--kafka-client`, `CDC_CACHE_KAFKA_CLIENT`). */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'kafkajs';

/** Creates the Kafka client `kind` names (default {@link DEFAULT_KAFKA_CLIENT}) on `connection`. */
export async function createKafkaClient(
  connection: KafkaConnectionOptions,
  kind: KafkaClientName = DEFAULT_KAFKA_CLIENT,
): Promise<KafkaClientPort> {
  if (kind === 'kafkajs') {
    const m = await loadOptional('kafka.client "kafkajs"', () => import('./kafkajs-client.ts'));
    return m.createKafkajsClient(connection);
  }
  const m = await loadOptional('kafka.client "platformatic"', () => import('./platformatic-client.ts'));
  return m.createPlatformaticClient(connection);
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

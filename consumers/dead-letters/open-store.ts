/**
 * Opens a dead-letter store from its spelling, the same one the writers use
 * (`CDC_CACHE_DEAD_LETTER` of the Lambda handlers, `--dead-letter-file` / `--dead-letter-topic` of
 * the consumers):
 *
 * - `kafka://HOST:PORT[,HOST:PORT…]/TOPIC`: the Kafka dead-letter topic (TLS and SASL from the
 *   consumers' CDC_CACHE_KAFKA_SSL* / CDC_CACHE_KAFKA_SASL_* variables);
 * - an SQS queue URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE`, `sqs://…` for https, or
 *   `http(s)://HOST:PORT/ACCOUNT/QUEUE` of an SQS-compatible server such as ElasticMQ);
 * - a file path (absolute, `./relative`, or `file://`).
 *
 * Each store's module (and its client library) is imported only when named.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/errors.ts';
import type { DeadLetterStore } from './dead-letter-store.ts';

/** Per-kind options the CLI passes through. */
export interface OpenStoreOptions {
  /** Kafka: the redrive group. */
  group?: string;
  /** Kafka: read from the beginning, not from the redrive group's position. */
  fromBeginning?: boolean;
  /** SQS: endpoint override. */
  endpoint?: string;
  /** SQS: region override. */
  region?: string;
  /** SQS: seconds messages stay hidden during a redrive. */
  visibilityTimeoutSeconds?: number;
  /** Environment for the Kafka TLS/SASL variables. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The fix printed for a destination that is none of the known spellings. */
export const DESTINATION_HELP =
  'use kafka://HOST:PORT/TOPIC, an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE, or http://HOST:PORT/ACCOUNT/QUEUE for ElasticMQ) or a file path (absolute, ./relative or file://)';

/** Opens the store named by `spec`; throws ConfigError naming the fix for anything else. */
export async function openDeadLetterStore(spec: string, o: OpenStoreOptions = {}): Promise<DeadLetterStore> {
  const kafka = /^kafka:\/\/([^/]+)\/(.+)$/.exec(spec);
  if (kafka) {
    const { kafkaDeadLetterStore } = await import('./kafka-store.ts');
    const { kafkaConnectionFromEnv } = await import('../runtime/consumer-config.ts');
    return kafkaDeadLetterStore({
      connection: kafkaConnectionFromEnv(o.env ?? process.env),
      brokers: kafka[1]!.split(',').filter(Boolean),
      topic: decodeURIComponent(kafka[2]!),
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(o.fromBeginning ? { fromBeginning: true } : {}),
    });
  }
  if (/^(https?|sqs):\/\/[^/]+\/[^/]+\/[^/]+$/.test(spec)) {
    const queueUrl = spec.startsWith('sqs://') ? `https://${spec.slice('sqs://'.length)}` : spec;
    const { sqsDeadLetterStore } = await import('./sqs-store.ts');
    return sqsDeadLetterStore({
      queueUrl,
      ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      ...(o.region === undefined ? {} : { region: o.region }),
      ...(o.visibilityTimeoutSeconds === undefined
        ? {}
        : { visibilityTimeoutSeconds: o.visibilityTimeoutSeconds }),
    });
  }
  if (spec.startsWith('file://') || spec.startsWith('/') || spec.startsWith('.')) {
    const { fileDeadLetterStore } = await import('./file-store.ts');
    return fileDeadLetterStore(spec.startsWith('file://') ? fileURLToPath(spec) : spec);
  }
  throw new ConfigError(`dead-letter destination "${spec}": ${DESTINATION_HELP}`);
}

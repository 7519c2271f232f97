/**
 * Wires `cdc-cache consume kafka`: config → Kafka client (kafkajs, or `@platformatic/kafka` with
 * `kafka.client: "platformatic"`) → dead-letter topic → consumer, inside the service shell. Also the entry for tests and embedding (`startKafkaConsumer`).
 */
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { KafkaSection } from '../runtime/consumer-config.ts';
import {
  countingDeadLetterSink,
  type DeadLetterSink,
  logDeadLetterSink,
} from '../runtime/dead-letter-sink.ts';
import { createRuleReporter } from '../runtime/rule-reporter.ts';
import type { ServiceContext, ServiceWorker } from '../runtime/service.ts';
import type { KafkaConnectionOptions } from './connection-options.ts';
import { kafkaDeadLetterSink } from './dead-letter-topic.ts';
import { createKafkaCdcConsumer } from './kafka-cdc-consumer.ts';
import { createKafkaClient } from './kafka-client.ts';
import type { KafkaClientPort, KafkaProducerPort } from './kafka-port.ts';

/** The connection options of a Kafka config section. */
export function connectionOf(k: KafkaSection): KafkaConnectionOptions {
  const o: KafkaConnectionOptions = { brokers: k.brokers };
  if (k.clientId !== undefined) o.clientId = k.clientId;
  if (k.ssl !== undefined) o.ssl = k.ssl;
  if (k.sasl !== undefined) o.sasl = k.sasl;
  return o;
}

/**
 * The Kafka client `kafka.client` names, on the section's connection options. Each library is
 * loaded only when chosen (`@platformatic/kafka` needs Node >= 22.22 or >= 24.6; kafkajs runs on any
 * supported Node).
 */
export async function kafkaClientOf(k: KafkaSection): Promise<KafkaClientPort> {
  return createKafkaClient(connectionOf(k), k.client);
}

/** Builds the Kafka worker for the service shell. */
export async function buildKafkaWorker(
  k: KafkaSection,
  rules: CompiledConfig,
  ctx: ServiceContext,
  given?: KafkaClientPort,
): Promise<ServiceWorker> {
  const client = given ?? (await kafkaClientOf(k));
  if (given === undefined) ctx.logger.info('kafka client', { client: k.client });
  const topics: (string | RegExp)[] = [...k.topics];
  if (k.topicPattern !== undefined) topics.push(new RegExp(k.topicPattern));
  if (topics.length === 0) throw new Error('kafka: give topics (--topic, kafka.topics) or a topicPattern');
  let producer: KafkaProducerPort | undefined;
  let sink: DeadLetterSink;
  if (k.deadLetterTopic === '') sink = logDeadLetterSink(ctx.logger);
  else {
    producer = client.producer();
    await producer.connect();
    sink = kafkaDeadLetterSink(producer, k.deadLetterTopic);
  }
  const consumerOptions: Parameters<KafkaClientPort['consumer']>[0] = { groupId: k.groupId };
  if (k.sessionTimeoutMs !== undefined) consumerOptions.sessionTimeoutMs = k.sessionTimeoutMs;
  if (k.maxBytesPerPartition !== undefined) consumerOptions.maxBytesPerPartition = k.maxBytesPerPartition;
  if (k.maxBytes !== undefined) consumerOptions.maxBytes = k.maxBytes;
  if (k.maxWaitTimeMs !== undefined) consumerOptions.maxWaitTimeMs = k.maxWaitTimeMs;
  const ruleReporter = createRuleReporter(rules, ctx.metrics.registry, ctx.logger);
  // The stall watchdog's own admin connection (kafka-cdc-consumer.ts `watchdog`).
  const admin = client.admin();
  const consumer = createKafkaCdcConsumer({
    consumer: client.consumer(consumerOptions),
    topics,
    fromBeginning: k.fromBeginning,
    partitionsConsumedConcurrently: k.partitionsConsumedConcurrently,
    chunkSize: k.chunkSize,
    config: rules,
    target: ctx.target,
    deadLetter: countingDeadLetterSink(sink, ctx.metrics, ctx.logger),
    metrics: ctx.metrics,
    rules: ruleReporter,
    logger: ctx.logger,
    watchdog: { admin, groupId: k.groupId, sessionTimeoutMs: k.sessionTimeoutMs ?? 30_000 },
  });
  const s = consumer.state;
  return {
    start: () => consumer.start(),
    async stop() {
      await consumer.stop();
      await admin.close().catch(() => {});
      ruleReporter.final();
      await producer?.disconnect();
    },
    health: {
      live: () => s.crashed === null,
      notReadyReason: () => consumer.notReadyReason(),
    },
    progress: () => {
      const p = { events: s.records, lag: s.lag, deadLetters: s.deadLetters };
      return s.retrying > 0 ? { ...p, note: `retrying ${s.retrying} partition(s): target down` } : p;
    },
  };
}

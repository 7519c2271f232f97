/**
 * A local stand-in for the MSK / self-managed Kafka event source mapping, for development and
 * tests (`cdc-cache lambda kafka-source`): it polls Kafka with a consumer group and invokes the
 * Kafka handler with MSK-shaped batches through `@aws-sdk/client-lambda`, so the Lambda path runs
 * against a real Debezium pipeline.
 *
 * It keeps the event source mapping's semantics per partition: records go out in offset order, in
 * batches of at most `batchSize`; an offset is committed only after the function acknowledged the
 * record; a partial batch response (`{ partition, offset }`) resumes that partition from the lowest
 * reported offset; a function error retries the whole batch. Retries back off and never skip a
 * record (the AWS default, MaximumRetryAttempts -1).
 *
 * It reads through the consumers' Kafka port (consumers/kafka/kafka-port.ts), with the client
 * `CDC_CACHE_KAFKA_CLIENT` names (default: the consumers' default); resolved offsets are committed
 * on the port's interval (1 s) and on stop.
 */
import { createKafkaClient, toolKafkaClientName } from '../../consumers/kafka/kafka-client.ts';
import { invokeFunction, type LambdaLike } from './lambda-client.ts';
import { kafkaEvent, lambdaKafkaRecord } from './lambda-events.ts';

/** Options of {@link startKafkaEventSource}. */
export interface KafkaEventSourceOptions {
  brokers: string[];
  topics: (string | RegExp)[];
  /** Consumer group (the event source mapping's UUID in AWS). @default 'cdc-cache-lambda' */
  groupId?: string;
  functionName: string;
  client: LambdaLike;
  /** Records per invocation. @default 100 */
  batchSize?: number;
  /** Start from the earliest offset when the group has none. @default true */
  fromBeginning?: boolean;
  /** Backoff after a failed invocation, doubled up to `maxRetryDelayMs`. @default 200 */
  retryDelayMs?: number;
  /** Backoff ceiling. @default 5000 */
  maxRetryDelayMs?: number;
  /** Partitions processed at once. @default 16 */
  partitionsConsumedConcurrently?: number;
  /** Progress lines (JSON). */
  log?: (line: string) => void;
}

/** Counters of a running event source. */
export interface KafkaEventSourceStats {
  invocations: number;
  acknowledged: number;
  reported: number;
  functionErrors: number;
}

/** A running event source. */
export interface KafkaEventSource {
  readonly stats: KafkaEventSourceStats;
  stop(): Promise<void>;
}

/** Starts polling and invoking; resolves once the consumer joined its group. */
export async function startKafkaEventSource(options: KafkaEventSourceOptions): Promise<KafkaEventSource> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const batchSize = options.batchSize ?? 100;
  const baseDelay = options.retryDelayMs ?? 200;
  const maxDelay = options.maxRetryDelayMs ?? 5000;
  const stats: KafkaEventSourceStats = { invocations: 0, acknowledged: 0, reported: 0, functionErrors: 0 };
  const client = await createKafkaClient(
    { clientId: 'cdc-cache-lambda-source', brokers: options.brokers },
    toolKafkaClientName(),
  );
  const consumer = client.consumer({ groupId: options.groupId ?? 'cdc-cache-lambda' });
  const envelope = {
    eventSource: 'aws:kafka',
    eventSourceArn: `arn:aws:kafka:local:000000000000:cluster/cdc-cache-local/${options.groupId ?? 'cdc-cache-lambda'}`,
    bootstrapServers: options.brokers.join(','),
  };
  consumer.onCrash((error, restart) =>
    log(JSON.stringify({ level: 'warn', message: 'kafka consumer error', restart, error: String(error) })),
  );
  await consumer.connect();
  await consumer.subscribe(options.topics, options.fromBeginning ?? true);
  await consumer.run({
    // Partitions are independent, as under the event source mapping: one stuck partition retrying
    // must not hold the others back.
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 16,
    eachBatch: async (batch, { resolveOffset, heartbeat, commitIfNecessary, isRunning, isStale }) => {
      const tp = `${batch.topic}-${batch.partition}`;
      let messages = batch.messages;
      let delay = baseDelay;
      while (messages.length > 0 && isRunning() && !isStale()) {
        const slice = messages.slice(0, batchSize);
        const records = slice.map((m) =>
          lambdaKafkaRecord({
            ...m,
            topic: batch.topic,
            partition: batch.partition,
            headers: m.headers ?? {},
          }),
        );
        stats.invocations++;
        let resumeAt: number | undefined; // lowest reported offset, when the function reported some
        try {
          const response = await invokeFunction(
            options.client,
            options.functionName,
            kafkaEvent(records, envelope),
          );
          const failures =
            (
              response as {
                batchItemFailures?: { itemIdentifier?: { partition?: string; offset?: number } }[];
              } | null
            )?.batchItemFailures ?? [];
          for (const f of failures) {
            const id = f.itemIdentifier;
            if (id?.partition === tp && typeof id.offset === 'number')
              resumeAt = Math.min(resumeAt ?? id.offset, id.offset);
          }
          if (failures.length > 0 && resumeAt === undefined) {
            throw new Error(`batchItemFailures name no record of ${tp}: ${JSON.stringify(failures)}`);
          }
        } catch (error) {
          stats.functionErrors++;
          log(
            JSON.stringify({
              level: 'warn',
              message: 'invocation failed; retrying the batch',
              partition: tp,
              error: String(error),
            }),
          );
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(maxDelay, delay * 2);
          await heartbeat();
          continue;
        }
        const done = resumeAt === undefined ? slice : slice.filter((m) => Number(m.offset) < resumeAt!);
        for (const m of done) resolveOffset(m.offset);
        stats.acknowledged += done.length;
        await commitIfNecessary();
        await heartbeat();
        if (resumeAt === undefined) {
          messages = messages.slice(slice.length);
          delay = baseDelay;
        } else {
          stats.reported += slice.length - done.length;
          log(
            JSON.stringify({
              level: 'warn',
              message: 'partial batch failure; resuming',
              partition: tp,
              offset: resumeAt,
            }),
          );
          messages = messages.filter((m) => Number(m.offset) >= resumeAt!);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(maxDelay, delay * 2);
        }
      }
    },
  });
  return {
    stats,
    async stop() {
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}

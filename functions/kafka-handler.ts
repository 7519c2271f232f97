/**
 * Lambda handler for Kafka event sources (Amazon MSK and self-managed Apache Kafka) carrying
 * Debezium change events (JSON converter, with or without schemas). Enable
 * `ReportBatchItemFailures` on the event source mapping: the response names, per topic-partition,
 * the first record not applied and every later one as `{ partition: "<topic>-<n>", offset }`
 * (the Kafka form of itemIdentifier, see runtime/lambda-types.ts).
 */
import { splitDocument } from '../core/decode/document.ts';
import { type Environment, sharedEnvironment } from './runtime/environment.ts';
import type {
  KafkaBatchResponse,
  KafkaEvent,
  KafkaItemIdentifier,
  LambdaContext,
} from './runtime/lambda-types.ts';
import { locateRecord } from './runtime/poison.ts';
import { BatchError, type InvocationRecord, runBatch } from './runtime/run-batch.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Finds the records of a Kafka event with their identifiers, partition by partition. */
export function kafkaRecords(event: unknown): InvocationRecord<KafkaItemIdentifier>[] {
  if (!isObj(event) || !isObj(event.records))
    throw new BatchError(
      'not a Kafka event: expected an object with a "records" map keyed by topic-partition',
    );
  const out: InvocationRecord<KafkaItemIdentifier>[] = [];
  for (const [partition, list] of Object.entries(event.records)) {
    if (!Array.isArray(list)) throw new BatchError(`records.${partition}: expected an array of records`);
    list.forEach((raw, i) => {
      const r = isObj(raw) ? raw : {};
      const offset =
        typeof r.offset === 'number'
          ? r.offset
          : typeof r.offset === 'string'
            ? Number(r.offset)
            : Number.NaN;
      const id = Number.isSafeInteger(offset) ? { partition, offset } : undefined;
      const label =
        typeof r.topic === 'string' && id !== undefined
          ? `${r.topic}/${String(r.partition)}@${offset}`
          : `records.${partition}[${i}]`;
      out.push({
        group: partition,
        id,
        record: locateRecord(
          raw,
          label,
          'debezium',
          () => splitDocument(raw, { source: 'lambda-kafka' }, label)[0],
        ),
        arrivedAt: typeof r.timestamp === 'number' ? r.timestamp : undefined,
      });
    });
  }
  return out;
}

/** Creates the handler over an environment (default: the module-wide one, configured from env). */
export function createKafkaHandler(environment: Environment = sharedEnvironment()) {
  return async (event: KafkaEvent, context: LambdaContext): Promise<KafkaBatchResponse> => {
    const rt = await environment.get();
    return runBatch(rt, context, 'kafka', kafkaRecords(event));
  };
}

/** The Lambda entry point (`kafka-handler.handler`). */
export const handler = createKafkaHandler();

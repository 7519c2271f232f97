/**
 * Lambda handler for the DynamoDB Streams event source (also accepts Kinesis events carrying
 * DynamoDB change records). Enable `ReportBatchItemFailures` on the event source mapping: the
 * response names, per stream, the first record not applied and every later one, by SequenceNumber
 * (Kinesis: `kinesis.sequenceNumber`), and Lambda retries from the lowest.
 *
 * Thin on purpose: locating records, identifiers and lag live here; decoding, rules, applying,
 * dead letters and the response live in core/ and functions/runtime.
 */
import { splitDocument } from '../core/decode/document.ts';
import { type Environment, sharedEnvironment } from './runtime/environment.ts';
import type { DynamoDbStreamEvent, LambdaContext, StreamBatchResponse } from './runtime/lambda-types.ts';
import { locateRecord } from './runtime/poison.ts';
import { BatchError, type InvocationRecord, runBatch } from './runtime/run-batch.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Finds the records of a DynamoDB Streams (or Kinesis) event with their identifiers. */
export function dynamoDbRecords(event: unknown): InvocationRecord<string>[] {
  if (!isObj(event) || !Array.isArray(event.Records))
    throw new BatchError('not a DynamoDB Streams event: expected an object with a "Records" array');
  return event.Records.map((raw, i) => {
    const r = isObj(raw) ? raw : {};
    const kinesis = isObj(r.kinesis) ? r.kinesis : undefined;
    const ddb = isObj(r.dynamodb) ? r.dynamodb : undefined;
    const seq = kinesis?.sequenceNumber ?? ddb?.SequenceNumber;
    const id = typeof seq === 'string' && seq !== '' ? seq : undefined;
    const arrivedSeconds = kinesis?.approximateArrivalTimestamp ?? ddb?.ApproximateCreationDateTime;
    const group = typeof r.eventSourceARN === 'string' ? r.eventSourceARN : 'dynamodb';
    const label = `Records[${i}]${id === undefined ? '' : `@${id}`}`;
    return {
      group,
      id,
      record: locateRecord(
        raw,
        label,
        'dynamodb',
        () => splitDocument(raw, { source: 'dynamodb' }, label)[0],
      ),
      arrivedAt: typeof arrivedSeconds === 'number' ? arrivedSeconds * 1000 : undefined,
    };
  });
}

/** Creates the handler over an environment (default: the module-wide one, configured from env). */
export function createDynamoDbHandler(environment: Environment = sharedEnvironment()) {
  return async (event: DynamoDbStreamEvent, context: LambdaContext): Promise<StreamBatchResponse> => {
    const rt = await environment.get();
    return runBatch(rt, context, 'dynamodb', dynamoDbRecords(event));
  };
}

/** The Lambda entry point (`dynamodb-handler.handler`). */
export const handler = createDynamoDbHandler();

/**
 * Dead letters written by the real writers for the redrive specs: the DynamoDB and Kafka Lambda
 * handlers with CDC_CACHE_DEAD_LETTER=/path and a bad rule (a typo in a key template), over
 * records derived from the fixtures (test/support/lambda.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { compileConfig } from '../../core/rules/compile.ts';
import { createEngineTarget } from '../../core/targets/engine/engine-target.ts';
import { createDynamoDbHandler } from '../../functions/dynamodb-handler.ts';
import { createKafkaHandler } from '../../functions/kafka-handler.ts';
import { createEnvironment } from '../../functions/runtime/environment.ts';
import { ddbInsert, kafkaRecord, lambdaContext, mskEvent, RULES } from './lambda.ts';

/** The example rules with a typo in the DynamoDB and orders key templates: every such record dead-letters. */
export const BAD = compileConfig({
  rules: RULES.rules.map((r) =>
    r.table === 'ExampleTableWithStream'
      ? { ...r, keys: ['message:{Idd}'] }
      : r.table === 'public.orders'
        ? { ...r, keys: ['order:{order_id}'] }
        : r,
  ),
});

export const quiet = { CDC_CACHE_METRICS_NAMESPACE: 'off', CDC_CACHE_LOG_LEVEL: 'error' };
export const ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';

/** Dead letters of the DynamoDB handler (items 1..3) and the Kafka handler (orders 7), in `file`. */
export async function writeLambdaDeadLetters(file: string): Promise<void> {
  const env = { ...quiet, CDC_CACHE_DEAD_LETTER: file };
  const ddb = createEnvironment({ config: BAD, target: createEngineTarget(), env, logSink: () => {} });
  const response = await createDynamoDbHandler(ddb)(
    { Records: [ddbInsert(1, '100', ARN), ddbInsert(2, '200', ARN), ddbInsert(3, '300', ARN)] } as never,
    lambdaContext(),
  );
  expect(response.batchItemFailures).toEqual([]);
  const kafka = createEnvironment({ config: BAD, target: createEngineTarget(), env, logSink: () => {} });
  await createKafkaHandler(kafka)(mskEvent([kafkaRecord('orders', 0, 7, 7)]) as never, lambdaContext());
}

export function tmpFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'cdc-dlq-')), 'dead-letters.jsonl');
}

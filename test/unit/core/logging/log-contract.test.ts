/**
 * One logging contract (core/logging/log-contract.ts): a Lambda handler's line and a consumer's line
 * for the same kind of event (a dead letter) have the same field names, apart from each platform's
 * documented context fields; Lambda honours AWS_LAMBDA_LOG_LEVEL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createConsumerMetrics } from '../../../../consumers/runtime/consumer-metrics.ts';
import { countingDeadLetterSink } from '../../../../consumers/runtime/dead-letter-sink.ts';
import { createJsonLogger } from '../../../../consumers/runtime/logger.ts';
import {
  CONTAINER_CONTEXT_FIELDS,
  LAMBDA_CONTEXT_FIELDS,
  LOG_FIELDS,
} from '../../../../core/logging/log-contract.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { createKafkaHandler } from '../../../../functions/kafka-handler.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import { createLogger } from '../../../../functions/runtime/logger.ts';
import { config, kafkaRecord, lambdaContext, lineCollector, mskEvent } from '../../../support/lambda.ts';

const without = (line: Record<string, unknown>, context: readonly string[]) =>
  Object.keys(line)
    .filter((k) => !context.includes(k))
    .sort();

describe('one logging contract for Lambda and containers', () => {
  it('a dead letter is logged with the same field names by a Lambda handler and by a consumer', async () => {
    const lambdaLogs = lineCollector();
    const environment = createEnvironment({
      config,
      target: createEngineTarget(),
      logSink: lambdaLogs.sink,
      env: { CDC_CACHE_DEAD_LETTER: 'fail', CDC_CACHE_METRICS_NAMESPACE: 'off' },
    });
    await createKafkaHandler(environment)(
      mskEvent([kafkaRecord('orders', 0, 2, { raw: 'not json' })]) as never,
      lambdaContext(),
    );
    const fromLambda = lambdaLogs.lines().find((l) => l.message === 'dead letter')!;
    expect(fromLambda).toMatchObject({ level: 'warn', position: 'orders/0@2', code: 'E_BAD_JSON' });
    expect(fromLambda.function_request_id).toBeDefined();
    expect(fromLambda.cold_start).toBeTypeOf('boolean');

    const lines: string[] = [];
    const logger = createJsonLogger({ write: (l) => lines.push(l) }, { service: 'cdc-cache-kafka' });
    const sink = countingDeadLetterSink(async () => {}, createConsumerMetrics(), logger);
    await sink({ position: 'orders/0@2', code: 'E_BAD_JSON', reason: 'not JSON', record: null } as never);
    const fromConsumer = JSON.parse(lines[0]!);
    expect(fromConsumer).toMatchObject({ level: 'warn', message: 'dead letter', position: 'orders/0@2' });

    for (const f of LOG_FIELDS) {
      expect(fromLambda).toHaveProperty(f);
      expect(fromConsumer).toHaveProperty(f);
    }
    expect(without(fromLambda, LAMBDA_CONTEXT_FIELDS)).toEqual(
      without(fromConsumer, CONTAINER_CONTEXT_FIELDS),
    );
    expect(fromLambda.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(fromConsumer.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  describe('Lambda log level', () => {
    afterEach(() => {
      delete process.env.AWS_LAMBDA_LOG_LEVEL;
    });
    it('AWS_LAMBDA_LOG_LEVEL (Lambda advanced logging controls) wins over CDC_CACHE_LOG_LEVEL', () => {
      process.env.AWS_LAMBDA_LOG_LEVEL = 'ERROR';
      const logs = lineCollector();
      const log = createLogger({ level: 'info', sink: logs.sink });
      log.info('hidden');
      log.warn('hidden too');
      log.error('shown', { error: new Error('boom', { cause: new Error('root') }) });
      const lines = logs
        .lines()
        .filter((l) => l.message !== undefined && !String(l.message).includes('log level'));
      expect(lines.map((l) => l.message)).toEqual(['shown']);
      expect(lines[0]).toMatchObject({
        level: 'error',
        error: { message: 'boom', cause: { message: 'root' } },
      });
      expect((lines[0]!.error as { stack: string }).stack).toMatch(/^Error: boom\n/);
    });
  });
});

/**
 * The Lambda handlers read the cache password from Secrets Manager at init (CDC_CACHE_TARGET_PASSWORD_SECRET_ARN),
 * cache it for the execution environment, and read it again when the target refuses it (rotation).
 * The target is a real engine server with requirepass; Secrets Manager cannot run here, so the
 * client is a structural stand-in that serves the secret's versions and counts the reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../../engine/server/server.ts';
import { createKafkaHandler } from '../../../../functions/kafka-handler.ts';
import { createEnvironment } from '../../../../functions/runtime/environment.ts';
import {
  isAuthFailure,
  type SecretsManagerLike,
  secretPassword,
} from '../../../../functions/runtime/secret.ts';
import { readSettings } from '../../../../functions/runtime/settings.ts';
import { config, kafkaRecord, lambdaContext, lineCollector, mskEvent } from '../../../support/lambda.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdc-cache-user-AbCdEf';
let server: EngineServer;
beforeAll(async () => {
  server = await startEngineServer({ port: 0, requirepass: 'rotated-pw' });
});
afterAll(() => server?.close());

/** Serves `versions` in turn (the last one for ever), counting reads; records the SecretId asked for. */
function secrets(...versions: string[]): SecretsManagerLike & { reads: number; ids: unknown[] } {
  const s = {
    reads: 0,
    ids: [] as unknown[],
    async send(command: unknown) {
      s.ids.push((command as { input: { SecretId: string } }).input.SecretId);
      const v = versions[Math.min(s.reads, versions.length - 1)];
      s.reads++;
      return { SecretString: v };
    },
  };
  return s;
}

describe('cache password from Secrets Manager', () => {
  it('is read once at init (JSON "password" field) and cached across invocations', async () => {
    const sm = secrets(JSON.stringify({ username: 'default', password: 'rotated-pw' }));
    const environment = createEnvironment({
      config,
      logSink: lineCollector().sink,
      secretsManager: sm,
      env: {
        CDC_CACHE_TARGET: `engine://127.0.0.1:${server.port}`,
        CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: ARN,
        CDC_CACHE_METRICS_NAMESPACE: 'off',
      },
    });
    const handler = createKafkaHandler(environment);
    for (const offset of [1, 2]) {
      const res = await handler(
        mskEvent([kafkaRecord('orders', 0, offset, offset)]) as never,
        lambdaContext(),
      );
      expect(res.batchItemFailures).toEqual([]);
    }
    expect(sm.reads).toBe(1);
    expect(sm.ids).toEqual([ARN]);
    expect((await environment.get()).settings.password).toBe('rotated-pw');
    await environment.close();
  });

  it('is read again after the target refuses it (a rotated password), and the stream recovers', async () => {
    const sm = secrets('old-pw', 'rotated-pw');
    const logs = lineCollector();
    const environment = createEnvironment({
      config,
      logSink: logs.sink,
      secretsManager: sm,
      env: {
        CDC_CACHE_TARGET: `engine://127.0.0.1:${server.port}`,
        CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: ARN,
        CDC_CACHE_RETRY_ATTEMPTS: '1',
        CDC_CACHE_METRICS_NAMESPACE: 'off',
      },
    });
    const handler = createKafkaHandler(environment);
    const first = await handler(mskEvent([kafkaRecord('orders', 0, 1, 1)]) as never, lambdaContext());
    expect(first.batchItemFailures).toHaveLength(1); // refused: reported, delivered again
    const again = await handler(mskEvent([kafkaRecord('orders', 0, 1, 1)]) as never, lambdaContext());
    expect(again.batchItemFailures).toEqual([]);
    expect(sm.reads).toBe(2);
    expect(JSON.stringify(logs.lines())).not.toContain('old-pw');
    await environment.close();
  });

  it('refuses a plain password and a secret ARN together, and a malformed ARN', () => {
    expect(() =>
      readSettings({ CDC_CACHE_TARGET_PASSWORD: 'x', CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: ARN }),
    ).toThrow(/set either it or CDC_CACHE_TARGET_PASSWORD_SECRET_ARN, not both/);
    expect(() => readSettings({ CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: 'my-secret' })).toThrow(
      'environment: CDC_CACHE_TARGET_PASSWORD_SECRET_ARN=my-secret: must be a Secrets Manager secret ARN',
    );
  });

  it('takes a plain password that starts with "{" as it is, and never quotes a malformed JSON secret', async () => {
    expect(await secretPassword(ARN, secrets('{Tr0ub4dor&3xyz')).get()).toBe('{Tr0ub4dor&3xyz');
    const bad = secretPassword(ARN, secrets('{"password": Tr0ub4dor&3xyz}'));
    const error = await bad.get().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/names "password" but is not valid JSON/);
    expect(JSON.stringify({ message: error?.message, stack: error?.stack })).not.toContain('Tr0ub4dor');
  });

  it('recognises refused credentials through the cause chain', () => {
    expect(
      isAuthFailure(new Error('x', { cause: new Error('WRONGPASS invalid username-password pair') })),
    ).toBe(true);
    expect(isAuthFailure(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});

/**
 * Every `CDC_CACHE_*` environment variable a cdc-cache process reads (handlers, consumers, CLI,
 * CDK app), so a misspelt one is caught: a variable that is not one of them but within two edits of
 * one (`CDC_CACHE_TARGT`, `CDC_CACHE_KAFKA_GROUPID`) is refused with a did-you-mean instead of being
 * silently ignored. Names further from every known one (other tools' variables, the test harness's)
 * are left alone. test/unit/core/settings/env-names.test.ts checks this list covers every env schema.
 */
import { closestByEdits } from '../config/did-you-mean.ts';
import { ConfigError, ErrorCode } from '../errors.ts';

/** The variables read anywhere in cdc-cache. */
export const CDC_CACHE_ENV_NAMES: ReadonlySet<string> = new Set([
  'CDC_CACHE_RULES',
  'CDC_CACHE_CONFIG',
  'CDC_CACHE_CONSUMER_CONFIG',
  'CDC_CACHE_DEPLOY_CONFIG',
  'CDC_CACHE_TARGET',
  'CDC_CACHE_TARGET_USERNAME',
  'CDC_CACHE_TARGET_PASSWORD',
  'CDC_CACHE_TARGET_PASSWORD_SECRET_ARN',
  'CDC_CACHE_TLS_CA_FILE',
  'CDC_CACHE_TLS_SERVERNAME',
  'CDC_CACHE_TLS_REJECT_UNAUTHORIZED',
  'CDC_CACHE_DEAD_LETTER',
  'CDC_CACHE_TIME_MARGIN_MS',
  'CDC_CACHE_RETRY_ATTEMPTS',
  'CDC_CACHE_RETRY_BASE_MS',
  'CDC_CACHE_METRICS_NAMESPACE',
  'CDC_CACHE_LOG_LEVEL',
  'CDC_CACHE_HTTP_PORT',
  'CDC_CACHE_HTTP_HOST',
  'CDC_CACHE_KAFKA_CLIENT',
  'CDC_CACHE_KAFKA_BROKERS',
  'CDC_CACHE_KAFKA_GROUP_ID',
  'CDC_CACHE_KAFKA_TOPICS',
  'CDC_CACHE_KAFKA_TOPIC_PATTERN',
  'CDC_CACHE_KAFKA_DLQ_TOPIC',
  'CDC_CACHE_KAFKA_SSL',
  'CDC_CACHE_KAFKA_SSL_CA_FILE',
  'CDC_CACHE_KAFKA_SASL_MECHANISM',
  'CDC_CACHE_KAFKA_SASL_USERNAME',
  'CDC_CACHE_KAFKA_SASL_PASSWORD',
  'CDC_CACHE_KAFKA_SASL_TOKEN',
  'CDC_CACHE_DYNAMODB_ENDPOINT',
  'CDC_CACHE_DYNAMODB_STREAM_ARN',
  'CDC_CACHE_DYNAMODB_TABLE',
  'CDC_CACHE_DYNAMODB_STATE_DIR',
  'CDC_CACHE_DYNAMODB_WORKER_ID',
  'CDC_CACHE_DYNAMODB_START',
  'CDC_CACHE_DYNAMODB_LEASE_STORE',
  'CDC_CACHE_DYNAMODB_LEASE_TABLE',
  'CDC_CACHE_FUNCTIONS_DIST',
  'CDC_CACHE_DEBUG',
]);

/** Refuses a `CDC_CACHE_*` variable that is a likely misspelling of a known one. */
export function checkEnvNames(env: Readonly<Record<string, string | undefined>>): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('CDC_CACHE_') || CDC_CACHE_ENV_NAMES.has(name)) continue;
    if (env[name] === undefined || env[name] === '') continue;
    const near = closestByEdits(name, CDC_CACHE_ENV_NAMES, 2);
    if (near !== undefined)
      throw new ConfigError(`environment: ${name}: unknown variable (did you mean "${near}"?)`, {
        code: ErrorCode.ConfigUnknownOption,
        file: 'environment',
        path: name,
      });
  }
}

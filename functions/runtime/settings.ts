/**
 * Function settings from the environment, validated once per execution environment. Every
 * mistake names the variable and the fix (a bad value fails the first invocation, loudly, instead
 * of a silently misconfigured stream). See functions/README.md for the table of variables.
 */
import * as v from 'valibot';
import { type LogLevel, logLevel } from '../../core/config/log-level.ts';
import { integerText, text } from '../../core/config/validate.ts';
import { ConfigError, ErrorCode } from '../../core/errors.ts';
import {
  type Env,
  parseEnv,
  readSharedSettings,
  type SharedSettings,
} from '../../core/settings/shared-settings.ts';

export { type LogLevel, LogLevels } from '../../core/config/log-level.ts';

/**
 * What the handlers read from the environment: the settings shared with the consumers
 * (CDC_CACHE_RULES, CDC_CACHE_CONFIG, CDC_CACHE_TARGET, target AUTH and TLS; see
 * core/settings/shared-settings.ts) plus the Lambda-only ones below. CDC_CACHE_CONFIG paths resolve
 * against LAMBDA_TASK_ROOT; CDC_CACHE_TARGET defaults to the config's `target`.
 */
export interface FunctionSettings extends SharedSettings {
  /** CDC_CACHE_DEAD_LETTER: `log`, `fail`, an SQS queue URL, or a file path. @default 'log' */
  deadLetter: string;
  /** CDC_CACHE_TIME_MARGIN_MS: time kept free before the function's timeout. @default 1000 */
  timeMarginMs: number;
  /** CDC_CACHE_RETRY_ATTEMPTS: attempts per op for retriable target failures. @default 5 */
  retryAttempts: number;
  /** CDC_CACHE_RETRY_BASE_MS: first backoff, doubled per attempt. @default 50 */
  retryBaseMs: number;
  /** CDC_CACHE_METRICS_NAMESPACE: CloudWatch namespace of the EMF metrics (`off` disables them). @default 'cdc-cache' */
  metricsNamespace: string | undefined;
  /** CDC_CACHE_LOG_LEVEL: debug, info, warn, error. @default 'info' */
  logLevel: LogLevel;
  /**
   * CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: the Secrets Manager secret holding the target password
   * (JSON `{ "password": … }` or the password itself), read at init instead of CDC_CACHE_TARGET_PASSWORD.
   */
  passwordSecretArn: string | undefined;
}

/** Defaults of the settings. */
export const SETTINGS_DEFAULTS = {
  deadLetter: 'log',
  timeMarginMs: 1000,
  retryAttempts: 5,
  retryBaseMs: 50,
  metricsNamespace: 'cdc-cache',
  logLevel: 'info',
} as const;

/** The Lambda-only variables (the shared ones are in core/settings/shared-settings.ts). */
export const functionEnvSchema = v.object({
  CDC_CACHE_DEAD_LETTER: v.optional(text(), SETTINGS_DEFAULTS.deadLetter),
  CDC_CACHE_TIME_MARGIN_MS: v.optional(integerText(0), String(SETTINGS_DEFAULTS.timeMarginMs)),
  CDC_CACHE_RETRY_ATTEMPTS: v.optional(integerText(1), String(SETTINGS_DEFAULTS.retryAttempts)),
  CDC_CACHE_RETRY_BASE_MS: v.optional(integerText(0), String(SETTINGS_DEFAULTS.retryBaseMs)),
  CDC_CACHE_METRICS_NAMESPACE: v.optional(text(), SETTINGS_DEFAULTS.metricsNamespace),
  CDC_CACHE_LOG_LEVEL: v.optional(logLevel(), SETTINGS_DEFAULTS.logLevel),
  CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: v.optional(
    v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager secret ARN')),
  ),
});

/** Reads and validates the settings from `env` (default: `process.env`). */
export function readSettings(env: Env = process.env): FunctionSettings {
  const e = parseEnv(functionEnvSchema, env);
  const shared = readSharedSettings(env);
  if (e.CDC_CACHE_TARGET_PASSWORD_SECRET_ARN !== undefined && shared.password !== undefined)
    throw new ConfigError(
      'environment: CDC_CACHE_TARGET_PASSWORD: set either it or CDC_CACHE_TARGET_PASSWORD_SECRET_ARN, not both (prefer the secret)',
      { code: ErrorCode.ConfigValue, file: 'environment', path: 'CDC_CACHE_TARGET_PASSWORD' },
    );
  return {
    ...shared,
    passwordSecretArn: e.CDC_CACHE_TARGET_PASSWORD_SECRET_ARN,
    deadLetter: e.CDC_CACHE_DEAD_LETTER,
    timeMarginMs: e.CDC_CACHE_TIME_MARGIN_MS,
    retryAttempts: e.CDC_CACHE_RETRY_ATTEMPTS,
    retryBaseMs: e.CDC_CACHE_RETRY_BASE_MS,
    metricsNamespace: e.CDC_CACHE_METRICS_NAMESPACE === 'off' ? undefined : e.CDC_CACHE_METRICS_NAMESPACE,
    logLevel: e.CDC_CACHE_LOG_LEVEL,
  };
}

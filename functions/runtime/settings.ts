/**
 * Function settings from the environment, validated once per execution environment. Every
 * mistake names the variable and the fix (a bad value fails the first invocation, loudly, instead
 * of a silently misconfigured stream). See functions/README.md for the table of variables.
 */
import { ConfigError } from '../../core/errors.ts';
import {
  type Env,
  envText,
  readSharedSettings,
  type SharedSettings,
} from '../../core/settings/shared-settings.ts';

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
}

/** Log levels, least severe first. */
export const LogLevels = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LogLevels}. */
export type LogLevel = (typeof LogLevels)[number];

/** Defaults of the settings. */
export const SETTINGS_DEFAULTS = {
  deadLetter: 'log',
  timeMarginMs: 1000,
  retryAttempts: 5,
  retryBaseMs: 50,
  metricsNamespace: 'cdc-cache',
  logLevel: 'info',
} as const;

const text = envText;

function int(env: Env, name: string, fallback: number, min: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError(
      `${name}=${v}: must be an integer >= ${min} (unset it for the default ${fallback})`,
    );
  return n;
}

/** Reads and validates the settings from `env` (default: `process.env`). */
export function readSettings(env: Env = process.env): FunctionSettings {
  const logLevel = text(env, 'CDC_CACHE_LOG_LEVEL') ?? SETTINGS_DEFAULTS.logLevel;
  if (!(LogLevels as readonly string[]).includes(logLevel))
    throw new ConfigError(`CDC_CACHE_LOG_LEVEL=${logLevel}: use one of ${LogLevels.join(', ')}`);
  const namespace = text(env, 'CDC_CACHE_METRICS_NAMESPACE') ?? SETTINGS_DEFAULTS.metricsNamespace;
  return {
    ...readSharedSettings(env),
    deadLetter: text(env, 'CDC_CACHE_DEAD_LETTER') ?? SETTINGS_DEFAULTS.deadLetter,
    timeMarginMs: int(env, 'CDC_CACHE_TIME_MARGIN_MS', SETTINGS_DEFAULTS.timeMarginMs, 0),
    retryAttempts: int(env, 'CDC_CACHE_RETRY_ATTEMPTS', SETTINGS_DEFAULTS.retryAttempts, 1),
    retryBaseMs: int(env, 'CDC_CACHE_RETRY_BASE_MS', SETTINGS_DEFAULTS.retryBaseMs, 0),
    metricsNamespace: namespace === 'off' ? undefined : namespace,
    logLevel: logLevel as LogLevel,
  };
}
